"""Sign a test client in without the sign-in form: a stored session, as sign-in makes one."""

from __future__ import annotations

from datetime import timedelta

from portal.auth.current import SESSION_KEY
from portal.extensions import db
from portal.models import User
from portal.services.platform import sessions

LIFETIMES = sessions.Lifetimes(browser=timedelta(hours=12), remembered=timedelta(days=30))


def session_token(user_id: int) -> str:
    """A new live session for the user (committed); returns the secret for the cookie."""
    _record, token = sessions.start(db.session, db.session.get(User, user_id), remember=False, lifetimes=LIFETIMES)
    db.session.commit()
    return token


def put_in_cookie(client, user_id: int, token: str) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
        session[SESSION_KEY] = token


def sign_in(client, user_id: int) -> None:
    put_in_cookie(client, user_id, session_token(user_id))
