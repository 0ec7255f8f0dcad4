"""The pledge agreement (giao ước thi đua), its signatures, and members' registered targets."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import Audited, Timestamped
from portal.models.criteria import CriteriaSet, Criterion
from portal.models.org import Cluster, Unit
from portal.models.years import EmulationYear


class Pledge(Audited, Timestamped, db.Model):
    """One agreement per cluster and year, bound to a criteria version (the charter)."""

    __tablename__ = "pledges"
    __table_args__ = (UniqueConstraint("cluster_id", "year_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id", ondelete="CASCADE"))
    criteria_set_id: Mapped[int | None] = mapped_column(ForeignKey("criteria_sets.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(255))
    number_symbol: Mapped[str] = mapped_column(String(64), default="")  # "Số: 01/GƯTĐ-K01"
    place: Mapped[str] = mapped_column(String(128), default="")  # of the place-and-date line
    legal_grounds: Mapped[str] = mapped_column(Text, default="")  # căn cứ, one per line
    goals: Mapped[str] = mapped_column(Text, default="")
    commitments: Mapped[str] = mapped_column(Text, default="")  # one commitment per line
    meeting_date: Mapped[date | None] = mapped_column(Date)
    meeting_place: Mapped[str] = mapped_column(String(255), default="")
    recipients: Mapped[str] = mapped_column(Text, default="")  # Nơi nhận, one per line

    cluster: Mapped[Cluster] = relationship()
    year: Mapped[EmulationYear] = relationship()
    criteria_set: Mapped[CriteriaSet | None] = relationship()
    signatures: Mapped[list[PledgeSignature]] = relationship(
        back_populates="pledge", cascade="all, delete-orphan", order_by="PledgeSignature.id"
    )

    def audit_label(self) -> str:
        return self.title


class PledgeSignature(Audited, db.Model):
    """A member's signature of one exact charter (the agreement text and criteria version)."""

    __tablename__ = "pledge_signatures"
    __table_args__ = (UniqueConstraint("pledge_id", "unit_id", "charter_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    representative_name: Mapped[str] = mapped_column(String(128))
    representative_position: Mapped[str] = mapped_column(String(128))
    signed_on: Mapped[date] = mapped_column(Date)
    charter_hash: Mapped[str] = mapped_column(ForeignKey("charters.hash"))
    signed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    confirmed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    pledge: Mapped[Pledge] = relationship(back_populates="signatures")
    unit: Mapped[Unit] = relationship()

    def audit_label(self) -> str:
        return f"Chữ ký giao ước: {self.unit.name}"


class TargetRegistration(Audited, Timestamped, db.Model):
    """A member's registered target (chỉ tiêu đăng ký) on a quantitative criterion."""

    __tablename__ = "target_registrations"
    __table_args__ = (UniqueConstraint("unit_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"), index=True)
    target: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    note: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    unit: Mapped[Unit] = relationship()
    criterion: Mapped[Criterion] = relationship()

    def audit_label(self) -> str:
        return f"Chỉ tiêu {self.criterion.code}: {self.unit.name}"


class Charter(db.Model):
    """The exact rules a signature is for: the agreement's text and its criteria version,
    as canonical JSON, stored once under its SHA-256. Never changed, never deleted while
    a signature points at it, so anyone can later prove what every member signed."""

    __tablename__ = "charters"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"), index=True)
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
