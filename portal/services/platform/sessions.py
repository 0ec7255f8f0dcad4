"""Sign-in sessions: stored, revocable, bound to a random secret that only the browser holds.

At sign-in a new secret is made; the cookie carries it and the table keeps its SHA-256.
Every request checks it with one indexed query (`resolve`), so a session ended here —
sign-out, "Kết thúc", a password change or reset, a locked account — ends at once in
every worker, whatever copies of the cookie exist. Knows nothing of Flask.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, delete, or_, select, update
from sqlalchemy.orm import Session, contains_eager

from portal.models import User, UserSession
from portal.models.base import utcnow
from portal.services.platform.audit import record_event

# rows ended or expired longer ago than this are removed when their user next signs in
KEEP_ENDED = timedelta(days=30)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Lifetimes:
    browser: timedelta  # a session without "remember me"
    remembered: timedelta  # with it: at most 30 days


def start(
    session: Session,
    user: User,
    *,
    remember: bool,
    lifetimes: Lifetimes,
    user_agent: str = "",
    address: str = "",
    now: datetime | None = None,
) -> tuple[UserSession, str]:
    """A new session for `user`; returns it and the secret for the cookie (never stored)."""
    now = now or utcnow()
    session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            or_(UserSession.expires_at < now - KEEP_ENDED, UserSession.revoked_at < now - KEEP_ENDED),
        )
    )
    token = secrets.token_urlsafe(32)
    record = UserSession(
        user_id=user.id,
        token_hash=hash_token(token),
        created_at=now,
        last_seen_at=now,
        expires_at=now + (lifetimes.remembered if remember else lifetimes.browser),
        remember=remember,
        user_agent=(user_agent or "")[:255],
        address=(address or "")[:64],
    )
    session.add(record)
    session.flush()
    return record, token


def resolve(session: Session, user_id: int, token: str | None, now: datetime | None = None) -> UserSession | None:
    """The live session that `token` names for `user_id`, with its (active) user and the user's unit (the
    layout names it on every page): one statement; None otherwise."""
    found = resolve_with(session, user_id, token, (), now)
    return found[0] if found is not None else None


def resolve_with(
    session: Session, user_id: int, token: str | None, columns: tuple = (), now: datetime | None = None
) -> Row | None:
    """`resolve`, with `columns` (correlated with the session's user, e.g. the bell's count) read in the same
    statement: the row (session, *values), or None."""
    if not token:
        return None
    now = now or utcnow()
    return session.execute(
        select(UserSession, *columns)
        .join(UserSession.user)
        .outerjoin(User.unit)
        .where(
            UserSession.token_hash == hash_token(token),
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
            User.active,
        )
        .options(contains_eager(UserSession.user).contains_eager(User.unit))
    ).first()


def needs_touch(record: UserSession, every: timedelta, now: datetime | None = None) -> bool:
    """last_seen_at is a hint for the user, not an audit trail: write it at most once per `every`."""
    return (now or utcnow()) - record.last_seen_at >= every


def touch(session: Session, record: UserSession, now: datetime | None = None) -> None:
    session.execute(
        update(UserSession).where(UserSession.id == record.id).values(last_seen_at=now or utcnow()),
        execution_options={"synchronize_session": False},
    )


def live_sessions(session: Session, user: User, now: datetime | None = None) -> list[UserSession]:
    """The user's sessions that still sign them in, most recently used first."""
    now = now or utcnow()
    return list(
        session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None), UserSession.expires_at > now)
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def revoke(session: Session, record: UserSession, now: datetime | None = None) -> None:
    if record.revoked_at is None:
        record.revoked_at = now or utcnow()
    session.flush()


def revoke_all(session: Session, user: User, *, keep: UserSession | None = None, now: datetime | None = None) -> int:
    """End every live session of `user` (except `keep`); returns how many were ended."""
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    result = session.execute(query.values(revoked_at=now or utcnow()), execution_options={"synchronize_session": False})
    session.flush()
    return result.rowcount or 0


def end_own_session(session: Session, user: User, session_id: int) -> UserSession:
    """The user ends one of their sessions from "Phiên đăng nhập" (the current one too: a sign-out).
    Someone else's session is not found (LookupError)."""
    record = session.get(UserSession, session_id)
    if record is None or record.user_id != user.id:
        raise LookupError(session_id)
    revoke(session, record)
    record_event(session, "event", f"Kết thúc phiên đăng nhập #{record.id} ({describe_agent(record.user_agent)})", user)
    return record


def end_other_sessions(session: Session, user: User, current: UserSession | None) -> int:
    ended = revoke_all(session, user, keep=current)
    record_event(session, "event", f"Kết thúc {ended} phiên đăng nhập khác", user)
    return ended


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("CocoCoc", "Cốc Cốc"), ("Firefox/", "Firefox"))
_BROWSERS += (("Chromium/", "Chromium"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"))
_SYSTEMS += (("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def describe_agent(user_agent: str | None) -> str:
    """'Chrome · Windows' from a User-Agent header; '' when nothing is recognised."""
    agent = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in agent), "")
    return " · ".join(part for part in (browser, system) if part)
