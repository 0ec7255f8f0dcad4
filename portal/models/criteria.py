"""Criteria sets (bảng tiêu chí, thang điểm): a versioned tree per cluster and year.

A set is built as a draft by the head unit, published so members see it, and
locked when scoring opens. A locked set is never edited: a change makes a new
version (with a reason) and the old one is superseded, so scores keep pointing
at the criteria they were given against. Province templates are sets that
belong to no cluster.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import N_, Audited, LabelledEnum, Timestamped, one_of
from portal.models.org import Cluster
from portal.models.years import EmulationYear


class SetStatus(LabelledEnum):
    DRAFT = "draft", N_("Bản nháp")
    PUBLISHED = "published", N_("Đã công bố")
    LOCKED = "locked", N_("Đã khóa (đang chấm điểm)")
    SUPERSEDED = "superseded", N_("Đã thay bằng phiên bản mới")


class CriterionKind(LabelledEnum):
    SCORED = "scored", N_("Chấm điểm")
    BONUS = "bonus", N_("Điểm thưởng")
    DEDUCTION = "deduction", N_("Điểm trừ")


class Method(LabelledEnum):
    DIRECT = "direct", N_("Chấm trực tiếp")
    QUANTITATIVE = "quantitative", N_("Định lượng (so với chỉ tiêu đăng ký)")
    PASS_FAIL = "pass_fail", N_("Định tính (đạt / không đạt)")
    PER_OCCURRENCE = "per_occurrence", N_("Chấm thẳng theo số lần")


SET_STATUSES = SetStatus.labels()
CRITERION_KINDS = CriterionKind.labels()
METHODS = Method.labels()
POINTS = Numeric(9, 2)


def code_label(code: str) -> str:
    """A code as a row label: "I" → "I.", and "I." or "a)" unchanged (never a doubled dot)."""
    code = code.strip()
    return code if code.endswith((".", ")")) else f"{code}."


IN_FORCE = f"status <> '{SetStatus.SUPERSEDED}' AND cluster_id IS NOT NULL"  # a cluster's set, not superseded


class CriteriaSet(Audited, Timestamped, db.Model):
    __tablename__ = "criteria_sets"
    __table_args__ = (
        CheckConstraint(one_of("status", SetStatus), name="status"),
        CheckConstraint("(cluster_id IS NULL) = (year_id IS NULL)", name="template_has_no_year"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("target_total > 0", name="target_total_positive"),
        CheckConstraint("score_step > 0", name="score_step_positive"),
        UniqueConstraint("cluster_id", "year_id", "version"),
        # one set in force per cluster and year: the newest, not superseded
        Index(
            "uq_criteria_sets_in_force",
            "cluster_id",
            "year_id",
            unique=True,
            sqlite_where=text(IN_FORCE),
            postgresql_where=text(IN_FORCE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    year_id: Mapped[int | None] = mapped_column(ForeignKey("emulation_years.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=SetStatus.DRAFT)
    target_total: Mapped[Decimal] = mapped_column(POINTS, default=Decimal("100"))
    score_step: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0.25"))
    deduction_capped: Mapped[bool] = mapped_column(Boolean, default=True)
    template_kind: Mapped[str | None] = mapped_column(String(16))  # for templates: a ClusterKind, None for any
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("criteria_sets.id", ondelete="SET NULL"))
    version_reason: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime)

    cluster: Mapped[Cluster | None] = relationship()
    year: Mapped[EmulationYear | None] = relationship()
    based_on: Mapped[CriteriaSet | None] = relationship(remote_side=[id])
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="criteria_set",
        cascade="all, delete-orphan",
        order_by="Criterion.position",
        passive_deletes=True,
    )

    @property
    def is_template(self) -> bool:
        return self.cluster_id is None

    @property
    def status_label(self) -> str:
        return SET_STATUSES[self.status]

    @property
    def editable(self) -> bool:
        return self.status in (SetStatus.DRAFT, SetStatus.PUBLISHED)

    def audit_label(self) -> str:
        return f"{self.title} (v{self.version})"


class Criterion(Audited, db.Model):
    """A node of the tree: a section (I, II), a criterion (1, 2) or a sub-criterion (a, b).

    Only leaves carry `max_points` and a scoring method; a parent's maximum is the
    sum of its children's. For bonus and deduction items, `max_points` is the cap.
    """

    __tablename__ = "criteria"
    __table_args__ = (
        CheckConstraint(one_of("kind", CriterionKind), name="kind"),
        CheckConstraint(one_of("method", Method), name="method"),
        CheckConstraint("max_points IS NULL OR max_points >= 0", name="max_points_not_negative"),
        CheckConstraint("points_each IS NULL OR points_each > 0", name="points_each_positive"),
        CheckConstraint("length(trim(code)) > 0", name="code_not_blank"),
        Index(
            "uq_criteria_root_code",
            "set_id",
            "code",
            unique=True,
            sqlite_where=text("parent_id IS NULL"),
            postgresql_where=text("parent_id IS NULL"),
        ),
        Index(
            "uq_criteria_child_code",
            "set_id",
            "parent_id",
            "code",
            unique=True,
            sqlite_where=text("parent_id IS NOT NULL"),
            postgresql_where=text("parent_id IS NOT NULL"),
        ),
        Index("ix_criteria_set_parent", "set_id", "parent_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("criteria_sets.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    guidance: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default=CriterionKind.SCORED)
    method: Mapped[str] = mapped_column(String(16), default=Method.DIRECT)
    max_points: Mapped[Decimal | None] = mapped_column(POINTS)
    points_each: Mapped[Decimal | None] = mapped_column(POINTS)
    measure_unit: Mapped[str] = mapped_column(String(64), default="")  # of the value a quantitative item reports
    evidence_required: Mapped[bool] = mapped_column(Boolean, default=False)

    criteria_set: Mapped[CriteriaSet] = relationship(back_populates="criteria")

    @property
    def kind_label(self) -> str:
        return CRITERION_KINDS[self.kind]

    @property
    def method_label(self) -> str:
        return METHODS[self.method]

    def audit_label(self) -> str:
        return f"{code_label(self.code)} {self.title[:120]}"
