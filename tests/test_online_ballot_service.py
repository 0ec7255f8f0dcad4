"""The online secret ballot's services: the window (quorum, candidates as for paper), one ballot per
attending unit, changes by receipt until the close, the quota per award, the count into a Tally and
nominations (source online), the receipt check, and a schema with no path from a ballot to its voter."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from portal.extensions import db
from portal.models import AuditEntry, Ballot, Tally, VoterMark
from portal.models.meetings import Outcome, VoteSource
from portal.services import DomainError
from portal.services.meetings import ballot, online, record
from portal.services.meetings import voting as cast_svc
from tests.meeting_helpers import opened, scored

POINTS = {"head": ("55", "35"), "deputy": ("50", "28"), "member": ("45", "35")}


def _award(code):
    from portal.services.meetings import awards

    return next(a for a in awards.award_types(db.session) if a.code == code)


@pytest.fixture
def voting(world):
    """Three members scored, all present, the window open on the flag (head leads) and the certificates."""
    units, _items = scored(world, POINTS)
    meeting = opened(world)
    window = online.open_window(db.session, meeting)
    db.session.commit()
    return units, meeting, window


def test_the_window_holds_the_paper_ballots_candidates(voting, world):
    units, _meeting, window = voting
    found = {p.award_id: p for p in online.papers(window)}
    flag, certificate = _award("co_thi_dua"), _award("bang_khen_toan_dien")
    assert found[flag.id].unit_ids == [units["head"].id] and found[flag.id].seats == 1
    assert sorted(found[certificate.id].unit_ids) == sorted(u.id for u in units.values())
    assert found[certificate.id].seats == 2 and _award("bang_khen_chuyen_de").id not in found


def test_the_window_needs_the_quorum(world):
    scored(world, POINTS)
    meeting = opened(world, present=[world.head])
    with pytest.raises(DomainError, match="Chưa đủ số thành viên"):
        online.open_window(db.session, meeting)


def test_a_unit_votes_once_and_a_second_ballot_is_refused(voting, world):
    _units, meeting, window = voting
    flag = _award("co_thi_dua")
    code = cast_svc.cast(db.session, meeting, window, world.member.id, {flag.id: [world.head.id]})
    db.session.commit()
    assert len(cast_svc.normalise(code)) == cast_svc.CODE_LENGTH
    with pytest.raises(DomainError, match="đã bỏ phiếu"):
        cast_svc.cast(db.session, meeting, window, world.member.id, {})
    db.session.rollback()
    assert online.turnout(db.session, meeting, window) == online.Turnout(1, 3)


def test_a_non_attendee_is_refused(world):
    scored(world, POINTS)
    meeting = opened(world, present=[world.head, world.deputy])
    window = online.open_window(db.session, meeting)
    with pytest.raises(DomainError, match="có mặt"):
        cast_svc.cast(db.session, meeting, window, world.member.id, {})
    with pytest.raises(DomainError, match="có mặt"):
        cast_svc.cast(db.session, meeting, window, world.outsider.id, {})


def test_more_choices_than_the_quota_or_a_non_candidate_are_refused(voting, world):
    _units, meeting, window = voting
    flag, certificate = _award("co_thi_dua"), _award("bang_khen_toan_dien")
    three = [world.head.id, world.deputy.id, world.member.id]
    with pytest.raises(DomainError, match="tối đa 2") as refused:
        cast_svc.cast(db.session, meeting, window, world.member.id, {certificate.id: three})
    assert refused.value.field == f"award_{certificate.id}"
    with pytest.raises(DomainError, match="có tên trên phiếu"):
        cast_svc.cast(db.session, meeting, window, world.member.id, {flag.id: [world.member.id]})
    db.session.rollback()
    assert db.session.scalar(select(VoterMark.id)) is None


def test_a_change_before_the_close_replaces_the_ballot_and_after_it_is_refused(voting, world):
    _units, meeting, window = voting
    certificate = _award("bang_khen_toan_dien")
    code = cast_svc.cast(db.session, meeting, window, world.member.id, {certificate.id: [world.head.id]})
    db.session.commit()
    with pytest.raises(DomainError, match="Mã biên nhận"):
        cast_svc.change(db.session, meeting, window, world.member.id, "AAAA-AAAA-AAAA-AAAA", {})
    with pytest.raises(DomainError, match="chưa bỏ phiếu"):
        cast_svc.change(db.session, meeting, window, world.deputy.id, code, {})
    cast_svc.change(db.session, meeting, window, world.member.id, code.lower(), {certificate.id: [world.member.id]})
    db.session.commit()
    assert cast_svc.choices_of(db.session, window, code)[certificate.id] == [world.member.id]
    assert db.session.scalar(select(db.func.count()).select_from(Ballot)) == 2  # one row per award, not more
    online.close_window(db.session, meeting, window)
    db.session.commit()
    with pytest.raises(DomainError, match="đã đóng"):
        cast_svc.change(db.session, meeting, window, world.member.id, code, {})


def test_the_count_gives_the_nominations_and_the_receipt_check(voting, world):
    _units, meeting, window = voting
    flag, certificate = _award("co_thi_dua"), _award("bang_khen_toan_dien")
    codes = {
        unit.id: cast_svc.cast(db.session, meeting, window, unit.id, {flag.id: [world.head.id], certificate.id: chosen})
        for unit, chosen in (
            (world.head, [world.head.id, world.deputy.id]),
            (world.deputy, [world.deputy.id, world.head.id]),
            (world.member, [world.member.id]),
        )
    }
    db.session.commit()
    assert db.session.scalar(select(Tally.id)) is None  # nothing counted while it is open
    assert cast_svc.check_receipt(db.session, meeting, codes[world.member.id]) is None
    online.close_window(db.session, meeting, window)
    db.session.commit()
    tally = db.session.scalar(select(Tally).where(Tally.award_type_id == certificate.id))
    assert (tally.source, tally.issued, tally.returned, tally.valid, tally.invalid) == (VoteSource.ONLINE, 3, 3, 3, 0)
    assert {c.unit_id: c.votes for c in tally.counts} == {world.head.id: 2, world.deputy.id: 2, world.member.id: 1}
    found = {
        (n.award_type_id, n.unit_id): (n.outcome, n.source, n.votes, n.denominator)
        for n in ballot.nominations(db.session, meeting)
    }
    assert found[(flag.id, world.head.id)] == (Outcome.ELECTED, VoteSource.ONLINE, 3, 3)
    assert found[(certificate.id, world.deputy.id)] == (Outcome.ELECTED, VoteSource.ONLINE, 2, 3)
    assert found[(certificate.id, world.member.id)][0] == Outcome.NOT_ELECTED
    receipt = cast_svc.check_receipt(db.session, meeting, cast_svc.display(codes[world.member.id]))
    assert receipt.choices == {flag.id: [world.head.id], certificate.id: [world.member.id]}
    assert cast_svc.check_receipt(db.session, meeting, "ZZZZ-ZZZZ-ZZZZ-ZZZZ") is None
    assert cast_svc.check_receipt(db.session, meeting, "") is None


def test_while_the_vote_is_open_attendance_tallies_and_closing_wait(voting, world):
    _units, meeting, _window = voting
    with pytest.raises(DomainError, match="Đang bỏ phiếu trực tuyến"):
        record.mark(db.session, meeting, world.member.id, present=False, representative="", position="")
    with pytest.raises(DomainError, match="Đang bỏ phiếu trực tuyến"):
        record.close(db.session, meeting)
    with pytest.raises(DomainError, match="Đang bỏ phiếu trực tuyến"):
        online.open_window(db.session, meeting)
    fields = ballot.TallyFields(3, 3, 3, 0, {world.head.id: 3})
    with pytest.raises(DomainError, match="Đang bỏ phiếu trực tuyến"):
        ballot.save_tally(db.session, meeting, _award("co_thi_dua"), fields)


def test_no_table_joins_a_ballot_to_its_voter(app):
    inspector = inspect(db.engine)
    columns = {c["name"] for c in inspector.get_columns("online_ballots")}
    assert columns == {"key", "window_id", "award_type_id", "receipt_hash", "choices"}
    targets = {fk["referred_table"] for fk in inspector.get_foreign_keys("online_ballots")}
    assert targets == {"vote_windows", "award_types"}
    assert not any("unit" in c or "user" in c or c.endswith("_at") for c in columns)
    # the tables a ballot points to hold no voter either: the window is the meeting's, the award the province's
    for table in targets:
        assert not {c["name"] for c in inspector.get_columns(table)} & {"unit_id", "user_id", "voter_id"}
    # and nothing points at a ballot
    for table in inspector.get_table_names():
        assert all(fk["referred_table"] != "online_ballots" for fk in inspector.get_foreign_keys(table)), table
    assert "key" in {c.name for c in Ballot.__table__.primary_key}  # random, not an increasing id


def test_the_audit_says_who_voted_never_what(voting, world):
    _units, meeting, window = voting
    certificate = _award("bang_khen_toan_dien")
    cast_svc.cast(db.session, meeting, window, world.member.id, {certificate.id: [world.deputy.id]})
    db.session.commit()
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.object_type.in_(["Ballot", "VoterMark"]))))
    assert [e.object_type for e in entries] == ["VoterMark"]
    assert world.member.name in entries[0].object_label
    assert "choices" not in str(entries[0].changes) and "receipt" not in str(entries[0].changes)


def test_a_level_boundary_is_undecided_and_the_next_window_is_the_run_off(world):
    level = ("50", "30")
    scored(world, {"head": level, "deputy": level, "member": level})
    meeting = opened(world)
    certificate = _award("bang_khen_toan_dien")
    window = online.open_window(db.session, meeting)
    h, d, m = world.head.id, world.deputy.id, world.member.id
    for voter, chosen in ((world.head, [h, d]), (world.deputy, [d, m]), (world.member, [m, h])):
        cast_svc.cast(db.session, meeting, window, voter.id, {certificate.id: chosen})
    online.close_window(db.session, meeting, window)
    db.session.commit()
    found = {n.unit_id: n.outcome for n in ballot.nominations(db.session, meeting) if n.award_type_id == certificate.id}
    assert found == {h: Outcome.UNDECIDED, d: Outcome.UNDECIDED, m: Outcome.UNDECIDED}
    second = online.open_window(db.session, meeting)
    run_off = {p.award_id: p for p in online.papers(second)}[certificate.id]
    assert (second.number, run_off.round, sorted(run_off.unit_ids), run_off.seats) == (2, 2, sorted([h, d, m]), 2)
    for voter in (world.head, world.deputy, world.member):
        cast_svc.cast(db.session, meeting, second, voter.id, {certificate.id: [h, d]})
    online.close_window(db.session, meeting, second)
    db.session.commit()
    found = {
        n.unit_id: (n.outcome, n.round)
        for n in ballot.nominations(db.session, meeting)
        if n.award_type_id == certificate.id
    }
    assert found[h] == (Outcome.ELECTED, 2) and found[d] == (Outcome.ELECTED, 2)
