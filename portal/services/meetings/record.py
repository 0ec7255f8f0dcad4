"""The meeting's record: opened by the head with its date, place, chair and secretary; attendance of every
member unit (present or not, represented by whom); guests (the overseeing council member first); the
quorum, computed from the attendance by the year's vote rules; closing the meeting.

Nothing changes in a closed meeting (`check_open`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import (
    Attendance,
    Cluster,
    EmulationYear,
    MeetingGuest,
    Membership,
    Nomination,
    ReviewMeeting,
    Term,
    Unit,
    VoteWindow,
)
from portal.models.base import N_, utcnow
from portal.models.meetings import MeetingKind, MeetingStatus, Outcome
from portal.models.online_votes import WindowStatus
from portal.policy import ClusterYear
from portal.services import DomainError
from portal.services.meetings import awards, rules

TEXT_MAX = 255


@dataclass(frozen=True)
class RecordFields:
    held_on: date | None
    place: str
    chair: str
    secretary: str
    counting_committee: str = ""


@dataclass(frozen=True)
class Quorum:
    members: int
    present: int
    needed: int  # the fewest present that make the quorum
    met: bool
    rule: str  # a QuorumRule


def find(session: Session, where: ClusterYear, kind: str = MeetingKind.YEAR_END) -> ReviewMeeting | None:
    return session.scalar(
        select(ReviewMeeting).where(
            ReviewMeeting.cluster_id == where.cluster_id,
            ReviewMeeting.year_id == where.year_id,
            ReviewMeeting.kind == kind,
        )
    )


def _check(fields: RecordFields) -> None:
    if fields.held_on is None:
        raise DomainError(N_("Nhập ngày họp theo dạng dd/mm/yyyy."), "held_on")
    for name in ("place", "chair", "secretary"):
        value = getattr(fields, name).strip()
        if not value:
            raise DomainError(N_("Vui lòng nhập trường này."), name)
        if len(value) > TEXT_MAX:
            raise DomainError(N_("Tối đa %(max)s ký tự."), name, max=TEXT_MAX)


def check_open(meeting: ReviewMeeting) -> None:
    if meeting.status != MeetingStatus.OPEN:
        raise DomainError(N_("Hội nghị đã kết thúc; không sửa được nữa."))


def check_no_vote_open(session: Session, meeting: ReviewMeeting) -> None:
    """While the online vote is open, its candidates, voters and tallies stay as they were when it opened."""
    found = select(VoteWindow.id).where(VoteWindow.meeting_id == meeting.id, VoteWindow.status == WindowStatus.OPEN)
    if session.scalar(found) is not None:
        raise DomainError(N_("Đang bỏ phiếu trực tuyến: đóng bỏ phiếu trước khi thay đổi."))


def open_meeting(session: Session, where: ClusterYear, fields: RecordFields, user_id: int | None) -> ReviewMeeting:
    """Open the cluster-year's year-end meeting: the record, every member absent until marked, the overseer as guest."""
    if find(session, where) is not None:
        raise DomainError(N_("Hội nghị tổng kết năm nay đã được mở."))
    _check(fields)
    meeting = ReviewMeeting(
        cluster=session.get(Cluster, where.cluster_id),
        year=session.get(EmulationYear, where.year_id),
        opened_by_user_id=user_id,
    )
    _fill(meeting, fields)
    session.add(meeting)
    session.flush()
    for unit_id in member_ids(session, where):
        session.add(Attendance(meeting=meeting, unit=session.get(Unit, unit_id), present=False))
    term = session.scalar(select(Term).where(Term.cluster_id == where.cluster_id, Term.year_id == where.year_id))
    if term is not None and term.overseer is not None:
        overseer = term.overseer
        position = overseer.position or "Thành viên Hội đồng Thi đua - Khen thưởng tỉnh"
        session.add(
            MeetingGuest(
                meeting_id=meeting.id, name=overseer.full_name, position=position, council_member_id=overseer.id
            )
        )
    session.flush()
    return meeting


def _fill(meeting: ReviewMeeting, fields: RecordFields) -> None:
    meeting.held_on = fields.held_on
    meeting.place, meeting.chair, meeting.secretary = (
        fields.place.strip(),
        fields.chair.strip(),
        fields.secretary.strip(),
    )
    meeting.counting_committee = fields.counting_committee.strip()


def save_record(session: Session, meeting: ReviewMeeting, fields: RecordFields) -> ReviewMeeting:
    check_open(meeting)
    _check(fields)
    _fill(meeting, fields)
    session.flush()
    return meeting


def member_ids(session: Session, where: ClusterYear) -> list[int]:
    return list(
        session.scalars(
            select(Membership.unit_id).where(
                Membership.cluster_id == where.cluster_id, Membership.year_id == where.year_id
            )
        )
    )


def attendance(session: Session, meeting: ReviewMeeting) -> list[tuple[Unit, Attendance | None]]:
    """Every member unit of the cluster-year, by name, with its attendance row (None: not marked): one query."""
    rows = session.execute(
        select(Unit, Attendance)
        .join(Membership, Membership.unit_id == Unit.id)
        .outerjoin(Attendance, (Attendance.unit_id == Unit.id) & (Attendance.meeting_id == meeting.id))
        .where(Membership.cluster_id == meeting.cluster_id, Membership.year_id == meeting.year_id)
        .order_by(Unit.sort_key)
    )
    return [(unit, row) for unit, row in rows]


def mark(
    session: Session, meeting: ReviewMeeting, unit_id: int, *, present: bool, representative: str, position: str
) -> Attendance:
    """Mark one member unit present (with who represents it) or absent."""
    check_open(meeting)
    check_no_vote_open(session, meeting)
    if unit_id not in member_ids(session, ClusterYear(meeting.year_id, meeting.cluster_id)):
        raise DomainError(N_("Đơn vị không phải thành viên của cụm, khối năm nay."))
    representative, position = representative.strip(), position.strip()
    if present and not representative:
        raise DomainError(N_("Nhập họ tên người dự họp của đơn vị."), "representative")
    for name, value in (("representative", representative), ("position", position)):
        if len(value) > TEXT_MAX:
            raise DomainError(N_("Tối đa %(max)s ký tự."), name, max=TEXT_MAX)
    row = session.scalar(select(Attendance).where(Attendance.meeting_id == meeting.id, Attendance.unit_id == unit_id))
    if row is None:
        row = Attendance(meeting=meeting, unit=session.get(Unit, unit_id))
        session.add(row)
    row.present, row.representative, row.position = present, representative, position
    session.flush()
    return row


def quorum(session: Session, meeting: ReviewMeeting) -> Quorum:
    """Members of the cluster-year, those present, and whether the quorum holds (two queries)."""
    where = ClusterYear(meeting.year_id, meeting.cluster_id)
    members = len(member_ids(session, where))
    present = session.scalar(
        select(func.count(Attendance.id))
        .join(Membership, (Membership.unit_id == Attendance.unit_id))
        .where(
            Attendance.meeting_id == meeting.id,
            Attendance.present.is_(True),
            Membership.cluster_id == meeting.cluster_id,
            Membership.year_id == meeting.year_id,
        )
    )
    rule = awards.vote_rules(session, meeting.year_id).quorum
    return Quorum(
        members, present or 0, rules.least(members, rule), rules.quorum_met(members, present or 0, rule), rule
    )


def require_quorum(session: Session, meeting: ReviewMeeting) -> Quorum:
    """The quorum, or the refusal to vote without it (with the figures)."""
    found = quorum(session, meeting)
    if not found.met:
        raise DomainError(
            N_("Chưa đủ số thành viên dự họp để biểu quyết: có mặt %(present)s/%(members)s, cần ít nhất %(needed)s."),
            present=found.present,
            members=found.members,
            needed=found.needed,
        )
    return found


def add_guest(session: Session, meeting: ReviewMeeting, name: str, position: str) -> MeetingGuest:
    check_open(meeting)
    name, position = name.strip(), position.strip()
    if not name:
        raise DomainError(N_("Vui lòng nhập trường này."), "name")
    for field, value in (("name", name), ("position", position)):
        if len(value) > TEXT_MAX:
            raise DomainError(N_("Tối đa %(max)s ký tự."), field, max=TEXT_MAX)
    guest = MeetingGuest(meeting_id=meeting.id, name=name, position=position)
    session.add(guest)
    session.flush()
    return guest


def remove_guest(session: Session, meeting: ReviewMeeting, guest: MeetingGuest) -> None:
    check_open(meeting)
    session.delete(guest)
    session.flush()


def guests(session: Session, meeting: ReviewMeeting) -> list[MeetingGuest]:
    return list(
        session.scalars(select(MeetingGuest).where(MeetingGuest.meeting_id == meeting.id).order_by(MeetingGuest.id))
    )


def close(session: Session, meeting: ReviewMeeting) -> ReviewMeeting:
    """End the meeting: refused while a vote is undecided (a run-off is still to be counted) or open online."""
    check_open(meeting)
    check_no_vote_open(session, meeting)
    undecided = session.scalar(
        select(func.count(Nomination.id)).where(
            Nomination.meeting_id == meeting.id, Nomination.outcome == Outcome.UNDECIDED
        )
    )
    if undecided:
        raise DomainError(
            N_("Còn đơn vị bằng phiếu ở ranh giới chỉ tiêu: nhập kết quả bỏ phiếu lại trước khi kết thúc.")
        )
    meeting.status = MeetingStatus.CLOSED
    meeting.closed_at = utcnow()
    session.flush()
    return meeting
