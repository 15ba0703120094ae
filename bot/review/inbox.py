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

from sqlalchemy import and_, create_engine, delete, func, insert, inspect, or_, select, text, update
from sqlalchemy.engine import Engine

from bot.db import UsesDatabase
from bot.handover.requests import as_utc, utc_now
from bot.privacy import TRACKER_EVENTS_TABLE, mask_personal_data
from bot.review.models import EventSummary, ReviewDecisionRow, ReviewStateRow, ReviewTurnRow

UNHANDLED_KINDS = ("fallback", "not_covered", "out_of_scope")
DECISIONS = ("topic", "out_of_scope", "not_covered", "dismiss")
MAX_NOTE_CHARS = 1000
MAX_CLUSTERED_ITEMS = 1500  # distinct wordings; average-link holds n² distances (1.2 s at 2,000): beyond, a one-pass grouping
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
        return max(self.items, key=lambda item: (item.at, item.event_id))

    def newest(self, limit: int) -> List[ReviewItem]:
        """The group's `limit` newest messages, newest first."""
        return sorted(self.items, key=lambda item: (item.at, item.event_id), reverse=True)[:limit]

    def has(self, key: str) -> bool:
        """Whether the message with this key (see ReviewItem.key) is in the group."""
        return any(item.key == key for item in self.items)


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


REFRESH_BATCH = 20_000
_IN_CHUNK = 500


def _turn_row(event_id: int, sender: str, timestamp: Any, data: Dict[str, Any], previous: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """A `review_turns` row for a user event, before any reply."""
    message = str(data.get("text") or "").strip()
    parse_data = data.get("parse_data") if isinstance(data.get("parse_data"), dict) else {}
    guesses = classifier_guesses(parse_data)
    return {"event_id": event_id, "conversation_id": sender, "at": float(timestamp or 0),
            "channel": str(data.get("input_channel") or "unknown")[:32],
            # button payloads are not wordings to learn from
            "message": mask_personal_data(message) if message and not message.startswith("/") else None,
            "guesses": json.dumps([[g.intent, g.confidence] for g in guesses]),
            "confidence": guesses[0].confidence if guesses else None, "reply": "", "reply_kind": "", "unhandled": None,
            "had_fallback": False, "handoff": False, "after_fallback": bool(previous and previous["had_fallback"])}


def _add_reply(turn: Dict[str, Any], data: Dict[str, Any]) -> None:
    """Record a bot reply on the turn it answers."""
    said = mask_personal_data(str(data.get("text") or ""))
    if said:
        turn["reply"] = f"{turn['reply']} {said}" if turn["reply"] else said
    kind = _reply_kind(data)[:16]
    if not kind:
        return
    turn["reply_kind"] = turn["reply_kind"] or kind
    if kind in UNHANDLED_KINDS and not turn["unhandled"]:
        turn["unhandled"] = kind
    turn["had_fallback"] = turn["had_fallback"] or kind == "fallback"
    turn["handoff"] = turn["handoff"] or kind == "handoff"


def _reason(turn: Any, threshold: float) -> Optional[str]:
    """Why a turn (a row or its dict) needs review, or None."""
    get = turn.get if isinstance(turn, dict) else lambda name: getattr(turn, name)
    if get("message") is None:
        return None
    if get("unhandled"):
        return str(get("unhandled"))
    if get("handoff") and get("after_fallback"):
        return "handoff_after_fallback"
    if get("confidence") is not None and float(get("confidence")) < threshold:
        return "low_confidence"
    return None


@lru_cache(maxsize=20_000)
def _guesses(stored: str) -> Tuple[Guess, ...]:
    return tuple(Guess(str(name), float(confidence)) for name, confidence in json.loads(stored or "[]"))


class ReviewSummary(EventSummary):
    """`review_turns`: the review candidates read from the tracker store, brought up to date incrementally.

    Each refresh reads only the events added since the last one (`review_state` keeps the last event id).
    Besides the candidates, the table keeps each conversation's latest turn, which a later reply may still
    make a candidate; a turn that is not one is deleted when its conversation's next message arrives.
    """

    turn_row = ReviewTurnRow
    state_row = ReviewStateRow

    def refresh(self, tracker_store_url: str, threshold: float) -> int:
        """Read the tracker events added since the last refresh; how many were read."""
        tracker = _engine(tracker_store_url)
        if not inspect(tracker).has_table(TRACKER_EVENTS_TABLE):
            return 0
        read = 0
        while True:
            with self._sessions.begin() as session:
                state = session.execute(select(ReviewStateRow).where(ReviewStateRow.id == 1).with_for_update()).scalar_one_or_none()
                if state is None:
                    state = ReviewStateRow(id=1, last_event_id=0)
                    session.add(state)
                with tracker.connect() as connection:
                    rows = connection.execute(text(
                        f"SELECT id, sender_id, type_name, timestamp, data FROM {TRACKER_EVENTS_TABLE} "
                        "WHERE id > :last AND type_name IN ('user', 'bot') ORDER BY id LIMIT :limit"),
                        {"last": int(state.last_event_id), "limit": REFRESH_BATCH}).all()
                if not rows:
                    return read
                self._apply(session, rows, threshold)
                state.last_event_id = int(rows[-1][0])
                read += len(rows)

    @staticmethod
    def _apply(session: Any, rows: Sequence[Sequence[Any]], threshold: float) -> None:
        table = ReviewTurnRow.__table__
        senders = sorted({str(sender)[:128] for _, sender, _, _, _ in rows})
        stored: Dict[str, Dict[str, Any]] = {}  # each sender's latest turn from earlier refreshes
        for first in range(0, len(senders), _IN_CHUNK):
            latest = (select(func.max(table.c.event_id)).where(table.c.conversation_id.in_(senders[first:first + _IN_CHUNK]))
                      .group_by(table.c.conversation_id))
            for row in session.execute(select(table).where(table.c.event_id.in_(latest))).mappings():
                stored[row["conversation_id"]] = dict(row)
        current = dict(stored)
        new: Dict[int, Dict[str, Any]] = {}
        superseded: List[Dict[str, Any]] = []
        for event_id, sender, type_name, timestamp, raw in rows:
            sender = str(sender)[:128]
            data = _data(raw)
            if type_name == "user":
                previous = current.get(sender)
                if previous is not None:
                    superseded.append(previous)
                turn = _turn_row(int(event_id), sender, timestamp, data, previous)
                current[sender] = new[turn["event_id"]] = turn
            elif sender in current:
                _add_reply(current[sender], data)
        latest_ids = {turn["event_id"] for turn in current.values()}
        gone = [t["event_id"] for t in superseded if _reason(t, threshold) is None and t["event_id"] not in new]
        for first in range(0, len(gone), _IN_CHUNK):
            session.execute(delete(table).where(table.c.event_id.in_(gone[first:first + _IN_CHUNK])))
        for turn in stored.values():
            if turn["event_id"] not in gone:
                session.execute(update(table).where(table.c.event_id == turn["event_id"])
                                .values({k: v for k, v in turn.items() if k != "event_id"}))
        kept = [t for t in new.values() if t["event_id"] in latest_ids or _reason(t, threshold) is not None]
        if kept:
            session.execute(insert(table), kept)

    def items(self, threshold: float, details: bool = True) -> List[ReviewItem]:
        """Every user message that needs a person's review, oldest first (as of the last refresh).

        Without `details` the items have no guesses, reply or reply kind: enough to filter and group them,
        and much less to read (`with_details` reads them for the few items a page shows).
        """
        t = ReviewTurnRow.__table__.c
        wanted = and_(t.message.isnot(None), or_(t.unhandled.isnot(None), and_(t.handoff.is_(True), t.after_fallback.is_(True)),
                                                 t.confidence < threshold))
        return self._read(wanted, details)

    def with_details(self, items: Iterable[ReviewItem]) -> Dict[int, ReviewItem]:
        """Event id → the item with its guesses, reply and reply kind, for these items."""
        ids = sorted({item.event_id for item in items})
        found: Dict[int, ReviewItem] = {}
        for first in range(0, len(ids), _IN_CHUNK):
            found.update((item.event_id, item) for item in self._read(
                ReviewTurnRow.__table__.c.event_id.in_(ids[first:first + _IN_CHUNK]), True))
        return found

    def _read(self, where: Any, details: bool) -> List[ReviewItem]:
        t = ReviewTurnRow.__table__.c
        columns = [t.conversation_id, t.event_id, t.message, t.unhandled, t.handoff, t.after_fallback, t.channel, t.at]
        if details:
            columns += [t.guesses, t.reply, t.reply_kind]
        statement = select(*columns).where(where).order_by(t.at, t.event_id)
        with self._sessions() as session:
            # The driver's own rows: SQLAlchemy's result rows cost more than the query for tens of thousands of them.
            cursor = session.connection().connection.cursor()
            compiled = statement.compile(dialect=session.bind.dialect, compile_kwargs={"literal_binds": True})
            cursor.execute(str(compiled))
            rows = cursor.fetchall()
            cursor.close()
        return [ReviewItem(conversation_id=row[0], event_id=int(row[1]), message=row[2],
                           guesses=_guesses(row[8]) if details else (), reply=row[9] if details else "",
                           reply_kind=row[10] if details else "",
                           reason=row[3] or ("handoff_after_fallback" if row[4] and row[5] else "low_confidence"),
                           channel=row[6], at=datetime.fromtimestamp(row[7], tz=timezone.utc)) for row in rows]


def review_candidates(tracker_store_url: str, threshold: float, sessions: Optional[Any] = None) -> List[ReviewItem]:
    """Every user message in the tracker store that needs a person's review, oldest first (refreshing the summary)."""
    summary = ReviewSummary(sessions)
    summary.refresh(tracker_store_url, threshold)
    return summary.items(threshold)


def normalised_text(message: str) -> str:
    """Lower case, single spaces, no surrounding punctuation: how duplicates are recognised."""
    return " ".join(_WORD.findall(message.lower()))


@lru_cache(maxsize=100_000)  # pages group the same messages again and again
def wording(message: str) -> Tuple[str, ...]:
    """The word stems a message is grouped by; a message without latin words keeps its runs of other characters."""
    words = normalised_text(message).split()
    kept = [w for w in words if w not in _FILLER_WORDS] or words
    if not kept:  # emoji, another script, punctuation: such messages group only with the same characters
        return tuple(message.lower().split()) or ("",)
    return tuple(_stem(word) for word in kept)


def group_similar(items: Sequence[ReviewItem], similarity: float) -> List[ReviewGroup]:
    """Items grouped by TF-IDF cosine similarity of their distinct wordings (word stems); the same wording shares a group."""
    if not items:
        return []
    by_wording: Dict[Tuple[str, ...], List[ReviewItem]] = {}
    for one in items:
        by_wording.setdefault(wording(one.message), []).append(one)
    wordings = list(by_wording)
    if len(wordings) == 1:
        return [ReviewGroup(list(items))]
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectors = TfidfVectorizer(analyzer=list, sublinear_tf=True).fit_transform(wordings)
    labels = _average_link_labels(vectors, similarity) if len(wordings) <= MAX_CLUSTERED_ITEMS else _leader_labels(vectors, similarity)
    groups: Dict[int, ReviewGroup] = {}
    for label, key in zip(labels, wordings):
        groups.setdefault(int(label), ReviewGroup()).items.extend(by_wording[key])
    return list(groups.values())


def _average_link_labels(vectors: Any, similarity: float) -> List[int]:
    """Average-linkage clusters whose members are, on average, at least `similarity` alike (cosine)."""
    from sklearn.cluster import AgglomerativeClustering

    clustering = AgglomerativeClustering(n_clusters=None, affinity="cosine", linkage="average",
                                         distance_threshold=1.0 - similarity)
    return [int(label) for label in clustering.fit_predict(vectors.toarray())]


def _leader_labels(vectors: Any, similarity: float, block: int = 512) -> List[int]:
    """One pass: each row joins the most alike earlier group leader if alike enough, else leads a new group.

    Rows are L2-normalised, so a dot product is the cosine. Similarities are computed a block of rows at a
    time (to the leaders so far, and within the block) with sparse products; only the choice is sequential.
    """
    import numpy as np
    from scipy.sparse import vstack

    leaders: List[int] = []
    labels: List[int] = []
    for first in range(0, vectors.shape[0], block):
        rows = vectors[first:first + block]
        to_old = (rows @ vstack([vectors[i] for i in leaders]).T).toarray() if leaders else np.zeros((rows.shape[0], 0))
        within = (rows @ rows.T).toarray()
        old_count = len(leaders)
        new_leaders: List[int] = []  # offsets in this block of the leaders it started
        for offset in range(rows.shape[0]):
            scores = np.concatenate([to_old[offset], within[offset, new_leaders]])
            best = int(np.argmax(scores)) if scores.size else -1
            if best >= 0 and scores[best] >= similarity:
                labels.append(best)  # leaders are numbered in the order they were found: old ones, then this block's
            else:
                labels.append(old_count + len(new_leaders))
                new_leaders.append(offset)
        leaders += [first + offset for offset in new_leaders]
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
