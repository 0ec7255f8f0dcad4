"""A user's own notices: the unread count for the bell, the list newest first, marking read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
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


@dataclass(frozen=True)
class Page:
    notices: list[Notification]
    number: int
    pages: int
    total: int


def page(session: Session, user_id: int, number: int, size: int) -> Page:
    """One page of the user's notices, newest first (two queries whatever the page size)."""
    total = session.scalar(select(func.count()).select_from(Notification).where(Notification.user_id == user_id))
    pages = max(1, -(-total // size))
    number = min(max(1, number), pages)
    rows = session.scalars(
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(size)
        .offset((number - 1) * size)
    ).all()
    return Page(list(rows), number, pages, total)


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
