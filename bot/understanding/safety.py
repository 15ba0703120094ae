"""Recognises messages that suggest someone may be in danger, so safety comes before process talk.

English patterns need a person in them: a weapon, "unsafe" or "in danger" count only when someone
has or uses the weapon or someone is unsafe (so "safe deposit box", "best knife for onions",
"is my account in danger of being closed" and "violence in video games" are not alarms). Danger
phrased in Spanish, French, German, Italian, Portuguese, Dutch or Polish is caught by each
language's own patterns (natural phrasings of "hits me", "threatens to kill me", "I'm afraid of
him", "I'm not safe", "he has a gun", "wants to hurt the children", "I want to die" ...).
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Pattern, Sequence

ENGLISH = "en"

_PERSON = (
    r"(?:he|she|they|him|her|them|my (?:ex|partner|husband|wife|boyfriend|girlfriend|father|mother|dad|mum|mom|"
    r"son|daughter|brother|sister|neighbou?r|landlord|tenant|flatmate|roommate|boss|employer|colleague|stepfather|"
    r"stepmother|ex-\w+|former \w+)|the (?:other side|other party|father|mother|neighbou?r|landlord|man|woman|guy))"
)
# "my teenage daughter", "my 6 year old son", "the two kids".
_CHILD_AGE = r"(?:(?:teenage|teen|little|young|younger|youngest|older|oldest|eldest|baby|newborn|two|three|twin|disabled|autistic|\d+[- ]years?[- ]old) )?"
_TARGET = (
    rf"(?:me|us|my {_CHILD_AGE}(?:kids?|children|child|son|sons|daughter|daughters|baby|family|mum|mom|dad|partner|wife|husband|sister|brother)"
    rf"|the {_CHILD_AGE}(?:kids|children|baby|child))"
)
_VICTIM = rf"(?:i|we|{_TARGET}|my life|our lives|my (?:kids'?|children'?s?) lives)"
_HARM_VERB = (
    r"(?:hit|hits|hitting|beat|beats|beating|beaten|punch\w*|slap\w*|kick(?:ed|s|ing)?|chok\w*|strangl\w*|shov\w*"
    r"|attack(?:ed|s|ing)?|assault\w*|hurt(?:s|ing)?|harm(?:ed|s|ing)?|stab\w*|shoot|shot|rap(?:e|ed)|molest\w*|abus(?:e|es|ed|ing))"
)
# Everyday phrasings that share a harm verb and a target: "shoot me an email", "hit me up",
# "kicked me out", "beat me to it", "beat us at chess", "stabbed me in the back", "strangling me
# with repair charges", "hit me with a huge bill", "hit us with a 40-page bundle".
_MONEY_AND_PAPER = (
    r"(?:a |an |the |another |this |that |his |her |their )?(?:[\w£$€.,-]+ ){0,4}"
    r"(?:charge|fee|bill|cost|invoice|fine|penalty|surcharge|increase|hike|paperwork|bundle|document|email|letter|notice|warning|summons|writ"
    r"|demand|question|rule|red tape|claim|counterclaim|complaint|grievance|allegation|accusation|lawsuit|deadline|ultimatum|offer|request|news|quote|estimate)s?"
)
# "beat me to the courthouse", "beat us to filing": a race to get somewhere first ("beat me to the ground" is no race).
_RACE = r"(?:the punch|filing|court|the (?:courthouse|court|registry|solicitor|lawyer|judge|bank|agent|estate agent|deal|sale|claim|office|phone|mediator|council|tribunal))"
_NOT_HARM = rf"(?!\s+(?:a|an|up|out|off|to it|to {_RACE}|at|back a|with your|in the back|with {_MONEY_AND_PAPER})\b)"
_LEGAL_THREAT = r"(?:court|legal|a lawsuit|lawyers?|solicitors?|eviction|evicting|the police|action)"
_WEAPON = r"(?:a |an |his |her |their |the )?(?:gun|guns|knife|knives|weapon|weapons|firearm|firearms|pistol|rifle|shotgun|machete|axe)"

# Harm the user rules out ("he'd never hurt me", "she didn't hit me", "he's not violent", "I'm not in
# danger") is not an alarm by its wording; the learned classifiers still read the whole message.
# Contractions typed without the apostrophe are named whole: "tenant hit me" ends in "nt " too.
_NOT_NEGATED = (
    r"(?<!never )(?<!not )(?<!n't )(?<!never ever )(?<!n't ever )(?<!never once )"
    + "".join(rf"(?<!\b{word}nt )" for word in ("do", "did", "does", "wo", "ca", "has", "have", "had", "would", "could", "is", "was"))
)
_NOT_A_NEGATION = r"(?!(?:not|never|no longer)\b)"
# "nearly killed myself laughing", "she'll kill herself laughing when she hears".
_NOT_LAUGHING = r"(?!\s+(?:laughing|with laughter)\b)"

ENGLISH_PATTERNS: List[Pattern[str]] = [
    re.compile(rf"\b{_NOT_NEGATED}{_HARM_VERB}\s+{_TARGET}\b{_NOT_HARM}"),
    re.compile(rf"\b{_NOT_NEGATED}threat\w*\s+(?:{_TARGET}\s+)?(?:to\s+|that (?:he|she|they)(?:'ll| will| would)\s+)?(?:(?:kill|hurt|harm|hit|beat|attack|shoot|stab|strangle|rape)\s+(?:{_TARGET}|him|her|them|himself|herself|themselves|myself|you|someone|everyone)|burn (?:the|our|my) (?:house|flat|home|car)|take (?:my|the) (?:kids|children) and disappear)\b"),
    re.compile(rf"\b{_NOT_NEGATED}threaten(?:ed|ing|s)?\s+{_TARGET}\b(?!\s+with\s+{_LEGAL_THREAT})(?!\s+(?:to|that)\s+(?:sue|evict|take|go|call|report|fire|sack|cut|stop|leave|keep|withhold|raise|end|charge|bill|tell|post|sell|close|cancel))"),
    re.compile(rf"\bthreaten(?:ed|ing|s)?\s+{_TARGET}\s+with\s+{_WEAPON}\b"),
    re.compile(rf"\bkill(?:ed|s)?\s+(?:{_TARGET}|him|her|myself|himself|herself)\b{_NOT_LAUGHING}"),
    re.compile(r"\b(?:death|physical|violent) threats?\b|\bthreat\w* (?:of )?(?:violence|death)\b|\bthreatening (?:messages|texts|calls|voicemails|me)\b"),
    re.compile(rf"\b(?:threw|throws|throwing|thrown) (?:a |an |the |his |her )?(?:\w+ )?(?:\w+ )?at {_TARGET}\b|\bbroke (?:my|his|her|our) (?:arm|nose|jaw|ribs?|wrist|finger|leg|tooth|teeth)\b"),
    re.compile(rf"\b(?:locked|locks|locking) {_TARGET} (?:in|up|inside)\b|\b(?:won'?t|doesn'?t|didn'?t) let (?:me|us) (?:leave|out of the house)\b"),
    re.compile(rf"\b(?:push\w*|shov\w*|threw|thrown) {_TARGET} (?:down|over|against|to the (?:ground|floor)|into (?:a|the) (?:wall|door|table))\b"),
    # Violence and abuse by or against a person, not as a topic ("violence in video games").
    re.compile(r"\b(?:domestic|family|physical|sexual|intimate partner) (?:violence|abuse)\b|\b(?:child|elder|emotional|psychological|verbal) abuse\b"),
    re.compile(rf"\b{_PERSON}(?:'s| is| was| gets| got| has been| had been| can be| became| becomes| turned| turns| seems?)\s+(?:{_NOT_A_NEGATION}\w+ )?(?:violent|abusive|dangerous|aggressive and violent)\b"),
    re.compile(rf"\b(?:violent|abusive)\s+(?:towards?|to|with)\s+{_TARGET}\b|\babusive (?:ex|partner|husband|wife|boyfriend|girlfriend|father|mother|parent|relationship|marriage|home)\b"),
    re.compile(r"\b(?:there (?:has|have) been|history of|afraid of|scared of|fear of|escape|escaped|fleeing|fled) (?:\w+ )?(?:violence|abuse)\b|\babuser\b"),
    re.compile(r"\b(?:stalk(?:s|ed|ing)? (?:me|us|my)|stalker|(?:is|been|keeps|kept|started) stalking)\b"),
    re.compile(r"\b(?:harass\w* (?:me|us|my (?:kids|children|family))|restraining order|protective order|protection order|non-molestation order)\b"),
    # Weapons only in someone's hands.
    re.compile(rf"\b(?:{_PERSON}|someone|somebody)(?: \w+)?(?:\s+|(?='))(?:'s got|'ve got|has got|has|had|have|got|owns|keeps|kept|carries|carried|pulled|pulls|waved|waves|brandished|grabbed|grabs|took|takes|came at me with|bought|showed me)\s+{_WEAPON}\b(?! (?:collection|sharpener|set|block|shop|store|business|drawer))"),
    re.compile(rf"\b(?:held|holding|holds|put|putting|pressed|pressing)\s+{_WEAPON}\s+(?:to|at|against)\s+(?:me|us|my|his|her|the kids|the children)\b"),
    re.compile(rf"\b(?:pointed|pointing|aimed|aiming|pulled|waved|waving|brandished|brandishing)\s+{_WEAPON}\b"),
    re.compile(rf"\b(?:came|comes|went|ran|lunged|chased|attacked|threatened)(?: at| for| after)? (?:me|us|my (?:kids|children|son|daughter)) with {_WEAPON}\b"),
    # Fear for one's safety or someone's (not "i'm not scared of him, he's just stubborn").
    re.compile(r"\b(?:fear|afraid|scared|frightened|terrified|worried|fearing)\s+for\s+(?:my|our|the kids'?|the children'?s?|my (?:kids'?|children'?s?|son'?s?|daughter'?s?))\s+(?:life|lives|safety|wellbeing|well-being)\b"),
    # Fear of the person ("scared of him") or of what they'll do; "scared my ex will get the house" fears an
    # outcome, not the person (the harm patterns catch "scared he'll hurt me"), and so does "scared of him
    # taking me to court".
    re.compile(r"(?<!not )(?<!n't )(?<!never )\b(?:afraid|scared|frightened|terrified)\s+(?:of\s+(?:him|her|them|my ex|(?:my|his|her|their) (?:husband|wife|partner|father|mother|dad|mum|mom|stepfather|stepmother|boyfriend|girlfriend))|(?:of\s+)?what (?:he|she|they)(?:'ll| will| might| could| would| may)?(?: do)?)\b(?!\s+(?:suing|taking|winning|refusing|saying|not|getting|keeping|selling|contesting|claiming|lying|telling|using|delaying|dragging|changing|leaving|moving|will|would|might|could|may|can|is going|gets?|takes?|wins?|keeps?)\b)"),
    re.compile(r"\b(?:don'?t|do not|dont|doesn'?t|does not|no longer|never|didn'?t|did not)\s+feel\s+safe\b"),
    re.compile(r"\b(?:not|isn'?t|aren'?t|isnt|arent|never|no longer)\s+safe\s+(?:with|around|at home|near|in (?:my|our|the) (?:own )?(?:home|house|flat))\b"),
    re.compile(rf"\b{_VICTIM}(?:'m|'re| am| are| is| feel| felt| was| were| might be| could be| may be)\s+(?:{_NOT_A_NEGATION}\w+ )?(?:unsafe|in danger|at risk of (?:harm|violence|being hurt))\b(?! of (?:being|losing|missing|failing|going|running|getting|not))"),
    re.compile(rf"\b(?:endanger\w*|put\w*)\s+{_TARGET}\s+(?:in danger|at risk)\b|\bendanger(?:s|ed|ing)?\s+{_TARGET}\b|(?<!not about )(?<!not worried about )(?<!not for )(?<!nothing to do with )\bmy (?:own )?safety\b(?! (?:deposit|glasses|settings|net|features?|rating))"),
    re.compile(r"\bfollow(?:s|ed|ing)?\s+me\s+(?:home|around|everywhere|to work|to school)\b"),
    # Fire set to a place with people in it ("burn the building down with us still inside", "torch the flat
    # while we sleep"); burning toast, bridges or money has no one inside.
    re.compile(r"\b(?:burn\w*|torch\w*|set fire to|sets fire to|setting fire to|set light to|petrol\w*|firebomb\w*)\b[^.!?]{0,60}?"
               r"\b(?:with (?:me|us|you|them|her|him|everyone|the (?:kids|children|family)|my (?:kids|children|family|wife|husband|partner))\s+(?:still\s+(?:in|inside|in it|in there|in bed)|inside|in it|in there|in bed)"
               r"|while (?:i|we|you|they|the (?:kids|children)|my (?:kids|children|family))(?:'m|'re| am| are| is)?\s+(?:still\s+)?(?:asleep|sleeping|in bed))\b"),
    re.compile(r"\b(?:see|want|wants|wanted|have|had|'d rather see)\s+(?:me|us|you)\s+(?:dead|buried|six feet under|in (?:a|the) (?:box|coffin|grave|ground|morgue))\b"),
    re.compile(rf"\b(?:suicid\w*|kill myself{_NOT_LAUGHING}|end my life|ending my life|end it all|hurt myself|hurting myself|self[- ]harm\w*|want to die|wanna die|don'?t want to (?:live|be alive)|better off dead|no reason to live)\b(?! squad)"),
]

_ES = [
    r"\bme (?:pega|pegó|pegaba|pegan|golpea|golpeó|golpeaba|maltrata|maltrató|agrede|agredió|viola|violó|acosa|acosaba|persigue|sigue a casa|sigue hasta casa)\b",
    r"\bme (?:ha|han) (?:pegado|golpeado|agredido|violado)\b|\bme (?:ha|han) amenazado\b(?!\s+con\s+(?:denunciarme|demandarme|llevarme (?:a juicio|al juzgado|a los tribunales|a la corte)|echarme|despedirme|quedarse|vender|no pagar|cortar|subir|llamar a (?:su|un|mi) abogado))",
    r"\b(?:pega|golpea|maltrata|agrede) a (?:los niños|mis hijos|mi hij[oa]|los críos)\b",
    r"\b(?:me )?amenaz\w* (?:con )?(?:matarme|matarnos|hacerme daño|pegarme|hacer daño a|llevarse a los niños|quitarme a los niños)",
    r"\b(?:me|nos) (?:quiere|va a|voy a) matar\b|\b(?:quiere|va a) matarme\b|\bamenazas de muerte\b",
    r"\b(?:tengo|le tengo|les tengo) miedo de (?:él|ella|ellos|mi ex|mi marido|mi pareja|mi mujer|mi esposo)\b|\b(?:le|les) tengo miedo\b",
    r"\bmiedo (?:de|a) (?:él|ella|mi ex|mi marido|mi pareja|mi esposo|lo que (?:me )?(?:pueda|vaya a) hacer)\b",
    r"\bno (?:me siento|estoy|estamos) (?:segur[oa]s? (?:en casa|con él|con ella)|a salvo)\b|\bno me siento segur[oa]s?\b",
    r"\b(?:estoy|estamos|están|está) en peligro\b|\bmis hijos (?:están|corren) (?:en )?peligro\b",
    r"\btiene (?:un|una) (?:arma|pistola|cuchillo|escopeta|navaja)\b|\bcon (?:un|una) (?:arma|pistola|cuchillo|navaja)\b",
    r"\b(?:hacer|hacerle|hacerles) daño a (?:los niños|mis hijos|mi hij[oa]|los críos)\b|\bquiere hacer(?:me|nos|les)? daño\b",
    r"\bquiero (?:morir|morirme|suicidarme|matarme|quitarme la vida)\b|\bme quiero (?:morir|matar|suicidar)\b|\bsuicid\w*",
    r"\bviolencia (?:doméstica|de género|machista|familiar)\b|\borden de alejamiento\b|\bes violent[oa]\b",
]
# "Il m'a menacé de m'emmener au tribunal": a threat of court or of money, not of harm.
_FR_NOT_COURT = r"""(?!s? (?:de |d')(?:m'emmener|me traîner|me poursuivre|porter plainte|aller (?:au|en) (?:tribunal|justice)|me faire un procès|appeler (?:un|son|mon) avocat|saisir|garder|vendre|ne pas|ne plus|me licencier|me virer|m'expulser|retenir|couper))"""
_FR = [
    r"\b(?:il|elle|on) (?:me|nous) (?:frappe|frappait|bat|battait|tape|tapait|viole|harcèle|harcelait|agresse)\b|\b(?:il|elle|on) (?:me|nous) menace\b" + _FR_NOT_COURT,
    r"\b(?:il|elle) (?:m'|nous )(?:a|ont) (?:frappée?s?|battue?s?|violée?s?|agressée?s?|menacée?s? de mort)",
    r"\bm'a (?:frappée?|battue?|violée?|agressée?)\b|\bme frappe\b|\bm'a menacée?\b" + _FR_NOT_COURT,
    r"\b(?:frappe|bat|maltraite) (?:les|mes) enfants\b",
    r"\bmenac\w* de (?:me|nous) (?:tuer|faire du mal|frapper)|\bmenaces de mort\b|\bmenacée? de mort\b",
    r"\b(?:veut|va|voulait) (?:me|nous) tuer\b",
    r"\bj'ai peur (?:de lui|d'elle|d'eux|de mon (?:ex|mari|conjoint|compagnon|copain)|de ma (?:femme|conjointe|compagne)|pour ma vie|pour mes enfants|qu'il me|qu'elle me)",
    r"\bje (?:ne )?(?:suis|me sens) (?:pas|plus) en sécurité\b|\bje suis en danger\b|\b(?:mes|les) enfants sont en danger\b|\bnous sommes en danger\b",
    r"\b(?:il|elle) a (?:une arme|un pistolet|un revolver|un fusil|un couteau)\b|\bavec (?:une arme|un pistolet|un fusil|un couteau)\b",
    r"\bfaire du mal (?:aux|à mes|à nos) enfants\b|\bveut (?:me|nous|leur) faire du mal\b",
    r"\bje veux (?:mourir|me suicider|me tuer|en finir)\b|\bsuicid\w*",
    r"\bviolences? (?:conjugales?|domestiques?|familiales?)\b|\bordonnance de protection\b|\best violente?\b",
    r"\bme (?:suit|suivait) jusqu'(?:à|chez)\b",
]
_DE = [
    r"\b(?:schlägt|schlug|verprügelt|verprügelte|misshandelt|misshandelte|bedroht|bedrohte|würgt|würgte|tritt|vergewaltigt\w*|stalkt|verfolgt) (?:mich|uns|die kinder|meine kinder|mein kind)\b(?!\s+mit\s+(?:einer klage|klage|dem anwalt|einem anwalt|dem gericht|gericht|rechtlichen schritten|der kündigung|kündigung|der polizei))",
    r"\bhat (?:mich|uns|die kinder|meine kinder) (?:geschlagen|verprügelt|misshandelt|bedroht|gewürgt|vergewaltigt|getreten)\b",
    r"\bdroht\w*,? (?:damit,? )?(?:mich|uns|die kinder) (?:umzubringen|zu töten|zu schlagen|zu verletzen)\b|\bdroht mir mit (?:dem tod|gewalt)\b|\bmorddrohung\w*",
    r"\b(?:will|wollte|wird) (?:mich|uns|die kinder) (?:umbringen|töten|verletzen|schlagen)\b",
    r"\bich habe angst vor (?:ihm|ihr|meinem (?:ex|mann|partner|freund)|meiner (?:frau|partnerin|ex))\b|\bangst um (?:mein leben|meine kinder|meine sicherheit)\b",
    r"\bich bin in gefahr\b|\b(?:meine|die) kinder sind in gefahr\b|\bwir sind in gefahr\b",
    r"\bich fühle mich (?:hier |zu hause |zuhause )?nicht (?:mehr )?sicher\b|\bbin nicht in sicherheit\b",
    r"\b(?:er|sie) hat (?:eine waffe|eine pistole|ein messer|ein gewehr)\b|\bmit (?:einer waffe|einer pistole|einem messer|einem gewehr) (?:bedroht|angegriffen)\b",
    r"\bden kindern (?:etwas )?(?:antun|wehtun|weh tun)\b|\bwill (?:mir|uns|den kindern) (?:etwas antun|wehtun|weh tun)\b",
    r"\bich will (?:sterben|nicht mehr leben|mich umbringen)\b|\bselbstmord\w*|\bsuizid\w*",
    r"\bhäusliche gewalt\b|\bist gewalttätig\b|\bgewalttätig\w* (?:gegen|gegenüber) (?:mich|uns)\b|\bkontaktverbot\b|\bgewaltschutz\w*",
]
_IT = [
    r"\bmi (?:picchia|picchiava|picchiano|mena|menava|colpisce|maltratta|perseguita|minaccia|violenta|segue fino a casa)\b",
    r"\bmi ha (?:picchiat[oa]|colpit[oa]|aggredit[oa]|violentat[oa])\b|\bmi ha minacciat[oa]\b(?!\s+di\s+(?:denunciarmi|portarmi in tribunale|farmi causa|licenziarmi|sfrattarmi|tenersi|vendere|non pagare|chiamare (?:un|il suo|l') ?avvocato))",
    r"\b(?:picchia|maltratta) (?:i bambini|i miei figli|mio figlio|mia figlia)\b",
    r"\bminacci\w* di (?:uccidermi|ammazzarmi|farmi del male|picchiarmi|portarmi via i bambini)|\bminacce di morte\b",
    r"\b(?:vuole|vorrebbe|sta per) (?:uccidermi|ammazzarmi)\b|\bmi (?:vuole|vorrebbe) (?:uccidere|ammazzare)\b",
    r"\bho paura (?:di lui|di lei|del mio ex|di mio marito|della mia ex|per la mia vita|per i miei figli)\b",
    r"\bnon (?:sono|mi sento|siamo) (?:più )?al sicuro\b|\bsono in pericolo\b|\bi (?:miei )?(?:bambini|figli) sono in pericolo\b",
    r"\bha (?:una pistola|un'arma|un arma|un coltello|un fucile)\b|\bcon (?:una pistola|un coltello|un'arma|un fucile)\b",
    r"\bfare del male (?:ai bambini|ai miei figli|ai nostri figli|a mio figlio|a mia figlia)\b|\bvuole farmi del male\b",
    r"\bvoglio (?:morire|uccidermi|ammazzarmi|suicidarmi|farla finita)\b|\bsuicid\w*",
    r"\bviolenza (?:domestica|di genere)\b|\bè violent[oa]\b|\bordine (?:di allontanamento|restrittivo)\b",
]
_PT = [
    r"\b(?:me|nos) (?:bate|batia|bateu|agride|agrediu|espanca|espancou|ameaça|ameaçou|persegue|violou)\b|\bbate em mim\b",
    r"\b(?:bate|batia|bateu|espanca) (?:nas crianças|nos meus filhos|no meu filho|na minha filha|nos miúdos)\b",
    r"\bameaç\w* (?:de )?(?:me matar|matar-me|nos matar|me bater|bater-me|fazer mal|levar as crianças)|\bameaças? de morte\b",
    r"\bquer (?:me matar|matar-me|nos matar)\b|\bvai (?:me matar|matar-me)\b",
    r"\btenho medo (?:dele|dela|do meu ex|do meu marido|da minha ex|pela minha vida|pelos meus filhos)\b",
    r"\bnão me sinto segur[ao]\b|\bnão estou segur[ao] (?:em casa|com ele|com ela)\b|\bestou em perigo\b|\b(?:os meus |meus )?filhos estão em perigo\b",
    r"\btem (?:uma arma|uma pistola|um revólver|uma faca|uma espingarda)\b|\bcom (?:uma arma|uma pistola|uma faca)\b",
    r"\bfazer mal (?:às crianças|aos meus filhos|aos nossos filhos|ao meu filho|à minha filha)\b|\bquer (?:me )?fazer mal\b",
    r"\bquero (?:morrer|me matar|matar-me|me suicidar|suicidar-me)\b|\bsuicid\w*",
    r"\bviolência doméstica\b|\bé violent[oa]\b|\bmedida protetiva\b",
]
_NL = [
    r"\b(?:slaat|sloeg|mishandelt|mishandelde|bedreigt|bedreigde|stalkt|achtervolgt|schopt|wurgt) (?:me|mij|ons|de kinderen|mijn kinderen)\b",
    r"\bheeft (?:me|mij|ons|de kinderen) (?:geslagen|mishandeld|bedreigd|geschopt|gewurgd|verkracht)\b",
    r"\bdreigt (?:me|mij|ons) (?:te vermoorden|dood te maken|iets aan te doen|te slaan)\b|\bdreigt de kinderen\b|\bdoodsbedreiging\w*",
    r"\bwil (?:me|mij|ons) (?:vermoorden|doden|dood)\b",
    r"\bik ben bang (?:voor hem|voor haar|voor mijn ex|voor mijn man|voor mijn vrouw|voor mijn leven|om mijn leven)\b",
    r"\bik (?:ben|voel me) (?:hier |thuis )?niet (?:meer )?veilig\b|\bik ben in gevaar\b|\b(?:de|mijn) kinderen zijn in gevaar\b",
    r"\bheeft (?:een wapen|een pistool|een mes|een geweer)\b|\bmet (?:een wapen|een pistool|een mes)\b",
    r"\bde kinderen (?:iets )?(?:pijn doen|aandoen)\b|\bwil (?:me|mij|de kinderen) pijn doen\b",
    r"\bik wil (?:dood|niet meer leven|er een eind aan maken|mezelf iets aandoen)\b|\bzelfmoord\w*",
    r"\bhuiselijk geweld\b|\bis gewelddadig\b|\bcontactverbod\b|\bstraatverbod\b",
]
_PL = [
    r"\b(?:bije|bił|biła|uderza|uderzył|uderzyła|pobił|pobiła|szarpie|dusi|dusił|grozi|groził|groziła|śledzi|nęka|prześladuje) (?:mnie|nas|dzieci|moje dzieci)\b",
    r"\b(?:mnie|nas|dzieci) (?:bije|bił|biła|uderza|uderzył|uderzyła|pobił|pobiła|dusi|dusił|szarpie|nęka|śledzi)\b",
    r"\bgrozi(?:ł|ła)?,? że (?:mnie|nas|dzieci) (?:zabije|skrzywdzi|pobije)\b|\bgrozi(?:ł|ła)? mi śmiercią\b|\bgroźby śmierci\b",
    r"\b(?:chce|chciał|chciała) (?:mnie|nas) zabić\b|\bzabije mnie\b",
    r"\bboję się (?:go|jej|ich|mojego (?:byłego|męża|partnera)|mojej (?:byłej|żony|partnerki)|o swoje życie|o moje dzieci|o dzieci)\b",
    r"\bnie (?:jestem|czuję się) (?:w domu )?bezpieczn[aey]\b|\bnie czuję się bezpiecznie\b|\bjestem w niebezpieczeństwie\b|\bdzieci są w niebezpieczeństwie\b",
    r"\bma (?:broń|pistolet|nóż|strzelbę)\b|\b(?:z|ze) (?:nożem|pistoletem|bronią)\b",
    r"\b(?:skrzywdzić|zrobić krzywdę) (?:dzieci|dzieciom|mnie)\b",
    r"\bchcę (?:umrzeć|się zabić|odebrać sobie życie)\b|\bnie chcę (?:już )?żyć\b|\bsamobój\w*",
    r"\bprzemoc (?:domowa|w rodzinie)\b|\bprzemocy domowej\b|\bjest agresywn[ya]\b|\bzakaz zbliżania\b|\bniebieska karta\b",
]

OTHER_LANGUAGE_PATTERNS: Dict[str, List[Pattern[str]]] = {
    language: [re.compile(pattern) for pattern in patterns]
    for language, patterns in {"es": _ES, "fr": _FR, "de": _DE, "it": _IT, "pt": _PT, "nl": _NL, "pl": _PL}.items()
}
# Languages whose danger only the learned classifier reads (bot/understanding/danger_model.py, trained
# on data/safety/): no patterns, but a translated safety reply, so "my ex threatens to kill me" in
# Turkish gets the safety reply in Turkish.
LEARNED_ONLY_LANGUAGES = ("tr", "sv", "ro", "cs", "da", "hu")
# Every language with a safety reply of its own in data/messages.yml.
REPLY_LANGUAGES = frozenset({*OTHER_LANGUAGE_PATTERNS, *LEARNED_ONLY_LANGUAGES})
SAFETY_LANGUAGES = (ENGLISH, *OTHER_LANGUAGE_PATTERNS, *LEARNED_ONLY_LANGUAGES)

# Everyday hyperbole shares its words with a real threat: "my mum will kill me if I forget her birthday",
# "she'll strangle me if I spoil the ending", "my girlfriend's gonna kill me" against "he'll kill me if I
# leave". A message whose only danger phrases sit in this frame (someone will kill or strangle the user)
# is left to the learned classifiers (bot/understanding/arbiter.py), which read what the threat is about.
_HYPERBOLE = re.compile(
    r"\b(?:will|'ll|would|'d|gonna|going to|is going to|'s going to|is gonna|'s gonna)\s+(?:literally |actually |totally |absolutely )?"
    r"(?:kill|murder|strangle|throttle)\s+(?:me|us)\b"
)
# Kept for callers that imported the English list by its old name.
SAFETY_PATTERNS = ENGLISH_PATTERNS


def _normalised(text: str) -> str:
    """Lower-cased text with straight apostrophes and single spaces."""
    return " ".join((text or "").lower().replace("’", "'").split())


def _patterns_for(language: Optional[str]) -> Dict[str, Sequence[Pattern[str]]]:
    """English patterns plus those of `language`, or of every language when it is None."""
    chosen: Dict[str, Sequence[Pattern[str]]] = {ENGLISH: ENGLISH_PATTERNS}
    if language is None:
        chosen.update(OTHER_LANGUAGE_PATTERNS)
    elif language in OTHER_LANGUAGE_PATTERNS:
        chosen[language] = OTHER_LANGUAGE_PATTERNS[language]
    return chosen


def signals_by_language(text: str, language: Optional[str] = None) -> Dict[str, List[str]]:
    """The danger phrases found in `text`, per language of the pattern that found them."""
    lowered = _normalised(text)
    found: Dict[str, List[str]] = {}
    for code, patterns in _patterns_for(language).items():
        phrases = [match.group(0) for pattern in patterns for match in pattern.finditer(lowered)]
        if phrases:
            found[code] = phrases
    return found


def safety_signals(text: str, language: Optional[str] = None) -> List[str]:
    """The phrases in `text` that suggest a risk to someone's safety (empty when none).

    English is always checked; `language` (ISO 639-1) adds that language's patterns, None adds all.
    """
    return [phrase for phrases in signals_by_language(text, language).values() for phrase in phrases]


HYPERBOLE = "hyperbole"
DANGER = "danger"


def danger_wording(text: str) -> Optional[str]:
    """DANGER when the wording suggests someone may be in danger, HYPERBOLE when it does only in the frame of
    everyday hyperbole ("my mum will kill me if I'm late"), None when it doesn't; one pass over the patterns."""
    lowered = _normalised(text)
    if any(pattern.search(lowered) for patterns in OTHER_LANGUAGE_PATTERNS.values() for pattern in patterns):
        return DANGER
    phrases = [match.span() for pattern in ENGLISH_PATTERNS for match in pattern.finditer(lowered)]
    if not phrases:
        return None
    frames = [match.span() for match in _HYPERBOLE.finditer(lowered)]
    if frames and all(any(start <= p_start and p_end <= end for start, end in frames) for p_start, p_end in phrases):
        return HYPERBOLE
    return DANGER


def is_safety_concern(text: str) -> bool:
    """Whether `text`, in English or one of the other supported languages, suggests someone may be in danger."""
    return bool(safety_signals(text))


def safety_language(text: str) -> Optional[str]:
    """The language to answer a danger message in ("en" or another of SAFETY_LANGUAGES), None when no pattern finds danger."""
    if not signals_by_language(text):
        return None
    return safety_reply_language(text)


def safety_reply_language(text: str, detected: Optional[str] = None) -> str:
    """The language of the safety reply to `text`: that of a pattern that found danger in it, else its own.

    `detected` is the language the NLU read the message in (the parse's "language"), when known;
    a language without a translated safety reply gets English.
    """
    others = [code for code in signals_by_language(text) if code != ENGLISH]
    if others:
        return others[0]
    if detected is None:
        from bot.understanding.language import detect_language

        detected = detect_language(text)
    return detected if detected in REPLY_LANGUAGES else ENGLISH


def safety_message_key(language: Optional[str]) -> Optional[str]:
    """The data/messages.yml key of the safety reply in `language`; None for English (domain.yml `utter_safety`)."""
    if language in REPLY_LANGUAGES:
        return f"safety_{language}"
    return None
