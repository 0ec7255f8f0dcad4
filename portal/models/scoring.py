"""Scoring: rounds, assessments and per-criterion scores (narrow rows, Decimal values).

An Assessment is one author's scoring of one subject unit at one stage (self,
peer, verified, explanation, final); stages are separate rows and never
overwrite each other. A Score is one criterion of one assessment: the reported
value (points, actual result, count, or 1/0) and the points computed from it.
A cluster's totals are one GROUP BY over the score tallies (models/tallies.py), which
triggers keep equal to the submitted assessments' scores.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import N_, Audited, LabelledEnum, Timestamped, one_of, utcnow
from portal.models.criteria import CriteriaSet, Criterion
from portal.models.org import Unit


class RoundKind(LabelledEnum):
    SELF = "self", N_("Tự chấm điểm")
    PEER = "peer", N_("Chấm chéo")
    VERIFICATION = "verification", N_("Thẩm định")


class Stage(LabelledEnum):
    """Which scoring an assessment is (domain.md: SelfAssessment, PeerReview, Verification, agreed score)."""

    SELF = "self", N_("Tự chấm")
    PEER = "peer", N_("Chấm chéo")
    VERIFIED = "verified", N_("Thẩm định")
    EXPLANATION = "explanation", N_("Giải trình")
    FINAL = "final", N_("Điểm thống nhất")


class RoundStatus(LabelledEnum):
    DRAFT = "draft", N_("Đang chuẩn bị")
    OPEN = "open", N_("Đang mở")
    CLOSED = "closed", N_("Đã đóng")


class AssignmentMode(LabelledEnum):
    """How a peer round assigns reviewers."""

    ALL_PAIRS = "all_pairs", N_("Mỗi đơn vị chấm tất cả các đơn vị khác")
    K_EACH = "k_each", N_("Mỗi đơn vị được k đơn vị khác chấm (phân công cân đối)")
    TEAM = "team", N_("Tổ kiểm tra chéo chấm tất cả các đơn vị")


class AssessmentStatus(LabelledEnum):
    DRAFT = "draft", N_("Đang chấm")
    SUBMITTED = "submitted", N_("Đã nộp")
    RETURNED = "returned", N_("Trả lại để sửa")


ROUND_KINDS = RoundKind.labels()
STAGES = Stage.labels()
ROUND_STATUSES = RoundStatus.labels()
ASSIGNMENT_MODES = AssignmentMode.labels()
ASSESSMENT_STATUSES = AssessmentStatus.labels()


def effective_deadline(round_deadline: datetime | None, extended_until: datetime | None) -> datetime | None:
    """The moment an assessment is due (naive UTC): the later of its round's deadline and its own extension.

    An extension gives a unit more time, never less: when the head later moves the round's deadline past
    it, the unit has the round's new deadline like everyone else. An extension alone is the deadline in a
    round without one. The one rule for locking scores, the deadline notices, the pages and the dashboard.
    """
    if round_deadline is None or extended_until is None:
        return extended_until or round_deadline
    return max(round_deadline, extended_until)


class ScoringRound(Audited, Timestamped, db.Model):
    __tablename__ = "scoring_rounds"
    __table_args__ = (
        CheckConstraint(one_of("kind", RoundKind), name="kind"),
        CheckConstraint(one_of("status", RoundStatus), name="status"),
        CheckConstraint(f"assignment_mode IS NULL OR {one_of('assignment_mode', AssignmentMode)}", name="mode"),
        UniqueConstraint("cluster_id", "year_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id", ondelete="CASCADE"))
    criteria_set_id: Mapped[int] = mapped_column(ForeignKey("criteria_sets.id"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8), default=RoundStatus.OPEN)
    deadline: Mapped[datetime | None] = mapped_column(DateTime)  # naive UTC, like every timestamp
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # peer rounds: how reviewers are assigned (k = reviews per unit for AssignmentMode.K_EACH)
    assignment_mode: Mapped[str | None] = mapped_column(String(12))
    reviews_per_unit: Mapped[int | None] = mapped_column(Integer)

    criteria_set: Mapped[CriteriaSet] = relationship()

    def audit_label(self) -> str:
        return f"{ROUND_KINDS[self.kind]} #{self.id}"


class Assessment(Audited, Timestamped, db.Model):
    __tablename__ = "assessments"
    __table_args__ = (
        CheckConstraint(one_of("stage", Stage), name="stage"),
        CheckConstraint(one_of("status", AssessmentStatus), name="status"),
        UniqueConstraint("round_id", "subject_unit_id", "author_unit_id", "stage"),
        Index("ix_assessments_subject", "subject_unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("scoring_rounds.id", ondelete="CASCADE"), index=True)
    criteria_set_id: Mapped[int] = mapped_column(ForeignKey("criteria_sets.id"))
    subject_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    author_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    stage: Mapped[str] = mapped_column(String(16), default=Stage.SELF)
    status: Mapped[str] = mapped_column(String(12), default=AssessmentStatus.DRAFT)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    submitted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    returned_reason: Mapped[str] = mapped_column(Text, default="")
    extended_until: Mapped[datetime | None] = mapped_column(DateTime)

    round: Mapped[ScoringRound] = relationship()
    subject: Mapped[Unit] = relationship(foreign_keys=[subject_unit_id])
    author: Mapped[Unit] = relationship(foreign_keys=[author_unit_id])

    @property
    def editable(self) -> bool:
        return self.status in (AssessmentStatus.DRAFT, AssessmentStatus.RETURNED)

    @property
    def effective_deadline(self) -> datetime | None:
        """When this assessment is due: the later of its round's deadline and its own extension."""
        return effective_deadline(self.round.deadline, self.extended_until)

    def audit_label(self) -> str:
        return f"{STAGES[self.stage]}: {self.subject.name}"


class Score(Audited, db.Model):
    """One criterion of one assessment. `revision` guards against silent overwrites."""

    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("assessment_id", "criterion_id"),
        Index("ix_scores_criterion", "criterion_id"),
        CheckConstraint("revision >= 1", name="revision_positive"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"))
    value: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    points: Mapped[Decimal | None] = mapped_column(Numeric(9, 2))
    note: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    criterion: Mapped[Criterion] = relationship()

    # optimistic locking: an UPDATE only succeeds on the revision it read (compare-and-set)
    __mapper_args__ = {"version_id_col": revision}

    def audit_label(self) -> str:
        return f"Điểm tiêu chí #{self.criterion_id} (bản chấm #{self.assessment_id})"


class ReviewAssignment(Audited, db.Model):
    """In a peer round, `reviewer` scores `subject` (never itself). Adjustable while the round is a draft."""

    __tablename__ = "review_assignments"
    __table_args__ = (
        UniqueConstraint("round_id", "reviewer_unit_id", "subject_unit_id"),
        CheckConstraint("reviewer_unit_id <> subject_unit_id", name="not_self"),
        Index("ix_review_assignments_subject", "round_id", "subject_unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("scoring_rounds.id", ondelete="CASCADE"))
    reviewer_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    subject_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))

    reviewer: Mapped[Unit] = relationship(foreign_keys=[reviewer_unit_id])
    subject: Mapped[Unit] = relationship(foreign_keys=[subject_unit_id])

    def audit_label(self) -> str:
        return f"Phân công chấm chéo: {self.reviewer.name} → {self.subject.name}"


class Evidence(Audited, db.Model):
    """A file (minh chứng) attached to one criterion of one assessment; the bytes live outside static/."""

    __tablename__ = "evidence"
    __table_args__ = (
        Index("ix_evidence_assessment_criterion", "assessment_id", "criterion_id"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"))
    filename: Mapped[str] = mapped_column(String(255))  # as uploaded, cleaned; shown and offered on download
    content_type: Mapped[str] = mapped_column(String(128))  # from the content, not from the name
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)  # path under EVIDENCE_FOLDER
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    uploaded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def audit_label(self) -> str:
        return f"Minh chứng: {self.filename}"
