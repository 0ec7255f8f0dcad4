"""What the results of a cluster-year are computed with: settings, non-applicable criteria, bands, eligibility.

The results engine (portal/services/results/) reads the scores and these rows and computes
ranking, bands and flags; nothing here stores a computed number. The value sets below are
those of the engine's StrEnums (services/results/inputs.py: a model never imports a service,
so the sets are spelled here with their labels and a test keeps both the same).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
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
from portal.models.base import N_, Audited, Timestamped
from portal.models.criteria import Criterion
from portal.models.org import CLUSTER_KINDS, Cluster, Unit
from portal.models.years import EmulationYear

BASES = {
    "agreed": N_("Điểm thống nhất (thẩm định, giải trình, chốt điểm)"),
    "peer_mean": N_("Trung bình điểm chấm chéo"),
    "trimmed_mean": N_("Trung bình chấm chéo, bỏ một điểm cao nhất và một điểm thấp nhất"),
    "median": N_("Trung vị điểm chấm chéo"),
    "blend": N_("Kết hợp điểm tự chấm và trung bình chấm chéo"),
}
SCALE_MODES = {
    "scale": N_("Quy đổi theo tổng điểm chuẩn các tiêu chí áp dụng"),
    "raw": N_("So sánh tổng điểm thực tế"),
}
NON_PARTICIPATION = {
    "lowest_basis": N_("Mỗi tiêu chí lấy mức thấp nhất trong điểm tự chấm, điểm thống nhất và điểm chấm chéo"),
    "fixed_deduction": N_("Trừ một số điểm cố định"),
}
TIE_BREAKERS = {
    "section": N_("Điểm cao hơn ở một phần được chọn"),
    "fewer_deductions": N_("Ít điểm trừ hơn"),
    "more_at_maximum": N_("Nhiều tiêu chí đạt điểm tối đa hơn"),
}
FLOOR_LEVELS = {
    "criterion": N_("Từng tiêu chí (1, 2, …) của mỗi phần"),
    "leaf": N_("Từng tiêu chí được chấm điểm (cấp cuối cùng)"),
}
BAND_CODES = {
    "xuat_sac": N_("Hoàn thành xuất sắc nhiệm vụ"),
    "tot": N_("Hoàn thành tốt nhiệm vụ"),
    "hoan_thanh": N_("Hoàn thành nhiệm vụ"),
}
SHARE = Numeric(5, 4)  # a share of a total or of a maximum: 0,9 = 90 %


class IneligibilityKind(StrEnum):
    """Why a unit may not be proposed for an award (domain.md, "Deliberation")."""

    DISCIPLINARY_REVIEW = "disciplinary_review"
    INSPECTION = "inspection"
    INVESTIGATION = "investigation"
    COMPLAINT = "complaint"
    CORRUPTION = "corruption"
    DISSOLVED = "dissolved"
    TARGETS_MISSED = "targets_missed"
    OTHER = "other"

    @property
    def label(self) -> str:
        return INELIGIBILITY_KINDS[self]


INELIGIBILITY_KINDS = {
    IneligibilityKind.DISCIPLINARY_REVIEW: N_("Đang xem xét kỷ luật"),
    IneligibilityKind.INSPECTION: N_("Đang thanh tra, kiểm tra"),
    IneligibilityKind.INVESTIGATION: N_("Đang điều tra"),
    IneligibilityKind.COMPLAINT: N_("Đang giải quyết khiếu nại, tố cáo"),
    IneligibilityKind.CORRUPTION: N_("Có vụ việc tham nhũng, tiêu cực"),
    IneligibilityKind.DISSOLVED: N_("Giải thể trong sắp xếp tổ chức bộ máy"),
    IneligibilityKind.TARGETS_MISSED: N_("Không hoàn thành chỉ tiêu đã đăng ký"),
    IneligibilityKind.OTHER: N_("Lý do khác"),
}


def _one_of(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


def _share(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} > 0 AND {column} <= 1", name=f"{column}_share")


class ResultSettings(Audited, Timestamped, db.Model):
    """How a cluster-year's results are computed, chosen by its head. No row: the defaults.

    `locked_at` is set when the results are published; a locked row is never changed again,
    so the published numbers can always be computed again from the same rules.
    """

    __tablename__ = "result_settings"
    __table_args__ = (
        UniqueConstraint("cluster_id", "year_id"),
        CheckConstraint(_one_of("basis", BASES), name="basis"),
        CheckConstraint(_one_of("scale_mode", SCALE_MODES), name="scale_mode"),
        CheckConstraint(_one_of("non_participation", NON_PARTICIPATION), name="non_participation"),
        CheckConstraint(_one_of("floor_level", FLOOR_LEVELS), name="floor_level"),
        CheckConstraint("trim_min_reviewers BETWEEN 3 AND 100", name="trim_min_reviewers_range"),
        CheckConstraint("self_weight >= 0 AND self_weight <= 1", name="self_weight_share"),
        CheckConstraint("non_participation_points >= 0", name="non_participation_points_not_negative"),
        _share("reviewer_bias_share"),
        _share("self_excess_share"),
        _share("mutual_share"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id", ondelete="CASCADE"), index=True)
    basis: Mapped[str] = mapped_column(String(16), default="agreed")
    trim_min_reviewers: Mapped[int] = mapped_column(Integer, default=3)
    self_weight: Mapped[Decimal] = mapped_column(SHARE, default=Decimal("0.5"))
    scale_mode: Mapped[str] = mapped_column(String(8), default="scale")
    # tie-breakers in the order they apply: [{"breaker": "section", "section_id": 12}, {"breaker": …}]
    tie_rules: Mapped[list] = mapped_column(JSON, default=list)
    non_participation: Mapped[str] = mapped_column(String(16), default="lowest_basis")
    non_participation_points: Mapped[Decimal] = mapped_column(Numeric(9, 2), default=Decimal("5"))
    floor_level: Mapped[str] = mapped_column(String(12), default="criterion")
    # flags, as shares of the declared total
    reviewer_bias_share: Mapped[Decimal] = mapped_column(SHARE, default=Decimal("0.05"))
    self_excess_share: Mapped[Decimal] = mapped_column(SHARE, default=Decimal("0.10"))
    mutual_share: Mapped[Decimal] = mapped_column(SHARE, default=Decimal("0.05"))
    locked_at: Mapped[datetime | None] = mapped_column(DateTime)

    cluster: Mapped[Cluster] = relationship()
    year: Mapped[EmulationYear] = relationship()

    def audit_label(self) -> str:
        return f"Cách tính kết quả: {self.cluster.name} (năm {self.year.year})"


class NotApplicable(Audited, Timestamped, db.Model):
    """A scored leaf criterion that does not apply to one unit ("không áp dụng"), with the head's reason.

    It is left out of that unit's maximum; the unit is compared on its total scaled to the table's.
    """

    __tablename__ = "not_applicable"
    __table_args__ = (
        UniqueConstraint("criterion_id", "unit_id"),
        Index("ix_not_applicable_set", "criteria_set_id"),
        CheckConstraint("length(trim(reason)) > 0", name="reason_not_blank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    criteria_set_id: Mapped[int] = mapped_column(ForeignKey("criteria_sets.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    criterion: Mapped[Criterion] = relationship()
    unit: Mapped[Unit] = relationship()

    def audit_label(self) -> str:
        return f"Không áp dụng tiêu chí {self.criterion.code}: {self.unit.name}"


class BandRule(Audited, Timestamped, db.Model):
    """One classification band of a year for one kind of cluster (no kind: every kind), set by the secretariat.

    A unit reaches the band when its total is at least `min_total_share` of the declared total and
    every criterion at least `min_floor_share` of its maximum. Without rows, domain.md's defaults hold.
    """

    __tablename__ = "band_rules"
    __table_args__ = (
        CheckConstraint(_one_of("code", BAND_CODES), name="code"),
        CheckConstraint(f"cluster_kind IS NULL OR {_one_of('cluster_kind', CLUSTER_KINDS)}", name="cluster_kind"),
        _share("min_total_share"),
        _share("min_floor_share"),
        Index(
            "uq_band_rules_kind",
            "year_id",
            "cluster_kind",
            "code",
            unique=True,
            sqlite_where=text("cluster_kind IS NOT NULL"),
            postgresql_where=text("cluster_kind IS NOT NULL"),
        ),
        Index(
            "uq_band_rules_every_kind",
            "year_id",
            "code",
            unique=True,
            sqlite_where=text("cluster_kind IS NULL"),
            postgresql_where=text("cluster_kind IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id", ondelete="CASCADE"))
    cluster_kind: Mapped[str | None] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(16))
    min_total_share: Mapped[Decimal] = mapped_column(SHARE)
    min_floor_share: Mapped[Decimal] = mapped_column(SHARE)

    year: Mapped[EmulationYear] = relationship()

    @property
    def label(self) -> str:
        return BAND_CODES[self.code]

    def audit_label(self) -> str:
        kinds = CLUSTER_KINDS.get(self.cluster_kind or "", "Mọi cụm, khối")
        return f"Xếp loại “{self.label}”: {kinds} (năm {self.year.year})"


class Ineligibility(Audited, Timestamped, db.Model):
    """A unit not eligible for awards over a period: it keeps its rank, is flagged and never nominated.

    Marked in a year by the secretariat or the head of the unit's cluster that year; it counts
    for every emulation year its period overlaps. Ending it sets `ends_on`; the row stays.
    """

    __tablename__ = "ineligibilities"
    __table_args__ = (
        CheckConstraint(_one_of("kind", IneligibilityKind), name="kind"),
        CheckConstraint("length(trim(reason)) > 0", name="reason_not_blank"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="period_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    year: Mapped[EmulationYear] = relationship()
    unit: Mapped[Unit] = relationship()

    @property
    def kind_label(self) -> str:
        return IneligibilityKind(self.kind).label

    def audit_label(self) -> str:
        return f"Không đủ điều kiện khen thưởng: {self.unit.name} ({self.kind_label})"
