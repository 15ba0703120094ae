"""The staff console as `make run` starts it, on a free port, with its own databases and one staff account."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, Optional

import pytest
import requests

from bot.config import PROJECT_ROOT
from bot.db import create_schema, session_factory
from bot.handover.requests import ConsultationRequest, ConsultationStore, Contact, utc_now
from tests.e2e.conftest import free_port

STAFF_EMAIL = "staff@firm.example"
STAFF_PASSWORD = "correct horse battery staple"
HOSTILE_DESCRIPTION = "<script>window.__xss=1</script><img src=x onerror=window.__xss=2> '; DROP TABLE audit_log;--"
HOSTILE_MESSAGE = "<b>my landlord</b> <script>window.__xss=3</script> keeps the deposit"


@dataclass
class Console:
    """A running console and the databases behind it."""

    url: str
    env: Dict[str, str]
    database_url: str
    tracker_url: str
    process: "subprocess.Popen[bytes]"

    def add_request(self, conversation_id: str, name: str = "Ana Lopez", description: str = HOSTILE_DESCRIPTION) -> int:
        """Store a consented request (with a pending email) and its conversation in the tracker store; its id."""
        request_id = ConsultationStore(session_factory(self.database_url)).save(ConsultationRequest(
            conversation_id=conversation_id, name=name, contact=Contact("email", "ana@example.com"),
            description=description, other_party="Brown Lettings <Ltd>",
            recommendation={"process": "mediation", "reasons": ["communication"],
                            "facts": {"safety": False, "other_side_willing": True, "wants_decision": False, "communication": False}},
            consented_at=utc_now()), ["email"])
        save_conversation(self.tracker_url, conversation_id)
        return request_id


def save_conversation(tracker_url: str, conversation_id: str) -> None:
    """A short conversation saved by Rasa's own SQL tracker store."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    store = SQLTrackerStore(dialect="sqlite", db=tracker_url[len("sqlite:///"):])
    tracker = DialogueStateTracker.from_events(conversation_id, [
        UserUttered(HOSTILE_MESSAGE, {"name": "inform", "confidence": 1.0}),
        BotUttered("I'm sorry to hear that. Would you like to talk to a person?"),
    ])
    # In a thread of its own: Playwright's sync API keeps an event loop running in the test's thread.
    saver = threading.Thread(target=lambda: asyncio.run(store.save(tracker)))
    saver.start()
    saver.join(timeout=60)
    store.engine.dispose()


def create_staff_account(env: Dict[str, str], email: str, password: str) -> "subprocess.CompletedProcess[str]":
    """`make staff-user` without make: the password on standard input."""
    return subprocess.run([sys.executable, "-m", "bot.console.accounts", email], input=password + "\n",
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)


def start_console(work: Path, extra_env: Optional[Dict[str, str]] = None) -> Console:
    """The console process on a free port with databases in `work` and one staff account; started."""
    port = free_port()
    database_url, tracker_url = f"sqlite:///{work / 'commonground.db'}", f"sqlite:///{work / 'tracker.db'}"
    env = {**os.environ, "DATABASE_URL": database_url, "TRACKER_STORE_URL": tracker_url, "CONSOLE_PORT": str(port),
           "CONSOLE_HOST": "127.0.0.1", "CONSOLE_PUBLIC_URL": f"http://127.0.0.1:{port}", "COMMONGROUND_VAR_DIR": str(work),
           **(extra_env or {})}
    create_schema(session_factory(database_url).kw["bind"])
    assert create_staff_account(env, STAFF_EMAIL, STAFF_PASSWORD).returncode == 0
    with (work / "console.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "bot.console.app"], cwd=PROJECT_ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    if not console_answers(url, alive=lambda: process.poll() is None):
        process.kill()
        pytest.fail("the console did not start: " + (work / "console.log").read_text(errors="replace")[-3000:])
    return Console(url, env, database_url, tracker_url, process)


def console_answers(url: str, alive: Callable[[], bool] = lambda: True, timeout_s: float = 60) -> bool:
    """Wait until the console at `url` serves its login page; False if it never does or `alive` says it died."""
    deadline = time.monotonic() + timeout_s
    while alive() and time.monotonic() < deadline:
        try:
            if requests.get(url + "/login", timeout=2).status_code == 200:
                return True
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    return False


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """The console process with a staff account."""
    running = start_console(tmp_path_factory.mktemp("console"))
    yield running
    running.process.terminate()
    running.process.wait(timeout=20)


def login(console: Console, email: str = STAFF_EMAIL, password: str = STAFF_PASSWORD) -> requests.Session:
    """A signed-in HTTP session."""
    browser = requests.Session()
    page = browser.get(console.url + "/login", timeout=10)
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    answer = browser.post(console.url + "/login", data={"email": email, "password": password, "csrf": csrf},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:500]
    return browser


def csrf_of(browser: requests.Session, console: Console) -> str:
    """The session's CSRF token, as its pages carry it."""
    page = browser.get(console.url + "/requests", timeout=10)
    return page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
