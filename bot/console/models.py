"""The console's tables: staff accounts, sessions, failed logins and the audit log."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text

from bot.db import Base


class StaffUserRow(Base):
    """A staff account; the password only as an argon2id hash."""

    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True, autoincrement=True)
    email = Column(String(254), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False)


class StaffSessionRow(Base):
    """A signed-in browser: the SHA-256 of its cookie token, its CSRF token and when it was last used."""

    __tablename__ = "staff_sessions"

    token_hash = Column(String(64), primary_key=True)
    user_id = Column(Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False)
    last_seen_at = Column(DateTime(timezone=True), nullable=False)


class LoginFailureRow(Base):
    """One failed login, counted per account and per address for rate limiting."""

    __tablename__ = "staff_login_failures"

    id = Column(Integer, primary_key=True, autoincrement=True)
    email = Column(String(254), nullable=False, index=True)
    address = Column(String(64), nullable=False, index=True)
    at = Column(DateTime(timezone=True), nullable=False, index=True)


class AuditRow(Base):
    """Who viewed, changed or erased what, and when."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True, autoincrement=True)
    at = Column(DateTime(timezone=True), nullable=False, index=True)
    staff_email = Column(String(254), nullable=False)
    action = Column(String(32), nullable=False)
    request_id = Column(Integer, nullable=True)
    conversation_id = Column(String(128), nullable=True)
    detail = Column(Text, nullable=False, default="")
