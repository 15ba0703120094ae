"""Staff accounts, sessions, login rate limiting and the audit log.

Command line (`make staff-user EMAIL=...`):
  python -m bot.console.accounts EMAIL     create or reset the account; the password is read from
                                           standard input (prompted for, unechoed, on a terminal)
"""

from __future__ import annotations

import getpass
import hashlib
import secrets
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select

from bot.console.models import AuditRow, LoginFailureRow, StaffSessionRow, StaffUserRow
from bot.db import UsesDatabase
from bot.handover.requests import as_utc, utc_now

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("not a real password, used to keep timing even")


class AccountError(ValueError):
    """An account can't be created as asked; the message says why."""


@dataclass(frozen=True)
class StaffSession:
    """A signed-in staff member."""

    user_id: int
    email: str
    csrf_token: str


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log."""

    at: datetime
    staff_email: str
    action: str
    request_id: Optional[int]
    conversation_id: Optional[str]
    detail: str


def normal_email(email: str) -> str:
    """The account's email, checked (syntax only) and lower-cased."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise AccountError(f"not an email address: {error}") from error


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffAccounts(UsesDatabase):
    """Creates accounts, checks passwords, keeps sessions and the audit log."""

    def set_password(self, email: str, password: str) -> bool:
        """Create the account or reset its password (ending its sessions); True when it was created."""
        email = normal_email(email)
        if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
            raise AccountError(f"the password must have {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")
        hashed = _hasher.hash(password)
        with self._sessions.begin() as session:
            user = session.execute(select(StaffUserRow).where(StaffUserRow.email == email)).scalar_one_or_none()
            if user is None:
                session.add(StaffUserRow(email=email, password_hash=hashed, created_at=utc_now()))
                return True
            user.password_hash = hashed
            session.execute(delete(StaffSessionRow).where(StaffSessionRow.user_id == user.id))
            return False

    def too_many_failures(self, email: str, address: str, now: datetime) -> bool:
        """Whether logins for this account or from this address are paused for now."""
        since = now - FAILURE_WINDOW
        with self._sessions() as session:
            by_account = session.execute(select(func.count()).select_from(LoginFailureRow).where(
                LoginFailureRow.email == email.strip().lower()[:254], LoginFailureRow.at >= since)).scalar_one()
            by_address = session.execute(select(func.count()).select_from(LoginFailureRow).where(
                LoginFailureRow.address == address[:64], LoginFailureRow.at >= since)).scalar_one()
        return by_account >= MAX_FAILURES_PER_ACCOUNT or by_address >= MAX_FAILURES_PER_ADDRESS

    def log_in(self, email: str, password: str, address: str, now: datetime) -> Optional[str]:
        """A new session token when the password is right, else None (and the failure is counted)."""
        key = email.strip().lower()[:254]
        with self._sessions.begin() as session:
            user = session.execute(select(StaffUserRow).where(StaffUserRow.email == key)).scalar_one_or_none()
            try:
                _hasher.verify(user.password_hash if user else _DUMMY_HASH, password[:MAX_PASSWORD_CHARS])
                valid = user is not None
            except (VerificationError, InvalidHashError):
                valid = False
            if not valid:
                session.add(LoginFailureRow(email=key, address=address[:64], at=now))
                return None
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            token = secrets.token_urlsafe(32)
            session.add(StaffSessionRow(token_hash=_token_hash(token), user_id=user.id,
                                        csrf_token=secrets.token_urlsafe(32), created_at=now, last_seen_at=now))
            session.execute(delete(LoginFailureRow).where(LoginFailureRow.email == key))
            return token

    def session_for(self, token: Optional[str], now: datetime, idle_limit: timedelta) -> Optional[StaffSession]:
        """The signed-in staff member for a cookie token, refreshing its last use; None if unknown or idle too long."""
        if not token or len(token) > 128:
            return None
        with self._sessions.begin() as session:
            row = session.get(StaffSessionRow, _token_hash(token))
            if row is None:
                return None
            if now - as_utc(row.last_seen_at) > idle_limit:
                session.delete(row)
                return None
            row.last_seen_at = now
            user = session.get(StaffUserRow, row.user_id)
            return StaffSession(user_id=int(user.id), email=user.email, csrf_token=row.csrf_token)

    def log_out(self, token: str) -> None:
        """End the session."""
        with self._sessions.begin() as session:
            session.execute(delete(StaffSessionRow).where(StaffSessionRow.token_hash == _token_hash(token)))

    def audit(self, staff_email: str, action: str, request_id: Optional[int] = None,
              conversation_id: Optional[str] = None, detail: str = "") -> None:
        """Append a line to the audit log."""
        with self._sessions.begin() as session:
            session.add(AuditRow(at=utc_now(), staff_email=staff_email, action=action, request_id=request_id,
                                 conversation_id=conversation_id, detail=detail[:500]))

    def audit_log(self, limit: int = 500) -> List[AuditEntry]:
        """The latest audit lines, newest first."""
        with self._sessions() as session:
            rows = session.execute(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)).scalars()
            return [AuditEntry(as_utc(r.at), r.staff_email, r.action, r.request_id, r.conversation_id, r.detail) for r in rows]


def read_password(stdin=sys.stdin) -> str:  # type: ignore[no-untyped-def]
    """The new password: prompted for twice on a terminal, else the first line of standard input."""
    if stdin.isatty():
        first = getpass.getpass("New password: ")
        if getpass.getpass("Repeat it: ") != first:
            raise AccountError("the two passwords differ")
        return first
    return stdin.readline().rstrip("\r\n")


def main(argv: Optional[List[str]] = None) -> int:
    """Create or reset one staff account."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bot.console.accounts EMAIL  (password on standard input)", file=sys.stderr)
        return 2
    from bot.config import get_settings
    from bot.db import create_schema, engine_for

    create_schema(engine_for(get_settings().database_url))
    try:
        created = StaffAccounts().set_password(args[0], read_password())
    except AccountError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"staff account {normal_email(args[0])} {'created' if created else 'updated; its sessions were ended'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
