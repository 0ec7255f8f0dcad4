"""The year-end meeting of a cluster (hội nghị tổng kết, bình xét thi đua) and what it decides.

- `AwardType`: the province's list of awards a cluster proposes (flag, certificates); `Quota`: how
  many of each a cluster may propose in a year; `VoteRules`: the year's quorum and threshold.
- `ReviewMeeting` (kind year_end; mid_year later) with its `Attendance`, `MeetingGuest`s, the
  meeting's changes to the engine's points (`ScoreAdjustment`), the order it gives units the engine
  left tied (`TieDecision`), the vote tallies (`Tally`, `TallyCount`: paper now, online later) and
  the `Nomination`s computed from them.

Every figure a publication snapshot must freeze is a plain row here: the engine's number beside
the meeting's, each tally's ballots and votes, each nomination's votes over its denominator.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import N_, Audited, LabelledEnum, Timestamped, one_of
from portal.models.criteria import Criterion
from portal.models.org import Cluster, CouncilMember, Unit
from portal.models.years import EmulationYear


class MeetingKind(LabelledEnum):
    YEAR_END = "year_end", N_("Hội nghị tổng kết, bình xét thi đua cuối năm")
    MID_YEAR = "mid_year", N_("Hội nghị sơ kết giữa năm")


class MeetingStatus(LabelledEnum):
    OPEN = "open", N_("Đang họp")
    CLOSED = "closed", N_("Đã kết thúc")


class QuorumRule(LabelledEnum):
    TWO_THIRDS = "two_thirds", N_("Ít nhất hai phần ba số thành viên có mặt")
    MORE_THAN_HALF = "more_than_half", N_("Quá nửa số thành viên có mặt")


class Threshold(LabelledEnum):
    MORE_THAN_HALF = "more_than_half", N_("Quá 50 %")
    TWO_THIRDS = "two_thirds", N_("Từ hai phần ba trở lên")


class ThresholdBase(LabelledEnum):
    PRESENT = "present", N_("Số thành viên có mặt")
    MEMBERS = "members", N_("Tổng số thành viên của cụm, khối")


class Outcome(LabelledEnum):
    ELECTED = "elected", N_("Được suy tôn")
    NOT_ELECTED = "not_elected", N_("Không đủ số phiếu")
    OVER_QUOTA = "over_quota", N_("Đủ số phiếu nhưng ngoài chỉ tiêu")
    UNDECIDED = "undecided", N_("Bằng phiếu, cần bỏ phiếu lại")


class VoteSource(LabelledEnum):
    PAPER = "paper", N_("Phiếu giấy, ban kiểm phiếu nhập")
    ONLINE = "online", N_("Bỏ phiếu trực tuyến")


MEETING_KINDS = MeetingKind.labels()
MEETING_STATUSES = MeetingStatus.labels()
QUORUM_RULES = QuorumRule.labels()
THRESHOLDS = Threshold.labels()
THRESHOLD_BASES = ThresholdBase.labels()
OUTCOMES = Outcome.labels()
VOTE_SOURCES = VoteSource.labels()
POINTS = Numeric(9, 2)


class AwardType(Audited, Timestamped, db.Model):
    """An award a cluster proposes, from the province's list kept by the secretariat.

    `leader_only`: only the cluster's leader (first place) may be proposed for it (the flag).
    `default_quota`: what a cluster gets when nothing was set, nor the year before.
    """

    __tablename__ = "award_types"
    __table_args__ = (
        CheckConstraint("default_quota >= 0", name="default_quota_not_negative"),
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    leader_only: Mapped[bool] = mapped_column(Boolean, default=False)
    default_quota: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Quota(Audited, Timestamped, db.Model):
    """How many units a cluster may propose for an award in a year (chỉ tiêu khen thưởng)."""

    __tablename__ = "quotas"
    __table_args__ = (
        UniqueConstraint("cluster_id", "year_id", "award_type_id"),
        CheckConstraint("count >= 0 AND count <= 100", name="count_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id", ondelete="CASCADE"), index=True)
    award_type_id: Mapped[int] = mapped_column(ForeignKey("award_types.id", ondelete="CASCADE"), index=True)
    count: Mapped[int] = mapped_column(Integer)

    cluster: Mapped[Cluster] = relationship()
    year: Mapped[EmulationYear] = relationship()
    award_type: Mapped[AwardType] = relationship()

    def audit_label(self) -> str:
        return f"Chỉ tiêu {self.award_type.name}: {self.cluster.name} (năm {self.year.year})"


class VoteRules(Audited, Timestamped, db.Model):
    """The year's quorum and the share of ballots a nominee needs (the province's; no row: the defaults)."""

    __tablename__ = "vote_rules"
    __table_args__ = (
        CheckConstraint(one_of("quorum", QuorumRule), name="quorum"),
        CheckConstraint(one_of("threshold", Threshold), name="threshold"),
        CheckConstraint(one_of("threshold_base", ThresholdBase), name="threshold_base"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id", ondelete="CASCADE"), unique=True)
    quorum: Mapped[str] = mapped_column(String(16), default=QuorumRule.TWO_THIRDS)
    threshold: Mapped[str] = mapped_column(String(16), default=Threshold.MORE_THAN_HALF)
    threshold_base: Mapped[str] = mapped_column(String(8), default=ThresholdBase.PRESENT)

    year: Mapped[EmulationYear] = relationship()

    def audit_label(self) -> str:
        return f"Quy tắc biểu quyết năm {self.year.year}"


class ReviewMeeting(Audited, Timestamped, db.Model):
    """A cluster's meeting in a year, opened by its head: the record, then what the meeting decides."""

    __tablename__ = "review_meetings"
    __table_args__ = (
        UniqueConstraint("cluster_id", "year_id", "kind"),
        CheckConstraint(one_of("kind", MeetingKind), name="kind"),
        CheckConstraint(one_of("status", MeetingStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12), default=MeetingKind.YEAR_END)
    status: Mapped[str] = mapped_column(String(12), default=MeetingStatus.OPEN)
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(255))
    chair: Mapped[str] = mapped_column(String(255))
    secretary: Mapped[str] = mapped_column(String(255))
    counting_committee: Mapped[str] = mapped_column(Text, default="")  # ban kiểm phiếu: one name a line
    opened_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    cluster: Mapped[Cluster] = relationship()
    year: Mapped[EmulationYear] = relationship()

    @property
    def kind_label(self) -> str:
        return MeetingKind(self.kind).label

    @property
    def status_label(self) -> str:
        return MeetingStatus(self.status).label

    def audit_label(self) -> str:
        return f"{self.kind_label}: {self.cluster.name} (năm {self.year.year})"


class Attendance(Audited, Timestamped, db.Model):
    """One member unit at the meeting: present or not, represented by whom (name, position)."""

    __tablename__ = "attendances"
    __table_args__ = (UniqueConstraint("meeting_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("review_meetings.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    present: Mapped[bool] = mapped_column(Boolean, default=False)
    representative: Mapped[str] = mapped_column(String(255), default="")
    position: Mapped[str] = mapped_column(String(255), default="")

    meeting: Mapped[ReviewMeeting] = relationship()
    unit: Mapped[Unit] = relationship()

    def audit_label(self) -> str:
        return f"Điểm danh {self.unit.name}"


class MeetingGuest(Audited, Timestamped, db.Model):
    """A guest of the meeting: the overseeing council member (set when the meeting opens) or anyone invited."""

    __tablename__ = "meeting_guests"
    __table_args__ = (CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("review_meetings.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    position: Mapped[str] = mapped_column(String(255), default="")
    council_member_id: Mapped[int | None] = mapped_column(ForeignKey("council_members.id", ondelete="SET NULL"))

    council_member: Mapped[CouncilMember | None] = relationship()


class ScoreAdjustment(Audited, Timestamped, db.Model):
    """The meeting's points for one unit on one leaf criterion, kept beside the engine's, with the reason."""

    __tablename__ = "score_adjustments"
    __table_args__ = (
        UniqueConstraint("meeting_id", "unit_id", "criterion_id"),
        CheckConstraint("length(trim(reason)) > 0", name="reason_not_blank"),
        CheckConstraint("points >= 0", name="points_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("review_meetings.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"), index=True)
    engine_points: Mapped[Decimal] = mapped_column(POINTS)  # what the engine gave when the change was made
    points: Mapped[Decimal] = mapped_column(POINTS)
    reason: Mapped[str] = mapped_column(Text)

    unit: Mapped[Unit] = relationship()
    criterion: Mapped[Criterion] = relationship()

    def audit_label(self) -> str:
        return f"Điểm thống nhất tiêu chí {self.criterion.code}: {self.unit.name}"


class TieDecision(Audited, Timestamped, db.Model):
    """The meeting's order for a unit the engine left tied: `place` within its tie (1 first), and the votes."""

    __tablename__ = "tie_decisions"
    __table_args__ = (
        UniqueConstraint("meeting_id", "unit_id"),
        CheckConstraint("place >= 1", name="place_positive"),
        CheckConstraint("votes IS NULL OR votes >= 0", name="votes_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("review_meetings.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    place: Mapped[int] = mapped_column(Integer)
    votes: Mapped[int | None] = mapped_column(Integer)

    unit: Mapped[Unit] = relationship()

    def audit_label(self) -> str:
        return f"Phân định đồng hạng: {self.unit.name}"


class Tally(Audited, Timestamped, db.Model):
    """The count of one vote on one award: round 1, then run-offs (2, 3 …); paper or online."""

    __tablename__ = "tallies"
    __table_args__ = (
        UniqueConstraint("meeting_id", "award_type_id", "round"),
        CheckConstraint(one_of("source", VoteSource), name="source"),
        CheckConstraint(one_of("threshold", Threshold), name="threshold"),
        CheckConstraint(one_of("threshold_base", ThresholdBase), name="threshold_base"),
        CheckConstraint("round >= 1", name="round_positive"),
        CheckConstraint("valid >= 0 AND invalid >= 0", name="ballots_not_negative"),
        CheckConstraint("valid + invalid = returned AND returned <= issued", name="ballots_add_up"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("review_meetings.id", ondelete="CASCADE"), index=True)
    award_type_id: Mapped[int] = mapped_column(ForeignKey("award_types.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer, default=1)
    source: Mapped[str] = mapped_column(String(8), default=VoteSource.PAPER)
    issued: Mapped[int] = mapped_column(Integer)
    returned: Mapped[int] = mapped_column(Integer)
    valid: Mapped[int] = mapped_column(Integer)
    invalid: Mapped[int] = mapped_column(Integer)
    present: Mapped[int] = mapped_column(Integer)  # members present when it was counted
    quota: Mapped[int] = mapped_column(Integer)  # seats to fill: the quota, less those elected in earlier rounds
    threshold: Mapped[str] = mapped_column(String(16))  # the vote rules it was counted under
    threshold_base: Mapped[str] = mapped_column(String(8))
    members: Mapped[int] = mapped_column(Integer)  # members of the cluster that year
    committee: Mapped[str] = mapped_column(Text, default="")  # the vote-counting committee's names

    award_type: Mapped[AwardType] = relationship()
    counts: Mapped[list[TallyCount]] = relationship(
        back_populates="tally", cascade="all, delete-orphan", order_by="TallyCount.id"
    )

    def audit_label(self) -> str:
        return f"Kết quả kiểm phiếu {self.award_type.name} (lần {self.round})"


class TallyCount(Audited, db.Model):
    """The votes one candidate got in one tally."""

    __tablename__ = "tally_counts"
    __table_args__ = (UniqueConstraint("tally_id", "unit_id"), CheckConstraint("votes >= 0", name="votes_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    tally_id: Mapped[int] = mapped_column(ForeignKey("tallies.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    votes: Mapped[int] = mapped_column(Integer)

    tally: Mapped[Tally] = relationship(back_populates="counts")
    unit: Mapped[Unit] = relationship()

    def audit_label(self) -> str:
        return f"Số phiếu: {self.unit.name}"


class Nomination(Audited, Timestamped, db.Model):
    """A unit proposed (or not) for an award by the meeting's vote: votes over the denominator, the outcome.

    Computed from the last tally of the award (`round`, `source`); the rank is the approved table's.
    """

    __tablename__ = "nominations"
    __table_args__ = (
        UniqueConstraint("meeting_id", "award_type_id", "unit_id"),
        CheckConstraint(one_of("outcome", Outcome), name="outcome"),
        CheckConstraint(one_of("source", VoteSource), name="source"),
        CheckConstraint("votes >= 0 AND denominator > 0 AND votes <= denominator", name="votes_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("review_meetings.id", ondelete="CASCADE"), index=True)
    award_type_id: Mapped[int] = mapped_column(ForeignKey("award_types.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    votes: Mapped[int] = mapped_column(Integer)
    denominator: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(8))
    round: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)

    award_type: Mapped[AwardType] = relationship()
    unit: Mapped[Unit] = relationship()

    @property
    def outcome_label(self) -> str:
        return Outcome(self.outcome).label

    def audit_label(self) -> str:
        return f"Đề nghị {self.award_type.name}: {self.unit.name}"
