"""Units not eligible for awards (domain.md, "Deliberation"): marked with a reason and a period.

A unit under disciplinary review, inspection, investigation, a complaint or a corruption matter,
dissolved in a reorganisation, or short of its registered targets keeps its rank in the results
but is flagged, and is never nominated. The secretariat or the head of the unit's cluster that
year marks it (policy.results_permission, action "mark_ineligible", on `cluster_year_of`); the
mark counts for every emulation year its period overlaps, and is ended, never deleted.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import EmulationYear, Ineligibility, Membership, Unit
from portal.models.base import N_
from portal.models.results import IneligibilityKind
from portal.policy import ClusterYear
from portal.services import DomainError
from portal.services.platform import control_chars


def cluster_year_of(session: Session, year: EmulationYear, unit: Unit) -> ClusterYear | None:
    """The cluster-year whose head may mark the unit (None: the unit belongs to no cluster that year)."""
    cluster_id = session.scalar(
        select(Membership.cluster_id).where(Membership.year_id == year.id, Membership.unit_id == unit.id)
    )
    return None if cluster_id is None else ClusterYear(year.id, cluster_id)


def member_units(session: Session, year_id: int, cluster_ids: list[int] | None = None) -> list[Unit]:
    """The units that are members of a cluster that year (of these clusters; None: any), by name: one query."""
    where = Membership.year_id == year_id
    if cluster_ids is not None:
        where = where & Membership.cluster_id.in_(cluster_ids)
    return list(
        session.scalars(
            select(Unit).join(Membership, Membership.unit_id == Unit.id).where(where).order_by(Unit.sort_key)
        )
    )


def overlaps(year: int):
    """An SQL condition: the ineligibility's period overlaps the emulation year `year`."""
    return between(date(year, 1, 1), date(year, 12, 31))


def between(first, last):
    """An SQL condition: the ineligibility's period overlaps first … last (dates, or bound parameters)."""
    return (Ineligibility.starts_on <= last) & (Ineligibility.ends_on.is_(None) | (Ineligibility.ends_on >= first))


def mark(
    session: Session,
    year: EmulationYear,
    unit: Unit,
    *,
    kind: str,
    reason: str,
    starts_on: date | None,
    ends_on: date | None = None,
    user_id: int | None,
) -> Ineligibility:
    """Mark a member unit of the year not eligible for awards over a period that overlaps the year."""
    try:
        kind = IneligibilityKind(kind)
    except ValueError:
        raise DomainError(N_("Chọn trường hợp không đủ điều kiện khen thưởng."), "kind") from None
    reason = (reason or "").strip()[:4000]
    if len(reason) < 5:
        raise DomainError(N_("Nêu rõ lý do (căn cứ, số văn bản nếu có)."), "reason")
    if control_chars.has_control_characters(reason):
        raise DomainError(control_chars.MESSAGE, "reason")
    if starts_on is None:
        raise DomainError(N_("Nhập ngày bắt đầu."), "starts_on")
    _check_end(starts_on, ends_on)
    if starts_on > date(year.year, 12, 31) or (ends_on is not None and ends_on < date(year.year, 1, 1)):
        raise DomainError(
            N_("Thời gian không đủ điều kiện phải nằm (một phần) trong năm %(year)s."), "starts_on", year=year.year
        )
    if cluster_year_of(session, year, unit) is None:
        raise DomainError(N_("Đơn vị không thuộc cụm, khối nào trong năm %(year)s."), "unit_id", year=year.year)
    row = Ineligibility(
        year=year,
        unit=unit,
        kind=str(kind),
        reason=reason,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by_user_id=user_id,
    )
    session.add(row)
    session.flush()
    return row


def end(session: Session, row: Ineligibility, ends_on: date | None) -> None:
    """The reason is over (the review closed, the complaint settled): the period ends on `ends_on`."""
    if row.ends_on is not None:
        raise DomainError(N_("Trường hợp này đã kết thúc."))
    if ends_on is None:
        raise DomainError(N_("Nhập ngày kết thúc."), "ends_on")
    _check_end(row.starts_on, ends_on)
    row.ends_on = ends_on
    session.flush()


def _check_end(starts_on: date, ends_on: date | None) -> None:
    if ends_on is not None and ends_on < starts_on:
        raise DomainError(N_("Ngày kết thúc không được trước ngày bắt đầu."), "ends_on")


def of_year(session: Session, year: int, unit_ids: list[int]) -> dict[int, list[Ineligibility]]:
    """The ineligibilities of these units that overlap the emulation year, by unit: one query."""
    found: dict[int, list[Ineligibility]] = defaultdict(list)
    if unit_ids:
        rows = session.scalars(
            select(Ineligibility)
            .where(Ineligibility.unit_id.in_(unit_ids), overlaps(year))
            .order_by(Ineligibility.starts_on, Ineligibility.id)
        )
        for row in rows:
            found[row.unit_id].append(row)
    return dict(found)


def reason_text(rows: list[Ineligibility]) -> str:
    """One line for the results table: each case's kind and reason."""
    return "; ".join(f"{row.kind_label}: {row.reason}" for row in rows)
