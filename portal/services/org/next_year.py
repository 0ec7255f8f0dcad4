"""Starting the next year: members carried over (a merged unit gives way to its successor, a retired one
drops out) and each cluster's head and deputies proposed by rotation. `plan_next_year` shows the
carry-over and `apply_plan` applies that same plan: the rules are written once, in `_carry_over`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.models import Cluster, CouncilMember, EmulationYear, Membership, Term, TermPosition, Unit
from portal.models.base import N_
from portal.services import DomainError
from portal.services.org.cluster_year import place_offices
from portal.services.org.structure import current_successor
from portal.services.org.years import create_year


def propose_rotation(order: list[int], head_id: int | None, deputies: int) -> tuple[int | None, list[int]]:
    """Next year's head and deputies by rotation: the member after this year's head
    takes the chair, and the following members deputise. `order` is next year's
    members in rotation order; a head who left is looked for by position only."""
    if not order:
        return None, []
    start = (order.index(head_id) + 1) % len(order) if head_id in order else 0
    rotated = order[start:] + order[:start]
    return rotated[0], rotated[1 : 1 + min(deputies, len(order) - 1)]


def start_next_year(session: Session, source: EmulationYear) -> EmulationYear:
    """Copy memberships into the next year (merged units give way to their successor,
    retired ones drop out) and propose each cluster's head and deputies by rotation:
    the carry-over that `plan_next_year` shows, applied."""
    return apply_plan(session, _carry_over(session, source))


def apply_plan(session: Session, plan: NextYearPlan) -> EmulationYear:
    """Create the plan's year with its members in rotation order and, for every cluster
    that keeps a member, a term proposed by rotation (overseer and issuer carried over)."""
    target = create_year(session, plan.year)
    clusters = sorted((p for p in plan.clusters if p.members), key=lambda p: p.cluster.id)
    for cluster_plan in clusters:
        for order, unit in enumerate(cluster_plan.members, start=1):
            session.add(
                Membership(year=target, cluster_id=cluster_plan.cluster.id, unit_id=unit.id, rotation_order=order)
            )
    session.flush()
    for cluster_plan in clusters:
        cluster_id, old = cluster_plan.cluster.id, cluster_plan.previous_term
        term = Term(
            year=target,
            cluster_id=cluster_id,
            overseer_id=old.overseer_id if old else None,
            decision_issuer=old.decision_issuer if old else "",
            proposed_by_rotation=True,
        )
        session.add(term)
        session.flush()
        head_id = cluster_plan.head.id if cluster_plan.head else None
        place_offices(session, term, head_id, [unit.id for unit in cluster_plan.deputies])
    session.flush()
    return target


MEMBER_FATES = {
    "kept": "Giữ nguyên",
    "merged": "Đã sáp nhập; đơn vị tiếp nhận thay chỗ",
    "retired": "Đã ngừng hoạt động; không chuyển sang năm mới",
    "already_placed": "Đơn vị (tiếp nhận) đã có chỗ trong năm mới",
}


@dataclass
class CarriedMember:
    """A member of the source year and who stands in its place next year (None: nobody)."""

    previous: Unit
    unit: Unit | None
    fate: str
    placed_in: Cluster | None = None  # for "already_placed": where the unit already is

    @property
    def fate_label(self) -> str:
        return MEMBER_FATES[self.fate]


@dataclass
class ClusterPlan:
    """One cluster's next year: members in rotation order and the proposed leadership."""

    cluster: Cluster
    previous_term: Term | None
    carried: list[CarriedMember] = field(default_factory=list)
    members: list[Unit] = field(default_factory=list)
    head: Unit | None = None
    deputies: list[Unit] = field(default_factory=list)

    @property
    def previous_head(self) -> Unit | None:
        return self.previous_term.head_unit if self.previous_term else None

    @property
    def overseer(self) -> CouncilMember | None:
        return self.previous_term.overseer if self.previous_term else None


@dataclass
class NextYearPlan:
    """What `start_next_year` would create from `source`; nothing is written."""

    source: EmulationYear
    year: int
    clusters: list[ClusterPlan]
    inactive_clusters: list[Cluster]  # stopped clusters: their members are not carried

    @property
    def member_count(self) -> int:
        return sum(len(p.members) for p in self.clusters)


def plan_next_year(session: Session, source: EmulationYear) -> NextYearPlan:
    """What `start_next_year` would create from `source`, refused (with the reason for the
    preview page) when the next year is out of range or exists already."""
    number = source.year + 1
    if number > 2100:
        raise DomainError(N_("Năm phải nằm trong khoảng 2000–2100."), "year")
    if session.scalar(select(EmulationYear.id).where(EmulationYear.year == number)) is not None:
        raise DomainError(
            N_(
                "Năm thi đua %(year)s đã được tạo nên không thể bắt đầu lại. "
                "Thành viên và phân công năm %(year)s được sửa ngay trong năm đó."
            ),
            "year",
            year=number,
        )
    return _carry_over(session, source)


def _carry_over(session: Session, source: EmulationYear) -> NextYearPlan:
    """The rules of the carry-over, written once: members of active clusters in rotation
    order, a merged unit replaced by its successor (placed once, in the first cluster met),
    a retired unit dropped, and head and deputies proposed by rotation after this year's head."""
    plans: dict[int, ClusterPlan] = {}
    inactive: dict[int, Cluster] = {}
    placed: dict[int, Cluster] = {}
    stands_for: dict[int, int] = {}
    terms = _terms_of(session, source)
    for m in _members_of(session, source):
        if not m.cluster.active:
            inactive[m.cluster_id] = m.cluster
            continue
        plan = plans.setdefault(m.cluster_id, ClusterPlan(m.cluster, terms.get(m.cluster_id)))
        unit = current_successor(m.unit)
        if unit is None:
            plan.carried.append(CarriedMember(m.unit, None, "retired"))
            continue
        stands_for[m.unit_id] = unit.id
        if unit.id in placed:
            plan.carried.append(CarriedMember(m.unit, unit, "already_placed", placed[unit.id]))
            continue
        placed[unit.id] = m.cluster
        plan.members.append(unit)
        plan.carried.append(CarriedMember(m.unit, unit, "kept" if unit.id == m.unit_id else "merged"))
    for plan in plans.values():
        _propose_leaders(plan, stands_for)
    ordered = sorted(plans.values(), key=lambda p: (p.cluster.kind, p.cluster.code))
    return NextYearPlan(source, source.year + 1, ordered, sorted(inactive.values(), key=lambda c: (c.kind, c.code)))


def _terms_of(session: Session, source: EmulationYear) -> dict[int, Term]:
    """The source year's terms by cluster id, with their positions and overseer."""
    return {
        t.cluster_id: t
        for t in session.scalars(
            select(Term)
            .where(Term.year_id == source.id)
            .options(selectinload(Term.positions).selectinload(TermPosition.unit), selectinload(Term.overseer))
        )
    }


def _members_of(session: Session, source: EmulationYear) -> Sequence[Membership]:
    """The source year's memberships, cluster by cluster in rotation order."""
    return session.scalars(
        select(Membership)
        .where(Membership.year_id == source.id)
        .options(selectinload(Membership.unit).selectinload(Unit.merged_into), selectinload(Membership.cluster))
        .order_by(Membership.cluster_id, Membership.rotation_order, Membership.id)
    ).all()


def _propose_leaders(plan: ClusterPlan, stands_for: dict[int, int]) -> None:
    """Head and deputies by rotation after the unit that stands for this year's head (as many deputies as now)."""
    old = plan.previous_term
    by_id = {u.id: u for u in plan.members}
    old_head = old.head.unit_id if old and old.head else None
    head, deputies = propose_rotation(list(by_id), stands_for.get(old_head), len(old.deputies) if old else 1)
    plan.head, plan.deputies = by_id.get(head), [by_id[d] for d in deputies]
