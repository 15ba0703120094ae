"""The console over HTTP: refusal without a session, sign-in, CSRF, rate limits, and hostile input."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import requests
from sqlalchemy.orm import sessionmaker

from bot.console.accounts import AccountError, StaffAccounts
from bot.console.app import LOGIN_CSRF_COOKIE
from bot.db import create_schema, session_factory
from bot.handover.requests import ConsultationStore, utc_now
from tests.console.conftest import (
    HOSTILE_DESCRIPTION,
    HOSTILE_MESSAGE,
    STAFF_EMAIL,
    Console,
    create_staff_account,
    csrf_of,
    login,
)

ROUTES = [
    ("GET", "/"), ("GET", "/requests"), ("GET", "/requests?state=new"), ("GET", "/requests/1"),
    ("GET", "/requests/1/erase"), ("GET", "/audit"), ("GET", "/api/requests"),
    ("POST", "/requests/1/state"), ("POST", "/requests/1/erase"), ("POST", "/logout"),
]


@pytest.mark.parametrize("method, path", ROUTES)
def test_every_route_but_login_refuses_an_anonymous_visitor(console: Console, method: str, path: str) -> None:
    """Pages redirect to the sign-in page, the API answers 401, forms 401; no data is shown."""
    console.add_request(f"anon-{uuid.uuid4().hex}")
    answer = requests.request(method, console.url + path, data={"state": "closed", "confirm": "erase"},
                              allow_redirects=False, timeout=10)
    if method == "GET" and not path.startswith("/api"):
        assert answer.status_code == 302 and answer.headers["Location"] == "/login"
    else:
        assert answer.status_code == 401
    assert "ana@example.com" not in answer.text


def test_a_forged_cookie_is_refused(console: Console) -> None:
    """A made-up session cookie is no session."""
    answer = requests.get(console.url + "/requests", cookies={"cg_session": "x" * 43}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302


def test_sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_the_session(console: Console) -> None:
    """The session cookie is HttpOnly and SameSite=Strict (not Secure on plain http); after sign-out it is useless."""
    browser = requests.Session()
    page = browser.get(console.url + "/login", timeout=10)
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    answer = browser.post(console.url + "/login", allow_redirects=False, timeout=10,
                          data={"email": STAFF_EMAIL.upper(), "password": "correct horse battery staple", "csrf": csrf})
    cookie = answer.headers["Set-Cookie"]
    assert "cg_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    token = browser.cookies["cg_session"]
    assert browser.post(console.url + "/logout", data={"csrf": csrf_of(browser, console)}, allow_redirects=False,
                        timeout=10).headers["Location"] == "/login"
    again = requests.get(console.url + "/requests", cookies={"cg_session": token}, allow_redirects=False, timeout=10)
    assert again.status_code == 302


def test_login_is_rate_limited_per_account(console: Console) -> None:
    """Five wrong passwords pause the account: even the right password then gets 429."""
    email = f"limited-{uuid.uuid4().hex[:6]}@firm.example"
    assert create_staff_account(console.env, email, "a long enough password").returncode == 0
    browser = requests.Session()
    statuses = []
    for password in ["wrong"] * 5 + ["a long enough password"]:
        page = browser.get(console.url + "/login", timeout=10)
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        statuses.append(browser.post(console.url + "/login", data={"email": email, "password": password, "csrf": csrf},
                                     allow_redirects=False, timeout=10).status_code)
    assert statuses == [401] * 5 + [429]


def test_login_without_its_csrf_token_is_refused(console: Console) -> None:
    """A sign-in form posted from elsewhere (no matching token) is refused."""
    answer = requests.post(console.url + "/login", data={"email": STAFF_EMAIL, "password": "correct horse battery staple",
                                                         "csrf": "forged"}, allow_redirects=False, timeout=10)
    assert answer.status_code == 403 and "cg_session" not in answer.headers.get("Set-Cookie", "").split("=")[0]


def test_state_changes_need_the_csrf_token(console: Console) -> None:
    """Marking a request without the session's token is refused and changes nothing."""
    request_id = console.add_request(f"csrf-{uuid.uuid4().hex}")
    browser = login(console)
    answer = browser.post(f"{console.url}/requests/{request_id}/state", data={"state": "closed", "csrf": "nope"}, timeout=10)
    assert answer.status_code == 403
    assert ConsultationStore(session_factory(console.database_url)).get(request_id).state == "new"


BAD_INPUT = [
    ("GET", "/requests?state=' OR 1=1--", None, 400),
    ("GET", "/requests?state=<script>alert(1)</script>", None, 400),
    ("GET", "/requests/99999999999", None, 404),
    ("GET", "/requests/abc", None, 404),
    ("GET", "/requests/-1", None, 404),
    ("GET", "/api/requests?state=;DROP TABLE staff_users", None, 400),
    ("POST", "/requests/{id}/state", {"state": "deleted"}, 400),
    ("POST", "/requests/{id}/state", {"state": "closed", "note": "n" * 5000}, 400),
    ("POST", "/requests/{id}/state", {"state": "x" * 100000}, 413),
    ("POST", "/requests/{id}/erase", {"confirm": "no"}, 400),
    ("POST", "/requests/{id}/state", {"state": "contacted", "note": "<script>alert(1)</script> '); DROP TABLE audit_log;--"}, 302),
    ("GET", "/nowhere", None, 404),
    ("DELETE", "/requests/{id}", None, 405),
]


@pytest.mark.parametrize("method, path, form, status", BAD_INPUT)
def test_bad_input_gets_a_clear_answer_and_no_server_error(console: Console, method: str, path: str, form: dict, status: int) -> None:
    """Malformed, oversized and hostile input: a 4xx with a readable page (or the normal redirect), never a 5xx."""
    request_id = console.add_request(f"bad-{uuid.uuid4().hex}")
    browser = login(console)
    data = {**form, "csrf": csrf_of(browser, console)} if form is not None else None
    answer = browser.request(method, console.url + path.format(id=request_id), data=data, allow_redirects=False, timeout=10)
    assert answer.status_code == status
    assert "<script>alert(1)</script>" not in answer.text
    page = browser.get(f"{console.url}/requests/{request_id}", timeout=10)
    assert page.status_code == 200 and "<script>" not in page.text


def test_request_page_escapes_everything_the_user_typed(console: Console) -> None:
    """Description, transcript and notes are rendered as text; the page shows contact, other party, recommendation, deliveries."""
    request_id = console.add_request(f"page-{uuid.uuid4().hex}")
    browser = login(console)
    page = browser.get(f"{console.url}/requests/{request_id}", timeout=10).text
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in page
    assert "&lt;b&gt;my landlord&lt;/b&gt;" in page  # the transcript, from Rasa's tracker store
    assert "ana@example.com" in page and "Brown Lettings &lt;Ltd&gt;" in page and "Mediation" in page
    assert "email" in page and "pending" in page
    inbox = browser.get(console.url + "/requests?state=new", timeout=10).text
    assert f'href="/requests/{request_id}"' in inbox and "email: pending" in inbox
    assert browser.get(console.url + "/api/requests?state=new", timeout=10).json()["requests"][0]["deliveries"][0]["state"] == "pending"


def test_marking_erasing_and_the_audit_log(console: Console) -> None:
    """Marking contacted and closed is kept with the note; erasure removes request and conversation; the audit log says who did what."""
    conversation = f"erase-{uuid.uuid4().hex}"
    request_id = console.add_request(conversation)
    browser = login(console)
    csrf = csrf_of(browser, console)
    browser.get(f"{console.url}/requests/{request_id}", timeout=10)
    browser.post(f"{console.url}/requests/{request_id}/state", data={"state": "contacted", "note": "rang, call back Friday", "csrf": csrf}, timeout=10)
    store = ConsultationStore(session_factory(console.database_url))
    assert (store.get(request_id).state, store.get(request_id).state_note) == ("contacted", "rang, call back Friday")
    assert f'href="/requests/{request_id}"' not in browser.get(console.url + "/requests?state=new", timeout=10).text
    assert f'href="/requests/{request_id}"' in browser.get(console.url + "/requests?state=contacted", timeout=10).text
    answer = browser.post(f"{console.url}/requests/{request_id}/erase", data={"confirm": "erase", "csrf": csrf}, timeout=10)
    assert answer.status_code == 200 and "2 conversation events and 1 requests" in answer.text
    assert store.for_conversation(conversation) == []
    assert browser.get(f"{console.url}/requests/{request_id}", timeout=10).status_code == 404
    audit = browser.get(console.url + "/audit", timeout=10).text
    for action in ("viewed", "marked contacted", "erased"):
        assert f"<td>{action}</td>" in audit
    assert conversation in audit and STAFF_EMAIL in audit


def test_sessions_expire_after_inactivity(sessions: sessionmaker) -> None:
    """A session unused for longer than the idle limit is gone; a used one is refreshed."""
    create_schema(sessions.kw["bind"])
    accounts = StaffAccounts(sessions)
    accounts.set_password("a@firm.example", "twelve chars!")
    now = utc_now()
    token = accounts.log_in("a@firm.example", "twelve chars!", "127.0.0.1", now)
    assert accounts.session_for(token, now + timedelta(minutes=20), timedelta(minutes=30)) is not None
    assert accounts.session_for(token, now + timedelta(minutes=45), timedelta(minutes=30)) is not None
    assert accounts.session_for(token, now + timedelta(minutes=80), timedelta(minutes=30)) is None
    assert accounts.log_in("a@firm.example", "wrong", "127.0.0.1", now) is None


@pytest.mark.parametrize("email, password, problem", [
    ("not-an-email", "long enough password", "not an email"),
    ("a@firm.example", "short", "12 to 1024"),
])
def test_staff_accounts_refuse_bad_emails_and_short_passwords(sessions: sessionmaker, email: str, password: str, problem: str) -> None:
    """`make staff-user` explains what is wrong."""
    create_schema(sessions.kw["bind"])
    with pytest.raises(AccountError, match=problem):
        StaffAccounts(sessions).set_password(email, password)


def test_passwords_are_stored_as_argon2id(sessions: sessionmaker) -> None:
    """Only an argon2id hash is kept."""
    from sqlalchemy import select

    from bot.console.models import StaffUserRow

    create_schema(sessions.kw["bind"])
    assert StaffAccounts(sessions).set_password("b@firm.example", "another long password")
    assert not StaffAccounts(sessions).set_password("B@firm.example", "a new long password")
    with sessions() as session:
        [stored] = session.execute(select(StaffUserRow.password_hash)).scalars().all()
    assert stored.startswith("$argon2id$") and "password" not in stored


def test_staff_user_prompts_for_the_password_on_a_terminal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """On a terminal the command asks twice without echoing the password, then creates the account."""
    import os
    import pty
    import sys

    from bot.config import PROJECT_ROOT

    database_url = f"sqlite:///{tmp_path / 'tty.db'}"
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the command, on the pseudo-terminal
        os.chdir(PROJECT_ROOT)
        os.environ["DATABASE_URL"] = database_url
        os.execv(sys.executable, [sys.executable, "-m", "bot.console.accounts", "tty@firm.example"])
    shown = b""

    def read_until(token: bytes) -> None:
        nonlocal shown
        while token not in shown:
            shown += os.read(terminal, 1024)

    read_until(b"New password: ")
    os.write(terminal, b"a long tty password\n")
    read_until(b"Repeat it: ")
    os.write(terminal, b"a long tty password\n")
    read_until(b"created")
    os.waitpid(pid, 0)
    assert b"a long tty password" not in shown
    assert StaffAccounts(session_factory(database_url)).log_in("tty@firm.example", "a long tty password", "127.0.0.1", utc_now())


def test_the_session_cookie_is_secure_when_the_console_is_served_over_https(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With an https CONSOLE_PUBLIC_URL (TLS ends at the firm's proxy) the browser sends the cookie only over https."""
    from tests.console.conftest import start_console

    running = start_console(tmp_path, {"CONSOLE_PUBLIC_URL": "https://intake.firm.example"})
    try:
        browser = requests.Session()
        page = browser.get(running.url + "/login", timeout=10)
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        assert "Secure" in page.headers["Set-Cookie"]
        browser.cookies.set(LOGIN_CSRF_COOKIE, csrf)  # requests keeps Secure cookies away from http://
        answer = browser.post(running.url + "/login", allow_redirects=False, timeout=10,
                              data={"email": STAFF_EMAIL, "password": "correct horse battery staple", "csrf": csrf})
        assert answer.status_code == 302
        assert "cg_session=" in answer.headers["Set-Cookie"] and "Secure" in answer.headers["Set-Cookie"]
    finally:
        running.process.terminate()
        running.process.wait(timeout=20)


def test_login_is_rate_limited_per_address(sessions: sessionmaker) -> None:
    """Twenty failures from one address within 15 minutes pause sign-in from it, whichever accounts were tried; others are unaffected."""
    create_schema(sessions.kw["bind"])
    accounts = StaffAccounts(sessions)
    now = utc_now()
    for number in range(20):
        assert accounts.log_in(f"guess{number}@firm.example", "wrong", "203.0.113.9", now) is None
    assert accounts.too_many_failures("someone@firm.example", "203.0.113.9", now)
    assert not accounts.too_many_failures("someone@firm.example", "198.51.100.1", now)
    assert not accounts.too_many_failures("someone@firm.example", "203.0.113.9", now + timedelta(minutes=16))
