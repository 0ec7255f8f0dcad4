"""The year-end meeting's services: quotas (defaults, last year's, carry-over), vote rules, the record and
attendance with the quorum, the approved table (changes with reasons, re-ranking, ties settled by vote),
the paper tally's checks, candidates (flag only for the leader, ineligible units off the ballot),
nominations and run-offs, and closing. Every change is audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEntry, Nomination, Quota, TieDecision
from portal.models.meetings import MeetingStatus, Outcome, QuorumRule, Threshold, ThresholdBase
from portal.services import DomainError
from portal.services.meetings import approved, awards, ballot, record
from portal.services.meetings.rules import Rules
from portal.services.org import next_year
from portal.services.results import eligibility
from tests import factories
from tests.meeting_helpers import opened, scored, where

POINTS = {"head": ("55", "35"), "deputy": ("50", "28"), "member": ("45", "35")}


def _award(code):
    return next(a for a in awards.award_types(db.session) if a.code == code)


def _fields(issued, returned, valid, invalid, votes, committee="Ông A, Bà B, Ông C"):
    return ballot.TallyFields(issued, returned, valid, invalid, votes, committee)


# ---------------------------------------------------------------- quotas and rules


def test_default_award_types_and_quotas(world):
    kinds = awards.award_types(db.session)
    assert [a.code for a in kinds] == ["co_thi_dua", "bang_khen_toan_dien", "bang_khen_chuyen_de"]
    assert [a.leader_only for a in kinds] == [True, False, False]
    found = awards.quotas(db.session, world.year, [world.cluster.id], kinds)
    assert [found[(world.cluster.id, a.id)] for a in kinds] == [(1, "default"), (2, "default"), (0, "default")]


def test_quotas_are_set_and_last_years_carry_on(world):
    kinds = awards.award_types(db.session)
    flag, certificate = kinds[0], kinds[1]
    awards.save_quotas(db.session, world.year, world.cluster, {certificate.id: 3})
    db.session.commit()
    after = next_year.start_next_year(db.session, world.year)
    found = awards.quotas(db.session, after, [world.cluster.id], kinds)
    assert found[(world.cluster.id, certificate.id)] == (3, "previous")
    awards.carry_over(db.session, world.year, after)
    db.session.commit()
    mine = select(Quota).where(Quota.year_id == after.id, Quota.cluster_id == world.cluster.id)
    stored = {q.award_type_id: q.count for q in db.session.scalars(mine)}
    assert stored[certificate.id] == 3 and stored[flag.id] == 1
    assert awards.quotas(db.session, after, [world.cluster.id], kinds)[(world.cluster.id, certificate.id)] == (3, "set")


@pytest.mark.parametrize("count", [None, -1, 101])
def test_a_quota_out_of_range_is_refused_next_to_its_field(world, count):
    certificate = _award("bang_khen_toan_dien")
    with pytest.raises(DomainError) as raised:
        awards.save_quotas(db.session, world.year, world.cluster, {certificate.id: count})
    assert raised.value.field == f"award_{certificate.id}"


def test_vote_rules_default_and_saved(world):
    assert awards.vote_rules(db.session, world.year.id) == Rules()
    chosen = Rules(QuorumRule.MORE_THAN_HALF, Threshold.TWO_THIRDS, ThresholdBase.MEMBERS)
    awards.save_vote_rules(db.session, world.year, chosen)
    assert awards.vote_rules(db.session, world.year.id) == chosen
    with pytest.raises(DomainError):
        awards.save_vote_rules(db.session, world.year, Rules(quorum="all"))


# ---------------------------------------------------------------- record, attendance, quorum


def test_opening_lists_every_member_absent_and_the_overseer_as_guest(world):
    meeting = opened(world, present=[])
    rows = record.attendance(db.session, meeting)
    assert {u.id for u, _row in rows} == {world.head.id, world.deputy.id, world.member.id}
    assert all(row is not None and not row.present for _u, row in rows)
    assert [g.name for g in record.guests(db.session, meeting)] == [world.overseer.full_name]
    with pytest.raises(DomainError):
        opened(world)


def test_the_quorum_follows_attendance(world):
    meeting = opened(world, present=[world.head])
    found = record.quorum(db.session, meeting)
    assert (found.members, found.present, found.needed, found.met) == (3, 1, 2, False)
    record.mark(db.session, meeting, world.deputy.id, present=True, representative="Trần C", position="Phó Chủ tịch")
    assert record.quorum(db.session, meeting).met


def test_a_present_unit_needs_its_representative_and_an_outsider_is_refused(world):
    meeting = opened(world, present=[])
    with pytest.raises(DomainError) as raised:
        record.mark(db.session, meeting, world.head.id, present=True, representative=" ", position="")
    assert raised.value.field == "representative"
    with pytest.raises(DomainError):
        record.mark(db.session, meeting, world.outsider.id, present=True, representative="X", position="")


@pytest.mark.parametrize("field", ["place", "chair", "secretary"])
def test_the_record_needs_place_chair_and_secretary(world, field):
    values = {"held_on": factories.past_date(1), "place": "Hội trường", "chair": "A", "secretary": "B"}
    values[field] = "  "
    with pytest.raises(DomainError) as raised:
        record.open_meeting(db.session, where(world), record.RecordFields(**values), user_id=None)
    assert raised.value.field == field


# ---------------------------------------------------------------- the approved table


def test_a_change_needs_a_reason_keeps_the_engines_number_and_re_ranks(world):
    units, items = scored(world, POINTS)
    meeting = opened(world)
    with pytest.raises(DomainError) as raised:
        approved.adjust(db.session, meeting, world.member.id, items["a"].id, D("60"), " ")
    assert raised.value.field == "reason"
    with pytest.raises(DomainError) as raised:
        approved.adjust(db.session, meeting, world.member.id, items["a"].id, D("61"), "Vượt tối đa")
    assert raised.value.field == "points"
    change = approved.adjust(db.session, meeting, world.member.id, items["a"].id, D("60"), "Bổ sung số liệu quý IV")
    db.session.commit()
    assert (change.engine_points, change.points) == (D("45.00"), D("60"))
    table = approved.approved_table(db.session, meeting)
    first = table.rows[0]
    assert first.approved.unit_id == world.member.id and first.rank == 1 and first.engine.rank == 2
    assert first.approved.compared_total == D("95.00") and first.engine.compared_total == D("80.00")
    audited = select(AuditEntry).where(AuditEntry.object_type == "ScoreAdjustment")
    assert [e.object_label for e in db.session.scalars(audited)] == [f"Điểm thống nhất tiêu chí 1: {world.member.name}"]


def test_the_engines_own_points_remove_the_change(world):
    _units, items = scored(world, POINTS)
    meeting = opened(world)
    approved.adjust(db.session, meeting, world.member.id, items["a"].id, D("60"), "Lý do")
    assert approved.adjust(db.session, meeting, world.member.id, items["a"].id, D("45"), "") is None
    assert approved.adjustments(db.session, meeting) == []


def test_a_tie_the_engine_left_is_settled_by_the_meetings_vote(world):
    scored(world, {"head": ("50", "30"), "deputy": ("50", "30"), "member": ("40", "30")})
    meeting = opened(world)
    table = approved.approved_table(db.session, meeting)
    assert [(rank, len(rows)) for rank, rows in table.ties()] == [(1, 2)]
    assert len(table.leaders) == 2
    with pytest.raises(DomainError):
        approved.settle_tie(db.session, meeting, 1, {world.head.id: 1, world.deputy.id: 1}, {})
    approved.settle_tie(db.session, meeting, 1, {world.head.id: 2, world.deputy.id: 1}, {world.deputy.id: 2})
    db.session.commit()
    table = approved.approved_table(db.session, meeting)
    assert [(r.approved.unit_id, r.rank, r.tied) for r in table.rows[:2]] == [
        (world.deputy.id, 1, False),
        (world.head.id, 2, False),
    ]
    assert [r.approved.unit_id for r in table.leaders] == [world.deputy.id]


def test_settling_a_tie_below_the_quorum_is_refused(world):
    scored(world, {"head": ("50", "30"), "deputy": ("50", "30"), "member": ("40", "30")})
    meeting = opened(world, present=[world.head])
    with pytest.raises(DomainError, match="Chưa đủ số thành viên"):
        approved.settle_tie(db.session, meeting, 1, {world.head.id: 1, world.deputy.id: 2}, {})


# ---------------------------------------------------------------- ballot, tally, nominations


def test_the_flag_ballot_holds_only_the_leader_and_an_ineligible_unit_is_listed_off_it(world):
    scored(world, POINTS)
    eligibility.mark(
        db.session,
        world.year,
        world.deputy,
        kind="inspection",
        reason="Thanh tra",
        starts_on=date(world.year.year, 1, 1),
        user_id=None,
    )
    meeting = opened(world)
    table = approved.approved_table(db.session, meeting)
    flag = ballot.candidates(table, _award("co_thi_dua"))
    assert [(c.unit_id, c.on_ballot) for c in flag] == [(world.head.id, True)]
    certificates = {c.unit_id: c for c in ballot.candidates(table, _award("bang_khen_toan_dien"))}
    assert not certificates[world.deputy.id].on_ballot and certificates[world.deputy.id].reason
    assert certificates[world.member.id].on_ballot


def test_an_ineligible_leader_leaves_the_flag_ballot_empty(world):
    scored(world, POINTS)
    eligibility.mark(
        db.session,
        world.year,
        world.head,
        kind="complaint",
        reason="Khiếu nại",
        starts_on=date(world.year.year, 1, 1),
        user_id=None,
    )
    meeting = opened(world)
    with pytest.raises(DomainError, match="Không có đơn vị nào"):
        ballot.save_tally(db.session, meeting, _award("co_thi_dua"), _fields(3, 3, 3, 0, {}))


@pytest.mark.parametrize(
    "counts, field",
    [
        ((4, 3, 3, 0), "issued"),  # more ballots than members present
        ((3, 3, 2, 0), "invalid"),  # valid + invalid ≠ returned
        ((2, 3, 2, 1), "returned"),
        ((3, 2, 3, 0), "valid"),
        ((3, 3, 3, None), "invalid"),
    ],
)
def test_the_ballot_arithmetic_is_checked(world, counts, field):
    scored(world, POINTS)
    meeting = opened(world)
    votes = {world.head.id: 1, world.deputy.id: 1, world.member.id: 1}
    with pytest.raises(DomainError) as raised:
        ballot.save_tally(db.session, meeting, _award("bang_khen_toan_dien"), _fields(*counts, votes))
    assert raised.value.field == field


def test_no_candidate_above_the_valid_ballots_and_no_more_choices_than_the_quota(world):
    scored(world, POINTS)
    meeting = opened(world)
    certificate = _award("bang_khen_toan_dien")
    too_many = {world.head.id: 3, world.deputy.id: 2, world.member.id: 2}
    with pytest.raises(DomainError) as raised:
        ballot.save_tally(db.session, meeting, certificate, _fields(3, 3, 2, 1, too_many))
    assert raised.value.field == f"votes_{world.head.id}"
    over_quota = {world.head.id: 3, world.deputy.id: 3, world.member.id: 1}  # 7 > 3 ballots × 2 choices
    with pytest.raises(DomainError) as raised:
        ballot.save_tally(db.session, meeting, certificate, _fields(3, 3, 3, 0, over_quota))
    assert raised.value.field == "votes"


def test_below_the_quorum_nothing_is_counted(world):
    scored(world, POINTS)
    meeting = opened(world, present=[world.head])
    with pytest.raises(DomainError, match="có mặt 1/3, cần ít nhất 2"):
        ballot.save_tally(db.session, meeting, _award("co_thi_dua"), _fields(1, 1, 1, 0, {world.head.id: 1}))


def test_nominations_with_votes_over_those_present(world):
    scored(world, POINTS)
    meeting = opened(world)
    ballot.save_tally(db.session, meeting, _award("co_thi_dua"), _fields(3, 3, 3, 0, {world.head.id: 3}))
    votes = {world.head.id: 3, world.deputy.id: 2, world.member.id: 1}
    ballot.save_tally(db.session, meeting, _award("bang_khen_toan_dien"), _fields(3, 3, 3, 0, votes))
    db.session.commit()
    found = {
        (n.award_type.code, n.unit_id): (n.votes, n.denominator, n.outcome, n.source)
        for n in ballot.nominations(db.session, meeting)
    }
    assert found[("co_thi_dua", world.head.id)] == (3, 3, Outcome.ELECTED, "paper")
    assert found[("bang_khen_toan_dien", world.deputy.id)] == (2, 3, Outcome.ELECTED, "paper")
    assert found[("bang_khen_toan_dien", world.member.id)] == (1, 3, Outcome.NOT_ELECTED, "paper")
    with pytest.raises(DomainError, match="đã xong"):
        ballot.save_tally(db.session, meeting, _award("co_thi_dua"), _fields(3, 3, 3, 0, {world.head.id: 3}))
    with pytest.raises(DomainError, match="không thay đổi được"):
        approved.adjust(db.session, meeting, world.member.id, None, D(1), "Lý do")


def test_a_tie_at_the_quota_goes_to_a_run_off_and_the_meeting_cannot_close_before(world):
    scored(world, {**POINTS, "extra1": ("45", "35"), "extra2": ("40", "30")}, extra=2)
    meeting = opened(world)
    certificate = _award("bang_khen_toan_dien")
    awards.save_quotas(db.session, world.year, world.cluster, {certificate.id: 2})
    units = [u.id for u, _row in record.attendance(db.session, meeting)]
    member, extra1 = (
        world.member.id,
        next(i for i in units if i not in (world.head.id, world.deputy.id, world.member.id)),
    )
    votes = {i: 0 for i in units} | {world.head.id: 4, member: 3, extra1: 3}  # member and extra1 share rank 3
    ballot.save_tally(db.session, meeting, certificate, _fields(5, 5, 5, 0, votes))
    outcomes = {n.unit_id: n.outcome for n in ballot.nominations(db.session, meeting)}
    assert outcomes[world.head.id] == Outcome.ELECTED
    assert outcomes[member] == outcomes[extra1] == Outcome.UNDECIDED
    with pytest.raises(DomainError, match="bỏ phiếu lại"):
        record.close(db.session, meeting)
    table = approved.approved_table(db.session, meeting)
    run_off = ballot.next_ballot(db.session, meeting, table, certificate)
    assert (run_off.round, sorted(run_off.unit_ids), run_off.seats) == (2, sorted([member, extra1]), 1)
    ballot.save_tally(db.session, meeting, certificate, _fields(5, 5, 5, 0, {member: 3, extra1: 2}))
    found = {n.unit_id: n for n in ballot.nominations(db.session, meeting)}
    assert (found[member].outcome, found[member].round, found[member].votes) == (Outcome.ELECTED, 2, 3)
    assert found[extra1].outcome == Outcome.NOT_ELECTED
    record.close(db.session, meeting)
    assert meeting.status == MeetingStatus.CLOSED
    with pytest.raises(DomainError, match="đã kết thúc"):
        record.mark(db.session, meeting, world.head.id, present=False, representative="", position="")


def test_taking_back_the_last_tally_recomputes_the_nominations(world):
    scored(world, POINTS)
    meeting = opened(world)
    flag = _award("co_thi_dua")
    ballot.save_tally(db.session, meeting, flag, _fields(3, 3, 3, 0, {world.head.id: 1}))
    assert [n.outcome for n in ballot.nominations(db.session, meeting)] == [Outcome.NOT_ELECTED]
    ballot.remove_last_tally(db.session, meeting, flag)
    assert db.session.scalar(select(func.count(Nomination.id))) == 0
    assert db.session.scalar(select(func.count(TieDecision.id))) == 0


def test_a_refusal_with_values_keeps_its_catalogue_entry_and_says_them_in_vietnamese():
    from portal.models.base import N_

    error = DomainError(N_("Chọn tối đa %(seats)s đơn vị."), "award_3", seats=2)
    assert error.message == str(error) == "Chọn tối đa 2 đơn vị."
    assert (error.msgid, error.params, error.field) == ("Chọn tối đa %(seats)s đơn vị.", {"seats": 2}, "award_3")
    plain = DomainError("Tỷ lệ phải từ 1 đến 100 (%).")  # no values: taken as written, a lone % included
    assert plain.message == plain.msgid and plain.params == {}
