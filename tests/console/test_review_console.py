"""The review inbox in the running console: over HTTP (bad input) and in headless Chromium (a decision, undo)."""

from __future__ import annotations

import threading
from typing import Iterator

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.console.conftest import Console, csrf_of, login
from tests.console.test_console_browser import IMAGES, browser, page, sign_in  # noqa: F401  (fixtures)
from tests.review.test_analytics import store_handover_conversation
from tests.review.test_review import parse, store_conversations, turn

HOSTILE_FALLBACK = "</script><script>window.__xss=7</script><img src=x onerror=window.__xss=8> fees?"


def store_dashboard_conversations(tracker_url: str, patch: pytest.MonkeyPatch) -> None:
    """The review conversations, a hand-over one and one whose unanswered message is hostile markup."""
    import asyncio
    import time

    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.stores import ConfiguredSQLTrackerStore

    store_conversations(tracker_url, patch)
    store_handover_conversation(tracker_url, patch, time.time() - 60)
    store = ConfiguredSQLTrackerStore()
    asyncio.run(store.save(DialogueStateTracker.from_events("conv-x", turn(
        HOSTILE_FALLBACK, parse("greet", 0.2), "Sorry, I didn't get that.", "fallback", time.time() - 30, "socketio"))))
    store.engine.dispose()

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def reviewed_console(console: Console) -> Iterator[Console]:
    """The console with the review test conversations in its tracker store."""
    patch = pytest.MonkeyPatch()
    # In a thread of its own: Playwright's sync API keeps an event loop running in the test's thread.
    saver = threading.Thread(target=store_dashboard_conversations, args=(console.tracker_url, patch))
    saver.start()
    saver.join(timeout=60)
    patch.undo()
    yield console


@pytest.mark.parametrize("form, status", [
    ({"decision": "promote", "item": "1:conv-a"}, 400),
    ({"decision": "topic", "intent": "no_such_intent", "item": "1:conv-a"}, 400),
    ({"decision": "dismiss", "item": "999999:nobody"}, 404),
    ({"decision": "not_covered", "note": "x" * 1001, "item": "1:conv-a"}, 400),
    ({"decision": "dismiss", "line": "999999:nobody", "upto": "999999"}, 404),
    ({"decision": "dismiss", "line": "1:conv-a", "upto": "soon"}, 400),
    ({"decision": "dismiss", "line": "1:conv-a", "upto": "999999", "since": "yesterday"}, 400),
])
def test_bad_decisions_get_a_clear_answer(reviewed_console: Console, form: dict, status: int) -> None:
    """An unknown decision, topic or message, or a too long note, is refused with a message and changes nothing."""
    browser_session = login(reviewed_console)
    answer = browser_session.post(reviewed_console.url + "/review/decide", data={**form, "csrf": csrf_of(browser_session, reviewed_console)},
                                  allow_redirects=False, timeout=10)
    assert answer.status_code == status
    assert "<p" in answer.text


def test_review_needs_sign_in_and_csrf(reviewed_console: Console) -> None:
    """Without a session the inbox redirects to sign-in; a decision without the CSRF token is refused."""
    assert requests.get(reviewed_console.url + "/review", allow_redirects=False, timeout=10).headers["location"] == "/login"
    browser_session = login(reviewed_console)
    refused = browser_session.post(reviewed_console.url + "/review/decide", data={"decision": "dismiss", "item": "1:conv-a"},
                                   allow_redirects=False, timeout=10)
    assert refused.status_code == 403
    assert browser_session.get(reviewed_console.url + "/review?since=yesterday", timeout=10).status_code == 400
    assert browser_session.get(reviewed_console.url + "/review?sort=random", timeout=10).status_code == 400


def test_a_decision_in_the_browser_drops_the_group_and_can_be_undone(page: Page, reviewed_console: Console) -> None:  # noqa: F811
    """The grouped inbox shows masked messages with guesses; deciding a group empties it; undo brings it back."""
    sign_in(page, reviewed_console)
    page.goto(reviewed_console.url + "/review")
    expect(page.get_by_role("heading", name="Review inbox")).to_be_visible()
    cost_group = page.locator("tr.review-group").filter(has_text="how much")
    expect(cost_group.locator("td.count")).to_have_text("2")
    expect(page.get_by_text("mail me at [email]")).to_be_visible()
    expect(page.get_by_text("ana@example.com")).to_have_count(0)
    expect(cost_group.locator("ol.guesses li").first).to_contain_text("0.")
    page.screenshot(path=str(IMAGES / "console-review.png"), full_page=True)
    page.goto(reviewed_console.url + "/review?channel=telegram")
    expect(page.locator("tr.review-group")).to_have_count(3)
    page.goto(reviewed_console.url + "/review")
    cost_group.get_by_label("Decision").select_option("topic")
    cost_group.get_by_label("Topic").select_option("mediator_role")
    cost_group.get_by_role("button", name="Decide for 2").click()
    expect(page.locator("tr.review-group").filter(has_text="how much")).to_have_count(0)
    expect(page.locator("table.decided tr").filter(has_text="topic: mediator_role")).to_have_count(2)
    page.goto(reviewed_console.url + "/audit")
    expect(page.get_by_text("review topic").first).to_be_visible()
    page.goto(reviewed_console.url + "/review")
    page.locator("table.decided tr").filter(has_text="how much do mediators cost").get_by_role("button", name="Undo").click()
    expect(page.locator("tr.review-group").filter(has_text="how much do mediators cost")).to_have_count(1)
    page.goto(reviewed_console.url + "/conversations/conv-b")
    expect(page.get_by_text("I'll put you in touch.")).to_be_visible()


def test_dashboard_draws_charts_with_tables_and_csv(page: Page, reviewed_console: Console, tmp_path) -> None:  # noqa: F811
    """The dashboard draws its charts from the bundled chart library, shows every table and downloads it as CSV."""
    errors: list = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, reviewed_console)
    page.goto(reviewed_console.url + "/dashboard")
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(page.locator('canvas[data-table="conversations_per_day"][data-drawn="true"]')).to_have_count(1)
    expect(page.locator('table[data-table="handover_funnel"] tr').filter(has_text="form started")).to_contain_text("1")
    expect(page.locator('table[data-table="top_unanswered"]')).to_contain_text("window.__xss=7")
    assert page.evaluate("window.__xss") is None
    assert errors == []
    page.screenshot(path=str(IMAGES / "console-dashboard.png"), full_page=True)
    with page.expect_download() as download_info:
        page.locator("#recommendations").get_by_role("link", name="Download CSV").click()
    saved = tmp_path / "recommendations.csv"
    download_info.value.save_as(saved)
    assert saved.read_text().splitlines() == ["process,recommendations", "mediation,1"]
    page.goto(reviewed_console.url + "/dashboard?channel=telegram")
    expect(page.locator('table[data-table="containment"] tbody td').first).to_have_text("1")


@pytest.mark.parametrize("query, status", [("since=2026-13-01", 400), ("since=2026-02-01&until=2026-01-01", 400),
                                           ("since=2020-01-01&until=2026-01-01", 400)])
def test_dashboard_refuses_bad_ranges(reviewed_console: Console, query: str, status: int) -> None:
    """A malformed or reversed or too long range gets a clear answer, on the page and for CSV."""
    session = login(reviewed_console)
    assert session.get(f"{reviewed_console.url}/dashboard?{query}", timeout=10).status_code == status
    assert session.get(f"{reviewed_console.url}/dashboard/csv/top_topics?{query}", timeout=10).status_code == status
    assert session.get(f"{reviewed_console.url}/dashboard/csv/nothing", timeout=10).status_code == 404


def save_in_thread(tracker_url: str, sender: str, message: str) -> None:
    """One out-of-scope turn saved through Rasa's tracker store, in a thread (Playwright keeps a loop in this one)."""
    import asyncio
    import time

    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.stores import ConfiguredSQLTrackerStore

    def save() -> None:
        patch = pytest.MonkeyPatch()
        patch.setenv("TRACKER_STORE_URL", tracker_url)
        store = ConfiguredSQLTrackerStore()
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, turn(
            message, parse("out_of_scope", 0.9), "I only help with disputes.", "out_of_scope", time.time()))))
        store.engine.dispose()
        patch.undo()

    saver = threading.Thread(target=save)
    saver.start()
    saver.join(timeout=60)


def test_a_line_decision_leaves_messages_newer_than_the_page_open(reviewed_console: Console) -> None:
    """The form decides its line as the page showed it: a similar message that arrived after the page stays open."""
    import re

    session = login(reviewed_console)
    save_in_thread(reviewed_console.tracker_url, "conv-dog-1", "can I bring my dog to the session")
    shown = session.get(reviewed_console.url + "/review", timeout=10).text.split("<h2>Recent decisions", 1)[0]
    row = next(r for r in shown.split('<tr class="review-group">') if "bring my dog" in r)
    fields = dict(re.findall(r'<input type="hidden" name="(line|upto|csrf)" value="([^"]*)"', row))
    save_in_thread(reviewed_console.tracker_url, "conv-dog-2", "can I bring my dog to the sessions")
    decided = session.post(reviewed_console.url + "/review/decide", data={**fields, "decision": "dismiss", "reason": "", "channel": "",
                                                                          "since": "", "until": ""}, allow_redirects=False, timeout=10)
    assert decided.status_code == 302
    after = session.get(reviewed_console.url + "/review", timeout=10).text.split("<h2>Recent decisions", 1)[0]
    dog_rows = [r for r in after.split('<tr class="review-group">') if "bring my dog" in r]
    assert len(dog_rows) == 1 and "conv-dog-2" in dog_rows[0] and "conv-dog-1" not in dog_rows[0]
