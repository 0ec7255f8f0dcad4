"""The emulation year: who belongs to which cluster, and who leads it.

Authority in the portal comes from these rows, never from a fixed flag: a unit
is a member of a cluster in a year (Membership), and a term gives the cluster's
head and deputies for that year (TermPosition), checked by the database itself:
positions point at memberships through a composite key, so a head or deputy is
always a member of that cluster in that year, and one unit holds at most one
position per term, so the head is never also a deputy.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import N_, Audited, LabelledEnum, Timestamped, one_of
from portal.models.org import Cluster, CouncilMember, Unit


class PositionRole(LabelledEnum):
    """A unit's office in a cluster's term."""

    HEAD = "head", N_("Trưởng")
    DEPUTY = "deputy", N_("Phó")


POSITION_ROLES = tuple(PositionRole)
HEAD_ONLY = f"role = '{PositionRole.HEAD}'"


class EmulationYear(Audited, Timestamped, db.Model):
    """A year of emulation (năm thi đua); exactly one is the current year."""

    __tablename__ = "emulation_years"
    __table_args__ = (
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        Index(
            "uq_emulation_years_one_current",
            "is_current",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")

    def audit_label(self) -> str:
        return f"Năm {self.year}"


class Membership(Audited, Timestamped, db.Model):
    """A unit's place in one cluster for one year; rotation_order drives head rotation."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("year_id", "unit_id"),  # one cluster per unit per year
        UniqueConstraint("year_id", "cluster_id", "unit_id"),  # target of TermPosition
        Index("ix_memberships_year_cluster", "year_id", "cluster_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id", ondelete="CASCADE"))
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    rotation_order: Mapped[int] = mapped_column(Integer, default=0)

    year: Mapped[EmulationYear] = relationship()
    cluster: Mapped[Cluster] = relationship()
    unit: Mapped[Unit] = relationship()

    def audit_label(self) -> str:
        return f"{self.unit.name} ∈ {self.cluster.name} ({self.year.year})"


class Term(Audited, Timestamped, db.Model):
    """A cluster's leadership for one year, set by a numbered decision."""

    __tablename__ = "terms"
    __table_args__ = (
        UniqueConstraint("year_id", "cluster_id"),
        UniqueConstraint("id", "year_id", "cluster_id"),  # target of TermPosition
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id", ondelete="CASCADE"))
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    overseer_id: Mapped[int | None] = mapped_column(ForeignKey("council_members.id", ondelete="SET NULL"), index=True)
    decision_number: Mapped[str] = mapped_column(String(64), default="")
    decision_date: Mapped[date | None] = mapped_column(Date)
    decision_issuer: Mapped[str] = mapped_column(String(255), default="")
    proposed_by_rotation: Mapped[bool] = mapped_column(Boolean, default=False)
    # the head may let its deputies configure criteria, pledge and rounds in its stead
    deputy_may_lead: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")

    year: Mapped[EmulationYear] = relationship()
    cluster: Mapped[Cluster] = relationship()
    overseer: Mapped[CouncilMember | None] = relationship()
    positions: Mapped[list[TermPosition]] = relationship(
        back_populates="term",
        cascade="all, delete-orphan",
        order_by="TermPosition.role.desc(), TermPosition.id",
        overlaps="term",
    )

    @property
    def head(self) -> TermPosition | None:
        return next((p for p in self.positions if p.role == PositionRole.HEAD), None)

    @property
    def head_unit(self) -> Unit | None:
        head = self.head
        return head.unit if head else None

    @property
    def deputies(self) -> list[Unit]:
        return [p.unit for p in self.positions if p.role == PositionRole.DEPUTY]

    @property
    def has_decision(self) -> bool:
        return bool(self.decision_number)

    def audit_label(self) -> str:
        return f"Nhiệm kỳ {self.cluster.name} ({self.year.year})"


class TermPosition(Audited, db.Model):
    """Head (Trưởng) or deputy (Phó) of a cluster in the term's year."""

    __tablename__ = "term_positions"
    __table_args__ = (
        CheckConstraint(one_of("role", PositionRole), name="role"),
        UniqueConstraint("term_id", "unit_id"),  # the head is never also a deputy
        Index(
            "uq_term_positions_one_head",
            "term_id",
            unique=True,
            sqlite_where=text(HEAD_ONLY),
            postgresql_where=text(HEAD_ONLY),
        ),
        ForeignKeyConstraint(
            ["term_id", "year_id", "cluster_id"],
            ["terms.id", "terms.year_id", "terms.cluster_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["year_id", "cluster_id", "unit_id"],
            ["memberships.year_id", "memberships.cluster_id", "memberships.unit_id"],
        ),
        Index("ix_term_positions_unit", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column()
    year_id: Mapped[int] = mapped_column()
    cluster_id: Mapped[int] = mapped_column()
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    role: Mapped[str] = mapped_column(String(8))

    term: Mapped[Term] = relationship(back_populates="positions", overlaps="positions")
    unit: Mapped[Unit] = relationship()

    def audit_label(self) -> str:
        return f"{PositionRole(self.role).label}: {self.unit.name} (nhiệm kỳ #{self.term_id})"
