"""Review candidates read from Rasa's tracker store, grouped by similar wording, and the staff decisions on them.

A user message is a candidate when its reply had kind fallback, not_covered or out_of_scope, when the
classifier's own top confidence was below REVIEW_CONFIDENCE_THRESHOLD, or when it led to a hand-over right
after a fallback reply.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from sqlalchemy import create_engine, delete, inspect, select, text, update
from sqlalchemy.engine import Engine

from bot.db import UsesDatabase
from bot.handover.requests import as_utc, utc_now
from bot.privacy import TRACKER_EVENTS_TABLE, mask_personal_data
from bot.review.models import ReviewDecisionRow

UNHANDLED_KINDS = ("fallback", "not_covered", "out_of_scope")
DECISIONS = ("topic", "out_of_scope", "not_covered", "dismiss")
MAX_NOTE_CHARS = 1000
MAX_SCANNED_EVENTS = 200_000
MAX_CLUSTERED_ITEMS = 3000  # average-link clustering holds n² distances; beyond this a one-pass grouping
# Only words that carry no question: "how much" and "what" tell questions apart, so they stay.
_FILLER_WORDS = frozenset("a an the is are was be been do does did i me my you your we our it its to of for and or "
                          "in on at with this that there can could would will please just so".split())
_WORD = re.compile(r"[a-z0-9']+|\[(?:email|phone|name)\]")


@dataclass(frozen=True)
class Guess:
    """One of the classifier's guesses."""

    intent: str
    confidence: float


@dataclass(frozen=True)
class ReviewItem:
    """A user message the assistant did not handle confidently (its text already masked)."""

    conversation_id: str
    event_id: int
    message: str
    guesses: Tuple[Guess, ...]
    reply: str
    reply_kind: str
    reason: str  # the reply kind, "low_confidence" or "handoff_after_fallback"
    channel: str
    at: datetime

    @property
    def key(self) -> str:
        """The item's identifier in forms: conversation and event id."""
        return f"{self.event_id}:{self.conversation_id}"


@dataclass
class ReviewGroup:
    """Similar messages shown as one line."""

    items: List[ReviewItem] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many messages the group has."""
        return len(self.items)

    @property
    def latest(self) -> datetime:
        """When its newest message came in."""
        return max(item.at for item in self.items)

    @property
    def example(self) -> ReviewItem:
        """The newest message, shown for the whole group."""
        return max(self.items, key=lambda item: item.at)


@lru_cache(maxsize=None)
def _engine(url: str) -> Engine:
    return create_engine(url, future=True, pool_pre_ping=True)


def classifier_guesses(parse_data: Dict[str, Any], limit: int = 3) -> Tuple[Guess, ...]:
    """The classifier's own top guesses, without an intent the arbiter promoted over them."""
    ranking = [entry for entry in parse_data.get("intent_ranking") or [] if isinstance(entry, dict) and entry.get("name")]
    arbiter = parse_data.get("arbiter") or {}
    own_top = arbiter.get("intent") if isinstance(arbiter, dict) else None
    if own_top and ranking and ranking[0].get("name") != own_top and float(ranking[0].get("confidence") or 0) >= 1.0:
        ranking = ranking[1:]
    if not ranking and isinstance(parse_data.get("intent"), dict) and parse_data["intent"].get("name"):
        ranking = [parse_data["intent"]]
    return tuple(Guess(str(entry["name"]), float(entry.get("confidence") or 0.0)) for entry in ranking[:limit])


def _data(raw: Any) -> Dict[str, Any]:
    try:
        loaded = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
    except (TypeError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _reply_kind(bot_data: Dict[str, Any]) -> str:
    data = bot_data.get("data") or {}
    custom = data.get("custom") if isinstance(data, dict) else None
    return str(custom.get("kind") or "") if isinstance(custom, dict) else ""


def _turns(rows: Iterable[Sequence[Any]]) -> List[Dict[str, Any]]:
    """User messages with the bot replies that followed them, per conversation, in order."""
    turns: List[Dict[str, Any]] = []
    current: Dict[str, Dict[str, Any]] = {}
    for event_id, sender, type_name, timestamp, raw in rows:
        data = _data(raw)
        if type_name == "user":
            turn = {"event_id": int(event_id), "sender": sender, "at": float(timestamp or 0), "data": data,
                    "replies": [], "kinds": []}
            turns.append(turn)
            current[sender] = turn
        elif sender in current:
            current[sender]["replies"].append(str(data.get("text") or ""))
            kind = _reply_kind(data)
            if kind:
                current[sender]["kinds"].append(kind)
    return turns


def _reason(turn: Dict[str, Any], previous: Optional[Dict[str, Any]], threshold: float,
            guesses: Tuple[Guess, ...]) -> Optional[str]:
    for kind in turn["kinds"]:
        if kind in UNHANDLED_KINDS:
            return kind
    if "handoff" in turn["kinds"] and previous is not None and "fallback" in previous["kinds"]:
        return "handoff_after_fallback"
    if guesses and guesses[0].confidence < threshold:
        return "low_confidence"
    return None


def review_candidates(tracker_store_url: str, threshold: float) -> List[ReviewItem]:
    """Every user message in the tracker store that needs a person's review, oldest first."""
    engine = _engine(tracker_store_url)
    if not inspect(engine).has_table(TRACKER_EVENTS_TABLE):
        return []
    with engine.connect() as connection:
        rows = connection.execute(text(
            f"SELECT id, sender_id, type_name, timestamp, data FROM {TRACKER_EVENTS_TABLE} "
            "WHERE type_name IN ('user', 'bot') ORDER BY sender_id, id LIMIT :limit"), {"limit": MAX_SCANNED_EVENTS}).all()
    items: List[ReviewItem] = []
    previous_by_sender: Dict[str, Dict[str, Any]] = {}
    for turn in _turns(rows):
        data = turn["data"]
        message = str(data.get("text") or "").strip()
        previous = previous_by_sender.get(turn["sender"])
        previous_by_sender[turn["sender"]] = turn
        if not message or message.startswith("/"):
            continue  # button payloads are not wordings to learn from
        parse_data = data.get("parse_data") if isinstance(data.get("parse_data"), dict) else {}
        guesses = classifier_guesses(parse_data)
        reason = _reason(turn, previous, threshold, guesses)
        if reason is None:
            continue
        items.append(ReviewItem(
            conversation_id=str(turn["sender"]), event_id=turn["event_id"], message=mask_personal_data(message),
            guesses=guesses, reply=mask_personal_data(" ".join(r for r in turn["replies"] if r)),
            reply_kind=turn["kinds"][0] if turn["kinds"] else "", reason=reason,
            channel=str(data.get("input_channel") or "unknown"),
            at=datetime.fromtimestamp(turn["at"], tz=timezone.utc)))
    return sorted(items, key=lambda item: (item.at, item.event_id))


def normalised_text(message: str) -> str:
    """Lower case, single spaces, no surrounding punctuation: how duplicates are recognised."""
    return " ".join(_WORD.findall(message.lower()))


def group_similar(items: Sequence[ReviewItem], similarity: float) -> List[ReviewGroup]:
    """Items grouped by TF-IDF cosine similarity of their words and word stems (leader clustering, stable order)."""
    if not items:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer

    def stems(message: str) -> List[str]:
        words = [w for w in normalised_text(message).split() if w not in _FILLER_WORDS] or normalised_text(message).split()
        return [_stem(word) for word in words]

    vectors = TfidfVectorizer(analyzer=stems, sublinear_tf=True).fit_transform([item.message for item in items])
    if len(items) == 1:
        return [ReviewGroup(list(items))]
    labels = _average_link_labels(vectors, similarity) if len(items) <= MAX_CLUSTERED_ITEMS else _leader_labels(vectors, similarity)
    groups: Dict[int, ReviewGroup] = {}
    for label, item in zip(labels, items):
        groups.setdefault(int(label), ReviewGroup()).items.append(item)
    return list(groups.values())


def _average_link_labels(vectors: Any, similarity: float) -> List[int]:
    """Average-linkage clusters whose members are, on average, at least `similarity` alike (cosine)."""
    from sklearn.cluster import AgglomerativeClustering

    clustering = AgglomerativeClustering(n_clusters=None, affinity="cosine", linkage="average",
                                         distance_threshold=1.0 - similarity)
    return [int(label) for label in clustering.fit_predict(vectors.toarray())]


def _leader_labels(vectors: Any, similarity: float) -> List[int]:
    """One pass: each message joins the first earlier group leader it is alike enough to (for very many items)."""
    leaders: List[int] = []
    labels: List[int] = []
    for index in range(vectors.shape[0]):
        scores = [float(vectors[index].multiply(vectors[leader]).sum()) for leader in leaders]
        best = max(range(len(scores)), key=scores.__getitem__) if scores else None
        if best is not None and scores[best] >= similarity:
            labels.append(best)
        else:
            labels.append(len(leaders))
            leaders.append(index)
    return labels


def _stem(word: str) -> str:
    for suffix in ("ing", "ies", "es", "ed", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


@dataclass(frozen=True)
class Decision:
    """A staff decision, as the console and the export see it."""

    id: int
    conversation_id: str
    event_id: int
    message: str
    decision: str
    intent: Optional[str]
    note: str
    staff_email: str
    decided_at: datetime


class ReviewDecisions(UsesDatabase):
    """Records, undoes and lists staff decisions."""

    def decide(self, items: Sequence[ReviewItem], decision: str, intent: Optional[str], note: str, staff_email: str) -> List[int]:
        """Record one decision for each item (replacing an earlier active one); the new ids."""
        if decision not in DECISIONS:
            raise ValueError(f"unknown decision {decision!r}")
        now = utc_now()
        ids = []
        with self._sessions.begin() as session:
            for item in items:
                self._undo_active(session, item.conversation_id, item.event_id, staff_email, now)
                row = ReviewDecisionRow(conversation_id=item.conversation_id, event_id=item.event_id, message=item.message,
                                        decision=decision, intent=intent if decision == "topic" else None,
                                        note=note[:MAX_NOTE_CHARS], staff_email=staff_email, decided_at=now)
                session.add(row)
                session.flush()
                ids.append(int(row.id))
        return ids

    @staticmethod
    def _undo_active(session: Any, conversation_id: str, event_id: int, staff_email: str, now: datetime) -> None:
        session.execute(update(ReviewDecisionRow).where(
            ReviewDecisionRow.conversation_id == conversation_id, ReviewDecisionRow.event_id == event_id,
            ReviewDecisionRow.undone_at.is_(None)).values(undone_at=now, undone_by=staff_email))

    def undo(self, decision_id: int, staff_email: str) -> Optional[Decision]:
        """Undo an active decision, putting its message back in the open list; the decision, or None."""
        with self._sessions.begin() as session:
            row = session.get(ReviewDecisionRow, decision_id)
            if row is None or row.undone_at is not None:
                return None
            row.undone_at, row.undone_by = utc_now(), staff_email
            return _decision(row)

    def active(self) -> List[Decision]:
        """Every decision that has not been undone, oldest first."""
        with self._sessions() as session:
            rows = session.execute(select(ReviewDecisionRow).where(ReviewDecisionRow.undone_at.is_(None))
                                   .order_by(ReviewDecisionRow.id)).scalars()
            return [_decision(row) for row in rows]

    def decided_keys(self) -> Set[Tuple[str, int]]:
        """(conversation, event id) of every message with an active decision."""
        return {(d.conversation_id, d.event_id) for d in self.active()}

    def erase_conversations(self, conversation_ids: Iterable[str]) -> int:
        """Delete every decision on these conversations' messages; how many."""
        ids = list(conversation_ids)
        if not ids or not inspect(self._sessions.kw["bind"]).has_table(ReviewDecisionRow.__tablename__):
            return 0
        with self._sessions.begin() as session:
            return int(session.execute(delete(ReviewDecisionRow).where(
                ReviewDecisionRow.conversation_id.in_(ids))).rowcount or 0)


def _decision(row: ReviewDecisionRow) -> Decision:
    return Decision(int(row.id), row.conversation_id, int(row.event_id), row.message, row.decision, row.intent,
                    row.note or "", row.staff_email, as_utc(row.decided_at))


@dataclass(frozen=True)
class InboxFilter:
    """What the staff member asked to see."""

    reason: str = ""
    channel: str = ""
    since: Optional[date] = None
    until: Optional[date] = None
    sort: str = "count"  # or "recent"

    def keeps(self, item: ReviewItem) -> bool:
        """Whether the item passes the filter."""
        day = item.at.date()
        return ((not self.reason or item.reason == self.reason) and (not self.channel or item.channel == self.channel)
                and (self.since is None or day >= self.since) and (self.until is None or day <= self.until))


def open_groups(candidates: Sequence[ReviewItem], decided: Set[Tuple[str, int]], wanted: InboxFilter,
                similarity: float) -> List[ReviewGroup]:
    """The undecided items that pass the filter, grouped and sorted as asked."""
    open_items = [i for i in candidates if (i.conversation_id, i.event_id) not in decided and wanted.keeps(i)]
    groups = group_similar(open_items, similarity)
    if wanted.sort == "recent":
        return sorted(groups, key=lambda g: g.latest, reverse=True)
    return sorted(groups, key=lambda g: (-g.count, -g.latest.timestamp()))
