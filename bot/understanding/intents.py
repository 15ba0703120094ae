"""The intents the NLU model knows, grouped by what the assistant does with them."""

from __future__ import annotations

SAFETY = "safety"
RECOMMEND = "recommend_process"
NON_ENGLISH = "non_english"
OUT_OF_SCOPE = "out_of_scope"
NOT_COVERED = "not_covered"
NLU_FALLBACK = "nlu_fallback"
LEGAL_ADVICE = "legal_advice_boundary"

# Questions the knowledge base answers (each intent is also a topic id).
KNOWLEDGE_QUESTIONS = frozenset(
    {
        "mediation_vs_negotiation", "what_is_mediation", "what_is_negotiation", "mediator_role",
        "mediator_decision_power", "arbitration_and_court", "voluntary_nature", "binding_agreements",
        "meeting_formats", "process_flexibility", LEGAL_ADVICE,
    }
)
# Situations the user describes; also knowledge-base topics.
SITUATION_TOPICS = frozenset(
    {"communication_breakdown", "pressure_to_sign", "unreasonable_demands", "impasse", "other_side_unwilling", "avoid_face_to_face"}
)
KNOWLEDGE_TOPICS = KNOWLEDGE_QUESTIONS | SITUATION_TOPICS
# A dispute described without one of the situations' facts ("my landlord kept the deposit").
DESCRIBE_DISPUTE = "describe_dispute"
# Facts volunteered without a question.
FACT_STATEMENTS = frozenset({"can_still_talk", "other_side_willing", "wants_decision", "happy_to_meet"})
# The conversation's own moves: answered whatever the message's domain looks like.
CONVERSATION = frozenset(
    {
        "greet", "goodbye", "thanks", "affirm", "deny", "unsure", "bot_challenge", "ask_more",
        "cancel", "start_over", "request_consultation", "delete_my_data",
    }
)
