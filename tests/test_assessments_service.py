"""Self-assessment on the service: values by method, autosave conflicts, recompute, totals, deadlines."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import Assessment, Criterion, Score
from portal.services import DomainError
from portal.services.scoring import assessments as svc
from tests import factories

NOW = factories.vn_moment(factories.future_date(10), 15)  # a frozen "now" the tests pass on; 15:00 in Vietnam


@pytest.fixture
def table(world):
    """Quantitative 40, direct 30 (step 0,25), pass/fail 30; bonus 2 per occurrence (cap 5); deduction 0,5 each."""
    cset, items = factories.scoring_table(world)
    scoring_round = svc.open_self_round(db.session, cset, deadline=NOW + timedelta(days=3))
    db.session.commit()
    return {"set": cset, "round": scoring_round, **items}


def _own(unit):
    return db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == unit.id))


def _save(unit, item, raw, note="", revision=None, now=NOW):
    return svc.save_score(db.session, _own(unit), item, raw, note, expected_revision=revision, user_id=None, now=now)


def test_round_needs_a_locked_table_and_gives_every_member_a_draft(world, table):
    assert {a.subject_unit_id for a in db.session.scalars(select(Assessment))} == {
        world.head.id,
        world.deputy.id,
        world.member.id,
    }
    with pytest.raises(DomainError, match="đã được mở"):
        svc.open_self_round(db.session, table["set"])


@pytest.mark.parametrize(
    "raw, message",
    [
        ("-1", "không được âm"),
        ("30,5", "vượt quá điểm chuẩn"),
        ("7,3", "bội số của 0,25"),
        ("NaN", "hữu hạn"),
        ("ba mươi", "phải là một số"),
        ("1e400000", "quá lớn"),
    ],
)
def test_direct_scores_are_checked(world, table, raw, message):
    with pytest.raises(DomainError, match=message) as error:
        _save(world.member, table["direct"], raw)
    assert error.value.field == "value"
    assert db.session.scalars(select(Score)).all() == []


def test_values_by_method(world, table):
    assert _save(world.member, table["direct"], "27,75").points == D("27.75")
    assert _save(world.member, table["pass"], "Đạt").points == D("30.00")
    assert _save(world.member, table["pass"], "không đạt").points == D("0.00")
    with pytest.raises(DomainError, match="Đạt hoặc Không đạt"):
        _save(world.member, table["pass"], "có lẽ")
    assert _save(world.member, table["bonus"], "4").points == D("5.00")  # 4 × 2 clamped to 5
    with pytest.raises(DomainError, match="số nguyên"):
        _save(world.member, table["bonus"], "1,5")
    assert _save(world.member, table["minus"], "3").points == D("1.50")


def test_quantitative_points_move_for_everyone(world, table):
    _save(world.head, table["quant"], "150")  # r = 1.5, the best → 40
    _save(world.deputy, table["quant"], "240")  # r = 1.2 → 20 + 20 × 0.2 / 0.5 = 28
    points = dict(db.session.execute(select(Score.assessment_id, Score.points)).all())
    assert points[_own(world.head).id] == D("40.00") and points[_own(world.deputy).id] == D("28.00")
    _save(world.member, table["quant"], "100")  # r = 2: the member now leads
    points = dict(db.session.execute(select(Score.assessment_id, Score.points)).all())
    assert points[_own(world.member).id] == D("40.00")
    assert points[_own(world.head).id] == D("30.00")  # 20 + 20 × 0.5 / 1
    assert points[_own(world.deputy).id] == D("24.00")  # 20 + 20 × 0.2 / 1


def test_a_stale_revision_is_a_conflict_not_an_overwrite(world, table):
    first = _save(world.member, table["direct"], "20")
    db.session.commit()
    revision = first.revision
    _save(world.member, table["direct"], "21", revision=revision)  # another tab saves first
    db.session.commit()
    with pytest.raises(svc.ConflictError) as conflict:
        _save(world.member, table["direct"], "25", revision=revision)
    assert conflict.value.score.value == D(21)


def test_the_database_refuses_a_concurrent_overwrite(world, table, app):
    from sqlalchemy.orm.exc import StaleDataError

    score = _save(world.member, table["direct"], "20")
    db.session.commit()
    other = Session(db.engine)
    rival = other.get(Score, score.id)
    score.value = D(22)
    db.session.commit()  # revision moves on
    rival.value = D(23)
    with pytest.raises(StaleDataError):
        other.commit()
    other.close()
    assert db.session.get(Score, score.id).value == D(22)


def test_totals_add_bonus_and_take_deductions(world, table):
    for item, raw in (("quant", "50"), ("direct", "25"), ("pass", "1"), ("bonus", "1"), ("minus", "2")):
        _save(world.member, table[item], raw)
    result = svc.totals(db.session, _own(world.member))
    # quantitative: the member alone, r = 1 → 20
    assert (result.base, result.bonus, result.deduction, result.total) == (D(75), D(2), D(1), D(76))
    assert result.missing == []


def test_submit_needs_every_criterion_then_locks(world, table):
    _save(world.member, table["direct"], "25")
    with pytest.raises(DomainError, match=r"Còn 4 tiêu chí chưa chấm: I\.1, I\.3, II\.1, III\.1"):
        svc.submit(db.session, _own(world.member), None, now=NOW)
    for item, raw in (("quant", "50"), ("pass", "1"), ("bonus", "0"), ("minus", "0")):
        _save(world.member, table[item], raw)
    svc.submit(db.session, _own(world.member), None, now=NOW)
    with pytest.raises(DomainError, match="đã nộp"):
        _save(world.member, table["direct"], "26")
    with pytest.raises(DomainError, match="lý do"):
        svc.return_for_revision(db.session, _own(world.member), "")
    svc.return_for_revision(db.session, _own(world.member), "Bổ sung minh chứng tiêu chí 2")
    assert _save(world.member, table["direct"], "26").points == D("26.00")


def test_deadline_and_extension(world, table):
    late = NOW + timedelta(days=4)
    with pytest.raises(DomainError, match="quá hạn"):
        _save(world.member, table["direct"], "20", now=late)
    with pytest.raises(DomainError, match="sau thời điểm hiện tại"):
        svc.extend(db.session, _own(world.member), late - timedelta(days=2), now=late)
    svc.extend(db.session, _own(world.member), late + timedelta(days=1), now=late)
    assert _save(world.member, table["direct"], "20", now=late).points == D("20.00")
    with pytest.raises(DomainError, match="quá hạn"):
        _save(world.head, table["direct"], "20", now=late)  # the extension is the member's only


def test_a_round_deadline_moved_past_an_extension_does_not_lock_the_unit_out_early(world, table):
    """The head extends one unit, then moves everyone's deadline past that extension: the unit has the later one."""
    from portal.services.scoring import rounds

    scoring_round = table["round"]
    svc.extend(db.session, _own(world.member), scoring_round.deadline + timedelta(days=1), now=NOW)
    rounds.set_deadline(db.session, scoring_round, scoring_round.deadline + timedelta(days=5), now=NOW)
    between = NOW + timedelta(days=6)  # after the extension, before the round's new deadline
    assert rounds.deadline_of(_own(world.member)) == scoring_round.deadline
    assert _save(world.member, table["direct"], "20", now=between).points == D("20.00")
    assert _save(world.head, table["direct"], "20", now=between).points == D("20.00")
    with pytest.raises(DomainError, match="quá hạn"):
        _save(world.member, table["direct"], "21", now=scoring_round.deadline + timedelta(minutes=1))


def test_the_effective_deadline_is_the_later_of_the_round_and_the_extension():
    from portal.models.scoring import effective_deadline

    soon = factories.vn_moment(factories.future_date(2), 17)
    later = soon + timedelta(days=3)
    assert effective_deadline(soon, later) == later
    assert effective_deadline(later, soon) == later
    assert effective_deadline(None, soon) == soon  # an extension alone is the deadline
    assert effective_deadline(soon, None) == soon
    assert effective_deadline(None, None) is None


def test_only_leaves_of_the_assessed_table(world, table):
    section = db.session.scalar(select(Criterion).where(Criterion.code == "I"))
    with pytest.raises(DomainError, match="không có tiêu chí con"):
        _save(world.member, section, "1")


def test_verified_quantitative_points_compare_with_the_others_standing_results(world, table):
    """Verification changes one unit's result: its verified points compare with the others' self results."""
    from portal.services.scoring import verification

    for unit, result in ((world.head, "150"), (world.deputy, "200"), (world.member, "50")):
        _save(unit, table["quant"], result)
    # ratios: head 1.5 (best), deputy 1.0, member 1.0
    member_self = _own(world.member)
    head_self = _own(world.head)
    for key, raw in (("direct", "10"), ("pass", "dat"), ("bonus", "0"), ("minus", "0")):
        for unit in (world.head, world.member):
            _save(unit, table[key], raw)
    svc.submit(db.session, head_self, None, now=NOW)
    svc.submit(db.session, member_self, None, now=NOW)
    verified = verification.start_verification(db.session, head_self, world.head.id)
    score = db.session.scalar(
        select(Score).where(Score.assessment_id == verified.id, Score.criterion_id == table["quant"].id)
    )
    assert score.points == D(40)  # copied from the self stage: the best ratio leads
    svc.save_score(
        db.session, verified, table["quant"], "90", "Số liệu kho bạc", expected_revision=None, user_id=None, now=NOW
    )
    assert score.points == D(18)  # 0.9 of the target: ½·40·0,9; the self rows are untouched
    head_self_points = db.session.scalar(
        select(Score.points).where(Score.assessment_id == head_self.id, Score.criterion_id == table["quant"].id)
    )
    assert head_self_points == D(40)


def test_another_units_result_moves_points_without_touching_my_revision(world, table):
    mine = _save(world.member, table["quant"], "50")  # ratio 1 → half of 40
    revision = mine.revision
    _save(world.head, table["quant"], "150")
    _save(world.deputy, table["quant"], "300")  # ratio 1.5 each: a tie leads
    db.session.commit()
    db.session.refresh(mine)
    assert mine.points == D(20) and mine.revision == revision
    # my next save on the revision I hold is not a conflict
    assert _save(world.member, table["quant"], "60", revision=revision).points > D(20)
