"""The request's sign-in session: the cookie names a stored session (services.sessions), checked on
every request by Flask-Login's user loader, started afresh at sign-in, ended at sign-out."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, request, session
from flask_login import login_user, logout_user

from portal.extensions import db
from portal.forms import commit_keeping_loaded
from portal.models import User, UserSession
from portal.models.base import utcnow
from portal.services.notices import inbox
from portal.services.platform import sessions
from portal.services.platform.audit import Actor, acting_as, record_event

SESSION_KEY = "sid"  # the session's secret, in the signed session cookie


def lifetimes() -> sessions.Lifetimes:
    cfg = current_app.config
    return sessions.Lifetimes(browser=cfg["SESSION_MAX_AGE"], remembered=cfg["PERMANENT_SESSION_LIFETIME"])


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the user only while the cookie's session is live, with the user's unit and
    the bell's count (one query).

    last_seen_at is written at most every SESSION_TOUCH_SECONDS, in its own short commit made
    before the view runs (nothing else is pending yet), so most requests write nothing."""
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        return None
    bell = inbox.unread_column(UserSession.user_id)
    found = sessions.resolve_with(db.session, uid, session.get(SESSION_KEY), (bell,))
    if found is None:
        return None
    record, unread = found
    every = timedelta(seconds=current_app.config["SESSION_TOUCH_SECONDS"])
    if sessions.needs_touch(record, every):
        sessions.touch(db.session, record)
        commit_keeping_loaded()
        db.session.begin()  # the request's transaction (as the statement above had begun one), the count's
    inbox.remember_unread(db.session, record.user_id, unread)  # the bell's count, read in the same statement
    g.user_session = record
    return record.user


def current_session() -> UserSession | None:
    """The stored session of this request's user (None when not signed in)."""
    return g.get("user_session")


def _fresh_session() -> None:
    """Drop everything the session held before (the CSRF token included) but the language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def sign_in(user: User, remember: bool) -> None:
    """A new session at every sign-in: new secret, new CSRF token; audited. The caller commits."""
    _fresh_session()
    _record, token = sessions.start(
        db.session,
        user,
        remember=remember,
        lifetimes=lifetimes(),
        user_agent=request.user_agent.string,
        address=request.remote_addr or "",
    )
    session[SESSION_KEY] = token
    session.permanent = remember  # a persistent cookie only with "Ghi nhớ đăng nhập" (≤ 30 days)
    user.last_login_at = utcnow()
    login_user(user)  # never Flask-Login's own remember cookie: "remember" is the stored session's
    with acting_as(Actor(user.id, user.username)):
        record_event(db.session, "login", "Đăng nhập", user)


def sign_out(user: User) -> None:
    """End this session on the server and in the browser; audited. The caller commits."""
    record = current_session()
    if record is not None:
        sessions.revoke(db.session, record)
    record_event(db.session, "logout", "Đăng xuất", user)
    logout_user()
    _fresh_session()
