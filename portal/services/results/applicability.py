"""Criteria that do not apply to a unit ("không áp dụng"): marked by the head, with a reason.

Real tables carry items some members have no way to score (a border post has no tourism item).
The head marks such a scored leaf for a unit before scoring opens, or while the scores are
being verified; the leaf then leaves that unit's maximum, and units are compared on totals
scaled to the table's (inputs.ScaleMode). Bonus and deduction items are never marked: they
have no maximum to leave. Each mark and unmark is audited; none once the results are published.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import CriteriaSet, Criterion, NotApplicable, ScoringRound, Unit
from portal.models.base import N_
from portal.policy import ClusterYear
from portal.services import DomainError
from portal.services.criteria import sets as criteria_svc
from portal.services.org import cluster_year
from portal.services.platform import control_chars
from portal.services.results import scope
from portal.services.scoring import reviews

CLOSED = N_("Chỉ đánh dấu tiêu chí không áp dụng trước khi mở vòng tự chấm điểm hoặc trong khi thẩm định.")


def window_open(session: Session, where: ClusterYear) -> bool:
    """Before the self round opens, or while the verification round is open."""
    status = dict(
        session.execute(
            select(ScoringRound.kind, ScoringRound.status).where(
                ScoringRound.cluster_id == where.cluster_id, ScoringRound.year_id == where.year_id
            )
        ).all()
    )
    return status.get("self") in (None, "draft") or status.get("verification") in ("draft", "open")


def _check_change(session: Session, where: ClusterYear) -> CriteriaSet:
    scope.check_unlocked(session, where)
    if not window_open(session, where):
        raise DomainError(CLOSED)
    cset = scope.table_set(session, where)
    if cset is None:
        raise DomainError(N_("Cụm, khối chưa có bảng tiêu chí năm này."))
    return cset


def mark(
    session: Session, where: ClusterYear, unit: Unit, criterion: Criterion, reason: str, *, user_id: int | None
) -> NotApplicable:
    """Mark a scored leaf of the cluster-year's table as not applying to a member (or change the reason)."""
    cset = _check_change(session, where)
    if criterion.set_id != cset.id:
        raise DomainError(N_("Tiêu chí không thuộc bảng tiêu chí năm này của cụm, khối."), "criterion_id")
    if criterion.kind != "scored":
        raise DomainError(N_("Chỉ tiêu chí chấm điểm mới đánh dấu không áp dụng; điểm thưởng, điểm trừ thì không."))
    if criteria_svc.has_children(session, criterion):
        raise DomainError(N_("Chỉ đánh dấu tiêu chí không có tiêu chí con."), "criterion_id")
    if unit.id not in cluster_year.member_ids(session, where.year_id, where.cluster_id):
        raise DomainError(N_("Đơn vị không thuộc cụm, khối năm này."), "unit_id")
    reason = (reason or "").strip()[:2000]
    if len(reason) < 5:
        raise DomainError(N_("Nêu lý do tiêu chí không áp dụng cho đơn vị."), "reason")
    if control_chars.has_control_characters(reason):
        raise DomainError(control_chars.MESSAGE, "reason")
    found = session.scalar(
        select(NotApplicable).where(NotApplicable.criterion_id == criterion.id, NotApplicable.unit_id == unit.id)
    )
    if found is None:
        found = NotApplicable(criteria_set_id=cset.id, criterion=criterion, unit=unit, created_by_user_id=user_id)
        session.add(found)
    found.reason = reason
    session.flush()
    return found


def unmark(session: Session, where: ClusterYear, found: NotApplicable) -> None:
    """The criterion applies to the unit again."""
    cset = _check_change(session, where)
    if found.criteria_set_id != cset.id:
        raise DomainError(N_("Đánh dấu không thuộc bảng tiêu chí năm này của cụm, khối."))
    session.delete(found)
    session.flush()


@dataclass
class Matrix:
    """Which scored leaves apply to which member: the table's leaves across, the units down."""

    criteria_set: CriteriaSet
    leaves: list[tuple[Criterion, str]]  # scored leaves in table order, with their full code (I.2.a)
    units: list[Unit]  # in rotation order
    marks: dict[tuple[int, int], NotApplicable]  # (unit id, criterion id) → mark
    editable: bool

    def mark_of(self, unit_id: int, criterion_id: int) -> NotApplicable | None:
        return self.marks.get((unit_id, criterion_id))


def matrix(session: Session, where: ClusterYear) -> Matrix | None:
    """The cluster-year's matrix (None without a table), in a fixed number of queries."""
    cset = scope.table_set(session, where)
    if cset is None:
        return None
    tree = criteria_svc.load_tree(session, cset)
    paths = tree.paths()
    leaves = [(leaf, paths[leaf.id]) for leaf in tree.leaves() if leaf.kind == "scored"]
    units = reviews.members(session, where.cluster_id, where.year_id)
    marks = {
        (m.unit_id, m.criterion_id): m
        for m in session.scalars(select(NotApplicable).where(NotApplicable.criteria_set_id == cset.id))
    }
    editable = not scope.is_locked(session, where) and window_open(session, where)
    return Matrix(cset, leaves, units, marks, editable)
