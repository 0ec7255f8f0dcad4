"""A unit's online ballot: who may vote, casting it once, changing it by its receipt code, checking a receipt.

Secrecy by construction (see `online` for the window): the `Ballot` rows hold the choices and the SHA-256
of the voter's receipt code, no unit, no user, no time; who voted is a separate `VoterMark` (unique per
unit and window). Both are written in one transaction, and nothing joins them. The receipt code (random,
80 bits) is shown once to the voter and kept in its signed session cookie; a change finds the ballot by
the code's hash, never by the unit, and is allowed only to a unit that has voted in that window, until
the window closes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from base64 import b32encode
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Attendance, Ballot, ReviewMeeting, Unit, VoterMark, VoteWindow
from portal.models.base import N_, utcnow
from portal.models.online_votes import WindowStatus
from portal.services import DomainError
from portal.services.meetings import record
from portal.services.meetings.online import papers, windows

CODE_LENGTH = 16  # base32 characters: 80 random bits


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
            raise DomainError(N_("Chỉ chọn các đơn vị có tên trên phiếu."), f"award_{paper.award_id}")
        if len(chosen) > paper.seats:
            raise DomainError(N_("Chọn tối đa %(seats)s đơn vị."), f"award_{paper.award_id}", seats=paper.seats)
        checked[paper.award_id] = chosen
    return checked


def _check_voting(session: Session, meeting: ReviewMeeting, window: VoteWindow, unit_id: int) -> None:
    record.check_open(meeting)
    if window.meeting_id != meeting.id or not window.is_open:
        raise DomainError(N_("Việc bỏ phiếu đã đóng; không bỏ phiếu hoặc thay đổi phiếu được nữa."))
    if not attends(session, meeting, unit_id):
        raise DomainError(N_("Chỉ đơn vị thành viên có mặt tại hội nghị được bỏ phiếu."))


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
        raise DomainError(N_("Đơn vị đã bỏ phiếu; chỉ có thể thay đổi phiếu bằng mã biên nhận."))
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
        raise DomainError(N_("Đơn vị chưa bỏ phiếu."))
    old = _own_ballots(session, window, code)
    if not old:
        raise DomainError(N_("Mã biên nhận không đúng."), "code")
    checked = _check_choices(window, choices)
    for row in old:
        session.delete(row)
    session.flush()
    _write(session, window, receipt_hash(code), checked)  # new random keys: the old rows' place is not kept
    mark.voted_at = utcnow()
    session.flush()


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
