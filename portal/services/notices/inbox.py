"""A user's own notices: the unread count for the bell, the list newest first, marking read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.orm import Session, scoped_session

from portal.models import Notification
from portal.models.base import utcnow

_UNREAD = "unread_notices"  # session.info: (user id, count, the transaction it was read in)


def unread_column(user_id: ColumnElement[int]) -> ColumnElement[int]:
    """The bell's number for the user `user_id` names, as a column of a statement that reads the user anyway
    (the sign-in session's: `auth.current.load_user`), so that the bell costs no statement of its own."""
    return (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .scalar_subquery()
    )


def remember_unread(session: Session, user_id: int, count: int) -> None:
    """The count `unread_column` read, served by `unread_count` for the rest of this transaction unless
    the user's notices change in it (`forget_unread`: a new notice, one marked read)."""
    session.info[_UNREAD] = (user_id, count, _transaction(session))


def forget_unread(session: Session) -> None:
    session.info.pop(_UNREAD, None)


def _transaction(session: Session | scoped_session):
    return (session() if isinstance(session, scoped_session) else session).get_transaction()


def unread_count(session: Session, user_id: int) -> int:
    """The bell's number: the count read with the user in this transaction when nothing changed the notices
    since (see `remember_unread`), else one COUNT on the (user, read_at) index."""
    remembered = session.info.get(_UNREAD)
    if (
        remembered is not None
        and remembered[0] == user_id
        and remembered[2] is not None
        and remembered[2] is _transaction(session)
        and not any(isinstance(obj, Notification) for obj in (*session.new, *session.dirty, *session.deleted))
    ):
        return remembered[1]
    return session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def newest_first(user_id: int) -> Select:
    """The user's notices, newest first: the list page paginates it (a COUNT and one page of rows)."""
    return (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def mark_read(session: Session, notice: Notification, now: datetime | None = None) -> None:
    """The user opened the notice; the first reading is the one kept."""
    if notice.read_at is None:
        forget_unread(session)
        notice.read_at = now or utcnow()
        session.flush()


def mark_all_read(session: Session, user_id: int, now: datetime | None = None) -> int:
    """Every unread notice of the user is read now; returns how many were unread."""
    forget_unread(session)
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def words(notice: Notification, translate: Callable[[str], str] = str) -> str:
    """The notice's text in the reader's language: its catalogue entry through `translate` (gettext) with
    its values; a notice stored before the entries were kept (or one that no longer fits) shows its text."""
    if not notice.message:
        return notice.text
    try:
        return translate(notice.message) % (notice.params or {})
    except (KeyError, TypeError, ValueError):
        return notice.text
