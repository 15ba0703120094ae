"""Review loop end to end: messages over REST reach the console's review inbox, a decision in Chromium, `make reviewed`.

Retraining on the export is not run here (training takes minutes on 2 cores): the Makefile's training
inputs are every YAML file under data/nlu, so data/nlu/reviewed.yml retrains through `make run`/`make test`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import requests
import yaml
from playwright.sync_api import Page, expect

from bot.config import PROJECT_ROOT
from tests.console.conftest import STAFF_EMAIL, STAFF_PASSWORD, create_staff_account
from tests.console.test_console_browser import browser, page  # noqa: F401  (fixtures)
from tests.e2e.conftest import Servers, start_servers

pytestmark = pytest.mark.e2e
WEATHER = "what's the weather like tomorrow?"


def console_url(servers: Servers) -> str:
    """The console that scripts/run.sh started next to the assistant."""
    return f"http://127.0.0.1:{servers.env['CONSOLE_PORT']}"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Servers of this module's own: the inbox holds only what this test sent, not every e2e test's messages."""
    running = start_servers(tmp_path_factory.mktemp("review-loop"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def staff(servers: Servers) -> Iterator[str]:
    """A staff account on the running servers' database, and the console's URL once it answers."""
    assert create_staff_account(servers.env, STAFF_EMAIL, STAFF_PASSWORD).returncode == 0
    url = console_url(servers)
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(url + "/login", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, "the console did not answer"
        time.sleep(0.5)
    yield url


def test_rest_messages_reach_the_inbox_and_a_decision_is_exported(servers: Servers, staff: str, page: Page,  # noqa: F811
                                                                  tmp_path: Path) -> None:
    """An out-of-scope message sent over REST is in the inbox; staff give it a topic; the export writes it, masked."""
    sender = f"review-{uuid.uuid4().hex}"
    replies = servers.say(sender, WEATHER)
    assert replies[0]["custom"]["kind"] == "out_of_scope"
    servers.say(sender, "please write to ana@example.com about the weather in Lisbon tomorrow")
    page.goto(staff + "/login")
    page.get_by_label("Email").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(staff + "/review")
    # Other tests on the same servers send similar messages: find the line that holds this conversation's.
    ours = f'a[href="/conversations/{sender}"]'
    line = page.locator("tr.review-group").filter(has=page.locator(ours)).filter(has_text="like tomorrow")
    expect(line).to_have_count(1)
    expect(page.get_by_text("ana@example.com")).to_have_count(0)
    expect(line.locator("ol.guesses li").first).to_be_visible()
    line.get_by_label("Decision").select_option("topic")
    line.get_by_label("Topic").select_option("out_of_scope")
    line.locator("form.decision button").click()
    expect(page.locator("tr.review-group").filter(has=page.locator(ours)).filter(has_text="like tomorrow")).to_have_count(0)
    nlu = tmp_path / "nlu"
    shutil.copytree(PROJECT_ROOT / "data" / "nlu", nlu)
    (nlu / "reviewed.yml").unlink(missing_ok=True)
    exported = subprocess.run([sys.executable, "-m", "bot.review.export", "--nlu-dir", str(nlu), "--reports", str(tmp_path / "reports")],
                              cwd=PROJECT_ROOT, env=servers.env, capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0, exported.stderr[-2000:]
    print(exported.stdout)
    written = yaml.safe_load((nlu / "reviewed.yml").read_text())
    examples = {entry["intent"]: entry["examples"].splitlines() for entry in written["nlu"]}
    assert f"- {WEATHER}" in examples["out_of_scope"]
    assert "@" not in (nlu / "reviewed.yml").read_text()
