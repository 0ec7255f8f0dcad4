"""Builds the `Principal` that `portal.policy` decides on, from the year's rows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Membership, Term, TermPosition, User
from portal.models.users import UserKind
from portal.policy import ANONYMOUS, ClusterYear, Principal


def principal_for(session: Session, user: User | None) -> Principal:
    """At most two small queries, whatever the number of years or clusters."""
    if user is None or not user.is_authenticated:
        return ANONYMOUS
    if user.kind == UserKind.SECRETARIAT:
        return Principal(kind=UserKind.SECRETARIAT, user_id=user.id)
    if user.kind == UserKind.COUNCIL:
        rows = session.execute(
            select(Term.year_id, Term.cluster_id).where(Term.overseer_id == user.council_member_id)
        ).all()
        return Principal(
            kind=UserKind.COUNCIL,
            user_id=user.id,
            council_member_id=user.council_member_id,
            oversees=frozenset(ClusterYear(*r) for r in rows),
        )
    rows = session.execute(
        select(Membership.year_id, Membership.cluster_id, TermPosition.role)
        .outerjoin(
            TermPosition,
            (TermPosition.year_id == Membership.year_id)
            & (TermPosition.cluster_id == Membership.cluster_id)
            & (TermPosition.unit_id == Membership.unit_id),
        )
        .where(Membership.unit_id == user.unit_id)
    ).all()
    return Principal(
        kind=UserKind.UNIT,
        user_id=user.id,
        unit_id=user.unit_id,
        memberships=frozenset(ClusterYear(y, c) for y, c, _ in rows),
        offices={ClusterYear(y, c): role for y, c, role in rows if role},
    )
