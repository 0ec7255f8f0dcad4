"""The online secret ballot: the head's vote window, each attending unit's anonymous ballot, the count.

Secrecy by construction: a `Ballot` row holds the window, the award, the choices and the SHA-256 of the
voter's receipt code — no unit, no user, no time, a random key. Who voted is a separate `VoterMark`
(unique per unit and window: one ballot per unit). Both are written in one transaction, and nothing
joins them. The receipt code (random, 80 bits) is shown once to the voter and kept in its signed
session cookie; a change finds the ballot by the code's hash, never by the unit, and is allowed only to
a unit that has voted in that window, until the window closes.

Closing counts the window into a `Tally` (source online) per award — issued = members present,
returned = valid = ballots cast, invalid 0 — and the paper ballot's `compute_nominations` follows.
Before that, nothing reads the choices: there is no count to hide because none is made.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from base64 import b32encode
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Attendance, AwardType, Ballot, ReviewMeeting, Tally, TallyCount, Unit, VoterMark, VoteWindow
from portal.models.base import utcnow
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
        raise DomainError("Cụm, khối chưa có bảng kết quả để bình xét.")
    found = {}
    for award in awards.award_types(session):
        upcoming = ballot.next_ballot(session, meeting, table, award)
        if upcoming is not None and upcoming.seats > 0 and upcoming.unit_ids:
            found[str(award.id)] = {"round": upcoming.round, "unit_ids": upcoming.unit_ids, "seats": upcoming.seats}
    if not found:
        raise DomainError("Không còn danh hiệu nào cần bỏ phiếu.")
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
        text=f"{meeting.cluster.name}: bỏ phiếu bình xét thi đua năm {meeting.year.year} đã mở.",
        endpoint="meetings.vote",
        args={"cluster_id": meeting.cluster_id, "year": meeting.year.year},
    )


def turnout(session: Session, meeting: ReviewMeeting, window: VoteWindow) -> Turnout:
    """x of y attending units have voted (two counts; never what they chose)."""
    voted = session.scalar(select(func.count(VoterMark.id)).where(VoterMark.window_id == window.id))
    return Turnout(voted or 0, record.quorum(session, meeting).present)


def attends(session: Session, meeting: ReviewMeeting, unit_id: int | None) -> bool:
    """Is the unit a member marked present at the meeting (the only ones who vote)?"""
    if unit_id is None:
        return False
    row = select(Attendance.id).where(
        Attendance.meeting_id == meeting.id, Attendance.unit_id == unit_id, Attendance.present.is_(True)
    )
    return session.scalar(row) is not None


def has_voted(session: Session, window: VoteWindow, unit_id: int) -> bool:
    found = select(VoterMark.id).where(VoterMark.window_id == window.id, VoterMark.unit_id == unit_id)
    return session.scalar(found) is not None


def normalise(code: str) -> str:
    return re.sub(r"[^A-Z2-7]", "", (code or "").upper())


def receipt_hash(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def display(code: str) -> str:
    """The code in groups of four, as the voter writes it down."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _check_choices(window: VoteWindow, choices: dict[int, list[int]]) -> dict[int, list[int]]:
    """Each award's choices: only its candidates, at most its seats; none is a blank choice."""
    checked = {}
    for paper in papers(window):
        chosen = sorted(set(choices.get(paper.award_id) or []))
        if any(unit_id not in paper.unit_ids for unit_id in chosen):
            raise DomainError("Chỉ chọn các đơn vị có tên trên phiếu.", f"award_{paper.award_id}")
        if len(chosen) > paper.seats:
            raise DomainError(f"Chọn tối đa {paper.seats} đơn vị.", f"award_{paper.award_id}")
        checked[paper.award_id] = chosen
    return checked


def _check_voting(session: Session, meeting: ReviewMeeting, window: VoteWindow, unit_id: int) -> None:
    record.check_open(meeting)
    if window.meeting_id != meeting.id or not window.is_open:
        raise DomainError("Việc bỏ phiếu đã đóng; không bỏ phiếu hoặc thay đổi phiếu được nữa.")
    if not attends(session, meeting, unit_id):
        raise DomainError("Chỉ đơn vị thành viên có mặt tại hội nghị được bỏ phiếu.")


def _write(session: Session, window: VoteWindow, digest: str, choices: dict[int, list[int]]) -> None:
    for award_id, chosen in choices.items():
        session.add(
            Ballot(
                key=secrets.token_hex(16),
                window_id=window.id,
                award_type_id=award_id,
                receipt_hash=digest,
                choices=chosen,
            )
        )


def cast(session: Session, meeting: ReviewMeeting, window: VoteWindow, unit_id: int, choices: dict) -> str:
    """The unit's ballot, once; returns the receipt code (shown once; only its hash is stored)."""
    _check_voting(session, meeting, window, unit_id)
    if has_voted(session, window, unit_id):
        raise DomainError("Đơn vị đã bỏ phiếu; chỉ có thể thay đổi phiếu bằng mã biên nhận.")
    checked = _check_choices(window, choices)
    code = b32encode(secrets.token_bytes(10)).decode()
    session.add(VoterMark(window_id=window.id, unit=session.get(Unit, unit_id), voted_at=utcnow()))
    _write(session, window, receipt_hash(code), checked)
    session.flush()
    return code


def _own_ballots(session: Session, window: VoteWindow, code: str) -> list[Ballot]:
    if len(normalise(code)) != CODE_LENGTH:
        return []
    found = select(Ballot).where(Ballot.window_id == window.id, Ballot.receipt_hash == receipt_hash(code))
    return list(session.scalars(found))


def choices_of(session: Session, window: VoteWindow, code: str) -> dict[int, list[int]]:
    """What the ballot with this receipt chose (for its voter, who holds the code)."""
    return {b.award_type_id: list(b.choices) for b in _own_ballots(session, window, code)}


def change(session: Session, meeting: ReviewMeeting, window: VoteWindow, unit_id: int, code: str, choices: dict):
    """Replace the ballot the receipt code names, for a unit that has voted, while the window is open."""
    _check_voting(session, meeting, window, unit_id)
    mark = session.scalar(select(VoterMark).where(VoterMark.window_id == window.id, VoterMark.unit_id == unit_id))
    if mark is None:
        raise DomainError("Đơn vị chưa bỏ phiếu.")
    old = _own_ballots(session, window, code)
    if not old:
        raise DomainError("Mã biên nhận không đúng.", "code")
    checked = _check_choices(window, choices)
    for row in old:
        session.delete(row)
    session.flush()
    _write(session, window, receipt_hash(code), checked)  # new random keys: the old rows' place is not kept
    mark.voted_at = utcnow()
    session.flush()


def close_window(session: Session, meeting: ReviewMeeting, window: VoteWindow) -> list[Tally]:
    """Close the vote and count it: a Tally (source online) per award, then its nominations."""
    record.check_open(meeting)
    if window.meeting_id != meeting.id or not window.is_open:
        raise DomainError("Việc bỏ phiếu này đã đóng.")
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
            raise DomainError(f"Số phiếu ({len(rows)}) nhiều hơn số thành viên có mặt ({quorum.present}).")
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


@dataclass(frozen=True)
class Receipt:
    window: VoteWindow
    choices: dict[int, list[int]]  # award type id → the unit ids chosen, as counted


def check_receipt(session: Session, meeting: ReviewMeeting, code: str) -> Receipt | None:
    """The counted ballot a receipt code names, in a closed window of the meeting; None when there is none."""
    for window in windows(session, meeting):
        if window.status == WindowStatus.CLOSED:
            found = choices_of(session, window, code)
            if found:
                return Receipt(window, found)
    return None


def close_current(session: Session, meeting: ReviewMeeting) -> list[Tally]:
    """Close the meeting's open window (the head's button), and count it."""
    window = latest(session, meeting)
    if window is None or not window.is_open:
        raise DomainError("Không có cuộc bỏ phiếu trực tuyến nào đang mở.")
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
