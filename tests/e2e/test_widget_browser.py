"""The website widget in a real browser: headless Chromium on the demo page, talking to the real servers.

Needs Debian's `chromium` at /usr/bin/chromium (scripts/install-browser.sh; CHROMIUM overrides the
path). Without it these tests are skipped with the reason, except under CI=true, where they fail.
Playwright drives that browser; `playwright install` (which downloads browsers) is never needed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

import pytest
import requests
from playwright.sync_api import Browser, Locator, Page, Playwright, expect, sync_playwright

from bot.config import PROJECT_ROOT
from tests.e2e.conftest import Servers, free_port, start_servers

pytestmark = pytest.mark.e2e

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
BUNDLE = PROJECT_ROOT / "web" / "dist" / "commonground-widget.js"
SCREENSHOTS = PROJECT_ROOT / "results" / "screenshots"
REPLY_TIMEOUT_MS = 60_000
CONNECT_TIMEOUT_MS = 30_000
WEB_START_TIMEOUT_S = 20

VIEWPORTS: Dict[str, Dict[str, int]] = {
    "phone": {"width": 360, "height": 740},
    "desktop": {"width": 1280, "height": 860},
}
# Phone screenshots are taken on a taller screen, so one picture holds the whole answer or card.
ANSWER_SHOT_HEIGHT = 1040
CARD_SHOT_HEIGHT = 1480

# What the widget itself shows (web/src/strings.js).
LAUNCHER = "Chat with us"
OFFLINE = "Can't reach the assistant — reconnecting…"
XSS = "<img src=x onerror=window.__xss=1>"


def need(reason: str) -> None:
    """Skip with `reason`, or fail under CI=true, where the browser tests must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


# --- servers -------------------------------------------------------------------------------------


class StaticServer:
    """scripts/serve-web.py on a free port: the demo page and the widget bundle."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: Optional["subprocess.Popen[bytes]"] = None

    def start(self) -> None:
        """Start serving and wait until the demo page answers."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "scripts/serve-web.py", "--port", str(self.port)],
                cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + WEB_START_TIMEOUT_S
        while True:
            try:
                if requests.get(f"{self.origin}/demo/", timeout=2).status_code == requests.codes.ok:
                    return
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the static server did not start; log:\n{self.log.read_text(errors='replace')}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop serving."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class TcpRelay:
    """A TCP relay in front of the Rasa server that the test can cut and restore, like a network drop."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.listener: Optional[socket.socket] = None
        self.connections: List[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        """Accept connections and relay each one to the target."""
        listener = socket.socket()
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(16)
        except OSError:
            listener.close()
            raise
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Drop every open connection and refuse new ones until start()."""
        if self.listener:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            self.listener.close()
            self.listener = None
        with self.lock:
            for connection in self.connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed by the other side
                connection.close()
            self.connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed by cut()
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass  # one side went away: the relay just ends this direction
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already shut down


@pytest.fixture(scope="module")
def chromium() -> Path:
    """The Chromium binary, or a skip (a failure under CI) saying how to install it."""
    if not CHROMIUM.exists():
        need(f"{CHROMIUM} is missing: run scripts/install-browser.sh (Debian package `chromium`)")
    return CHROMIUM


@pytest.fixture(scope="module")
def bundle() -> Path:
    """The widget bundle, built by scripts/build-web.sh when missing or out of date."""
    if shutil.which("npm") is not None:
        subprocess.run(["scripts/build-web.sh"], cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL)
    elif not BUNDLE.exists():
        need("npm is missing, so the widget bundle can't be built (install nodejs and npm)")
    return BUNDLE


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory, bundle: Path) -> Iterator[StaticServer]:
    """The static server with the demo page."""
    server = StaticServer(tmp_path_factory.mktemp("web") / "serve-web.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, web: StaticServer) -> Iterator[Servers]:
    """Both servers on free ports, accepting browsers from the demo page's origin only."""
    running = start_servers(tmp_path_factory.mktemp("widget-e2e"), {"CORS_ORIGINS": web.origin})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def driver() -> Iterator[Playwright]:
    """Playwright's driver for this module."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(driver: Playwright, chromium: Path) -> Iterator[Browser]:
    """Headless Chromium, shared by the tests of this module."""
    launched = driver.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    """Where the tests save their screenshots."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


# --- the page ------------------------------------------------------------------------------------


class WidgetPage:
    """The demo page with the widget, driven like a visitor would."""

    def __init__(self, page: Page, url: str, viewport: str) -> None:
        self.page = page
        self.url = url
        self.viewport = viewport
        self.errors: List[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    @property
    def input(self) -> Locator:
        """The message input."""
        return self.page.get_by_role("textbox", name="Your message")

    @property
    def replies(self) -> Locator:
        """The bot's replies so far (not the greeting)."""
        return self.page.locator(".cg-msg.cg-bot[data-kind]")

    @property
    def user_messages(self) -> Locator:
        """The text of the user's messages so far."""
        return self.page.locator(".cg-msg.cg-user .cg-text")

    def open(self) -> "WidgetPage":
        """Load the page, open the chat and wait until it is connected."""
        self.page.goto(self.url)
        self.page.get_by_role("button", name=LAUNCHER).click()
        return self.wait_connected()

    def wait_connected(self) -> "WidgetPage":
        """Wait until the widget can send."""
        expect(self.input).to_be_enabled(timeout=CONNECT_TIMEOUT_MS)
        return self

    def _next_reply(self, act: Callable[[], None]) -> Locator:
        before = self.replies.count()
        act()
        first_new = self.replies.nth(before)
        expect(first_new).to_be_visible(timeout=REPLY_TIMEOUT_MS)
        return first_new

    def ask(self, text: str) -> Locator:
        """Type `text`, press Enter; the reply."""
        def type_and_send() -> None:
            self.input.fill(text)
            self.input.press("Enter")
        return self._next_reply(type_and_send)

    def screenshot(self, path: Path, top: Locator, height: int) -> None:
        """Save the chat panel with `top` scrolled to its top; phones get `height` px to show more."""
        size = VIEWPORTS[self.viewport]
        if self.viewport == "phone":
            self.page.set_viewport_size({"width": size["width"], "height": height})
        top.evaluate("(el) => { const log = el.closest('.cg-log'); log.scrollTop = el.offsetTop - log.offsetTop - 8; }")
        self.page.locator(".cg-panel").screenshot(path=path)
        self.page.set_viewport_size(size)

    def click(self, reply: Locator, title: str) -> Locator:
        """Click the button `title` in `reply`; the next reply."""
        return self._next_reply(lambda: reply.get_by_role("button", name=title, exact=True).click())


@pytest.fixture(params=sorted(VIEWPORTS))
def widget(request: pytest.FixtureRequest, browser: Browser, web: StaticServer, assistant: Servers) -> Iterator[WidgetPage]:
    """The demo page at one viewport width, in a fresh browser profile, pointed at the test servers."""
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    server = f"http://localhost:{assistant.env['RASA_PORT']}"
    driven = WidgetPage(context.new_page(), f"{web.origin}/demo/?server={server}", request.param)
    yield driven
    context.close()
    assert driven.errors == [], f"JavaScript errors on the page: {driven.errors}"


# --- tests ---------------------------------------------------------------------------------------


def test_answer_shows_its_source_and_follow_ups(widget: WidgetPage, screenshots: Path) -> None:
    """An answer shows its text; "Source" reveals each cited paragraph and quote; a follow-up sends its title."""
    widget.open()
    answer = widget.ask("what's the difference between mediation and negotiation?")
    expect(answer).to_have_attribute("data-kind", "answer")
    expect(answer.locator(".cg-text").first).to_contain_text("negotiation")

    toggle = answer.locator(".cg-source-toggle")
    expect(toggle).to_have_text("Sources (2)")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(answer.locator(".cg-sources")).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    sources = answer.locator(".cg-source")
    expect(sources.first).to_be_visible()
    expect(sources.locator(".cg-para")).to_contain_text(["P1", "P2"])
    expect(sources.locator(".cg-quote").first).to_contain_text("Mediation and negotiation")
    top = widget.user_messages.last if widget.viewport == "phone" else answer
    widget.screenshot(screenshots / f"answer-{widget.viewport}.png", top, ANSWER_SHOT_HEIGHT)

    more = widget.click(answer, "Tell me more")
    expect(widget.user_messages.last).to_have_text("Tell me more")
    expect(more).to_have_attribute("data-kind", "answer")


def test_recommendation_by_clicking_options_survives_a_reload(widget: WidgetPage, screenshots: Path) -> None:
    """Clicking No, No recommends court in a card; after a reload the same conversation and history are back."""
    widget.open()
    question = widget.ask("which process should I use?")
    expect(question).to_have_attribute("data-kind", "question")
    expect(question.get_by_role("group", name="Choose an answer").get_by_role("button")).to_have_text(
        ["Yes", "No", "I'm not sure"])
    second = widget.click(question, "No")
    expect(question.get_by_role("button", name="No", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(second).to_have_attribute("data-kind", "question")
    result = widget.click(second, "No")

    card = result.locator(".cg-card")
    expect(card).to_be_visible()
    expect(card.get_by_role("heading", level=3)).to_have_text("Court")
    expect(card.locator(".cg-reasons li").first).to_be_visible()
    expect(card.locator(".cg-reasons .cg-para").first).to_have_text("P2")
    expect(card.locator(".cg-alternatives li")).not_to_have_count(0)
    expect(card.locator(".cg-format")).to_contain_text("judge")
    expect(card.get_by_role("group", name="Next steps").get_by_role("button", name="Talk to a person")).to_be_visible()
    widget.screenshot(screenshots / f"recommendation-{widget.viewport}.png", result, CARD_SHOT_HEIGHT)

    session_id = widget.page.evaluate("localStorage.getItem('commonground.session_id')")
    widget.page.reload()
    widget.wait_connected()
    assert widget.page.evaluate("localStorage.getItem('commonground.session_id')") == session_id
    expect(widget.user_messages).to_have_text(["which process should I use?", "No", "No"])
    expect(widget.page.locator(".cg-card").get_by_role("heading", level=3)).to_have_text("Court")
    why = widget.click(widget.replies.last, "Why this process?")
    expect(why).to_have_attribute("data-kind", "answer")


def test_question_the_guide_does_not_cover_offers_a_person_and_topics(widget: WidgetPage, screenshots: Path) -> None:
    """A not-covered question says so, with "Talk to a person" and the covered topics as buttons; a topic button answers."""
    widget.open()
    reply = widget.ask("how much does mediation cost?")
    expect(reply).to_have_attribute("data-kind", "not_covered")
    expect(reply.locator(".cg-text").first).to_contain_text("doesn't cover that")
    expect(reply.locator(".cg-source-toggle")).to_have_count(0)
    expect(reply.get_by_role("button", name="Talk to a person")).to_be_visible()
    related = reply.get_by_role("group", name="What the guide does cover").get_by_role("button")
    expect(related.first).to_have_text("What mediation is")
    if widget.viewport == "phone":
        widget.screenshot(screenshots / "not-covered-phone.png", reply, ANSWER_SHOT_HEIGHT)
    answer = widget.click(reply, "What mediation is")
    expect(answer).to_have_attribute("data-kind", "answer")


def test_markup_typed_by_the_user_is_shown_as_text(widget: WidgetPage) -> None:
    """HTML in a message is displayed literally and never runs, also when the history is restored."""
    widget.open()
    widget.ask(XSS)
    for _ in ("sent", "restored after a reload"):
        expect(widget.user_messages.last).to_have_text(XSS)
        expect(widget.page.locator("#commonground-widget img")).to_have_count(0)
        assert widget.page.evaluate("typeof window.__xss") == "undefined"
        widget.page.reload()
        widget.wait_connected()


@pytest.mark.parametrize(
    "message, kind, selector",
    [
        ("he hit me and I am scared for my safety", "safety", ".cg-safety[role=alert]"),
        ("I want to talk to a person", "handoff", ".cg-handoff"),
    ],
)
def test_safety_and_handoff_replies_stand_out(
    widget: WidgetPage, screenshots: Path, message: str, kind: str, selector: str
) -> None:
    """Safety replies are an alert with a strong border; hand-overs have their own style."""
    widget.open()
    reply = widget.ask(message)
    expect(reply).to_have_attribute("data-kind", kind)
    expect(reply.locator(selector)).to_be_visible()
    if widget.viewport == "phone":
        widget.screenshot(screenshots / f"{kind}-phone.png", reply, ANSWER_SHOT_HEIGHT)


@pytest.mark.parametrize("case", ["nothing listens on the port", "the page's origin is not allowed"])
def test_unreachable_assistant_shows_reconnecting_state(
    case: str, browser: Browser, web: StaticServer, assistant: Servers
) -> None:
    """When the widget can't connect it says so and sending stays disabled."""
    if case == "nothing listens on the port":
        url = f"{web.origin}/demo/?server=http://127.0.0.1:{free_port()}"
    else:  # same files, but served from an origin that CORS_ORIGINS doesn't list
        url = f"http://localhost:{web.port}/demo/?server=http://localhost:{assistant.env['RASA_PORT']}"
    context = browser.new_context(viewport=VIEWPORTS["phone"])
    try:
        page = context.new_page()
        page.goto(url)
        page.get_by_role("button", name=LAUNCHER).click()
        expect(page.locator(".cg-status")).to_have_text(OFFLINE, timeout=CONNECT_TIMEOUT_MS)
        expect(page.get_by_role("textbox", name="Your message")).to_be_disabled()
        expect(page.get_by_role("button", name="Send")).to_be_disabled()
        expect(page.get_by_role("button", name="Which process should I use?")).to_be_disabled()
    finally:
        context.close()


def test_widget_reconnects_by_itself_after_the_connection_drops(
    browser: Browser, web: StaticServer, assistant: Servers, screenshots: Path
) -> None:
    """A dropped connection shows the reconnecting state; once the network is back the chat works again."""
    relay = TcpRelay(int(assistant.env["RASA_PORT"]))
    relay.start()
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    try:
        url = f"{web.origin}/demo/?server=http://127.0.0.1:{relay.port}"
        widget = WidgetPage(context.new_page(), url, "desktop").open()
        relay.cut()
        expect(widget.page.locator(".cg-status")).to_have_text(OFFLINE, timeout=CONNECT_TIMEOUT_MS)
        expect(widget.input).to_be_disabled()
        widget.page.locator(".cg-panel").screenshot(path=screenshots / "offline-desktop.png")
        relay.start()
        widget.wait_connected()
        expect(widget.page.locator(".cg-status")).to_be_hidden()
        expect(widget.ask("hello")).to_have_attribute("data-kind", "info")
    finally:
        relay.cut()
        context.close()
