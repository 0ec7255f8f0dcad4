"""The emulation year: memberships, leadership terms, rotation, and starting the next year."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session, selectinload

from portal.models import Cluster, CouncilMember, EmulationYear, Membership, Term, TermPosition, Unit
from portal.services import DomainError
from portal.services.org.structure import clean, current_successor


def create_year(session: Session, year: int, note: str = "") -> EmulationYear:
    if not 2000 <= year <= 2100:
        raise DomainError("Năm phải nằm trong khoảng 2000–2100.", "year")
    if session.scalar(select(EmulationYear.id).where(EmulationYear.year == year)):
        raise DomainError(f"Năm thi đua {year} đã có.", "year")
    record = EmulationYear(year=year, note=note.strip(), is_current=False)
    session.add(record)
    session.flush()
    return record


def set_current(session: Session, year: EmulationYear) -> None:
    for other in session.scalars(select(EmulationYear).where(EmulationYear.is_current)):
        other.is_current = False
    session.flush()  # the partial unique index allows one current year at a time
    year.is_current = True
    session.flush()


def cluster_of(session: Session, year: EmulationYear, unit: Unit) -> Cluster | None:
    return session.scalar(
        select(Cluster)
        .join(Membership, Membership.cluster_id == Cluster.id)
        .where(Membership.year_id == year.id, Membership.unit_id == unit.id)
    )


def add_membership(session: Session, year: EmulationYear, cluster: Cluster, unit: Unit) -> Membership:
    """A unit belongs to exactly one cluster or block in a year."""
    if not unit.active:
        raise DomainError(f"Đơn vị “{unit.name}” đã ngừng hoạt động.", "unit_id")
    other = cluster_of(session, year, unit)
    if other is not None:
        where = "cụm/khối này" if other.id == cluster.id else f"“{other.name}”"
        raise DomainError(f"Đơn vị “{unit.name}” đã thuộc {where} trong năm {year.year}.", "unit_id")
    last = session.scalar(
        select(func.max(Membership.rotation_order)).where(
            Membership.year_id == year.id, Membership.cluster_id == cluster.id
        )
    )
    membership = Membership(year=year, cluster=cluster, unit=unit, rotation_order=(last or 0) + 1)
    session.add(membership)
    ensure_term(session, year, cluster)
    session.flush()
    return membership


def remove_membership(session: Session, membership: Membership) -> None:
    held = session.scalar(
        select(TermPosition.role).where(
            TermPosition.year_id == membership.year_id,
            TermPosition.cluster_id == membership.cluster_id,
            TermPosition.unit_id == membership.unit_id,
        )
    )
    if held:
        title = membership.cluster.head_title if held == "head" else membership.cluster.deputy_title
        raise DomainError(
            f"“{membership.unit.name}” đang là {title} năm {membership.year.year}; hãy phân công đơn vị khác trước.",
            "unit_id",
        )
    session.delete(membership)
    session.flush()


def move_in_rotation(session: Session, membership: Membership, step: int) -> None:
    """Move a member one place up (-1) or down (+1) in the cluster's rotation order."""
    members = list(
        session.scalars(
            select(Membership)
            .where(Membership.year_id == membership.year_id, Membership.cluster_id == membership.cluster_id)
            .order_by(Membership.rotation_order, Membership.id)
        )
    )
    i = members.index(membership)
    j = i + step
    if 0 <= j < len(members):
        members[i], members[j] = members[j], members[i]
    for order, member in enumerate(members, start=1):
        member.rotation_order = order
    session.flush()


def ensure_term(session: Session, year: EmulationYear, cluster: Cluster) -> Term:
    term = session.scalar(select(Term).where(Term.year_id == year.id, Term.cluster_id == cluster.id))
    if term is None:
        term = Term(year=year, cluster=cluster)
        session.add(term)
        session.flush()
    return term


def member_ids(session: Session, year_id: int, cluster_id: int) -> list[int]:
    """Unit ids of the cluster's members in rotation order."""
    return list(
        session.scalars(
            select(Membership.unit_id)
            .where(Membership.year_id == year_id, Membership.cluster_id == cluster_id)
            .order_by(Membership.rotation_order, Membership.id)
        )
    )


def assign_term(
    session: Session,
    term: Term,
    *,
    head_id: int | None,
    deputy_ids: list[int],
    overseer_id: int | None,
    decision_number: str = "",
    decision_date: date | None = None,
    decision_issuer: str = "",
    note: str = "",
) -> Term:
    """Set head, deputies, overseer and the decision. Head and deputies are distinct members."""
    members = set(member_ids(session, term.year_id, term.cluster_id))
    deputy_ids = list(dict.fromkeys(deputy_ids))  # keep order, drop repeats
    title = term.cluster
    if head_id is not None and head_id not in members:
        raise DomainError(
            f"{title.head_title} phải là thành viên của {title.kind_label.lower()} trong năm này.", "head_id"
        )
    if any(d not in members for d in deputy_ids):
        raise DomainError(
            f"{title.deputy_title} phải là thành viên của {title.kind_label.lower()} trong năm này.", "deputy_ids"
        )
    if head_id is not None and head_id in deputy_ids:
        raise DomainError(f"{title.head_title} và {title.deputy_title} phải là hai đơn vị khác nhau.", "deputy_ids")
    if deputy_ids and head_id is None:
        raise DomainError(f"Chọn {title.head_title} trước khi chọn {title.deputy_title}.", "head_id")
    if overseer_id is not None:
        overseer = session.get(CouncilMember, overseer_id)
        if overseer is None or not overseer.active:
            raise DomainError("Thành viên Hội đồng phụ trách không hợp lệ.", "overseer_id")
    decision_number = clean(decision_number)
    if decision_number and head_id is None:
        raise DomainError(f"Quyết định phân công phải có {title.head_title}.", "head_id")
    if decision_number and decision_date is None:
        raise DomainError("Nhập ngày ban hành quyết định.", "decision_date")

    wanted = ([(head_id, "head")] if head_id is not None else []) + [(d, "deputy") for d in deputy_ids]
    current = {(p.unit_id, p.role): p for p in term.positions}
    for key, position in current.items():
        if key not in wanted:
            term.positions.remove(position)
    session.flush()  # free the unique (term, unit) slots before re-adding in a new role
    for unit_id, role in wanted:
        if (unit_id, role) not in current:
            term.positions.append(
                TermPosition(year_id=term.year_id, cluster_id=term.cluster_id, unit_id=unit_id, role=role)
            )
    term.overseer_id = overseer_id
    term.decision_number, term.decision_date = decision_number, decision_date
    term.decision_issuer, term.note = clean(decision_issuer), (note or "").strip()
    term.proposed_by_rotation = False
    session.flush()
    return term


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
        if cluster_plan.head is not None:
            term.positions.append(
                TermPosition(year_id=target.id, cluster_id=cluster_id, unit_id=cluster_plan.head.id, role="head")
            )
        for unit in cluster_plan.deputies:
            term.positions.append(
                TermPosition(year_id=target.id, cluster_id=cluster_id, unit_id=unit.id, role="deputy")
            )
    session.flush()
    return target


# --- the years page: completeness of each year, the next year's preview, removal --------


@dataclass
class YearRow:
    """One line of the years table: how far the year's organisation has got."""

    year: EmulationYear
    clusters: int = 0  # clusters and blocks with at least one member
    memberships: int = 0
    decided: int = 0  # terms confirmed by a decision
    proposed: int = 0  # terms proposed by rotation, still awaiting the decision
    unassigned: int = 0  # active units in no cluster that year


def year_rows(session: Session) -> list[YearRow]:
    """Every year, newest first, in five queries whatever the number of years."""
    rows = {y.id: YearRow(y) for y in session.scalars(select(EmulationYear).order_by(EmulationYear.year.desc()))}
    if not rows:
        return []
    for year_id, clusters, memberships in session.execute(
        select(Membership.year_id, func.count(func.distinct(Membership.cluster_id)), func.count()).group_by(
            Membership.year_id
        )
    ):
        rows[year_id].clusters, rows[year_id].memberships = clusters, memberships
    decided = Term.decision_number != ""
    for year_id, n_decided, n_proposed in session.execute(
        select(
            Term.year_id,
            func.sum(case((decided, 1), else_=0)),
            func.sum(case((~decided & Term.proposed_by_rotation, 1), else_=0)),
        ).group_by(Term.year_id)
    ):
        rows[year_id].decided, rows[year_id].proposed = n_decided or 0, n_proposed or 0
    active = session.scalar(select(func.count()).select_from(Unit).where(Unit.active))
    assigned = dict(
        session.execute(
            select(Membership.year_id, func.count())
            .join(Unit, Unit.id == Membership.unit_id)
            .where(Unit.active)
            .group_by(Membership.year_id)
        ).all()
    )
    for row in rows.values():
        row.unassigned = active - assigned.get(row.year.id, 0)
    return list(rows.values())


@dataclass
class HeadCell:
    """The head unit of one cluster in one year, for the rotation-at-a-glance table."""

    name: str
    short_name: str
    decided: bool

    @property
    def label(self) -> str:
        return self.short_name or self.name


def head_rotation(session: Session) -> dict[tuple[int, int], HeadCell]:
    """(cluster id, year number) → head unit, for every cluster and year, in one query."""
    rows = session.execute(
        select(Term.cluster_id, EmulationYear.year, Unit.name, Unit.short_name, Term.decision_number)
        .join(EmulationYear, EmulationYear.id == Term.year_id)
        .join(TermPosition, (TermPosition.term_id == Term.id) & (TermPosition.role == "head"))
        .join(Unit, Unit.id == TermPosition.unit_id)
    ).all()
    return {(c, y): HeadCell(name, short or "", bool(decision)) for c, y, name, short, decision in rows}


def previous_clusters(session: Session, year: EmulationYear, unit_ids: list[int]) -> dict[int, Cluster]:
    """Where each unit was in the year before (to place unassigned units), in one query."""
    if not unit_ids:
        return {}
    rows = session.execute(
        select(Membership.unit_id, Cluster)
        .join(Cluster, Cluster.id == Membership.cluster_id)
        .join(EmulationYear, EmulationYear.id == Membership.year_id)
        .where(EmulationYear.year == year.year - 1, Membership.unit_id.in_(unit_ids))
    ).all()
    return {unit_id: cluster for unit_id, cluster in rows}


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

    @property
    def changed(self) -> bool:
        return any(c.fate != "kept" for c in self.carried)


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
        raise DomainError("Năm phải nằm trong khoảng 2000–2100.", "year")
    if session.scalar(select(EmulationYear.id).where(EmulationYear.year == number)) is not None:
        raise DomainError(
            f"Năm thi đua {number} đã được tạo nên không thể bắt đầu lại. "
            f"Thành viên và phân công năm {number} được sửa ngay trong năm đó.",
            "year",
        )
    return _carry_over(session, source)


def _carry_over(session: Session, source: EmulationYear) -> NextYearPlan:
    """The rules of the carry-over, written once: members of active clusters in rotation
    order, a merged unit replaced by its successor (placed once, in the first cluster met),
    a retired unit dropped, and head and deputies proposed by rotation after this year's head."""
    number = source.year + 1
    terms = {
        t.cluster_id: t
        for t in session.scalars(
            select(Term)
            .where(Term.year_id == source.id)
            .options(selectinload(Term.positions).selectinload(TermPosition.unit), selectinload(Term.overseer))
        )
    }
    members = session.scalars(
        select(Membership)
        .where(Membership.year_id == source.id)
        .options(selectinload(Membership.unit).selectinload(Unit.merged_into), selectinload(Membership.cluster))
        .order_by(Membership.cluster_id, Membership.rotation_order, Membership.id)
    ).all()
    plans: dict[int, ClusterPlan] = {}
    inactive: dict[int, Cluster] = {}
    placed: dict[int, Cluster] = {}
    stands_for: dict[int, int] = {}
    for m in members:
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
        old = plan.previous_term
        by_id = {u.id: u for u in plan.members}
        old_head = old.head.unit_id if old and old.head else None
        head, deputies = propose_rotation(list(by_id), stands_for.get(old_head), len(old.deputies) if old else 1)
        plan.head, plan.deputies = by_id.get(head), [by_id[d] for d in deputies]
    ordered = sorted(plans.values(), key=lambda p: (p.cluster.kind, p.cluster.code))
    return NextYearPlan(source, number, ordered, sorted(inactive.values(), key=lambda c: (c.kind, c.code)))


# Tables that belong to the year's organisation itself; anything else pointing at a
# year (criteria, pledges, scores…) is real work, and its year must not be deleted.
_ORGANISATION_TABLES = frozenset({"emulation_years", "memberships", "terms", "term_positions"})


def _work_referencing_year(session: Session, year: EmulationYear) -> bool:
    """Does any record outside the year's organisation point at the year, its terms or memberships?"""
    metadata = EmulationYear.__table__.metadata
    for table in metadata.sorted_tables:
        if table.name in _ORGANISATION_TABLES:
            continue
        for fk in table.foreign_keys:
            referred = fk.column.table
            if referred.name not in _ORGANISATION_TABLES:
                continue
            owner = referred.c.id if referred.name == "emulation_years" else referred.c.year_id
            query = select(literal(1)).select_from(table).join(referred, fk.parent == fk.column).where(owner == year.id)
            if session.scalar(query.limit(1)):
                return True
    return False


def delete_year(session: Session, year: EmulationYear) -> None:
    """Remove a year created by mistake (e.g. started too early). Allowed only while the
    year holds nothing but memberships and proposed terms: not the current year, no
    decision entered, and no other record (criteria, pledges, scores…) refers to it."""
    if year.is_current:
        raise DomainError("Không thể xóa năm hiện hành. Hãy đặt năm khác làm năm hiện hành trước.", "year")
    terms = session.scalars(
        select(Term)
        .where(Term.year_id == year.id)
        .options(
            selectinload(Term.positions).selectinload(TermPosition.unit),
            selectinload(Term.cluster),
            selectinload(Term.year),
        )
    ).all()
    decided = [t for t in terms if t.decision_number]
    if decided:
        raise DomainError(
            f"Năm {year.year} đã có quyết định phân công của {len(decided)} cụm, khối nên không thể xóa.", "year"
        )
    if _work_referencing_year(session, year):
        raise DomainError(
            f"Năm {year.year} đã có dữ liệu thi đua ngoài thành viên và phân công nên không thể xóa.", "year"
        )
    for term in terms:  # positions go with their term, before the memberships they point at
        session.delete(term)
    session.flush()
    for membership in session.scalars(
        select(Membership)
        .where(Membership.year_id == year.id)
        .options(selectinload(Membership.unit), selectinload(Membership.cluster), selectinload(Membership.year))
    ):
        session.delete(membership)
    session.flush()
    session.delete(year)
    session.flush()


def set_council_member_active(
    session: Session, member: CouncilMember, active: bool, current: EmulationYear | None
) -> None:
    """Deactivate or bring back a council member. One who oversees a cluster in the current
    year (or a later year already started) must be replaced on those terms first."""
    if not active and current is not None:
        overseen = session.execute(
            select(EmulationYear.year, Cluster.name)
            .join(Term, Term.year_id == EmulationYear.id)
            .join(Cluster, Cluster.id == Term.cluster_id)
            .where(Term.overseer_id == member.id, EmulationYear.year >= current.year)
            .order_by(EmulationYear.year, Cluster.sort_key)
        ).all()
        if overseen:
            listed = "; ".join(f"{name} (năm {number})" for number, name in overseen)
            raise DomainError(
                f"{member.full_name} đang phụ trách {listed}. Hãy phân công thành viên Hội đồng khác "
                "phụ trách trước khi ngừng hoạt động.",
                "active",
            )
    member.active = active
    session.flush()
