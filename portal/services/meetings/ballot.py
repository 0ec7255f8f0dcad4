"""The vote on each award: who is on the ballot, the paper tally the vote-counting committee enters, run-offs,
and the nominations computed from the tallies by the year's rules.

On the ballot: for an award only a leader may receive (the provincial flag), the approved table's first
place (several when the first place is shared), if eligible; for the other awards every eligible member.
An ineligible unit stays listed, off the ballot, with its reason. A run-off (round 2, 3 …) has on its
ballot the candidates left undecided by the round before, for the seats still free.

The tally's arithmetic is checked (valid ≤ returned ≤ issued ≤ present, valid + invalid = returned, no
candidate above the valid ballots, at most `seats` choices a ballot: votes in all ≤ valid × seats);
below the quorum nothing is counted. Each tally keeps the figures its nominations were computed from
(present, members, seats, threshold), so that they can be computed again from the rows alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.models import AwardType, EmulationYear, Nomination, ReviewMeeting, Tally, TallyCount, Unit
from portal.models.base import N_
from portal.models.meetings import Outcome, VoteSource
from portal.services import DomainError
from portal.services.meetings import approved as approved_svc
from portal.services.meetings import awards, record, rules
from portal.services.meetings.approved import Approved

COMMITTEE_MAX = 2000
COUNTS = ("issued", "returned", "valid", "invalid")


@dataclass(frozen=True)
class Candidacy:
    unit_id: int
    name: str
    rank: int
    on_ballot: bool
    reason: str  # why not on the ballot


@dataclass(frozen=True)
class TallyFields:
    issued: int | None
    returned: int | None
    valid: int | None
    invalid: int | None
    votes: dict[int, int | None] = field(default_factory=dict)  # unit id → votes
    committee: str = ""


def candidates(table: Approved, award: AwardType) -> list[Candidacy]:
    """Who is on round 1's ballot for the award, and who is listed off it with the reason."""
    rows = table.leaders if award.leader_only else list(table.rows)
    return [
        Candidacy(r.approved.unit_id, r.approved.name, r.rank, r.approved.eligible, r.approved.ineligible_reason)
        for r in rows
    ]


def tallies(session: Session, meeting: ReviewMeeting) -> list[Tally]:
    """Every tally of the meeting with its counts, by award and round (two queries)."""
    return list(
        session.scalars(
            select(Tally)
            .where(Tally.meeting_id == meeting.id)
            .options(selectinload(Tally.counts).selectinload(TallyCount.unit), selectinload(Tally.award_type))
            .order_by(Tally.award_type_id, Tally.round)
        )
    )


def nominations(session: Session, meeting: ReviewMeeting) -> list[Nomination]:
    return list(
        session.scalars(
            select(Nomination)
            .where(Nomination.meeting_id == meeting.id)
            .options(selectinload(Nomination.unit), selectinload(Nomination.award_type))
            .order_by(Nomination.award_type_id, Nomination.votes.desc(), Nomination.rank, Nomination.unit_id)
        )
    )


@dataclass(frozen=True)
class Ballot:
    round: int
    unit_ids: list[int]
    seats: int


def next_ballot(session: Session, meeting: ReviewMeeting, table: Approved, award: AwardType) -> Ballot | None:
    """The vote still to count for the award: round 1, or a run-off of the undecided; None when decided."""
    counted = [t for t in tallies(session, meeting) if t.award_type_id == award.id]
    if not counted:
        year = session.get(EmulationYear, meeting.year_id)
        ids = [c.unit_id for c in candidates(table, award) if c.on_ballot]
        return Ballot(1, ids, awards.quota_of(session, year, meeting.cluster_id, award))
    last = counted[-1]
    found = {n.unit_id: n for n in nominations(session, meeting) if n.award_type_id == award.id}
    undecided = [i for i, n in found.items() if n.outcome == Outcome.UNDECIDED]
    if not undecided:
        return None
    elected = sum(1 for n in found.values() if n.outcome == Outcome.ELECTED)
    year = session.get(EmulationYear, meeting.year_id)
    return Ballot(last.round + 1, undecided, awards.quota_of(session, year, meeting.cluster_id, award) - elected)


def _check_counts(fields: TallyFields, present: int) -> dict[str, int]:
    counts = {}
    for name in COUNTS:
        value = getattr(fields, name)
        if value is None or value < 0:
            raise DomainError(N_("Nhập một số nguyên không âm."), name)
        counts[name] = value
    if counts["issued"] > present:
        raise DomainError(
            N_("Số phiếu phát ra không được quá số thành viên có mặt (%(present)s)."), "issued", present=present
        )
    if counts["returned"] > counts["issued"]:
        raise DomainError(N_("Số phiếu thu vào không được quá số phiếu phát ra."), "returned")
    if counts["valid"] > counts["returned"]:
        raise DomainError(N_("Số phiếu hợp lệ không được quá số phiếu thu vào."), "valid")
    if counts["valid"] + counts["invalid"] != counts["returned"]:
        raise DomainError(N_("Phiếu hợp lệ cộng phiếu không hợp lệ phải bằng số phiếu thu vào."), "invalid")
    return counts


def _check_votes(fields: TallyFields, ballot: Ballot, valid: int) -> dict[int, int]:
    votes = {}
    for unit_id in ballot.unit_ids:
        value = fields.votes.get(unit_id)
        if value is None or value < 0:
            raise DomainError(N_("Nhập số phiếu bầu (số nguyên không âm)."), f"votes_{unit_id}")
        if value > valid:
            raise DomainError(
                N_("Số phiếu bầu không được quá số phiếu hợp lệ (%(valid)s)."), f"votes_{unit_id}", valid=valid
            )
        votes[unit_id] = value
    limit = valid * min(ballot.seats, len(ballot.unit_ids))
    if sum(votes.values()) > limit:
        raise DomainError(
            N_("Tổng số phiếu bầu (%(total)s) vượt quá số phiếu hợp lệ × số được chọn mỗi phiếu (%(limit)s)."),
            "votes",
            total=sum(votes.values()),
            limit=limit,
        )
    return votes


def save_tally(session: Session, meeting: ReviewMeeting, award: AwardType, fields: TallyFields) -> Tally:
    """Count the next vote on the award from the committee's paper tally, then compute its nominations."""
    record.check_open(meeting)
    record.check_no_vote_open(session, meeting)
    quorum = record.require_quorum(session, meeting)
    table = approved_svc.approved_table(session, meeting)
    if table is None:
        raise DomainError(N_("Cụm, khối chưa có bảng kết quả để bình xét."))
    ballot = next_ballot(session, meeting, table, award)
    if ballot is None:
        raise DomainError(N_("Việc bình xét danh hiệu này đã xong."))
    if ballot.seats <= 0:
        raise DomainError(N_("Cụm, khối không có chỉ tiêu cho danh hiệu này."))
    if not ballot.unit_ids:
        raise DomainError(N_("Không có đơn vị nào đủ điều kiện ghi tên vào phiếu bầu."))
    counts = _check_counts(fields, quorum.present)
    votes = _check_votes(fields, ballot, counts["valid"])
    committee = (fields.committee or "").strip()
    if len(committee) > COMMITTEE_MAX:
        raise DomainError(N_("Tối đa %(max)s ký tự."), "committee", max=COMMITTEE_MAX)
    year_rules = awards.vote_rules(session, meeting.year_id)
    tally = Tally(
        meeting_id=meeting.id,
        award_type=award,
        round=ballot.round,
        source=VoteSource.PAPER,
        present=quorum.present,
        members=quorum.members,
        quota=ballot.seats,
        threshold=year_rules.threshold,
        threshold_base=year_rules.base,
        committee=committee,
        **counts,
    )
    tally.counts = [TallyCount(unit=session.get(Unit, unit_id), votes=n) for unit_id, n in votes.items()]
    session.add(tally)
    session.flush()
    compute_nominations(session, meeting, award, table)
    return tally


def remove_last_tally(session: Session, meeting: ReviewMeeting, award: AwardType) -> None:
    """Take back the award's last counted vote (a mistake in the entry), and compute its nominations again."""
    record.check_open(meeting)
    record.check_no_vote_open(session, meeting)
    counted = [t for t in tallies(session, meeting) if t.award_type_id == award.id]
    if not counted:
        raise DomainError(N_("Chưa có kết quả kiểm phiếu nào cho danh hiệu này."))
    session.delete(counted[-1])
    session.flush()
    compute_nominations(session, meeting, award, approved_svc.approved_table(session, meeting))


def compute_nominations(session: Session, meeting: ReviewMeeting, award: AwardType, table: Approved | None) -> list:
    """The award's nominations from its tallies, round after round (a run-off decides its own candidates)."""
    decided: dict[int, tuple[rules.Decision, Tally]] = {}
    for tally in (t for t in tallies(session, meeting) if t.award_type_id == award.id):
        rank = {c.unit_id: _rank(table, c.unit_id) for c in tally.counts}
        tally_rules = rules.Rules(threshold=tally.threshold, base=tally.threshold_base)
        ballot = [rules.Candidate(c.unit_id, c.votes, rank[c.unit_id]) for c in tally.counts]
        for decision in rules.select(ballot, tally.quota, tally.present, tally.members, tally_rules):
            decided[decision.unit_id] = (decision, tally)
    for old in session.scalars(
        select(Nomination).where(Nomination.meeting_id == meeting.id, Nomination.award_type_id == award.id)
    ):
        session.delete(old)
    session.flush()
    rows = [
        Nomination(
            meeting_id=meeting.id,
            award_type=award,
            unit=session.get(Unit, unit_id),
            votes=d.votes,
            denominator=d.denominator,
            outcome=d.outcome,
            source=t.source,
            round=t.round,
            rank=d.rank,
        )
        for unit_id, (d, t) in decided.items()
    ]
    session.add_all(rows)
    session.flush()
    return rows


def _rank(table: Approved | None, unit_id: int) -> int:
    row = table.row(unit_id) if table else None
    return row.rank if row else 0
