"""The emulation year itself: creating it, the current year, the years page, removing one made by mistake.

A cluster's members and term in a year are in `cluster_year`; starting the next year in `next_year`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session, selectinload

from portal.models import (
    Cluster,
    EmulationYear,
    Membership,
    Quota,
    ResultSnapshot,
    Term,
    TermPosition,
    Unit,
    VoteRules,
)
from portal.models.base import N_
from portal.models.years import PositionRole
from portal.services import DomainError


def create_year(session: Session, year: int, note: str = "") -> EmulationYear:
    if not 2000 <= year <= 2100:
        raise DomainError(N_("Năm phải nằm trong khoảng 2000–2100."), "year")
    if session.scalar(select(EmulationYear.id).where(EmulationYear.year == year)):
        raise DomainError(N_("Năm thi đua %(year)s đã có."), "year", year=year)
    emulation_year = EmulationYear(year=year, note=note.strip(), is_current=False)
    session.add(emulation_year)
    session.flush()
    return emulation_year


def set_current(session: Session, year: EmulationYear) -> None:
    for other in session.scalars(select(EmulationYear).where(EmulationYear.is_current)):
        other.is_current = False
    session.flush()  # the partial unique index allows one current year at a time
    year.is_current = True
    session.flush()


# --- the years page: completeness of each year, head rotation, where unassigned units were ---


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
        .join(TermPosition, (TermPosition.term_id == Term.id) & (TermPosition.role == PositionRole.HEAD))
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


# Tables that belong to the year's organisation itself; anything else pointing at a
# year (criteria, pledges, scores…) is real work, and its year must not be deleted.
# the year's organisation, carried over when a year starts: deleted with a year started by mistake
_ORGANISATION_TABLES = frozenset({"emulation_years", "memberships", "terms", "term_positions", "quotas", "vote_rules"})


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
    published = session.scalar(
        select(func.count(func.distinct(ResultSnapshot.cluster_id))).where(ResultSnapshot.year_id == year.id)
    )
    if published:  # refused here, not by the snapshot's database guard (an error page on PostgreSQL)
        raise DomainError(
            N_(
                "Không thể xóa: %(count)s cụm, khối đã công bố kết quả năm %(year)s; "
                "kết quả đã công bố là hồ sơ không sửa, không xóa."
            ),
            "year",
            count=published,
            year=year.year,
        )
    if year.is_current:
        raise DomainError(N_("Không thể xóa năm hiện hành. Hãy đặt năm khác làm năm hiện hành trước."), "year")
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
            N_("Năm %(year)s đã có quyết định phân công của %(count)s cụm, khối nên không thể xóa."),
            "year",
            year=year.year,
            count=len(decided),
        )
    if _work_referencing_year(session, year):
        raise DomainError(
            N_("Năm %(year)s đã có dữ liệu thi đua ngoài thành viên và phân công nên không thể xóa."),
            "year",
            year=year.year,
        )
    for term in terms:  # positions go with their term, before the memberships they point at
        session.delete(term)
    for carried in (Quota, VoteRules):  # the quotas and vote rules carried over (services/meetings/awards)
        for row in session.scalars(select(carried).where(carried.year_id == year.id)):
            session.delete(row)
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
