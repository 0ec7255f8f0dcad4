"""Peer review rounds (chấm chéo): assigning reviewers, opening, deadline, closing, progress.

One peer round per cluster-year, on the locked criteria table. While it is a draft the
head builds the assignments (from a mode, then by hand); opening gives each assignment
one draft peer-stage Assessment (author = reviewer, subject = reviewee), which the
reviewer fills on the generic assessment page. Closing makes the submitted reviews
readable by everyone in the cluster (see policy.assessment_permission); reviews not
submitted by then stay drafts and are listed as missing.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from portal.models import Assessment, CriteriaSet, Membership, ReviewAssignment, ScoringRound, Unit
from portal.models.base import N_, utcnow
from portal.models.criteria import SetStatus
from portal.models.notices import NoticeKind
from portal.models.scoring import AssessmentStatus, AssignmentMode, RoundKind, RoundStatus, Stage
from portal.services import DomainError
from portal.services.criteria import sets as criteria_svc
from portal.services.notices import events as notices
from portal.services.scoring import review_assignment as algo
from portal.services.scoring import rounds


def find_round(session: Session, cluster_id: int, year_id: int) -> ScoringRound | None:
    return rounds.find_round(session, cluster_id, year_id, RoundKind.PEER)


# the review (peer-stage assessment) that an assignment gave its reviewer, once the round is open
REVIEW_OF_ASSIGNMENT = and_(
    Assessment.round_id == ReviewAssignment.round_id,
    Assessment.author_unit_id == ReviewAssignment.reviewer_unit_id,
    Assessment.subject_unit_id == ReviewAssignment.subject_unit_id,
    Assessment.stage == Stage.PEER,
)


def members(session: Session, cluster_id: int, year_id: int) -> list[Unit]:
    """The cluster's member units that year, in rotation order (one query)."""
    return list(
        session.scalars(
            select(Unit)
            .join(Membership, Membership.unit_id == Unit.id)
            .where(Membership.cluster_id == cluster_id, Membership.year_id == year_id)
            .order_by(Membership.rotation_order, Unit.sort_key)
        )
    )


def self_not_submitted(session: Session, cluster_id: int, year_id: int, units: list[Unit]) -> list[Unit]:
    """Those of `units` whose self-assessment is not handed in (no self round yet, a draft, or returned):
    their reviewers would find no self-score beside their inputs. One query."""
    submitted = set(
        session.scalars(
            select(Assessment.subject_unit_id)
            .join(ScoringRound, ScoringRound.id == Assessment.round_id)
            .where(
                ScoringRound.cluster_id == cluster_id,
                ScoringRound.year_id == year_id,
                ScoringRound.kind == RoundKind.SELF,
                Assessment.stage == Stage.SELF,
                Assessment.status == AssessmentStatus.SUBMITTED,
            )
        )
    )
    return [u for u in units if u.id not in submitted]


def _plan(mode: str, unit_ids: list[int], k: int | None, team_ids: Iterable[int], seed: int | None):
    if len(unit_ids) < 2:
        raise DomainError(N_("Cụm, khối cần ít nhất hai đơn vị thành viên để chấm chéo."))
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)  # "Lập lại phân công" gives a new arrangement
    return algo.plan(mode, unit_ids, k=k, team_ids=team_ids, seed=seed)


def _check_deadline(deadline: datetime | None, now: datetime | None) -> None:
    if deadline is not None and deadline <= (now or utcnow()):
        raise DomainError(N_("Hạn chấm chéo phải sau thời điểm hiện tại."), "deadline")


def _draft(scoring_round: ScoringRound) -> None:
    if scoring_round.status != RoundStatus.DRAFT:
        raise DomainError(N_("Vòng chấm chéo đã mở; không thay đổi phân công được nữa."))


def _add_pairs(session: Session, scoring_round: ScoringRound, pairs: Iterable[algo.Pair]) -> None:
    session.add_all(
        ReviewAssignment(round_id=scoring_round.id, reviewer_unit_id=reviewer, subject_unit_id=subject)
        for reviewer, subject in sorted(pairs)
    )
    session.flush()


def create_round(
    session: Session,
    cset: CriteriaSet,
    mode: str,
    k: int | None = None,
    team_ids: Iterable[int] = (),
    deadline: datetime | None = None,
    seed: int | None = None,
    now: datetime | None = None,
) -> ScoringRound:
    """The year's peer round (a draft) on the locked table, with assignments among the members."""
    if cset.is_template or cset.status != SetStatus.LOCKED:
        raise DomainError(N_("Phải khóa bảng tiêu chí (mở chấm điểm) trước khi lập vòng chấm chéo."))
    if find_round(session, cset.cluster_id, cset.year_id) is not None:
        raise DomainError(N_("Vòng chấm chéo năm này đã được lập; mỗi cụm, khối chỉ có một vòng chấm chéo mỗi năm."))
    _check_deadline(deadline, now)
    unit_ids = [u.id for u in members(session, cset.cluster_id, cset.year_id)]
    pairs = _plan(mode, unit_ids, k, team_ids, seed)
    scoring_round = ScoringRound(
        cluster_id=cset.cluster_id,
        year_id=cset.year_id,
        criteria_set=cset,
        kind=RoundKind.PEER,
        status=RoundStatus.DRAFT,
        deadline=deadline,
        assignment_mode=mode,
        reviews_per_unit=k if mode == AssignmentMode.K_EACH else None,
    )
    session.add(scoring_round)
    session.flush()
    _add_pairs(session, scoring_round, pairs)
    return scoring_round


def _assignments(session: Session, scoring_round: ScoringRound) -> list[ReviewAssignment]:
    return list(session.scalars(select(ReviewAssignment).where(ReviewAssignment.round_id == scoring_round.id)))


def reassign(
    session: Session,
    scoring_round: ScoringRound,
    mode: str,
    k: int | None = None,
    team_ids: Iterable[int] = (),
    seed: int | None = None,
) -> None:
    """Replace every assignment of a draft round by a new plan."""
    _draft(scoring_round)
    unit_ids = [u.id for u in members(session, scoring_round.cluster_id, scoring_round.year_id)]
    pairs = _plan(mode, unit_ids, k, team_ids, seed)
    for assignment in _assignments(session, scoring_round):
        session.delete(assignment)
    session.flush()  # deletes first: the new plan may hold the same pairs (unique per round)
    scoring_round.assignment_mode = mode
    scoring_round.reviews_per_unit = k if mode == AssignmentMode.K_EACH else None
    _add_pairs(session, scoring_round, pairs)


def add_assignment(session: Session, scoring_round: ScoringRound, reviewer_id: int, subject_id: int):
    """One more pair, by hand (draft only)."""
    _draft(scoring_round)
    if reviewer_id == subject_id:
        raise DomainError(N_("Một đơn vị không tự chấm chéo chính mình."), "subject_unit_id")
    unit_ids = {u.id for u in members(session, scoring_round.cluster_id, scoring_round.year_id)}
    if reviewer_id not in unit_ids:
        raise DomainError(N_("Đơn vị chấm phải là thành viên của cụm, khối năm này."), "reviewer_unit_id")
    if subject_id not in unit_ids:
        raise DomainError(N_("Đơn vị được chấm phải là thành viên của cụm, khối năm này."), "subject_unit_id")
    exists = session.scalar(
        select(ReviewAssignment.id).where(
            ReviewAssignment.round_id == scoring_round.id,
            ReviewAssignment.reviewer_unit_id == reviewer_id,
            ReviewAssignment.subject_unit_id == subject_id,
        )
    )
    if exists is not None:
        raise DomainError(N_("Đơn vị này đã được phân công chấm đơn vị đó."), "subject_unit_id")
    assignment = ReviewAssignment(round_id=scoring_round.id, reviewer_unit_id=reviewer_id, subject_unit_id=subject_id)
    session.add(assignment)
    session.flush()
    return assignment


def remove_assignment(session: Session, scoring_round: ScoringRound, assignment: ReviewAssignment) -> None:
    """Drop one pair, by hand (draft only)."""
    _draft(scoring_round)
    if assignment.round_id != scoring_round.id:
        raise DomainError(N_("Phân công không thuộc vòng chấm chéo này."))
    session.delete(assignment)
    session.flush()


def open_round(session: Session, scoring_round: ScoringRound, now: datetime | None = None) -> int:
    """Draft → open: one draft peer assessment per assignment. Returns how many were created."""
    _draft(scoring_round)
    cset = criteria_svc.in_force(session, scoring_round.cluster_id, scoring_round.year_id)
    if cset is None or cset.status != SetStatus.LOCKED:
        raise DomainError(
            N_("Bảng tiêu chí đang áp dụng chưa được khóa để chấm điểm; hãy khóa bảng trước khi mở vòng.")
        )
    if scoring_round.deadline is not None and scoring_round.deadline <= (now or utcnow()):
        raise DomainError(N_("Hạn chấm chéo đã qua; hãy đổi hạn trước khi mở vòng."), "deadline")
    pairs = session.execute(
        select(ReviewAssignment.reviewer_unit_id, ReviewAssignment.subject_unit_id).where(
            ReviewAssignment.round_id == scoring_round.id
        )
    ).all()
    if not pairs:
        raise DomainError(N_("Chưa có phân công nào; hãy phân công đơn vị chấm trước khi mở vòng."))
    scoring_round.criteria_set = cset  # a newer version locked meanwhile is the one to score against
    rounds.add_drafts(session, scoring_round, cset, Stage.PEER, pairs)
    scoring_round.status = RoundStatus.OPEN
    session.flush()
    cluster_id, year_id = scoring_round.cluster_id, scoring_round.year_id
    notices.notify(
        session,
        notices.unit_users(session, cluster_id, year_id, {reviewer for reviewer, _subject in pairs}),
        NoticeKind.REVIEW_ASSIGNED,
        cluster_id=cluster_id,
        year_id=year_id,
        message=N_("%(cluster)s: đơn vị được phân công chấm chéo năm %(year)s."),
        params={"cluster": cset.cluster.name, "year": cset.year.year},
        endpoint="reviews.for_cluster",
        args={"cluster_id": cluster_id, "year": cset.year.year},
    )
    return len(pairs)


def set_deadline(
    session: Session, scoring_round: ScoringRound, deadline: datetime | None, now: datetime | None = None
) -> None:
    """Set, move or clear the round's deadline (not after closing)."""
    if scoring_round.status == RoundStatus.CLOSED:
        raise DomainError(N_("Vòng chấm chéo đã đóng."))
    _check_deadline(deadline, now)
    scoring_round.deadline = deadline
    session.flush()


def close_round(session: Session, scoring_round: ScoringRound, now: datetime | None = None) -> None:
    """Open → closed: reviews become readable in the cluster; unsubmitted ones stay drafts (missing)."""
    if scoring_round.status != RoundStatus.OPEN:
        raise DomainError(N_("Chỉ đóng được vòng chấm chéo đang mở."))
    scoring_round.status, scoring_round.closed_at = RoundStatus.CLOSED, now or utcnow()
    session.flush()


# --- reading -----------------------------------------------------------------------------


@dataclass
class Line:
    """One assignment seen from one side: the unit on the other side and the review's status."""

    assignment_id: int
    unit: Unit
    status: str | None  # None before the round opens
    assessment_id: int | None = None


@dataclass
class UnitProgress:
    unit: Unit
    lines: list[Line] = field(default_factory=list)

    @property
    def assigned(self) -> int:
        return len(self.lines)

    @property
    def submitted(self) -> int:
        return sum(1 for line in self.lines if line.status == AssessmentStatus.SUBMITTED)

    @property
    def pending(self) -> list[Unit]:
        return [line.unit for line in self.lines if line.status != AssessmentStatus.SUBMITTED]

    @property
    def done(self) -> bool:
        return self.submitted == self.assigned


@dataclass
class Progress:
    """The round at a glance: per reviewer what it reviews, per subject who reviews it, and warnings."""

    members: list[Unit]
    reviewers: list[UnitProgress]
    subjects: list[UnitProgress]
    warnings: algo.Warnings
    units: dict[int, Unit]

    @property
    def assigned(self) -> int:
        return sum(r.assigned for r in self.reviewers)

    @property
    def submitted(self) -> int:
        return sum(r.submitted for r in self.reviewers)

    def names_of(self, unit_ids: Iterable[int]) -> str:
        return ", ".join(self.units[i].name for i in unit_ids)

    def reviewed(self, unit_id: int) -> UnitProgress | None:
        """Who reviews this unit."""
        return next((p for p in self.subjects if p.unit.id == unit_id), None)

    @property
    def behind(self) -> list[UnitProgress]:
        """Reviewers with reviews still to submit (the list to copy for reminders)."""
        return [r for r in self.reviewers if r.assigned and not r.done]


def progress(session: Session, scoring_round: ScoringRound) -> Progress:
    """Two queries whatever the cluster's size: the members, and the assignments with their reviews."""
    units = members(session, scoring_round.cluster_id, scoring_round.year_id)
    reviewer, subject = aliased(Unit), aliased(Unit)
    rows = session.execute(
        select(ReviewAssignment.id, reviewer, subject, Assessment.status, Assessment.id)
        .join(reviewer, reviewer.id == ReviewAssignment.reviewer_unit_id)
        .join(subject, subject.id == ReviewAssignment.subject_unit_id)
        .outerjoin(Assessment, REVIEW_OF_ASSIGNMENT)
        .where(ReviewAssignment.round_id == scoring_round.id)
    ).all()
    order = {u.id: i for i, u in enumerate(units)}
    by_reviewer = {u.id: UnitProgress(u) for u in units}
    by_subject = {u.id: UnitProgress(u) for u in units}
    for assignment_id, r, s, status, assessment_id in sorted(
        rows, key=lambda row: (order.get(row[2].id, 1e9), row[2].sort_key)
    ):  # a unit removed from the cluster after assignment still shows, at the end
        by_reviewer.setdefault(r.id, UnitProgress(r)).lines.append(Line(assignment_id, s, status, assessment_id))
        by_subject.setdefault(s.id, UnitProgress(s)).lines.append(Line(assignment_id, r, status, assessment_id))
    for entry in by_subject.values():
        entry.lines.sort(key=lambda line: (order.get(line.unit.id, 1e9), line.unit.sort_key))
    pairs = {(r.id, s.id) for _, r, s, _, _ in rows}
    warnings = algo.check(
        pairs, [u.id for u in units], everyone_reviews=scoring_round.assignment_mode != AssignmentMode.TEAM
    )
    known = {u.id: u for u in units} | {p.unit.id: p.unit for p in (*by_reviewer.values(), *by_subject.values())}
    return Progress(units, list(by_reviewer.values()), list(by_subject.values()), warnings, known)


@dataclass
class Review:
    """One review a unit has to do: whom, and its assessment once the round is open."""

    assignment_id: int
    subject: Unit
    assessment_id: int | None
    status: str | None
    submitted_at: datetime | None


def reviews_of(session: Session, reviewer_unit_id: int, cluster_id: int, year_id: int) -> list[Review]:
    """The peer reviews a unit does in a cluster-year, with their status (one query). No scores."""
    rows = session.execute(
        select(ReviewAssignment.id, Unit, Assessment.id, Assessment.status, Assessment.submitted_at)
        .join(ScoringRound, ScoringRound.id == ReviewAssignment.round_id)
        .join(Unit, Unit.id == ReviewAssignment.subject_unit_id)
        .outerjoin(Assessment, REVIEW_OF_ASSIGNMENT)
        .where(
            ScoringRound.cluster_id == cluster_id,
            ScoringRound.year_id == year_id,
            ScoringRound.kind == RoundKind.PEER,
            ReviewAssignment.reviewer_unit_id == reviewer_unit_id,
        )
        .order_by(Unit.sort_key, Unit.id)
    ).all()
    return [Review(*row) for row in rows]
