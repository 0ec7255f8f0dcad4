"""What a cluster-year's published results are (công bố kết quả) and what the council decides on them.

- `ResultSnapshot`: the frozen record of a publication, stored content-addressed (its primary key is
  the SHA-256 of its canonical JSON `content`). Revision 1 is the publication; a correction adds
  revision 2, 3 … with the parent's hash and the reason. A snapshot row is never updated nor deleted:
  on PostgreSQL a trigger refuses it (unless the transaction says `SET LOCAL portal.audit_rewrite = 'on'`,
  the audit log's own escape hatch, used only by `flask restore` and the test suite); on any database
  the ORM refuses it (`refuse_change` below).
- `CouncilDecision`: the council's vote and the chairman's decision on one published proposal.
- `CouncilYear`: the year's share of leaders the council may put forward for the Government's flag;
  `GovernmentFlagEntry`: one leader on that shortlist, with the cluster it leads.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import N_, Audited, LabelledEnum, one_of, rewrite_guard, utcnow
from portal.models.meetings import AwardType
from portal.models.org import Cluster, Unit
from portal.models.years import EmulationYear


class Verdict(LabelledEnum):
    APPROVED = "approved", N_("Đồng ý khen thưởng")
    NOT_APPROVED = "not_approved", N_("Không đồng ý")


VERDICTS = Verdict.labels()
DEFAULT_GOVERNMENT_SHARE = Decimal("0.20")


class SnapshotChangeRefused(Exception):
    """A published snapshot is never changed nor deleted."""


class ResultSnapshot(Audited, db.Model):
    """One revision of a cluster-year's published results, keyed by the SHA-256 of its content."""

    __tablename__ = "result_snapshots"
    __audit_exclude__ = frozenset({"content"})
    __table_args__ = (
        UniqueConstraint("cluster_id", "year_id", "revision"),
        CheckConstraint("revision >= 1", name="revision_positive"),
        CheckConstraint("revision = 1 OR parent_hash IS NOT NULL", name="revision_has_parent"),
    )

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    parent_hash: Mapped[str | None] = mapped_column(ForeignKey("result_snapshots.hash"))
    reason: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text)  # canonical JSON (sorted keys, no spaces)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: outlives the account

    cluster: Mapped[Cluster] = relationship()
    year: Mapped[EmulationYear] = relationship()

    def audit_label(self) -> str:
        return f"Công bố kết quả {self.cluster.name} năm {self.year.year} (lần {self.revision})"


@event.listens_for(ResultSnapshot, "before_update")
@event.listens_for(ResultSnapshot, "before_delete")
def refuse_change(_mapper, _connection, target: ResultSnapshot) -> None:
    raise SnapshotChangeRefused(f"result snapshot {target.hash} is immutable")


# PostgreSQL keeps the rows immutable itself (the same switch as the audit log's).
IMMUTABLE = rewrite_guard("result_snapshots", "result_snapshots_immutable", "result_snapshots are immutable")
IMMUTABLE_FUNCTION, IMMUTABLE_TRIGGER, DROP_IMMUTABLE = IMMUTABLE.function, IMMUTABLE.trigger, IMMUTABLE.drop
IMMUTABLE.attach(ResultSnapshot.__table__)


class CouncilDecision(Audited, db.Model):
    """The council's vote and the chairman's decision on one cluster's proposal (unit × award) of a year."""

    __tablename__ = "council_decisions"
    __table_args__ = (
        UniqueConstraint("year_id", "cluster_id", "award_type_id", "unit_id"),
        CheckConstraint(one_of("verdict", Verdict), name="verdict"),
        CheckConstraint("votes_for >= 0 AND votes_against >= 0 AND members > 0", name="votes_not_negative"),
        CheckConstraint("votes_for + votes_against <= members", name="votes_within_members"),
        CheckConstraint("verdict = 'approved' OR length(trim(reason)) > 0", name="refusal_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id", ondelete="CASCADE"), index=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    award_type_id: Mapped[int] = mapped_column(ForeignKey("award_types.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    votes_for: Mapped[int] = mapped_column(Integer)
    votes_against: Mapped[int] = mapped_column(Integer)
    members: Mapped[int] = mapped_column(Integer)  # council members voting
    verdict: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    decision_number: Mapped[str] = mapped_column(String(64))
    decided_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()
    cluster: Mapped[Cluster] = relationship()
    award_type: Mapped[AwardType] = relationship()

    @property
    def verdict_label(self) -> str:
        return Verdict(self.verdict).label

    def audit_label(self) -> str:
        return f"Quyết định khen thưởng {self.award_type.name}: {self.unit.name}"


class CouncilYear(Audited, db.Model):
    """The council's settings for a year (no row: the defaults)."""

    __tablename__ = "council_years"
    __table_args__ = (CheckConstraint("government_share > 0 AND government_share <= 1", name="government_share"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id", ondelete="CASCADE"), unique=True)
    government_share: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=DEFAULT_GOVERNMENT_SHARE)

    year: Mapped[EmulationYear] = relationship()

    def audit_label(self) -> str:
        return f"Tỷ lệ đề nghị Cờ thi đua của Chính phủ năm {self.year.year}"


class GovernmentFlagEntry(Audited, db.Model):
    """A cluster or block leader the council proposes for the Government's emulation flag, naming its cluster."""

    __tablename__ = "government_flag_entries"
    __table_args__ = (UniqueConstraint("year_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()
    cluster: Mapped[Cluster] = relationship()

    def audit_label(self) -> str:
        return f"Đề nghị Cờ thi đua của Chính phủ: {self.unit.name} ({self.cluster.name})"
