"""A cluster-year's scoring rounds seen as a whole: which rounds hold the units' own scores, the drafts a
round opens with, who has submitted what, deadlines.

The progress of every member is read in a fixed number of queries whatever the
size of the cluster: assessments of the year's rounds, one GROUP BY over their
scores (scored leaves and points by kind), and the e-mail addresses of units
that still have work to hand in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from portal.models import Assessment, CriteriaSet, Criterion, Membership, NotApplicable, Score, ScoringRound, Unit, User
from portal.models.base import N_, utcnow
from portal.models.criteria import CriterionKind
from portal.models.scoring import AssessmentStatus, RoundKind, RoundStatus, Stage
from portal.services import DomainError
from portal.services.criteria import methods
from portal.services.criteria.tree import Tree

ZERO = Decimal("0")


def find_round(session: Session, cluster_id: int, year_id: int, kind: str) -> ScoringRound | None:
    return session.scalar(
        select(ScoringRound).where(
            ScoringRound.cluster_id == cluster_id, ScoringRound.year_id == year_id, ScoringRound.kind == kind
        )
    )


def self_and_verification_rounds(cluster_id: int, year_id: int) -> Select:
    """The ids of the cluster-year's self and verification rounds (a subquery): where each unit's own
    scores and the stages that follow them are kept, peer reviews aside."""
    return select(ScoringRound.id).where(
        ScoringRound.cluster_id == cluster_id,
        ScoringRound.year_id == year_id,
        ScoringRound.kind.in_((RoundKind.SELF, RoundKind.VERIFICATION)),
    )


def add_drafts(
    session: Session, scoring_round: ScoringRound, cset: CriteriaSet, stage: str, pairs: Iterable[tuple[int, int]]
) -> None:
    """One draft assessment on `cset` in the round for each (author unit, subject unit) pair."""
    session.add_all(
        Assessment(
            round_id=scoring_round.id,
            criteria_set_id=cset.id,
            author_unit_id=author,
            subject_unit_id=subject,
            stage=stage,
            status=AssessmentStatus.DRAFT,
        )
        for author, subject in pairs
    )


def set_deadline(session: Session, scoring_round: ScoringRound, deadline: datetime | None, now=None) -> None:
    """Set or clear the round's deadline; a past deadline would lock everyone out at once."""
    if scoring_round.status == RoundStatus.CLOSED:
        raise DomainError(N_("Vòng chấm đã đóng."))
    if deadline is not None and deadline <= (now or utcnow()):
        raise DomainError(N_("Hạn chót phải sau thời điểm hiện tại."), "deadline")
    scoring_round.deadline = deadline
    session.flush()


def close_round(session: Session, scoring_round: ScoringRound, now: datetime | None = None) -> None:
    """Open → closed, for the self or verification round: no more submitting, verifying or explaining.

    Members then read the cluster's results (policy.sees_results). Peer rounds close through
    `reviews.close_round`, which says what happens to the reviews not handed in.
    """
    if scoring_round.kind == RoundKind.PEER:
        raise DomainError(N_("Vòng chấm chéo được đóng ở trang chấm chéo."))
    if scoring_round.status != RoundStatus.OPEN:
        raise DomainError(N_("Chỉ đóng được vòng đang mở."))
    scoring_round.status, scoring_round.closed_at = RoundStatus.CLOSED, now or utcnow()
    session.flush()


def deadline_of(assessment: Assessment) -> datetime | None:
    """When the assessment is due: the later of the round's deadline and its extension (None: no deadline)."""
    return assessment.effective_deadline


@dataclass
class Sums:
    scored: int = 0  # leaves with a value
    base: Decimal = ZERO
    bonus: Decimal = ZERO
    deduction: Decimal = ZERO

    def total(self, tree: Tree, deduction_capped: bool) -> Decimal:
        bonus, deduction = methods.capped(
            self.bonus,
            self.deduction,
            tree.total(CriterionKind.BONUS),
            tree.total(CriterionKind.DEDUCTION),
            deduction_capped,
        )
        return self.base + bonus - deduction


def sums(session: Session, assessment_ids: list[int]) -> dict[int, Sums]:
    """Scored leaves and points by kind for many assessments: one GROUP BY (bonus and deduction not yet capped)."""
    if not assessment_ids:
        return {}
    points = func.coalesce(Score.points, 0)
    rows = session.execute(
        select(
            Score.assessment_id,
            func.count(Score.value),
            func.sum(case((Criterion.kind == CriterionKind.SCORED, points), else_=0)),
            func.sum(case((Criterion.kind == CriterionKind.BONUS, points), else_=0)),
            func.sum(case((Criterion.kind == CriterionKind.DEDUCTION, points), else_=0)),
        )
        .join(Criterion, Criterion.id == Score.criterion_id)
        .join(Assessment, Assessment.id == Score.assessment_id)
        .outerjoin(  # a leaf that does not apply to the unit counts for nothing, as on its form
            NotApplicable,
            and_(NotApplicable.criterion_id == Score.criterion_id, NotApplicable.unit_id == Assessment.subject_unit_id),
        )
        .where(Score.assessment_id.in_(assessment_ids), NotApplicable.id.is_(None))
        .group_by(Score.assessment_id)
    ).all()
    return {
        aid: Sums(int(n), Decimal(base or 0), Decimal(bonus or 0), Decimal(deduction or 0))
        for aid, n, base, bonus, deduction in rows
    }


@dataclass
class UnitProgress:
    unit: Unit
    stages: dict[str, Assessment] = field(default_factory=dict)  # self, verified, explanation, final
    emails: list[str] = field(default_factory=list)

    @property
    def self_assessment(self) -> Assessment | None:
        return self.stages.get(Stage.SELF)

    @property
    def submitted(self) -> bool:
        return self.self_assessment is not None and self.self_assessment.status == AssessmentStatus.SUBMITTED


def progress(session: Session, cluster_id: int, year_id: int, unit_id: int | None = None) -> list[UnitProgress]:
    """Every member unit of the cluster-year with its self-assessment and verification stages, by unit name;
    with `unit_id`, that unit's alone (when it is a member) and without its e-mail addresses."""
    members = (
        select(Unit)
        .join(Membership, Membership.unit_id == Unit.id)
        .where(Membership.cluster_id == cluster_id, Membership.year_id == year_id)
        .order_by(Unit.sort_key, Unit.id)
    )
    units = session.scalars(members if unit_id is None else members.where(Unit.id == unit_id)).all()
    if not units:
        return []
    rows = {u.id: UnitProgress(u) for u in units}
    stages = select(Assessment).where(Assessment.round_id.in_(self_and_verification_rounds(cluster_id, year_id)))
    if unit_id is not None:
        stages = stages.where(Assessment.subject_unit_id == unit_id)
    for assessment in session.scalars(stages):
        if assessment.subject_unit_id in rows:
            rows[assessment.subject_unit_id].stages[assessment.stage] = assessment
    if unit_id is not None:
        return list(rows.values())
    emails = defaultdict(list)
    for member_id, email in session.execute(
        select(User.unit_id, User.email).where(User.unit_id.in_(list(rows)), User.active.is_(True), User.email != "")
    ):
        emails[member_id].append(email)
    for member_id, row in rows.items():
        row.emails = sorted(emails[member_id])
    return list(rows.values())


@dataclass
class UnitWork:
    """What a member unit has to do in its cluster-year's scoring, for its home page."""

    stages: dict[str, Assessment] = field(default_factory=dict)  # its own self, verified, explanation, final
    reviews_assigned: int = 0
    reviews_submitted: int = 0

    @property
    def self_assessment(self) -> Assessment | None:
        return self.stages.get(Stage.SELF)


def unit_work(session: Session, unit_id: int, cluster_id: int, year_id: int) -> UnitWork:
    """The unit's own assessments and its peer reviews to do: two queries."""
    work = UnitWork()
    rows = session.execute(
        select(Assessment, ScoringRound.kind)
        .join(ScoringRound, ScoringRound.id == Assessment.round_id)
        .where(
            ScoringRound.cluster_id == cluster_id,
            ScoringRound.year_id == year_id,
            (Assessment.subject_unit_id == unit_id) | (Assessment.author_unit_id == unit_id),
        )
    ).all()
    for assessment, kind in rows:
        if kind == RoundKind.PEER:
            if assessment.author_unit_id == unit_id:
                work.reviews_assigned += 1
                work.reviews_submitted += assessment.status == AssessmentStatus.SUBMITTED
        elif assessment.subject_unit_id == unit_id:
            work.stages[assessment.stage] = assessment
    return work
