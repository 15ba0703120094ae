"""The console in headless Chromium (Debian's, driven by Playwright): what a member of staff does, with screenshots.

The screenshots in docs/images/console-*.png are refreshed by these tests.
"""

from __future__ import annotations

import uuid
from typing import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.config import PROJECT_ROOT
from tests.console.conftest import STAFF_EMAIL, STAFF_PASSWORD, Console
from tests.e2e.test_widget_browser import CHROMIUM, CHROMIUM_ARGS, need

pytestmark = pytest.mark.e2e
IMAGES = PROJECT_ROOT / "docs" / "images"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    if not CHROMIUM.exists():
        need(f"{CHROMIUM} is missing: run scripts/install-browser.sh (Debian package `chromium`)")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) at desktop size."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


def sign_in(page: Page, console: Console) -> None:
    """Fill in the sign-in form."""
    page.goto(console.url + "/login")
    page.get_by_label("Email").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Requests")).to_be_visible()


def test_without_a_session_every_page_goes_to_sign_in(page: Page, console: Console) -> None:
    """Opening the inbox, a request or the audit log without signing in shows the sign-in page."""
    request_id = console.add_request(f"browser-anon-{uuid.uuid4().hex}")
    for path in ("/requests", f"/requests/{request_id}", "/audit"):
        page.goto(console.url + path)
        assert page.url == console.url + "/login"
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("don't match an account")
    page.screenshot(path=str(IMAGES / "console-login.png"))


def test_staff_member_works_through_a_request(page: Page, console: Console) -> None:
    """Sign in, see the inbox, open a request (escaped text, transcript), mark it contacted, erase it, sign out."""
    console.add_request(f"browser-older-{uuid.uuid4().hex}", name="Sam Okafor", description="Neighbour's fence is on my land")
    request_id = console.add_request(f"browser-{uuid.uuid4().hex}")
    xss_fired = []
    page.on("dialog", lambda dialog: (xss_fired.append(dialog.message), dialog.dismiss()))
    sign_in(page, console)
    row = page.locator("tr", has=page.get_by_role("link", name="Ana Lopez")).first
    expect(row).to_contain_text("email: pending")
    expect(page.locator("tbody tr").first).to_contain_text(f"{request_id}")  # newest first
    page.screenshot(path=str(IMAGES / "console-inbox.png"), full_page=True)

    page.goto(f"{console.url}/requests/{request_id}")
    expect(page.locator(".description")).to_contain_text("<script>window.__xss=1</script>")
    expect(page.locator(".transcript")).to_contain_text("<b>my landlord</b>")
    expect(page.get_by_text("Brown Lettings <Ltd>")).to_be_visible()
    assert page.evaluate("window.__xss") is None and not xss_fired
    page.screenshot(path=str(IMAGES / "console-request.png"), full_page=True)

    page.get_by_label("Note (optional)").fill("Rang her, call back on Friday")
    page.get_by_role("button", name="Mark contacted").click()
    expect(page.locator("h1 .badge")).to_have_text("contacted")
    expect(page.get_by_text("Rang her, call back on Friday")).to_be_visible()

    page.get_by_role("link", name="Erase this conversation and request…").click()
    page.get_by_label("Yes, erase it").check()
    page.screenshot(path=str(IMAGES / "console-erase.png"))
    page.get_by_role("button", name="Erase").click()
    expect(page.get_by_role("status")).to_contain_text("2 conversation events and 1 requests were deleted")
    page.goto(f"{console.url}/requests/{request_id}")
    expect(page.get_by_role("alert")).to_contain_text("no such request")

    page.goto(console.url + "/audit")
    expect(page.locator("tbody")).to_contain_text("erased")
    expect(page.locator("tbody")).to_contain_text("marked contacted")
    page.screenshot(path=str(IMAGES / "console-audit.png"))

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(console.url + "/requests")
    assert page.url == console.url + "/login"
