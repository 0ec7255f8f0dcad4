"""The online secret ballot's window: the head opens it, sees the turnout, closes it and it is counted.

Each attending unit's anonymous ballot (cast, changed by its receipt code, checked) is `voting`.
Secrecy by construction: a `Ballot` row holds the window, the award, the choices and the SHA-256 of the
voter's receipt code — no unit, no user, no time, a random key. Who voted is a separate `VoterMark`
(unique per unit and window: one ballot per unit), and nothing joins them.

Closing counts the window into a `Tally` (source online) per award — issued = members present,
returned = valid = ballots cast, invalid 0 — and the paper ballot's `compute_nominations` follows.
Before that, nothing reads the choices: there is no count to hide because none is made.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import AwardType, Ballot, ReviewMeeting, Tally, TallyCount, Unit, VoterMark, VoteWindow
from portal.models.base import N_, utcnow
from portal.models.meetings import VoteSource
from portal.models.notices import NoticeKind
from portal.models.online_votes import WindowStatus
from portal.services import DomainError
from portal.services.meetings import approved as approved_svc
from portal.services.meetings import awards, ballot, record
from portal.services.notices import events as notices

CODE_LENGTH = 16  # base32 characters: 80 random bits


@dataclass(frozen=True)
class Paper:
    """One award on the window's ballot: the round it counts, its candidates, how many a voter may choose."""

    award_id: int
    round: int
    unit_ids: list[int]
    seats: int


@dataclass(frozen=True)
class Turnout:
    voted: int
    attending: int


def papers(window: VoteWindow) -> list[Paper]:
    return [
        Paper(int(award_id), p["round"], list(p["unit_ids"]), p["seats"])
        for award_id, p in sorted(window.papers.items(), key=lambda item: int(item[0]))
    ]


def windows(session: Session, meeting: ReviewMeeting) -> list[VoteWindow]:
    return list(
        session.scalars(select(VoteWindow).where(VoteWindow.meeting_id == meeting.id).order_by(VoteWindow.number))
    )


def latest(session: Session, meeting: ReviewMeeting) -> VoteWindow | None:
    found = windows(session, meeting)
    return found[-1] if found else None


def open_window(session: Session, meeting: ReviewMeeting) -> VoteWindow:
    """Open the online vote on every award with a vote to count (round 1, or a run-off), with the quorum."""
    record.check_open(meeting)
    record.check_no_vote_open(session, meeting)
    record.require_quorum(session, meeting)
    table = approved_svc.approved_table(session, meeting)
    if table is None:
        raise DomainError(N_("Cụm, khối chưa có bảng kết quả để bình xét."))
    found = {}
    for award in awards.award_types(session):
        upcoming = ballot.next_ballot(session, meeting, table, award)
        if upcoming is not None and upcoming.seats > 0 and upcoming.unit_ids:
            found[str(award.id)] = {"round": upcoming.round, "unit_ids": upcoming.unit_ids, "seats": upcoming.seats}
    if not found:
        raise DomainError(N_("Không còn danh hiệu nào cần bỏ phiếu."))
    number = len(windows(session, meeting)) + 1
    window = VoteWindow(meeting_id=meeting.id, number=number, status=WindowStatus.OPEN, papers=found)
    session.add(window)
    session.flush()
    _announce(session, meeting)
    return window


def _announce(session: Session, meeting: ReviewMeeting) -> None:
    """Tell the users of the attending member units that they can vote."""
    present = [unit.id for unit, row in record.attendance(session, meeting) if row is not None and row.present]
    where = {"cluster_id": meeting.cluster_id, "year_id": meeting.year_id}
    notices.notify(
        session,
        notices.unit_users(session, meeting.cluster_id, meeting.year_id, present),
        NoticeKind.VOTE_OPENED,
        **where,
        message=N_("%(cluster)s: bỏ phiếu bình xét thi đua năm %(year)s đã mở."),
        params={"cluster": meeting.cluster.name, "year": meeting.year.year},
        endpoint="meetings.vote",
        args={"cluster_id": meeting.cluster_id, "year": meeting.year.year},
    )


def turnout(session: Session, meeting: ReviewMeeting, window: VoteWindow) -> Turnout:
    """x of y attending units have voted (two counts; never what they chose)."""
    voted = session.scalar(select(func.count(VoterMark.id)).where(VoterMark.window_id == window.id))
    return Turnout(voted or 0, record.quorum(session, meeting).present)


def close_window(session: Session, meeting: ReviewMeeting, window: VoteWindow) -> list[Tally]:
    """Close the vote and count it: a Tally (source online) per award, then its nominations."""
    record.check_open(meeting)
    if window.meeting_id != meeting.id or not window.is_open:
        raise DomainError(N_("Việc bỏ phiếu này đã đóng."))
    quorum = record.require_quorum(session, meeting)
    table = approved_svc.approved_table(session, meeting)
    year_rules = awards.vote_rules(session, meeting.year_id)
    window.status, window.closed_at = WindowStatus.CLOSED, utcnow()
    session.flush()
    counted = []
    for paper in papers(window):
        award = session.get(AwardType, paper.award_id)
        rows = list(
            session.scalars(select(Ballot).where(Ballot.window_id == window.id, Ballot.award_type_id == award.id))
        )
        if len(rows) > quorum.present:
            raise DomainError(
                N_("Số phiếu (%(ballots)s) nhiều hơn số thành viên có mặt (%(present)s)."),
                ballots=len(rows),
                present=quorum.present,
            )
        votes = Counter(unit_id for row in rows for unit_id in row.choices)
        tally = Tally(
            meeting_id=meeting.id,
            award_type=award,
            round=paper.round,
            source=VoteSource.ONLINE,
            issued=quorum.present,
            returned=len(rows),
            valid=len(rows),
            invalid=0,
            present=quorum.present,
            members=quorum.members,
            quota=paper.seats,
            threshold=year_rules.threshold,
            threshold_base=year_rules.base,
            committee=meeting.counting_committee,
        )
        tally.counts = [TallyCount(unit=session.get(Unit, i), votes=votes.get(i, 0)) for i in paper.unit_ids]
        session.add(tally)
        session.flush()
        ballot.compute_nominations(session, meeting, award, table)
        counted.append(tally)
    return counted


def close_current(session: Session, meeting: ReviewMeeting) -> list[Tally]:
    """Close the meeting's open window (the head's button), and count it."""
    window = latest(session, meeting)
    if window is None or not window.is_open:
        raise DomainError(N_("Không có cuộc bỏ phiếu trực tuyến nào đang mở."))
    return close_window(session, meeting, window)


@dataclass(frozen=True)
class Panel:
    """What the meeting page shows of the online vote: the latest window and its turnout, never a count."""

    window: VoteWindow | None
    turnout: Turnout | None
    counted: bool  # a window was closed and counted: receipts can be checked


def panel(session: Session, meeting: ReviewMeeting) -> Panel:
    found = windows(session, meeting)
    window = found[-1] if found else None
    if window is None:
        return Panel(None, None, False)
    counted = any(w.status == WindowStatus.CLOSED for w in found)
    return Panel(window, turnout(session, meeting, window) if window.is_open else None, counted)
