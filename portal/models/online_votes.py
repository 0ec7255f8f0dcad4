"""The online secret ballot of a year-end meeting (bỏ phiếu kín trực tuyến).

- `VoteWindow`: the head opens it on a meeting (every award that has a vote to count, with the round,
  the candidates and the seats of each, frozen in `papers`) and closes it; closing counts it into a
  `Tally` with source online, so the paper and online paths meet at `Tally`.
- `Ballot`: one award's choices of one voter — **no unit, no user, no timestamp**; a random key (not an
  increasing id, whose order would follow the has-voted records) and the SHA-256 of the voter's receipt
  code. Not `Audited`: the audit log names the actor, and must never sit beside a ballot's content.
- `VoterMark`: the separate "has voted" record (window, unit, when); unique per unit and window, so a
  unit casts once. Audited: the log says "unit X voted", not what.

Nothing joins a `Ballot` to a `VoterMark`: they share only the window (tests introspect the schema).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import N_, Audited, LabelledEnum, Timestamped, one_of, utcnow
from portal.models.meetings import AwardType, ReviewMeeting
from portal.models.org import Unit


class WindowStatus(LabelledEnum):
    OPEN = "open", N_("Đang bỏ phiếu")
    CLOSED = "closed", N_("Đã đóng, đã kiểm phiếu")


WINDOW_STATUSES = WindowStatus.labels()


class VoteWindow(Audited, Timestamped, db.Model):
    """The time the head lets the attending members vote online, on every award with a vote to count.

    `papers`: award type id (as text) → {"round", "unit_ids", "seats"}: the ballot paper of each award,
    frozen when the window opens (candidates and seats as for the paper ballot).
    """

    __tablename__ = "vote_windows"
    __table_args__ = (
        UniqueConstraint("meeting_id", "number"),
        CheckConstraint(one_of("status", WindowStatus), name="status"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("review_meetings.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer, default=1)  # 1, then a window for the run-offs
    status: Mapped[str] = mapped_column(String(8), default=WindowStatus.OPEN)
    papers: Mapped[dict] = mapped_column(JSON)
    opened_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    meeting: Mapped[ReviewMeeting] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status == WindowStatus.OPEN

    def audit_label(self) -> str:
        return f"Bỏ phiếu trực tuyến lần {self.number}"


class Ballot(db.Model):
    """One award's choices on one voter's ballot: anonymous by construction (see the module's docstring)."""

    __tablename__ = "online_ballots"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, so that rows have no order
    window_id: Mapped[int] = mapped_column(ForeignKey("vote_windows.id", ondelete="CASCADE"), index=True)
    award_type_id: Mapped[int] = mapped_column(ForeignKey("award_types.id", ondelete="CASCADE"))
    receipt_hash: Mapped[str] = mapped_column(String(64), index=True)
    choices: Mapped[list] = mapped_column(JSON)  # candidate unit ids, sorted; [] is a blank ballot

    award_type: Mapped[AwardType] = relationship()


class VoterMark(Audited, db.Model):
    """The has-voted record of one attending unit in a window (who voted, never what)."""

    __tablename__ = "voter_marks"
    __table_args__ = (UniqueConstraint("window_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("vote_windows.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    voted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()

    def audit_label(self) -> str:
        return f"Đơn vị đã bỏ phiếu trực tuyến: {self.unit.name}"
