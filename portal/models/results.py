"""What the results of a cluster-year are computed with: settings, non-applicable criteria, bands, eligibility.

The results engine (portal/services/results/) reads the scores and these rows and computes
ranking, bands and flags; nothing here stores a computed number. The stored codes below
(score basis, scaling, non-participation, tie-breakers, floor level, bands, ineligibility) are
labelled enums: the CHECK constraints and the Vietnamese labels are built from them, and the
engine's inputs (services/results/inputs.py) use the same enums.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

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
from portal.models.base import N_, Audited, LabelledEnum, Timestamped, one_of
from portal.models.criteria import Criterion
from portal.models.org import CLUSTER_KINDS, Cluster, ClusterKind, Unit
from portal.models.years import EmulationYear


class Basis(LabelledEnum):
    """How a criterion's final points follow from the stages that scored it."""

    AGREED = "agreed", N_("Điểm thống nhất (thẩm định, giải trình, chốt điểm)")  # final → verified → self
    PEER_MEAN = "peer_mean", N_("Trung bình điểm chấm chéo")
    TRIMMED_MEAN = "trimmed_mean", N_("Trung bình chấm chéo, bỏ một điểm cao nhất và một điểm thấp nhất")
    MEDIAN = "median", N_("Trung vị điểm chấm chéo")
    BLEND = "blend", N_("Kết hợp điểm tự chấm và trung bình chấm chéo")


class ScaleMode(LabelledEnum):
    SCALE = "scale", N_("Quy đổi theo tổng điểm chuẩn các tiêu chí áp dụng")
    RAW = "raw", N_("So sánh tổng điểm thực tế")


class NonParticipation(LabelledEnum):
    """What happens to a unit that did not submit the peer reviews assigned to it."""

    LOWEST_BASIS = (
        "lowest_basis",
        N_("Mỗi tiêu chí lấy mức thấp nhất trong điểm tự chấm, điểm thống nhất và điểm chấm chéo"),
    )
    FIXED_DEDUCTION = "fixed_deduction", N_("Trừ một số điểm cố định")


class TieBreaker(LabelledEnum):
    """Stored inside ResultSettings.tie_rules (JSON), checked by the settings service."""

    SECTION = "section", N_("Điểm cao hơn ở một phần được chọn")
    FEWER_DEDUCTIONS = "fewer_deductions", N_("Ít điểm trừ hơn")
    MORE_AT_MAXIMUM = "more_at_maximum", N_("Nhiều tiêu chí đạt điểm tối đa hơn")


class FloorLevel(LabelledEnum):
    """Where a band's floor "every criterion ≥ x % of its maximum" is checked."""

    CRITERION = "criterion", N_("Từng tiêu chí (1, 2, …) của mỗi phần")
    LEAF = "leaf", N_("Từng tiêu chí được chấm điểm (cấp cuối cùng)")


class BandCode(LabelledEnum):
    """The bands a secretariat sets; below the lowest: không hoàn thành (results.inputs.BELOW_BANDS)."""

    XUAT_SAC = "xuat_sac", N_("Hoàn thành xuất sắc nhiệm vụ")
    TOT = "tot", N_("Hoàn thành tốt nhiệm vụ")
    HOAN_THANH = "hoan_thanh", N_("Hoàn thành nhiệm vụ")


class IneligibilityKind(LabelledEnum):
    """Why a unit may not be proposed for an award (domain.md, "Deliberation")."""

    DISCIPLINARY_REVIEW = "disciplinary_review", N_("Đang xem xét kỷ luật")
    INSPECTION = "inspection", N_("Đang thanh tra, kiểm tra")
    INVESTIGATION = "investigation", N_("Đang điều tra")
    COMPLAINT = "complaint", N_("Đang giải quyết khiếu nại, tố cáo")
    CORRUPTION = "corruption", N_("Có vụ việc tham nhũng, tiêu cực")
    DISSOLVED = "dissolved", N_("Giải thể trong sắp xếp tổ chức bộ máy")
    TARGETS_MISSED = "targets_missed", N_("Không hoàn thành chỉ tiêu đã đăng ký")
    OTHER = "other", N_("Lý do khác")


BASES = Basis.labels()
SCALE_MODES = ScaleMode.labels()
NON_PARTICIPATION = NonParticipation.labels()
TIE_BREAKERS = TieBreaker.labels()
FLOOR_LEVELS = FloorLevel.labels()
BAND_CODES = BandCode.labels()
INELIGIBILITY_KINDS = IneligibilityKind.labels()
SHARE = Numeric(5, 4)  # a share of a total or of a maximum: 0,9 = 90 %


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
        CheckConstraint(one_of("basis", Basis), name="basis"),
        CheckConstraint(one_of("scale_mode", ScaleMode), name="scale_mode"),
        CheckConstraint(one_of("non_participation", NonParticipation), name="non_participation"),
        CheckConstraint(one_of("floor_level", FloorLevel), name="floor_level"),
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
        CheckConstraint(one_of("code", BandCode), name="code"),
        CheckConstraint(f"cluster_kind IS NULL OR {one_of('cluster_kind', ClusterKind)}", name="cluster_kind"),
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
        CheckConstraint(one_of("kind", IneligibilityKind), name="kind"),
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
