"""Verification (thẩm định) → explanation (giải trình) → final (điểm thống nhất).

Each step is its own Assessment row in the cluster-year's verification round and
starts as a copy of the step before, so nothing is ever overwritten: the self
score, the verified score with the reason for each change, the unit's
explanation with its proposed score and new evidence, and the final agreed score.
The round's deadline is the deadline for explanations.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Assessment, Score, ScoringRound
from portal.models.base import N_, utcnow
from portal.models.scoring import AssessmentStatus, RoundKind, Stage
from portal.services import DomainError
from portal.services.scoring import rounds as rounds_svc


def verification_round(session: Session, self_round: ScoringRound) -> ScoringRound:
    """The cluster-year's verification round, created with the first verification."""
    found = rounds_svc.find_round(session, self_round.cluster_id, self_round.year_id, RoundKind.VERIFICATION)
    if found is not None:
        return found
    created = ScoringRound(
        cluster_id=self_round.cluster_id,
        year_id=self_round.year_id,
        criteria_set_id=self_round.criteria_set_id,
        kind=RoundKind.VERIFICATION,
    )
    session.add(created)
    session.flush()
    return created


def stage_of(session: Session, verification: ScoringRound, subject_unit_id: int, stage: str) -> Assessment | None:
    return session.scalar(
        select(Assessment).where(
            Assessment.round_id == verification.id,
            Assessment.subject_unit_id == subject_unit_id,
            Assessment.stage == stage,
        )
    )


def _copy(session: Session, source: Assessment, target: Assessment, *, notes: bool, user_id: int | None) -> None:
    """Start `target` from `source`'s values and points (reasons too, when they carry over)."""
    now = utcnow()
    for score in session.scalars(select(Score).where(Score.assessment_id == source.id)):
        session.add(
            Score(
                assessment_id=target.id,
                criterion_id=score.criterion_id,
                value=score.value,
                points=score.points,
                note=score.note if notes else "",
                updated_at=now,
                updated_by_user_id=user_id,
            )
        )
    session.flush()


def _new_stage(session: Session, verification: ScoringRound, subject_unit_id: int, author_unit_id: int, stage: str):
    assessment = Assessment(
        round_id=verification.id,
        criteria_set_id=verification.criteria_set_id,
        subject_unit_id=subject_unit_id,
        author_unit_id=author_unit_id,
        stage=stage,
    )
    session.add(assessment)
    session.flush()
    return assessment


def start_verification(
    session: Session, self_assessment: Assessment, author_unit_id: int, user_id: int | None = None
) -> Assessment:
    """The head starts verifying a submitted self-assessment, from the unit's own scores."""
    if self_assessment.stage != Stage.SELF or self_assessment.status != AssessmentStatus.SUBMITTED:
        raise DomainError(N_("Chỉ thẩm định bản tự chấm đã nộp."))
    verification = verification_round(session, self_assessment.round)
    existing = stage_of(session, verification, self_assessment.subject_unit_id, Stage.VERIFIED)
    if existing is not None:
        return existing
    verified = _new_stage(session, verification, self_assessment.subject_unit_id, author_unit_id, Stage.VERIFIED)
    _copy(session, self_assessment, verified, notes=False, user_id=user_id)
    return verified


def start_explanation(session: Session, verified: Assessment, now: datetime | None = None) -> Assessment:
    """The unit answers a sent verification: proposed scores, explanations and new evidence, by the deadline."""
    if verified.stage != Stage.VERIFIED or verified.status != AssessmentStatus.SUBMITTED:
        raise DomainError(N_("Trưởng cụm, khối chưa gửi kết quả thẩm định."))
    existing = stage_of(session, verified.round, verified.subject_unit_id, Stage.EXPLANATION)
    if existing is not None:
        return existing
    if stage_of(session, verified.round, verified.subject_unit_id, Stage.FINAL) is not None:
        raise DomainError(N_("Điểm đã được thống nhất; không còn giải trình được."))
    deadline = verified.round.deadline
    if deadline is not None and (now or utcnow()) > deadline:
        raise DomainError(N_("Đã hết hạn giải trình."))
    explanation = _new_stage(
        session, verified.round, verified.subject_unit_id, verified.subject_unit_id, Stage.EXPLANATION
    )
    _copy(session, verified, explanation, notes=False, user_id=None)
    return explanation


def start_final(
    session: Session, verified: Assessment, author_unit_id: int, user_id: int | None = None, now=None
) -> Assessment:
    """The head fixes the final score, from the unit's explanation when it sent one, else from the verification."""
    if verified.stage != Stage.VERIFIED or verified.status != AssessmentStatus.SUBMITTED:
        raise DomainError(N_("Phải gửi kết quả thẩm định cho đơn vị trước khi chốt điểm."))
    existing = stage_of(session, verified.round, verified.subject_unit_id, Stage.FINAL)
    if existing is not None:
        return existing
    explanation = stage_of(session, verified.round, verified.subject_unit_id, Stage.EXPLANATION)
    deadline = verified.round.deadline
    waiting = deadline is None or (now or utcnow()) <= deadline
    if explanation is not None and explanation.status != AssessmentStatus.SUBMITTED and waiting:
        raise DomainError(N_("Đơn vị đang giải trình; chờ đơn vị nộp giải trình hoặc hết hạn giải trình."))
    final = _new_stage(session, verified.round, verified.subject_unit_id, author_unit_id, Stage.FINAL)
    # the verified reasons carry over; where the unit's explanation changed the score, the head writes a new one
    _copy(session, verified, final, notes=True, user_id=user_id)
    return final


def self_points(session: Session, assessment: Assessment) -> dict[int, Decimal | None]:
    """The unit's own points per criterion, which every later stage is compared against."""
    self_id = session.scalar(
        select(Assessment.id)
        .join(ScoringRound, ScoringRound.id == Assessment.round_id)
        .where(
            ScoringRound.cluster_id == assessment.round.cluster_id,
            ScoringRound.year_id == assessment.round.year_id,
            ScoringRound.kind == RoundKind.SELF,
            Assessment.subject_unit_id == assessment.subject_unit_id,
            Assessment.stage == Stage.SELF,
        )
    )
    return dict(session.execute(select(Score.criterion_id, Score.points).where(Score.assessment_id == self_id)).all())


def differs(points: Decimal | None, self_points: Decimal | None) -> bool:
    """A later stage's (or a peer's) points differ from the unit's self-score: marked, and needs a reason."""
    return points != self_points


def missing_reasons(session: Session, assessment: Assessment, codes: dict[int, str]) -> list[str]:
    """Codes of criteria where a verified or final score differs from the self score without a reason."""
    if assessment.stage not in (Stage.VERIFIED, Stage.FINAL):
        return []
    own = self_points(session, assessment)
    rows = session.execute(
        select(Score.criterion_id, Score.points, Score.note).where(Score.assessment_id == assessment.id)
    ).all()
    return [
        codes.get(cid, str(cid)) for cid, points, note in rows if differs(points, own.get(cid)) and not note.strip()
    ]
