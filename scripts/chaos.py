"""`make chaos`: the scale-out under faults, then a check that nothing was lost or done twice.

Starts its own PostgreSQL (Debian's `initdb` in a temporary folder) and Redis on free ports, two
Rasa replicas and two action servers behind nginx (scripts/scaleout.py), and drives 20
conversations through nginx as the REST client does: every message carries a `message_id`, and a
message that got no answer (connection cut, 5xx, time-out, the apology) is sent again with the same
id, with back-off. During the run it SIGKILLs a Rasa replica, restarts Redis and restarts PostgreSQL
(immediate shutdown, as a crash), one after the other, each while requests are in flight. Every
conversation also sends one answered message a second time, as a client that lost a response would.

Afterwards it reads PostgreSQL: every conversation's user events are the messages sent, each once
and in order, each followed by the assistant's replies (the ones the client got) and a return to
listening; events are never stored twice and their times never go back; every conversation that
went through the hand-over with consent has exactly one consultation request. It prints what it
did when, the counts and every violation, and exits 1 if there is any.

    .venv/bin/python -m scripts.chaos           # about 2-3 minutes (start-up included)

As root, PostgreSQL runs as the `postgres` user (initdb refuses root): its data folder is created
under the system's temporary folder and handed to that user (CHAOS_PG_USER names another one).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import json
import os
import pwd
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import aiohttp
import psycopg2
import redis
from sqlalchemy import create_engine, text

from scripts.scaleout import HOST, MODEL, ScaleOut, free_port, nginx_binary, scale_out

REPLY_TIMEOUT_S = 10  # the servers' REPLY_TIMEOUT_SECONDS (their default)
LOCK_LIFETIME_S = 2 * REPLY_TIMEOUT_S  # TICKET_LOCK_LIFETIME: no handling keeps its lock longer than the reply time-out
REQUEST_TIMEOUT_S = 30  # the client's wait for one attempt (the servers answer within REPLY_TIMEOUT_S)
MESSAGE_DEADLINE_S = 120  # a message still unanswered after this long is a violation
FIRST_RETRY_S, MAX_RETRY_S = 0.5, 4.0
DOWN_S = 2.0  # how long Redis and PostgreSQL stay down before they are started again
READY_TIMEOUT_S = 60
IN_FLIGHT_AT_FAULT = 6  # a fault strikes once this many requests are in flight

HANDOVER = [
    "my landlord refuses to negotiate, what are my options?",
    "no",
    "yes please",
    "Ana Lopez",
    "ana.lopez.{n}@example.com",
    "My landlord is keeping my deposit",
    "skip",
    "yes",
]
SCRIPTS: Dict[str, List[str]] = {
    "handover": HANDOVER,
    "mediation": [
        "hello", "what's the difference between mediation and negotiation?", "tell me more",
        "which process should I use?", "no", "yes", "no", "we can still talk", "yes", "thanks",
    ],
    "questions": [
        "hi there", "what does a mediator do?", "tell me more", "is mediation voluntary?",
        "does the mediator decide?", "what is negotiation?", "what is arbitration?", "thank you",
    ],
}
PLAN = ["handover", "mediation", "handover", "questions"]  # repeated over the conversations
FAULTS = ("kill a Rasa replica", "restart Redis", "restart PostgreSQL")
GATES = (2, 4, 6)  # fault k happens while conversations are about to send message GATES[k]


# ---------------------------------------------------------------- PostgreSQL and Redis of our own


def postgres_bin_dir() -> Optional[Path]:
    """The folder of PostgreSQL's server binaries: PG_BIN, else Debian's newest, else `initdb` on PATH."""
    candidates = [os.environ["PG_BIN"]] if os.environ.get("PG_BIN") else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    return next((Path(c) for c in candidates if (Path(c) / "initdb").exists() and (Path(c) / "postgres").exists()), None)


def postgres_user() -> Optional[pwd.struct_passwd]:
    """Who runs PostgreSQL: ourselves, or as root the `postgres` user (CHAOS_PG_USER); None if there is none."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    try:
        return pwd.getpwnam(os.environ.get("CHAOS_PG_USER", "postgres"))
    except KeyError:
        return None


def missing_tools() -> List[str]:
    """What `make chaos` needs and does not find, each with what to do."""
    missing = []
    if postgres_bin_dir() is None:
        missing.append("PostgreSQL's server binaries (initdb, postgres) are missing: apt-get install postgresql, or set PG_BIN")
    if postgres_user() is None:
        missing.append("running as root and there is no `postgres` user to run PostgreSQL as (set CHAOS_PG_USER)")
    if shutil.which("redis-server") is None:
        missing.append("redis-server is missing: apt-get install redis-server")
    if nginx_binary() is None:
        missing.append("nginx is missing: scripts/install-nginx.sh")
    if not MODEL.exists():
        missing.append(f"{MODEL} is missing: make models/commonground.tar.gz")
    return missing


class LocalPostgres:
    """A PostgreSQL cluster of its own in a temporary folder, on a free loopback port (trust authentication)."""

    def __init__(self, log: Path) -> None:
        bin_dir, user = postgres_bin_dir(), postgres_user()
        if bin_dir is None or user is None:
            raise RuntimeError("; ".join(missing_tools()))
        self.bin_dir, self.user, self.log = bin_dir, user, log
        self.folder = Path(tempfile.mkdtemp(prefix="commonground-chaos-pg-"))  # not under a root-only folder
        os.chown(self.folder, user.pw_uid, user.pw_gid)
        self.data = self.folder / "data"
        self.port = free_port()
        self.process: Optional["subprocess.Popen[bytes]"] = None

    @property
    def url(self) -> str:
        """The URL of its `postgres` database."""
        return f"postgresql://postgres@{HOST}:{self.port}/postgres"

    @property
    def version(self) -> str:
        """The server's version, as its binary says."""
        return subprocess.run([str(self.bin_dir / "postgres"), "--version"], capture_output=True, text=True).stdout.strip()

    def _as_user(self, command: List[str], **kwargs: Any) -> "subprocess.Popen[bytes]":
        with self.log.open("ab") as log:
            as_root = os.geteuid() == 0
            return subprocess.Popen(
                command, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                user=self.user.pw_uid if as_root else None, group=self.user.pw_gid if as_root else None,
                extra_groups=[] if as_root else None, **kwargs,
            )

    def initdb(self) -> None:
        """Create the cluster: superuser `postgres`, trust authentication on loopback, UTF-8."""
        command = [str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]
        if self._as_user(command).wait(timeout=120) != 0:
            raise RuntimeError(f"initdb failed; log:\n{self.log.read_text(errors='replace')[-3000:]}")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self.process = self._as_user([
            str(self.bin_dir / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.folder),
            "-c", f"listen_addresses={HOST}", "-c", "fsync=off", "-c", "max_connections=200",
        ])
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                psycopg2.connect(host=HOST, port=self.port, user="postgres", dbname="postgres", connect_timeout=1).close()
                return
            except psycopg2.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not start; log:\n{self.log.read_text(errors='replace')[-3000:]}") from None
                time.sleep(0.1)

    def stop(self, immediate: bool = False) -> None:
        """Stop the server: immediate shutdown (SIGQUIT, a crash: recovery at the next start) or fast (SIGINT)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT if immediate else signal.SIGINT)
            self.process.wait(timeout=60)

    def remove(self) -> None:
        """Stop the server and delete its folder."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class LocalRedis:
    """A Redis of its own on a free loopback port, without persistence (a restart empties it)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.process: Optional["subprocess.Popen[bytes]"] = None

    @property
    def url(self) -> str:
        """Its database 1 (locks and shared state)."""
        return f"redis://{HOST}:{self.port}/1"

    def start(self) -> None:
        """Start it and wait until it answers PING."""
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", HOST,
                 "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        client = redis.Redis(host=HOST, port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                client.ping()
                client.close()
                return
            except redis.RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Redis did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop it (SIGTERM: a normal shutdown, which keeps nothing since persistence is off)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


# ---------------------------------------------------------------- the driven conversations


@dataclass
class Attempt:
    """One try at delivering a message."""

    started: float
    ended: float
    outcome: str  # "ok", "transport" (connection cut, 502/503/504), "apology", "timeout", "http"
    phase: int  # how many faults had begun when it ended (0: none yet)
    detail: str = ""


@dataclass
class Message:
    """One message of a conversation, every try at sending it, and the replies the client accepted."""

    conversation: str
    index: int
    text: str
    message_id: str
    attempts: List[Attempt] = field(default_factory=list)
    replies: Optional[List[dict]] = None

    @property
    def retries(self) -> int:
        """Tries after the first."""
        return max(len(self.attempts) - 1, 0)


@dataclass
class Conversation:
    """A driven conversation: its script, its messages, and which one it sends twice."""

    sender: str
    script: str
    messages: List[Message]
    redeliver: int
    redelivery: Optional[Message] = None
    gate_waiting: Optional[int] = None
    finished: bool = False


@dataclass
class Fault:
    """One fault: when it began, when the dependency was back, what it hit."""

    name: str
    began: float = 0.0
    restored: float = 0.0
    detail: str = ""


def plan_conversations(run: str, count: int) -> List[Conversation]:
    """`count` conversations over the scripts, each message with a message id of its own."""
    conversations = []
    for n in range(count):
        script = PLAN[n % len(PLAN)]
        sender = f"{run}-{n:02d}-{script}"
        texts = [t.format(n=n) for t in SCRIPTS[script]]
        messages = [Message(sender, i, t, uuid.uuid4().hex) for i, t in enumerate(texts)]
        conversations.append(Conversation(sender, script, messages, redeliver=1 + n % (len(texts) - 2)))
    return conversations


def is_apology(replies: Sequence[dict]) -> bool:
    """Whether the replies are (or include) the apology for a failure, which asks for a new try."""
    return any((r.get("custom") or {}).get("kind") == "error" for r in replies)


def reply_view(replies: Sequence[dict]) -> List[Tuple[str, str]]:
    """Replies as (text, payload JSON), for comparison with what is stored."""
    return [(r.get("text", ""), json.dumps(r.get("custom"), sort_keys=True)) for r in replies]


class Chaos:
    """Drives the conversations through nginx and injects the faults while they run."""

    def __init__(self, cluster: ScaleOut, postgres: LocalPostgres, redis_server: LocalRedis, conversations: List[Conversation]) -> None:
        self.cluster, self.postgres, self.redis_server = cluster, postgres, redis_server
        self.conversations = conversations
        self.faults = [Fault(name) for name in FAULTS]
        self.phase = 0  # faults begun so far
        self.gates = [asyncio.Event() for _ in FAULTS]
        self.in_flight = 0
        self.completed = 0  # attempts ended
        self.t0 = time.monotonic()
        self.violations: List[str] = []
        self.events: List[Tuple[float, str]] = []
        self.rng = random.Random(11)

    def now(self) -> float:
        """Seconds since the run began."""
        return time.monotonic() - self.t0

    def note(self, what: str) -> None:
        """Record (and print) what happened now."""
        self.events.append((self.now(), what))
        print(f"t={self.now():6.1f} s  {what}", flush=True)

    async def run(self) -> None:
        """Every conversation at once, and the faults, until all conversations are done."""
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=40, force_close=True)) as session:
            self.note(f"{len(self.conversations)} conversations start ({sum(len(c.messages) for c in self.conversations)} messages)")
            driving = asyncio.gather(*(self.converse(session, c) for c in self.conversations))
            injecting = asyncio.ensure_future(self.inject_faults())
            await driving
            if not injecting.done():
                injecting.cancel()
                self.violations.append(f"the conversations ended before every fault happened ({self.phase} of {len(FAULTS)})")
            with contextlib.suppress(asyncio.CancelledError):
                await injecting
        self.note("every conversation finished")

    async def converse(self, session: aiohttp.ClientSession, conversation: Conversation) -> None:
        """The conversation's messages in turn (waiting at each fault's gate); one message sent twice."""
        try:
            await self._converse(session, conversation)
        finally:
            conversation.finished = True

    async def _converse(self, session: aiohttp.ClientSession, conversation: Conversation) -> None:
        await asyncio.sleep(self.rng.uniform(0, 1.5))
        for message in conversation.messages:
            if message.index in GATES:
                gate = GATES.index(message.index)
                conversation.gate_waiting = gate
                await self.gates[gate].wait()
                conversation.gate_waiting = None
            await self.deliver(session, message)
            if message.replies is None:
                break  # a violation was recorded; the rest of the conversation would be meaningless
            if message.index == conversation.redeliver:  # the client lost this response: same message id again
                again = Message(message.conversation, message.index, message.text, message.message_id)
                await self.deliver(session, again)
                conversation.redelivery = again
                if again.replies is not None and reply_view(again.replies) != reply_view(message.replies):
                    self.violations.append(f"{conversation.sender} message {message.index}: sent again, answered differently")
            await asyncio.sleep(self.rng.uniform(0.1, 0.6))  # the user reads and types

    async def deliver(self, session: aiohttp.ClientSession, message: Message) -> None:
        """Send until answered (not with the apology), retrying with back-off; a violation past the deadline."""
        deadline = time.monotonic() + MESSAGE_DEADLINE_S
        delay = FIRST_RETRY_S
        body = {"sender": message.conversation, "message": message.text, "message_id": message.message_id}
        while True:
            started = self.now()
            self.in_flight += 1
            outcome, detail, replies = "ok", "", None
            try:
                async with session.post(self.cluster.webhook, json=body) as answer:
                    if answer.status == 200:
                        replies = await answer.json()
                        if is_apology(replies):
                            outcome, detail = "apology", replies[-1].get("text", "")[:80]
                    elif answer.status in (502, 503, 504):
                        outcome, detail = "transport", f"HTTP {answer.status}"
                    else:
                        outcome, detail = "http", f"HTTP {answer.status}: {(await answer.text())[:200]}"
            except asyncio.TimeoutError:
                outcome, detail = "timeout", f"no answer within {REQUEST_TIMEOUT_S} s"
            except aiohttp.ClientError as error:
                outcome, detail = "transport", f"{type(error).__name__}: {error}"
            finally:
                self.in_flight -= 1
                self.completed += 1
            message.attempts.append(Attempt(started, self.now(), outcome, self.phase, detail))
            if outcome == "ok":
                message.replies = replies
                return
            if outcome == "http":
                self.violations.append(f"{message.conversation} message {message.index} ({message.text!r}): {detail}")
                return
            if time.monotonic() > deadline:
                self.violations.append(f"{message.conversation} message {message.index} ({message.text!r}): no answer within {MESSAGE_DEADLINE_S} s")
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_S)

    def unanswered_after_failure(self) -> int:
        """Messages that failed at least once and are not answered yet (the previous fault not recovered)."""
        return sum(
            1 for c in self.conversations for m in c.messages + ([c.redelivery] if c.redelivery else [])
            if m.attempts and m.replies is None and any(a.outcome != "ok" for a in m.attempts)
        )

    async def inject_faults(self) -> None:
        """Each fault in turn, once the previous one is recovered and every conversation waits at its gate:
        the gate opens, and the fault strikes while the released messages are in flight."""
        for index, fault in enumerate(self.faults):
            while True:
                open_ = [c for c in self.conversations if not c.finished]
                if self.unanswered_after_failure() == 0 and all(c.gate_waiting == index for c in open_):
                    break
                await asyncio.sleep(0.02)
            self.gates[index].set()
            # Strike once the released messages are being handled: some in flight, the first answers back.
            wanted, answered, deadline = min(IN_FLIGHT_AT_FAULT, len(open_)), self.completed + 2, time.monotonic() + 5
            while (self.in_flight < wanted or self.completed < answered) and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            await getattr(self, ["kill_replica", "restart_redis", "restart_postgres"][index])(fault, index)

    def begin(self, fault: Fault, index: int) -> int:
        """Mark the fault as begun (attempts ending from now on count as hit by it); requests in flight now."""
        fault.began = self.now()
        self.phase = index + 1
        return self.in_flight

    async def kill_replica(self, fault: Fault, index: int) -> None:
        """SIGKILL the first Rasa replica (nginx sends everything to the other one from then on)."""
        address = self.cluster.replica_addresses[0]
        in_flight = self.begin(fault, index)
        await asyncio.to_thread(self.cluster.rasa_service(address).kill)
        self.note(f"SIGKILL Rasa replica {address} ({in_flight} requests in flight); it stays down")
        fault.restored = fault.began
        fault.detail = "not restarted"

    async def restart_redis(self, fault: Fault, index: int) -> None:
        """Stop Redis (its locks and shared state are lost), wait, start it again."""
        in_flight = self.begin(fault, index)
        await asyncio.to_thread(self.redis_server.stop)
        self.note(f"Redis stopped (SIGTERM, no persistence: every lock and key is gone; {in_flight} requests in flight)")
        await asyncio.sleep(DOWN_S)
        await asyncio.to_thread(self.redis_server.start)
        fault.restored = self.now()
        self.note("Redis started again")

    async def restart_postgres(self, fault: Fault, index: int) -> None:
        """Stop PostgreSQL as a crash does (immediate shutdown), wait, start it again (crash recovery)."""
        in_flight = self.begin(fault, index)
        await asyncio.to_thread(self.postgres.stop, True)
        self.note(f"PostgreSQL stopped (immediate shutdown: connections cut, crash recovery at start; {in_flight} requests in flight)")
        await asyncio.sleep(DOWN_S)
        await asyncio.to_thread(self.postgres.start)
        fault.restored = self.now()
        self.note("PostgreSQL started again")


# ---------------------------------------------------------------- the checks afterwards


def stored_events(database_url: str, senders: Sequence[str]) -> Dict[str, List[dict]]:
    """Every stored event of the conversations, by conversation, in the order stored (row id)."""
    engine = create_engine(database_url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, sender_id, type_name, timestamp, action_name, data FROM events WHERE sender_id = ANY(:senders) ORDER BY id"),
                {"senders": list(senders)},
            ).all()
    finally:
        engine.dispose()
    events: Dict[str, List[dict]] = {sender: [] for sender in senders}
    for row_id, sender, type_name, timestamp, action_name, data in rows:
        events[sender].append({"id": row_id, "type_name": type_name, "timestamp": timestamp, "action_name": action_name, "data": json.loads(data)})
    return events


def stored_requests(database_url: str, senders: Sequence[str]) -> Dict[str, List[Optional[str]]]:
    """The message ids of the consultation requests stored for each conversation."""
    engine = create_engine(database_url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT conversation_id, message_id FROM consultation_requests WHERE conversation_id = ANY(:senders) ORDER BY id"),
                {"senders": list(senders)},
            ).all()
    finally:
        engine.dispose()
    requests: Dict[str, List[Optional[str]]] = {sender: [] for sender in senders}
    for sender, message_id in rows:
        requests[sender].append(message_id)
    return requests


def check_conversation(conversation: Conversation, events: List[dict]) -> Tuple[List[str], Counter]:
    """What is wrong with one conversation's stored events (violations), and what was counted."""
    problems: List[str] = []
    counts: Counter = Counter()
    name = conversation.sender
    ids = [e["id"] for e in events]
    stamps = [e["timestamp"] for e in events]
    if ids != sorted(set(ids)):
        problems.append(f"{name}: row ids not increasing")
    if stamps != sorted(stamps):
        problems.append(f"{name}: event times go back")
    copies = Counter((e["type_name"], e["timestamp"], json.dumps(e["data"], sort_keys=True)) for e in events)
    counts["events stored"] += len(events)
    counts["events stored twice"] += sum(n - 1 for n in copies.values() if n > 1)
    users = [i for i, e in enumerate(events) if e["type_name"] == "user"]
    stored_ids = [events[i]["data"].get("message_id") for i in users]
    sent = [m.message_id for m in conversation.messages if m.replies is not None]
    duplicates = sum(n - 1 for n in Counter(stored_ids).values() if n > 1)
    counts["user events stored"] += len(users)
    counts["duplicate user events"] += duplicates
    counts["missing user events"] += len(set(sent) - set(stored_ids))
    counts["user events nobody sent"] += len(set(stored_ids) - set(sent))
    if stored_ids != sent:
        problems.append(f"{name}: stored messages {len(stored_ids)} (duplicates {duplicates}) differ from the {len(sent)} sent, in order")
    by_id = {m.message_id: m for m in conversation.messages}
    for position, start in enumerate(users):
        end = users[position + 1] if position + 1 < len(users) else len(events)
        turn = events[start + 1:end]
        bots = [e for e in turn if e["type_name"] == "bot"]
        actions = [e["action_name"] for e in turn if e["type_name"] == "action"]
        message = by_id.get(stored_ids[position])
        counts["replies stored"] += len(bots)
        if not bots:
            problems.append(f"{name}: stored message {position} has no reply")
        if not actions or actions[-1] != "action_listen":
            problems.append(f"{name}: stored message {position}'s turn does not end listening ({actions[-1:]})")
        if message is not None and message.replies is not None:
            stored = [(b["data"].get("text") or "", json.dumps((b["data"].get("data") or {}).get("custom"), sort_keys=True)) for b in bots]
            if stored != reply_view(message.replies):
                problems.append(f"{name}: message {message.index} ({message.text!r}): the replies stored differ from those the client got")
    return problems, counts


def check(chaos: Chaos) -> Tuple[List[str], Counter]:
    """Every check over the stored events and consultation requests; (violations, counts)."""
    senders = [c.sender for c in chaos.conversations]
    events = stored_events(chaos.cluster.database_url, senders)
    requests = stored_requests(chaos.cluster.database_url, senders)
    violations = list(chaos.violations)
    counts: Counter = Counter()
    for conversation in chaos.conversations:
        problems, counted = check_conversation(conversation, events[conversation.sender])
        violations += problems
        counts.update(counted)
        stored = requests[conversation.sender]
        counts["consultation requests stored"] += len(stored)
        if conversation.script == "handover":
            counts["consultation requests expected"] += 1
            consent = conversation.messages[-1]
            if stored != [consent.message_id]:
                violations.append(f"{conversation.sender}: consultation requests stored {stored}, expected one for message {consent.message_id}")
            if consent.replies is not None and consent.replies[-1].get("custom", {}).get("status") != "stored":
                violations.append(f"{conversation.sender}: the hand-over did not end with the request stored")
        elif stored:
            violations.append(f"{conversation.sender}: consultation requests stored without a hand-over: {stored}")
    return violations, counts


# ---------------------------------------------------------------- report


def report(chaos: Chaos, violations: List[str], counts: Counter, answered_from_storage: int) -> Dict[str, Any]:
    """Print the faults' recovery, the counts and the violations; the same as a dict."""
    messages = [m for c in chaos.conversations for m in c.messages]
    redeliveries = [c.redelivery for c in chaos.conversations if c.redelivery is not None]
    attempts = [a for m in messages + redeliveries for a in m.attempts]
    failures = Counter(a.outcome for a in attempts if a.outcome != "ok")
    print("\nfaults (recovered: the last message that failed during the fault got its answer):")
    faults = []
    for index, fault in enumerate(chaos.faults, start=1):
        hit = [m for m in messages + redeliveries if any(a.outcome != "ok" and a.phase == index for a in m.attempts)]
        retries = sum(1 for m in hit for a in m.attempts if a.outcome != "ok" and a.phase == index)
        answered = [m.attempts[-1].ended for m in hit if m.replies is not None]
        recovered = max(answered) - fault.began if answered else 0.0
        kinds = Counter(a.outcome for m in hit for a in m.attempts if a.outcome != "ok" and a.phase == index)
        down = f"down {fault.restored - fault.began:.1f} s" if fault.restored > fault.began else fault.detail
        print(f"  t={fault.began:6.1f} s  {fault.name:<20} {down:<15} messages hit {len(hit):3}  retries {retries:3} "
              f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items())) or 'none'})  recovered in {recovered:5.1f} s")
        faults.append({"fault": fault.name, "at_s": round(fault.began, 1), "down_s": round(fault.restored - fault.began, 1),
                       "messages_hit": len(hit), "retries": retries, "recovered_s": round(recovered, 1), "failures": dict(kinds)})
    before = sum(1 for a in attempts if a.outcome != "ok" and a.phase == 0)
    summary = {
        "conversations": len(chaos.conversations),
        "messages sent": len(messages),
        "messages answered": sum(1 for m in messages if m.replies is not None),
        "replies received": sum(len(m.replies or []) for m in messages),
        "attempts": len(attempts),
        "retries": sum(m.retries for m in messages + redeliveries),
        "failed attempts by kind": dict(failures),
        "failed attempts before any fault": before,
        "messages sent twice on purpose": len(redeliveries),
        "answered from what was stored": answered_from_storage,
        **{key: counts[key] for key in (
            "user events stored", "duplicate user events", "missing user events", "user events nobody sent",
            "replies stored", "events stored", "events stored twice",
            "consultation requests expected", "consultation requests stored")},
        "violations": len(violations),
    }
    print("\ncounts:")
    for key, value in summary.items():
        print(f"  {key:<36} {value}")
    print("\nviolations:" + ("" if violations else " none"))
    for violation in violations:
        print(f"  {violation}")
    return {"summary": summary, "faults": faults, "violations": violations}


def answered_from_storage(cluster: ScaleOut) -> int:
    """How many messages the replicas answered from what was stored (bot/exactly_once.py's log line)."""
    return sum(
        path.read_text(errors="replace").count("was handled before")
        for path in cluster.work.glob("rasa.*.log")
    )


@contextlib.contextmanager
def dependencies(work: Path) -> Iterator[Tuple[LocalPostgres, LocalRedis]]:
    """Our own PostgreSQL and Redis, started; stopped and removed on exit."""
    postgres = LocalPostgres(work / "postgres.log")
    redis_server = LocalRedis(work)
    try:
        postgres.initdb()
        postgres.start()
        redis_server.start()
        yield postgres, redis_server
    finally:
        redis_server.stop()
        postgres.remove()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the chaos test; 0 when every check held, 1 on any violation, 2 when it cannot run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--lock-lifetime", type=int, default=LOCK_LIFETIME_S, help=f"TICKET_LOCK_LIFETIME for the replicas (default {LOCK_LIFETIME_S})")
    parser.add_argument("--json", type=Path, help="also write the counts and faults to this file")
    parser.add_argument("--work", type=Path, help="keep logs here (default: a temporary folder, removed)")
    args = parser.parse_args(argv)
    missing = missing_tools()
    if missing:
        print("make chaos cannot run:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 2
    started = time.monotonic()
    with contextlib.ExitStack() as cleanup:
        work = args.work or Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="commonground-chaos-")))
        work.mkdir(parents=True, exist_ok=True)
        postgres, redis_server = cleanup.enter_context(dependencies(work))
        print(f"{postgres.version} on {HOST}:{postgres.port} (initdb in {postgres.folder}, run as {postgres.user.pw_name}); "
              f"Redis on {HOST}:{redis_server.port}; TICKET_LOCK_LIFETIME={args.lock_lifetime}", flush=True)
        print("starting 2 Rasa replicas and 2 action servers behind nginx…", flush=True)
        cluster = cleanup.enter_context(scale_out(
            2, 2, postgres_url=postgres.url, redis_url=redis_server.url, work=work,
            extra_env={"TICKET_LOCK_LIFETIME": str(args.lock_lifetime), "PYTHONUNBUFFERED": "1"},
        ))
        print(f"started in {time.monotonic() - started:.1f} s; logs in {work}", flush=True)
        chaos = Chaos(cluster, postgres, redis_server, plan_conversations(f"chaos-{uuid.uuid4().hex[:6]}", args.conversations))
        asyncio.run(chaos.run())
        violations, counts = check(chaos)
        result = report(chaos, violations, counts, answered_from_storage(cluster))
        result["wall_s"] = round(time.monotonic() - started, 1)
        print(f"\nwall time {result['wall_s']} s (start-up included)")
        if args.json:
            args.json.write_text(json.dumps(result, indent=2))
    return 1 if result["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
