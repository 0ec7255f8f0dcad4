"""The approved score table (điểm thống nhất): the results engine's table as the meeting changes and settles it.

It starts from the engine's result for the cluster-year (results.report.cluster_report). The meeting
may change a unit's points on a leaf criterion with a reason (`ScoreAdjustment`, the engine's number
kept beside it): the table is then computed again by the same engine over the meeting's points (the
changed leaf counts as a final score), so ranks, bands and ties follow the results rules unchanged.
Units the engine leaves tied ("settled by the meeting's vote") get the order the meeting votes
(`TieDecision`: place 1, 2 … within the tie, with the votes).

Once a vote is counted the table no longer changes (`check_unvoted`); a change of points clears
the tie decisions, which were voted on the table before it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal.models import Criterion, ReviewMeeting, ScoreAdjustment, Tally, TieDecision, Unit
from portal.models.base import N_
from portal.models.results import Basis
from portal.policy import ClusterYear
from portal.services import DomainError
from portal.services.meetings import record
from portal.services.platform import control_chars
from portal.services.results import engine
from portal.services.results import report as report_svc
from portal.services.results.inputs import ClusterInput, LeafScores
from portal.services.results.output import UnitResult
from portal.services.results.read import read_cluster

REASON_MAX = 2000
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Row:
    approved: UnitResult  # the engine over the meeting's points
    engine: UnitResult  # the engine over the scores as stored
    rank: int  # after the meeting's tie decisions
    tied: bool  # still shares its rank
    place: int | None  # its place in a tie the meeting settled
    votes: int | None  # the votes that settled it
    adjustments: tuple[ScoreAdjustment, ...]

    @property
    def changed(self) -> bool:
        return self.approved.compared_total != self.engine.compared_total or self.rank != self.engine.rank


@dataclass(frozen=True)
class Approved:
    report: report_svc.Report  # the engine's, with the criteria's names
    rows: tuple[Row, ...]  # in approved rank order

    def row(self, unit_id: int) -> Row | None:
        return next((r for r in self.rows if r.approved.unit_id == unit_id), None)

    @property
    def leaders(self) -> list[Row]:
        return [r for r in self.rows if r.rank == 1]

    def ties(self) -> list[tuple[int, list[Row]]]:
        """The ties the engine left to the meeting, settled or not: (rank, its rows)."""
        groups: dict[int, list[Row]] = defaultdict(list)
        for r in self.rows:
            if r.approved.tie_unresolved:
                groups[r.approved.rank].append(r)
        return [(rank, rows) for rank, rows in sorted(groups.items())]


def adjustments(session: Session, meeting: ReviewMeeting) -> list[ScoreAdjustment]:
    return list(
        session.scalars(
            select(ScoreAdjustment)
            .where(ScoreAdjustment.meeting_id == meeting.id)
            .options(selectinload(ScoreAdjustment.criterion), selectinload(ScoreAdjustment.unit))
            .order_by(ScoreAdjustment.id)
        )
    )


def with_points(cluster: ClusterInput, changes: list[ScoreAdjustment]) -> ClusterInput:
    """The engine's input with each changed leaf scored as the meeting decided (a final score, nothing else)."""
    by_unit: dict[int, dict[int, LeafScores]] = defaultdict(dict)
    for change in changes:
        by_unit[change.unit_id][change.criterion_id] = LeafScores(final=change.points)
    units = tuple(
        replace(u, scores={**u.scores, **by_unit[u.unit_id]}) if u.unit_id in by_unit else u for u in cluster.units
    )
    return replace(cluster, units=units)


def approved_table(session: Session, meeting: ReviewMeeting) -> Approved | None:
    """The table the meeting approves (None: the cluster-year has no criteria table). A fixed number of queries."""
    where = ClusterYear(meeting.year_id, meeting.cluster_id)
    detail = report_svc.basis_of(session, where) == Basis.MEDIAN
    report = report_svc.cluster_report(session, where, detail=detail)
    if report is None:
        return None
    changes = adjustments(session, meeting)
    result = report.result
    if changes:
        result = engine.compute(
            with_points(read_cluster(session, where.cluster_id, where.year_id, detail=detail), changes)
        )
    decisions = {d.unit_id: d for d in session.scalars(select(TieDecision).where(TieDecision.meeting_id == meeting.id))}
    by_unit: dict[int, list[ScoreAdjustment]] = defaultdict(list)
    for change in changes:
        by_unit[change.unit_id].append(change)
    engine_units = {u.unit_id: u for u in report.result.units}
    rows = [_row(u, engine_units[u.unit_id], result.units, decisions, by_unit) for u in result.units]
    rows.sort(key=lambda r: (r.rank, r.place or 0))
    return Approved(report, tuple(rows))


def _row(unit: UnitResult, engine_unit: UnitResult, units, decisions: dict, by_unit: dict) -> Row:
    changes = tuple(by_unit.get(unit.unit_id, ()))
    if not unit.tie_unresolved:
        return Row(unit, engine_unit, unit.rank, False, None, None, changes)
    group = [u.unit_id for u in units if u.rank == unit.rank]
    places = sorted(decisions[i].place for i in group if i in decisions)
    if places != list(range(1, len(group) + 1)):
        return Row(unit, engine_unit, unit.rank, True, None, None, changes)
    decision = decisions[unit.unit_id]
    return Row(unit, engine_unit, unit.rank + decision.place - 1, False, decision.place, decision.votes, changes)


def check_unvoted(session: Session, meeting: ReviewMeeting) -> None:
    record.check_no_vote_open(session, meeting)
    if session.scalar(select(func.count(Tally.id)).where(Tally.meeting_id == meeting.id)):
        raise DomainError(N_("Đã có kết quả kiểm phiếu: bảng điểm thống nhất không thay đổi được nữa."))


def adjust(
    session: Session,
    meeting: ReviewMeeting,
    unit_id: int,
    criterion_id: int | None,
    points: Decimal | None,
    reason: str,
) -> ScoreAdjustment | None:
    """The meeting's points for a unit on a leaf, with its reason; the engine's own points remove the change."""
    record.check_open(meeting)
    check_unvoted(session, meeting)
    table = approved_table(session, meeting)
    shown = table.report.unit(unit_id) if table else None
    if shown is None:
        raise DomainError(N_("Đơn vị không có trong bảng kết quả."))
    leaf = next((leaf for leaf in shown.leaves if leaf.criterion_id == criterion_id), None)
    if leaf is None or not leaf.applicable:
        raise DomainError(N_("Chọn một tiêu chí được chấm điểm áp dụng cho đơn vị."), "criterion_id")
    _check_points(points, leaf.max_points)
    existing = session.scalar(
        select(ScoreAdjustment).where(
            ScoreAdjustment.meeting_id == meeting.id,
            ScoreAdjustment.unit_id == unit_id,
            ScoreAdjustment.criterion_id == criterion_id,
        )
    )
    _clear_ties(session, meeting, None)
    if points == leaf.points:
        if existing is not None:
            session.delete(existing)
        session.flush()
        return None
    reason = _reason(reason)
    if existing is None:
        existing = ScoreAdjustment(
            meeting_id=meeting.id, unit=session.get(Unit, unit_id), criterion=session.get(Criterion, criterion_id)
        )
        session.add(existing)
    existing.engine_points, existing.points, existing.reason = leaf.points, points, reason
    session.flush()
    return existing


def _check_points(points: Decimal | None, maximum: Decimal) -> None:
    if points is None:
        raise DomainError(N_("Nhập số điểm, ví dụ 12,5."), "points")
    if points < 0 or points > maximum:
        raise DomainError(N_("Điểm phải từ 0 đến %(max)s."), "points", max=str(maximum).replace(".", ","))
    if points != points.quantize(CENT):
        raise DomainError(N_("Điểm lấy tối đa hai chữ số thập phân."), "points")


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(N_("Nêu lý do hội nghị thay đổi điểm."), "reason")
    if len(reason) > REASON_MAX or control_chars.has_control_characters(reason):
        raise DomainError(N_("Lý do tối đa %(max)s ký tự, không có ký tự điều khiển."), "reason", max=REASON_MAX)
    return reason


def settle_tie(
    session: Session, meeting: ReviewMeeting, rank: int, places: dict[int, int | None], votes: dict[int, int | None]
) -> list[TieDecision]:
    """Record the meeting's vote on a tie the engine left at `rank`: each unit's place (1, 2 …) and its votes."""
    record.check_open(meeting)
    record.require_quorum(session, meeting)
    check_unvoted(session, meeting)
    table = approved_table(session, meeting)
    group = dict(table.ties()).get(rank) if table else None
    if not group:
        raise DomainError(N_("Không có đơn vị đồng hạng ở thứ hạng này."))
    ids = [r.approved.unit_id for r in group]
    for unit_id in ids:
        if places.get(unit_id) is None:
            raise DomainError(N_("Nhập thứ tự của từng đơn vị."), f"place_{unit_id}")
        if (votes.get(unit_id) or 0) < 0:
            raise DomainError(N_("Số phiếu không được âm."), f"votes_{unit_id}")
    if sorted(places[i] for i in ids) != list(range(1, len(ids) + 1)):
        raise DomainError(
            N_("Thứ tự phải là 1 đến %(count)s, mỗi đơn vị một số khác nhau."), f"place_{ids[0]}", count=len(ids)
        )
    _clear_ties(session, meeting, ids)
    rows = [
        TieDecision(meeting_id=meeting.id, unit=session.get(Unit, i), place=places[i], votes=votes.get(i)) for i in ids
    ]
    session.add_all(rows)
    session.flush()
    return rows


def _clear_ties(session: Session, meeting: ReviewMeeting, unit_ids: list[int] | None) -> None:
    """Remove the meeting's tie decisions (of these units; None: all), each one audited."""
    query = select(TieDecision).where(TieDecision.meeting_id == meeting.id)
    if unit_ids is not None:
        query = query.where(TieDecision.unit_id.in_(unit_ids))
    for decision in session.scalars(query):
        session.delete(decision)
    session.flush()
