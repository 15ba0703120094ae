"""Dashboard and review inbox timings with many stored events, on SQLite and PostgreSQL (127.0.0.1:5432, user postgres).

    .venv/bin/python scripts/bench_dashboard.py [--events 100000] [--skip-postgres] [--skip-review]

Creates the tracker store's `events` table with Rasa's own SQL tracker store, fills it with synthetic
conversations (user messages with parse data, replies of every kind, consultation forms) over 30 days and
4 channels, then times: the first summary refresh (reads every event once), a dashboard page's work when
nothing is new (refresh + every query), and the same after 100 new events. Then it starts the staff
console (`python -m bot.console.app`) on those databases and times GET /review over HTTP: the first
page, a page when nothing is new and one after 100 new events. Prints one line per figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

KINDS = ["answer"] * 12 + ["fallback", "not_covered", "out_of_scope", "recommendation", "handoff", "question", "info"]
CHANNELS = ["rest", "socketio", "telegram", "slack"]
INTENTS = ["what_is_mediation", "mediator_role", "binding_agreements", "meeting_formats", "impasse", "greet"]
WORDINGS = ["how much does it cost", "can you help with my landlord", "what is mediation", "is the agreement binding",
            "what does a mediator do", "do I need a lawyer", "my neighbour won't talk to me", "how long does it take"]


def synthetic_events(count: int, seed: int = 7) -> List[Dict[str, object]]:
    """`count` events: conversations of user messages, bot replies and the odd consultation form."""
    rng = random.Random(seed)
    start = time.time() - 30 * 86400
    events: List[Dict[str, object]] = []
    while len(events) < count:
        sender, at = uuid.uuid4().hex, start + rng.random() * 30 * 86400
        channel = rng.choice(CHANNELS)
        for _ in range(rng.randint(1, 6)):
            intent = rng.choice(INTENTS)
            confidence = round(rng.random(), 3)
            user = {"event": "user", "timestamp": at, "text": rng.choice(WORDINGS) + f" {rng.randint(1, 50)}", "input_channel": channel,
                    "parse_data": {"intent": {"name": intent, "confidence": confidence},
                                   "intent_ranking": [{"name": intent, "confidence": confidence}]}}
            kind = rng.choice(KINDS)
            custom: Dict[str, object] = {"kind": kind, "follow_ups": [{"payload": "/request_consultation"}] if rng.random() < 0.2 else []}
            if kind == "recommendation":
                custom["process"] = rng.choice(["mediation", "negotiation", "arbitration"])
            events.append({"sender_id": sender, "type_name": "user", "timestamp": at, "intent_name": intent, "action_name": None,
                           "data": json.dumps(user)})
            if kind == "handoff":
                events.append({"sender_id": sender, "type_name": "active_loop", "timestamp": at + 1, "intent_name": None,
                               "action_name": None, "data": json.dumps({"event": "active_loop", "name": "consultation_form"})})
            events.append({"sender_id": sender, "type_name": "bot", "timestamp": at + 2, "intent_name": None, "action_name": None,
                           "data": json.dumps({"event": "bot", "text": "reply", "data": {"custom": custom}})})
            at += rng.randint(5, 120)
    return events[:count]


def create_events_table(tracker_url: str) -> None:
    """The `events` table exactly as Rasa's SQL tracker store creates it."""
    os.environ["TRACKER_STORE_URL"] = tracker_url
    from bot.stores import ConfiguredSQLTrackerStore

    ConfiguredSQLTrackerStore().engine.dispose()


def timed(label: str, action: Callable[[], object]) -> float:
    """Run `action`, print and return its wall time in seconds."""
    began = time.perf_counter()
    action()
    seconds = time.perf_counter() - began
    print(f"  {label}: {seconds:.3f} s", flush=True)
    return seconds


ROOT = Path(__file__).resolve().parent.parent
STAFF_EMAIL, STAFF_PASSWORD = "bench@firm.example", "bench password of some length"


def start_console(tracker_url: str, database_url: str, work: Path) -> "tuple[subprocess.Popen[bytes], str, float]":
    """The staff console on a free port, on these databases, with one staff account; process, URL, start-up seconds."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": database_url, "TRACKER_STORE_URL": tracker_url, "CONSOLE_PORT": str(port),
           "CONSOLE_HOST": "127.0.0.1", "CONSOLE_PUBLIC_URL": f"http://127.0.0.1:{port}", "COMMONGROUND_VAR_DIR": str(work)}
    subprocess.run([sys.executable, "-m", "bot.console.accounts", STAFF_EMAIL], input=STAFF_PASSWORD + "\n", cwd=ROOT, env=env,
                   check=True, capture_output=True, text=True, timeout=120)
    log = (work / "console.log").open("wb")
    began = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "bot.console.app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    import requests

    while True:
        try:
            if requests.get(url + "/login", timeout=2).status_code == 200:
                return process, url, time.perf_counter() - began
        except requests.ConnectionError:
            pass
        if process.poll() is not None:
            raise RuntimeError("the console did not start: " + (work / "console.log").read_text(errors="replace")[-3000:])
        time.sleep(0.2)


def bench_review(tracker_url: str, database_url: str, add_events: Callable[[], None], timeout: float) -> Dict[str, float]:
    """GET /review over HTTP against a running console: first page, pages with nothing new, a page after 100 new events."""
    import requests

    with tempfile.TemporaryDirectory() as work:
        process, url, startup = start_console(tracker_url, database_url, Path(work))
        print(f"  console start-up (its summaries read every event once): {startup:.1f} s", flush=True)
        try:
            browser = requests.Session()
            csrf = browser.get(url + "/login", timeout=10).text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            signed_in = browser.post(url + "/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "csrf": csrf},
                                     allow_redirects=False, timeout=10)
            assert signed_in.status_code == 302, signed_in.text[:300]

            def review() -> float:
                began = time.perf_counter()
                answer = browser.get(url + "/review", timeout=timeout)
                seconds = time.perf_counter() - began
                answer.raise_for_status()
                review.lines, review.size = answer.text.count('class="review-group"'), len(answer.content)  # type: ignore[attr-defined]
                return seconds

            figures = {"review first": review()}
            print(f"  /review, first page: {figures['review first']:.3f} s ({review.lines} lines, {review.size / 1e6:.2f} MB)",  # type: ignore[attr-defined]
                  flush=True)
            again = [review() for _ in range(3)]
            figures["review"] = statistics.median(again)
            print(f"  /review, nothing new (median of 3): {figures['review']:.3f} s", flush=True)
            add_events()
            figures["review after 100 new"] = review()
            print(f"  /review after 100 new events: {figures['review after 100 new']:.3f} s ({review.lines} lines)",  # type: ignore[attr-defined]
                  flush=True)
            return figures
        finally:
            process.terminate()
            process.wait(timeout=30)


def bench(name: str, tracker_url: str, database_url: str, count: int, review: bool = True, review_timeout: float = 900) -> Dict[str, float]:
    """Fill, then time the dashboard on one kind of database."""
    from bot.db import create_schema, session_factory
    from bot.review.analytics import Dashboard, DashboardFilter, TurnSummary, consultation_funnel

    print(f"{name}: {count} events", flush=True)
    create_events_table(tracker_url)
    create_schema(session_factory(database_url).kw["bind"])
    events = synthetic_events(count + 200)
    tracker = create_engine(tracker_url, future=True)
    insert = text("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                  "VALUES (:sender_id, :type_name, :timestamp, :intent_name, :action_name, :data)")
    began = time.perf_counter()
    with tracker.begin() as connection:
        connection.execute(insert, events[:count])
    print(f"  inserting the events: {time.perf_counter() - began:.1f} s", flush=True)
    sessions = session_factory(database_url)
    summary, dashboard = TurnSummary(sessions), Dashboard(sessions)
    today = date.today()
    wanted = DashboardFilter(today - timedelta(days=29), today)

    def page() -> None:
        summary.refresh(tracker_url)
        consultation_funnel(sessions, wanted)
        dashboard.tables(wanted)

    figures = {"first refresh": timed("first summary refresh (every event read once)", lambda: summary.refresh(tracker_url)),
               "page": timed("dashboard page, nothing new (refresh + all queries, 30 days)", page)}
    figures["page, telegram"] = timed("dashboard page, one channel", lambda: dashboard.tables(DashboardFilter(wanted.since, wanted.until, "telegram")))
    with tracker.begin() as connection:
        connection.execute(insert, events[count:count + 100])
    figures["page after 100 new"] = timed("dashboard page after 100 new events", page)
    if review:
        def add_events() -> None:
            with tracker.begin() as connection:
                connection.execute(insert, events[count + 100:])

        figures.update(bench_review(tracker_url, database_url, add_events, review_timeout))
    tracker.dispose()
    return figures


def main() -> int:
    """Run the benchmark on SQLite and (unless skipped) PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-review", action="store_true", help="time the dashboard only")
    parser.add_argument("--review-timeout", type=float, default=900, help="seconds to wait for one /review page")
    args = parser.parse_args()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as work:
            bench("SQLite", f"sqlite:///{work}/tracker.db", f"sqlite:///{work}/commonground.db", args.events,
                  not args.skip_review, args.review_timeout)
    if args.skip_postgres:
        return 0
    name = f"cg_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine("postgresql://postgres@127.0.0.1:5432/postgres", future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        bench("PostgreSQL", url, url, args.events, not args.skip_review, args.review_timeout)
    finally:
        from bot.db import engine_for

        engine_for(f"postgresql://postgres@127.0.0.1:5432/{name}").dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    return 0


if __name__ == "__main__":
    sys.exit(main())
