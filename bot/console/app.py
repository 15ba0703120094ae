"""The staff console: Sanic routes, Jinja2 templates (autoescaped), server-side sessions with CSRF tokens.

Command line: python -m bot.console.app   (CONSOLE_HOST:CONSOLE_PORT, default 127.0.0.1:8090)
"""

from __future__ import annotations

import csv
import hmac
import io
import json
import logging
import secrets
import sys
from datetime import datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Request, Sanic, response
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse

from bot.config import PROJECT_ROOT, Settings, get_settings
from bot.console.accounts import StaffAccounts, StaffSession
from bot.console.transcript import transcript
from bot.handover.content import recommendation_view
from bot.handover.outbox import Outbox
from bot.handover.requests import MAX_NOTE_CHARS, STATES, ConsultationRequest, ConsultationStore, utc_now
from bot.review.analytics import Dashboard, DashboardFilter, Table, TurnSummary, consultation_funnel
from bot.review.inbox import (DECISIONS, MAX_NOTE_CHARS as MAX_REVIEW_NOTE_CHARS, InboxFilter, ReviewDecisions,
                              ReviewItem, ReviewSummary, open_groups)

logger = logging.getLogger(__name__)
HERE = Path(__file__).parent
SESSION_COOKIE = "cg_session"
LOGIN_CSRF_COOKIE = "cg_login_csrf"
MAX_BODY_BYTES = 64 * 1024
MAX_EMAIL_CHARS = 254
MAX_PASSWORD_CHARS = 1024
SHOWN_PER_LINE = 20  # messages listed under a review line (the newest); a decision covers all of the line's

Handler = Callable[..., Awaitable[HTTPResponse]]


def _templates() -> Environment:
    environment = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                              autoescape=select_autoescape(enabled_extensions=("html",), default=True))
    environment.filters["waited"] = waited
    environment.filters["when"] = lambda moment: moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""
    return environment


def waited(since: datetime, now: Optional[datetime] = None) -> str:
    """How long ago `since` was, in words a person reads at a glance."""
    seconds = max(0, int(((now or utc_now()) - since).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def _field(request: Request, name: str, limit: int) -> Optional[str]:
    """A form field, or None when missing or longer than `limit`."""
    value = request.form.get(name) if request.form else None
    if value is None or len(value) > limit:
        return None
    return value


def _known_intents() -> List[str]:
    """The intents of domain.yml that a reviewed message can be assigned to."""
    import yaml

    from bot.config import PROJECT_ROOT

    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8")) or {}
    return sorted(str(i if isinstance(i, str) else next(iter(i))) for i in domain.get("intents") or [])


def _day(value: Optional[str]) -> Optional[Any]:
    """A YYYY-MM-DD query parameter as a date; None when empty; ValueError when malformed."""
    from datetime import date

    return date.fromisoformat(value) if value else None


def _script_safe_json(value: Any) -> str:
    """JSON that can sit inside a <script> element: no character can end the element or start markup."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def create_app(settings: Optional[Settings] = None, name: str = "commonground_console") -> Sanic:
    """The console application for `settings`."""
    settings = settings or get_settings()
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    app.config.FALLBACK_ERROR_FORMAT = "html"
    templates = _templates()
    accounts, requests_store, outbox = StaffAccounts(), ConsultationStore(), Outbox()
    idle_limit = timedelta(minutes=settings.console_session_minutes)
    secure_cookies = settings.console_public_url.startswith("https://")
    app.static("/static/console.css", str(HERE / "static" / "console.css"), name="static")

    def page(template: str, status: int = 200, scripts: bool = False, **context: Any) -> HTTPResponse:
        html = templates.get_template(template).render(**context)
        answer = response.html(html, status=status)
        answer.headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
                                                     + ("; script-src 'self'" if scripts else ""))
        answer.headers["X-Content-Type-Options"] = "nosniff"
        answer.headers["Referrer-Policy"] = "same-origin"
        answer.headers["Cache-Control"] = "no-store"
        return answer

    def set_cookie(answer: HTTPResponse, name_: str, value: str, max_age: Optional[int] = None) -> None:
        answer.cookies[name_] = value
        cookie = answer.cookies[name_]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/"
        if secure_cookies:
            cookie["secure"] = True
        if max_age is not None:
            cookie["max-age"] = max_age

    def staff_only(api: bool = False, state_changing: bool = False) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            @wraps(handler)
            async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
                staff = accounts.session_for(request.cookies.get(SESSION_COOKIE), utc_now(), idle_limit)
                if staff is None:
                    if api:
                        return response.json({"error": "sign in first"}, status=401)
                    if request.method != "GET":
                        return page("error.html", status=401, message="Your session has ended. Please sign in again.", staff=None)
                    return response.redirect("/login")
                if state_changing:
                    sent = _field(request, "csrf", 128) or ""
                    if not hmac.compare_digest(sent.encode(), staff.csrf_token.encode()):
                        return page("error.html", status=403, staff=staff,
                                    message="This form has expired. Please go back, reload the page and try again.")
                return await handler(request, staff, *args, **kwargs)
            return guarded
        return decorate

    @app.get("/login")
    async def login_page(request: Request) -> HTTPResponse:
        token = secrets.token_urlsafe(24)
        answer = page("login.html", csrf=token, error=None, email="", staff=None)
        set_cookie(answer, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return answer

    @app.post("/login")
    async def log_in(request: Request) -> HTTPResponse:
        email = _field(request, "email", MAX_EMAIL_CHARS)
        password = _field(request, "password", MAX_PASSWORD_CHARS)
        sent_csrf = _field(request, "csrf", 128) or ""
        cookie_csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
        token = secrets.token_urlsafe(24)

        def again(error: str, status: int) -> HTTPResponse:
            answer = page("login.html", status=status, csrf=token, error=error, email=(email or "")[:MAX_EMAIL_CHARS], staff=None)
            set_cookie(answer, LOGIN_CSRF_COOKIE, token, max_age=3600)
            return answer

        if not cookie_csrf or not hmac.compare_digest(sent_csrf.encode(), cookie_csrf.encode()):
            return again("The sign-in form expired. Please try again.", 403)
        if not email or not password:
            return again("Please give your email address and password (an email has at most 254 characters).", 400)
        address = request.remote_addr or request.ip or "unknown"
        now = utc_now()
        if accounts.too_many_failures(email, address, now):
            return again("Too many failed attempts. Please wait 15 minutes and try again.", 429)
        session_token = accounts.log_in(email, password, address, now)
        if session_token is None:
            return again("That email address and password don't match an account.", 401)
        answer = response.redirect("/requests")
        set_cookie(answer, SESSION_COOKIE, session_token)
        del answer.cookies[LOGIN_CSRF_COOKIE]
        return answer

    @app.post("/logout")
    @staff_only(state_changing=True)
    async def log_out(request: Request, staff: StaffSession) -> HTTPResponse:
        accounts.log_out(request.cookies.get(SESSION_COOKIE, ""))
        answer = response.redirect("/login")
        del answer.cookies[SESSION_COOKIE]
        return answer

    @app.get("/")
    @staff_only()
    async def home(request: Request, staff: StaffSession) -> HTTPResponse:
        return response.redirect("/requests")

    def inbox_rows(state: Optional[str]) -> List[Dict[str, Any]]:
        found = requests_store.newest_first(state)
        deliveries = outbox.for_requests([r.id for r in found])
        return [{"request": r, "deliveries": deliveries.get(r.id, [])} for r in found]

    @app.get("/requests")
    @staff_only()
    async def inbox(request: Request, staff: StaffSession) -> HTTPResponse:
        state = request.args.get("state") or "open"
        if state not in (*STATES, "open", "all"):
            return page("error.html", status=400, staff=staff, message="Unknown filter: choose new, contacted, closed, open or all.")
        chosen = None if state in ("all", "open") else state
        rows = inbox_rows(chosen)
        if state == "open":
            rows = [row for row in rows if row["request"].state != "closed"]
        return page("inbox.html", staff=staff, rows=rows, state=state, counts=requests_store.count_by_state(), now=utc_now())

    @app.get("/api/requests")
    @staff_only(api=True)
    async def inbox_api(request: Request, staff: StaffSession) -> HTTPResponse:
        state = request.args.get("state")
        if state is not None and state not in STATES:
            return response.json({"error": "state must be new, contacted or closed"}, status=400)
        return response.json({"requests": [
            {"id": row["request"].id, "state": row["request"].state, "name": row["request"].name,
             "consented_at": row["request"].consented_at.isoformat(),
             "deliveries": [{"channel": d.channel, "state": d.state, "attempts": d.attempts, "last_error": d.last_error}
                            for d in row["deliveries"]]}
            for row in inbox_rows(state)]})

    def find(request_id: int) -> Optional[ConsultationRequest]:
        return requests_store.get(request_id)

    @app.get("/requests/<request_id:int>")
    @staff_only()
    async def request_page(request: Request, staff: StaffSession, request_id: int) -> HTTPResponse:
        found = find(request_id)
        if found is None:
            return page("error.html", status=404, staff=staff, message="There is no such request (it may have been erased).")
        accounts.audit(staff.email, "viewed", found.id, found.conversation_id)
        return page("request.html", staff=staff, item=found, deliveries=outbox.for_requests([found.id])[found.id],
                    recommendation=recommendation_view(found.recommendation), states=STATES, now=utc_now(),
                    said=transcript(settings.tracker_store_url, found.conversation_id), max_note=MAX_NOTE_CHARS)

    @app.post("/requests/<request_id:int>/state")
    @staff_only(state_changing=True)
    async def change_state(request: Request, staff: StaffSession, request_id: int) -> HTTPResponse:
        state = _field(request, "state", 16)
        note = _field(request, "note", MAX_NOTE_CHARS)
        if state not in STATES:
            return page("error.html", status=400, staff=staff, message="Choose new, contacted or closed.")
        if note is None and request.form and request.form.get("note") is not None:
            return page("error.html", status=400, staff=staff, message=f"The note is too long: at most {MAX_NOTE_CHARS} characters.")
        found = find(request_id)
        if found is None or not requests_store.set_state(request_id, state, (note or "").strip(), staff.email):
            return page("error.html", status=404, staff=staff, message="There is no such request (it may have been erased).")
        accounts.audit(staff.email, f"marked {state}", request_id, found.conversation_id, (note or "").strip())
        return response.redirect(f"/requests/{request_id}")

    @app.get("/requests/<request_id:int>/erase")
    @staff_only()
    async def confirm_erase(request: Request, staff: StaffSession, request_id: int) -> HTTPResponse:
        found = find(request_id)
        if found is None:
            return page("error.html", status=404, staff=staff, message="There is no such request (it may have been erased).")
        return page("erase.html", staff=staff, item=found)

    @app.post("/requests/<request_id:int>/erase")
    @staff_only(state_changing=True)
    async def erase(request: Request, staff: StaffSession, request_id: int) -> HTTPResponse:
        from bot.privacy import erase_conversation

        found = find(request_id)
        if found is None:
            return page("error.html", status=404, staff=staff, message="There is no such request (it may have been erased).")
        if _field(request, "confirm", 16) != "erase":
            return page("error.html", status=400, staff=staff, message="Tick the box to confirm the erasure.")
        result = erase_conversation(found.conversation_id, requests_store)
        accounts.audit(staff.email, "erased", request_id, found.conversation_id,
                       f"{result.tracker_events} conversation events, {result.consultation_requests} requests")
        return page("erased.html", staff=staff, result=result, request_id=request_id)

    reviews, review_summary = ReviewDecisions(), ReviewSummary()
    intents = _known_intents()

    def candidates() -> List[ReviewItem]:
        """The review candidates (without guesses and replies), after reading the tracker events added since the last page."""
        review_summary.refresh(settings.tracker_store_url, settings.review_confidence_threshold)
        return review_summary.items(settings.review_confidence_threshold, details=False)

    def review_filter(values: Any) -> InboxFilter:
        """The inbox filter in query parameters or form fields; ValueError when malformed."""
        wanted = InboxFilter(reason=(values.get("reason") or "")[:32], channel=(values.get("channel") or "")[:32],
                             since=_day(values.get("since")), until=_day(values.get("until")), sort=values.get("sort") or "count")
        if wanted.sort not in ("count", "recent"):
            raise ValueError("sort")
        return wanted

    def open_lines(wanted: InboxFilter, upto: Optional[int] = None) -> "tuple[List[ReviewItem], list]":
        """The candidates (up to event `upto`) and the open lines the filter shows."""
        found = candidates()
        if upto is not None:
            found = [item for item in found if item.event_id <= upto]
        return found, open_groups(found, reviews.decided_keys(), wanted, settings.review_similarity)

    @app.get("/review")
    @staff_only()
    async def review_inbox(request: Request, staff: StaffSession) -> HTTPResponse:
        try:
            wanted = review_filter(request.args)
        except ValueError:
            return page("error.html", status=400, staff=staff, message="Dates must look like 2026-12-31; sort by count or recent.")
        found, groups = open_lines(wanted)
        return page("review.html", staff=staff, groups=groups, wanted=wanted, intents=intents, upto=max((i.event_id for i in found), default=0),
                    shown=review_summary.with_details(g.example for g in groups),
                    channels=sorted({i.channel for i in found}), threshold=settings.review_confidence_threshold,
                    decided=reviews.active()[-50:][::-1], max_note=MAX_REVIEW_NOTE_CHARS, shown_per_line=SHOWN_PER_LINE)

    @app.post("/review/decide")
    @staff_only(state_changing=True)
    async def review_decide(request: Request, staff: StaffSession) -> HTTPResponse:
        decision = _field(request, "decision", 16)
        intent = _field(request, "intent", 64) or None
        note = (_field(request, "note", MAX_REVIEW_NOTE_CHARS) or "").strip()
        line = _field(request, "line", 200)
        keys = set(request.form.getlist("item") or []) if request.form else set()
        if decision not in DECISIONS:
            return page("error.html", status=400, staff=staff, message="Choose a decision: topic, out of scope, not covered or dismiss.")
        if decision == "topic" and intent not in intents:
            return page("error.html", status=400, staff=staff, message="Choose the right topic from the list.")
        if request.form and request.form.get("note") is not None and len(request.form.get("note")) > MAX_REVIEW_NOTE_CHARS:
            return page("error.html", status=400, staff=staff, message=f"The note is too long: at most {MAX_REVIEW_NOTE_CHARS} characters.")
        if line:
            # The whole line as the page showed it: the same filter, and no message newer than the page.
            try:
                wanted, upto = review_filter(request.form), int(_field(request, "upto", 20) or "")
            except ValueError:
                return page("error.html", status=400, staff=staff, message="This form is incomplete. Please reload the page and try again.")
            chosen = next((group.items for group in open_lines(wanted, upto)[1] if group.has(line)), [])
        else:
            chosen = [item for item in candidates() if item.key in keys]
        if not chosen:
            return page("error.html", status=404, staff=staff, message="Those messages are no longer there (they may have been erased or decided).")
        ids = reviews.decide(chosen, decision, intent, note, staff.email)
        for item, decision_id in zip(chosen, ids):
            accounts.audit(staff.email, f"review {decision}", None, item.conversation_id,
                           f"decision {decision_id}, event {item.event_id}" + (f", intent {intent}" if intent else "")
                           + (f", note: {note}" if note else ""))
        return response.redirect("/review")

    @app.post("/review/undo/<decision_id:int>")
    @staff_only(state_changing=True)
    async def review_undo(request: Request, staff: StaffSession, decision_id: int) -> HTTPResponse:
        undone = reviews.undo(decision_id, staff.email)
        if undone is None:
            return page("error.html", status=404, staff=staff, message="There is no such decision, or it was already undone.")
        accounts.audit(staff.email, "review undone", None, undone.conversation_id,
                       f"decision {decision_id} ({undone.decision}), event {undone.event_id}")
        return response.redirect("/review")

    @app.get("/conversations/<conversation_id:str>")
    @staff_only()
    async def conversation_page(request: Request, staff: StaffSession, conversation_id: str) -> HTTPResponse:
        said = transcript(settings.tracker_store_url, conversation_id[:128])
        if not said:
            return page("error.html", status=404, staff=staff, message="There is no such conversation (it may have been erased).")
        accounts.audit(staff.email, "viewed conversation", None, conversation_id[:128])
        return page("conversation.html", staff=staff, conversation_id=conversation_id[:128], said=said)

    turn_summary, dashboard = TurnSummary(), Dashboard()

    def dashboard_filter(request: Request) -> DashboardFilter:
        """The date range (default: the last 30 days) and channel asked for; ValueError when malformed."""
        today = utc_now().date()
        until = _day(request.args.get("until")) or today
        since = _day(request.args.get("since")) or until - timedelta(days=29)
        if since > until or (until - since).days > 366:
            raise ValueError("range")
        return DashboardFilter(since, until, (request.args.get("channel") or "")[:32])

    def dashboard_tables(wanted: DashboardFilter) -> List[Table]:
        turn_summary.refresh(settings.tracker_store_url)
        requests_rows, median_hours = consultation_funnel(requests_store._sessions, wanted)
        tables = dashboard.tables(wanted, requests_rows)
        tables.append(Table("time_to_contacted", "Median time from request to contacted", ["median_hours"],
                            [[median_hours if median_hours is not None else ""]]))
        return tables

    @app.get("/dashboard")
    @staff_only()
    async def dashboard_page(request: Request, staff: StaffSession) -> HTTPResponse:
        try:
            wanted = dashboard_filter(request)
        except ValueError:
            return page("error.html", status=400, staff=staff,
                        message="Choose a date range like 2026-11-01 to 2026-11-30 (at most a year, start before end).")
        tables = dashboard_tables(wanted)
        return page("dashboard.html", scripts=True, staff=staff, wanted=wanted, tables=tables, channels=dashboard.channels(),
                    charts_json=_script_safe_json([{"name": t.name, "columns": t.columns, "rows": t.rows} for t in tables]))

    @app.get("/dashboard/csv/<table_name:str>")
    @staff_only()
    async def dashboard_csv(request: Request, staff: StaffSession, table_name: str) -> HTTPResponse:
        try:
            wanted = dashboard_filter(request)
        except ValueError:
            return page("error.html", status=400, staff=staff, message="Choose a date range like 2026-11-01 to 2026-11-30.")
        found = next((t for t in dashboard_tables(wanted) if t.name == table_name), None)
        if found is None:
            return page("error.html", status=404, staff=staff, message="There is no such table.")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(found.columns)
        writer.writerows(found.rows)
        return response.text(out.getvalue(), content_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{found.name}-{wanted.since}-{wanted.until}.csv"',
            "Cache-Control": "no-store"})

    @app.get("/static/charts.js")
    async def charts_script(request: Request) -> HTTPResponse:
        bundle = PROJECT_ROOT / "web" / "dist" / "console-charts.js"
        if not bundle.exists():
            return response.text("// charts are not built: run `make web`\n", status=404, content_type="text/javascript")
        return await response.file(str(bundle), mime_type="text/javascript", headers={"Cache-Control": "no-cache"})

    @app.get("/audit")
    @staff_only()
    async def audit(request: Request, staff: StaffSession) -> HTTPResponse:
        return page("audit.html", staff=staff, entries=accounts.audit_log())

    @app.exception(SanicException)
    async def known_error(request: Request, error: SanicException) -> HTTPResponse:
        status = int(getattr(error, "status_code", 400) or 400)
        messages = {404: "There is no such page.", 405: "That page can't be used this way.",
                    413: "That was too much data for one form."}
        return page("error.html", status=status, staff=None, message=messages.get(status, "That request couldn't be handled."))

    return app


def main() -> int:
    """Serve the console on CONSOLE_HOST:CONSOLE_PORT."""
    settings = get_settings()
    from bot.db import create_schema, engine_for

    create_schema(engine_for(settings.database_url))
    from bot.review.analytics import TurnSummary

    # The first, full reads take some seconds per 100,000 events (figures in the README); then each page reads only what is new.
    read = TurnSummary().refresh(settings.tracker_store_url)
    if read:
        print(f"dashboard summary: read {read} new tracker events", flush=True)
    read = ReviewSummary().refresh(settings.tracker_store_url, settings.review_confidence_threshold)
    if read:
        print(f"review summary: read {read} new tracker events", flush=True)
    app = create_app(settings)
    print(f"staff console on http://{settings.console_host}:{settings.console_port}/", flush=True)
    app.run(host=settings.console_host, port=settings.console_port, access_log=False, workers=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
