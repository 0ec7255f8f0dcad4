"""What the year-end documents say, read once from the meeting: the record, attendance and quorum,
guests, the approved table, the tallies and nominations, the quotas, the head unit.

One `Facts` feeds the minutes, the proposal, the achievement reports and the annual report, so the
four documents can never disagree. A fixed number of queries whatever the number of units. `granted`
reads the council's decision on each proposal (`CouncilDecision`), "chưa có quyết định" until it is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.formatting import vn_date, vn_number
from portal.models import (
    Attendance,
    AwardType,
    CouncilDecision,
    MeetingGuest,
    Nomination,
    ReviewMeeting,
    Tally,
    Term,
    Unit,
)
from portal.models.meetings import Outcome
from portal.models.publication import Verdict
from portal.policy import ClusterYear
from portal.services.meetings import approved as approved_svc
from portal.services.meetings import awards, ballot, record
from portal.services.meetings.approved import Approved, Row
from portal.services.results import report as report_svc

NO_DECISION = "chưa có quyết định"


@dataclass(frozen=True)
class Settings:
    """What the deployment sets (config.py): the province, each document's number and symbol, the forms' version."""

    province_name: str
    numbers: dict[str, str]  # document ("minutes", "proposal", "annual", "achievement") → "Số:   /BB-CTĐ"
    forms: str  # a key of documents.forms.VERSIONS
    today: date


@dataclass(frozen=True)
class Facts:
    meeting: ReviewMeeting
    attendance: list[tuple[Unit, Attendance | None]]
    quorum: record.Quorum
    guests: list[MeetingGuest]
    table: Approved | None
    tallies: list[Tally]
    nominations: list[Nomination]
    awards: list[AwardType]
    quotas: dict[int, int]  # award type id → quota in force
    head_unit: Unit | None
    settings: Settings
    decisions: dict[tuple[int, int], CouncilDecision]  # (award type id, unit id) → the council's decision

    @property
    def cluster(self):
        return self.meeting.cluster

    @property
    def year(self) -> int:
        return self.meeting.year.year

    @property
    def elected(self) -> list[Nomination]:
        """The units the meeting proposes, award by award (the awards' order), most votes first."""
        order = {a.id: i for i, a in enumerate(self.awards)}
        found = [n for n in self.nominations if n.outcome == Outcome.ELECTED]
        return sorted(found, key=lambda n: (order.get(n.award_type_id, len(order)), -n.votes, n.rank))

    def nominated(self, unit_id: int) -> list[Nomination]:
        return [n for n in self.elected if n.unit_id == unit_id]

    def row(self, unit_id: int) -> Row | None:
        return self.table.row(unit_id) if self.table else None

    def number(self, document: str) -> str:
        return self.settings.numbers.get(document, "Số:       ")

    @property
    def present(self) -> list[tuple[Unit, Attendance]]:
        return [(unit, row) for unit, row in self.attendance if row is not None and row.present]

    @property
    def absent(self) -> list[Unit]:
        return [unit for unit, row in self.attendance if row is None or not row.present]

    def granted(self, nomination: Nomination) -> str:
        """The council's decision on a proposal, with its number and date ("chưa có quyết định" until recorded)."""
        decision = self.decisions.get((nomination.award_type_id, nomination.unit_id))
        if decision is None:
            return NO_DECISION
        issued = f"Quyết định số {decision.decision_number} ngày {vn_date(decision.decided_on)}"
        if decision.verdict == Verdict.APPROVED:
            return f"được khen thưởng ({issued})"
        return f"không được khen thưởng ({issued}): {decision.reason}"


def read(session: Session, meeting: ReviewMeeting, settings: Settings) -> Facts:
    """Everything the documents print about the meeting (the approved table: None without a criteria table)."""
    where = ClusterYear(meeting.year_id, meeting.cluster_id)
    kinds = awards.award_types(session)
    in_force = awards.quotas(session, meeting.year, [meeting.cluster_id], kinds)
    term = session.scalar(select(Term).where(Term.cluster_id == where.cluster_id, Term.year_id == where.year_id))
    return Facts(
        meeting=meeting,
        attendance=record.attendance(session, meeting),
        quorum=record.quorum(session, meeting),
        guests=record.guests(session, meeting),
        table=approved_svc.approved_table(session, meeting),
        tallies=ballot.tallies(session, meeting),
        nominations=ballot.nominations(session, meeting),
        awards=kinds,
        quotas={a.id: in_force[(meeting.cluster_id, a.id)][0] for a in kinds},
        head_unit=term.head_unit if term is not None else None,
        settings=settings,
        decisions=decisions(session, where),
    )


def decisions(session: Session, where: ClusterYear) -> dict[tuple[int, int], CouncilDecision]:
    """The council's decisions on the cluster's proposals of the year (one query)."""
    found = session.scalars(
        select(CouncilDecision).where(
            CouncilDecision.year_id == where.year_id, CouncilDecision.cluster_id == where.cluster_id
        )
    )
    return {(d.award_type_id, d.unit_id): d for d in found}


# --- figures as the documents write them ---------------------------------------------------


def share(votes: int, denominator: int) -> str:
    """ "5/7 phiếu (71,43 %)": every vote with its denominator."""
    percent = vn_number(round(votes * 100 / denominator, 2)) if denominator else "0"
    return f"{votes}/{denominator} phiếu ({percent} %)"


def points(row: Row) -> str:
    return vn_number(row.approved.compared_total)


def band(row: Row) -> str:
    return report_svc.band_label(row.approved.band)


def rank(row: Row, count: int) -> str:
    return f"{row.rank}/{count}"
