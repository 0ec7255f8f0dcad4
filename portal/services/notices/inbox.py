"""A user's own notices: the unread count for the bell, the list newest first, marking read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from portal.models import Notification
from portal.models.base import utcnow


def unread_count(session: Session, user_id: int) -> int:
    """The bell's number: one COUNT on the (user, read_at) index."""
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
        notice.read_at = now or utcnow()
        session.flush()


def mark_all_read(session: Session, user_id: int, now: datetime | None = None) -> int:
    """Every unread notice of the user is read now; returns how many were unread."""
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
