"""One login per role, read from the database: what `make run` prints on every start.

The table is found in the data (the current year's terms, its criteria tables and rounds), never
kept as a second list beside the demo seed, so it stays true when the demo data changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.models import (
    Assessment,
    Cluster,
    CriteriaSet,
    EmulationYear,
    Membership,
    ScoringRound,
    Term,
    TermPosition,
    User,
)
from portal.models.criteria import SetStatus
from portal.models.scoring import AssessmentStatus, Stage
from portal.models.users import UserKind
from portal.services.demo.world import DEMO_PASSWORD


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    who: str
    demo_password: bool  # False once someone changed this account's password


def role_logins(session: Session) -> tuple[int | None, list[DemoLogin]]:
    """The current year and, for it, one account per role (the roles missing from the data are left out)."""
    year = session.scalar(select(EmulationYear).where(EmulationYear.is_current))
    picks: list[tuple[str, User | None, str]] = []
    secretariat = _first_user(session, User.kind == UserKind.SECRETARIAT)
    picks.append(("Ban TĐ-KT", secretariat, "toàn quyền: tổ chức, năm thi đua, tài khoản, nhật ký"))
    if year is not None:
        picks += _cluster_roles(session, year)
    logins = [
        DemoLogin(role, user.username, f"{user.full_name} — {what}", user.check_password(DEMO_PASSWORD))
        for role, user, what in picks
        if user is not None
    ]
    return (year.year if year else None), logins


def _cluster_roles(session: Session, year: EmulationYear) -> list[tuple[str, User | None, str]]:
    terms = session.scalars(
        select(Term)
        .join(Cluster, Cluster.id == Term.cluster_id)
        .where(Term.year_id == year.id, Cluster.active)
        .options(selectinload(Term.positions).selectinload(TermPosition.unit), selectinload(Term.cluster))
        .order_by(Cluster.code)
    ).all()
    with_table = set(
        session.scalars(
            select(CriteriaSet.cluster_id).where(
                CriteriaSet.year_id == year.id, CriteriaSet.status != SetStatus.SUPERSEDED
            )
        )
    )
    led = [t for t in terms if t.head is not None]
    table_term = next((t for t in led if t.cluster_id in with_table), None)
    bare_term = next((t for t in led if t.cluster_id not in with_table and t.has_decision), None)
    roles: list[tuple[str, User | None, str]] = []
    if table_term is not None:
        cluster = table_term.cluster
        if table_term.overseer_id is not None:
            overseer = _first_user(session, User.council_member_id == table_term.overseer_id)
            roles.append(("Thành viên Hội đồng", overseer, f"phụ trách {_label(cluster)}"))
        roles.append(_office("Trưởng, có bảng tiêu chí", session, table_term.head_unit, cluster.head_title, cluster))
        if table_term.deputies:
            roles.append(_office("Phó", session, table_term.deputies[0], cluster.deputy_title, cluster))
        member = _plain_member(session, table_term)
        if member is not None:
            roles.append(_office("Đơn vị thành viên", session, member, f"thành viên {cluster.kind_label}", cluster))
    if bare_term is not None:
        cluster = bare_term.cluster
        roles.append(
            _office("Trưởng, chưa có bảng tiêu chí", session, bare_term.head_unit, cluster.head_title, cluster)
        )
    return roles


def _label(cluster: Cluster) -> str:
    return f"{cluster.kind_label.lower()} {cluster.code}"


def _office(role: str, session: Session, unit, title: str, cluster: Cluster) -> tuple[str, User | None, str]:
    return role, _first_user(session, User.unit_id == unit.id), f"{unit.name}, {title.lower()} {cluster.code}"


def _plain_member(session: Session, term: Term):
    """A member neither head nor deputy, in rotation order; one that has not yet submitted comes first."""
    officers = {p.unit_id for p in term.positions}
    members = session.scalars(
        select(Membership)
        .where(Membership.year_id == term.year_id, Membership.cluster_id == term.cluster_id)
        .options(selectinload(Membership.unit))
        .order_by(Membership.rotation_order, Membership.id)
    ).all()
    submitted = set(
        session.scalars(
            select(Assessment.subject_unit_id)
            .join(ScoringRound, ScoringRound.id == Assessment.round_id)
            .where(
                ScoringRound.year_id == term.year_id,
                ScoringRound.cluster_id == term.cluster_id,
                Assessment.stage == Stage.SELF,
                Assessment.status == AssessmentStatus.SUBMITTED,
            )
        )
    )
    plain = [m.unit for m in members if m.unit_id not in officers]
    return next((u for u in plain if u.id not in submitted), plain[0] if plain else None)


def _first_user(session: Session, condition) -> User | None:
    return session.scalar(select(User).where(condition, User.active).order_by(User.id).limit(1))
