"""Who waits on what, and the notice itself: `notify()` is called by the service that makes the event.

Recipients are user ids resolved inside one cluster-year: the users of its member units (or of some
of them), of its head unit, its overseeing council member. A unit that is not a member of that
cluster in that year is never a recipient, whatever a caller passes, so a notice never crosses
clusters. `notify()` only adds and flushes: the notice lives and dies with the event's transaction.

A notice's words are a catalogue entry marked `N_()` with named values (`%(cluster)s`, `%(year)s` …),
stored apart, so the inbox and the digest put them together in the reader's language
(`inbox.words`); values are names, numbers and dates, never words of the portal's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Membership, Notification, Term, TermPosition, User
from portal.models.base import utcnow
from portal.models.notices import NoticeKind
from portal.models.years import PositionRole
from portal.services.notices import inbox

TEXT_MAX = 300


def unit_users(session: Session, cluster_id: int, year_id: int, unit_ids: Iterable[int] | None = None) -> list[int]:
    """Active users of the cluster-year's member units (only of `unit_ids` when given): one query."""
    query = (
        select(User.id)
        .join(Membership, Membership.unit_id == User.unit_id)
        .where(Membership.cluster_id == cluster_id, Membership.year_id == year_id, User.active.is_(True))
        .order_by(User.id)
    )
    if unit_ids is not None:
        query = query.where(User.unit_id.in_(list(unit_ids)))
    return list(session.scalars(query))


def head_users(session: Session, cluster_id: int, year_id: int) -> list[int]:
    """Active users of the cluster-year's head unit."""
    return list(
        session.scalars(
            select(User.id)
            .join(TermPosition, TermPosition.unit_id == User.unit_id)
            .where(
                TermPosition.cluster_id == cluster_id,
                TermPosition.year_id == year_id,
                TermPosition.role == PositionRole.HEAD,
                User.active.is_(True),
            )
            .order_by(User.id)
        )
    )


def overseer_users(session: Session, cluster_id: int, year_id: int) -> list[int]:
    """Active users of the council member who oversees the cluster in that year."""
    return list(
        session.scalars(
            select(User.id)
            .join(Term, Term.overseer_id == User.council_member_id)
            .where(Term.cluster_id == cluster_id, Term.year_id == year_id, User.active.is_(True))
            .order_by(User.id)
        )
    )


def notify(
    session: Session,
    recipients: Iterable[int],
    kind: NoticeKind,
    *,
    cluster_id: int,
    year_id: int,
    message: str,
    params: dict,
    endpoint: str,
    args: dict | None = None,
    key: str | None = None,
    now: datetime | None = None,
) -> int:
    """One notice per recipient (each once); with a `key`, none to a user who already has that key.

    `message` is the catalogue entry (Vietnamese msgid) and `params` its values; the Vietnamese text
    is kept beside them. Returns how many were added. Only flushes: committed or rolled back with the event."""
    wanted = list(dict.fromkeys(recipients))
    if key is not None and wanted:
        already = set(
            session.scalars(
                select(Notification.user_id).where(Notification.key == key, Notification.user_id.in_(wanted))
            )
        )
        wanted = [user_id for user_id in wanted if user_id not in already]
    moment = now or utcnow()
    text = (message % params)[:TEXT_MAX]
    inbox.forget_unread(session)
    session.add_all(
        Notification(
            user_id=user_id,
            kind=kind,
            cluster_id=cluster_id,
            year_id=year_id,
            text=text,
            message=message,
            params=dict(params),
            endpoint=endpoint,
            args=dict(args or {}),
            key=key,
            created_at=moment,
        )
        for user_id in wanted
    )
    session.flush()
    return len(wanted)
