"""Peer review rounds on the service: create per mode, adjust while a draft, open, deadline, close, progress."""

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assessment, AuditEntry, ReviewAssignment, ScoringRound
from portal.services import DomainError
from portal.services.criteria import sets as criteria_svc
from portal.services.org import cluster_year
from portal.services.scoring import assessments as assessments_svc
from portal.services.scoring import reviews as svc
from tests import factories

NOW = factories.vn_moment(factories.future_date(10), 15)  # a frozen "now" the tests pass on; 15:00 in Vietnam


@pytest.fixture
def locked(world):
    """The world's table, locked for scoring, and two more members (five units)."""
    cset = factories.criteria_set(world)
    criteria_svc.lock(db.session, cset)
    for name in ("UBND xã Mỹ Hiệp", "UBND xã Bình Thạnh"):
        cluster_year.add_membership(db.session, world.year, world.cluster, factories.unit(name))
    db.session.commit()
    return cset


def _pairs(scoring_round):
    return {
        (a.reviewer_unit_id, a.subject_unit_id)
        for a in db.session.scalars(select(ReviewAssignment).where(ReviewAssignment.round_id == scoring_round.id))
    }


def _ids(world):
    return [u.id for u in svc.members(db.session, world.cluster.id, world.year.id)]


def test_all_pairs_round(world, locked):
    scoring_round = svc.create_round(db.session, locked, "all_pairs", seed=1)
    assert (scoring_round.kind, scoring_round.status, scoring_round.assignment_mode) == ("peer", "draft", "all_pairs")
    assert scoring_round.reviews_per_unit is None
    assert len(_pairs(scoring_round)) == 5 * 4


def test_k_each_round_is_balanced_and_seeded(world, locked):
    scoring_round = svc.create_round(db.session, locked, "k_each", k=2, seed=42)
    pairs = _pairs(scoring_round)
    assert scoring_round.reviews_per_unit == 2
    assert Counter(s for _, s in pairs) == dict.fromkeys(_ids(world), 2)
    assert Counter(r for r, _ in pairs) == dict.fromkeys(_ids(world), 2)
    assert not any((s, r) in pairs for r, s in pairs)  # n = 5 ≥ 2k + 1: no reciprocal pair
    svc.reassign(db.session, scoring_round, "k_each", k=2, seed=42)
    assert _pairs(scoring_round) == pairs  # same seed, same plan (and the unique pairs survive the swap)


def test_team_round_and_its_warning(world, locked):
    scoring_round = svc.create_round(db.session, locked, "team", team_ids=[world.head.id])
    assert _pairs(scoring_round) == {(world.head.id, u) for u in _ids(world) if u != world.head.id}
    progress = svc.progress(db.session, scoring_round)
    assert progress.warnings.unreviewed == [world.head.id]  # a team of one: nobody reviews it
    assert progress.warnings.idle == []  # only the team reviews in a team round


@pytest.mark.parametrize(
    "kwargs, field, message",
    [
        ({"mode": "k_each", "k": 5}, "k", "từ 1 đến n−1"),
        ({"mode": "k_each", "k": 0}, "k", "từ 1 đến n−1"),
        ({"mode": "k_each"}, "k", "Nhập số đơn vị"),
        ({"mode": "team"}, "team", "ít nhất một"),
        ({"mode": "random"}, "mode", "Chọn cách phân công"),
        ({"mode": "all_pairs", "deadline": NOW - timedelta(hours=1)}, "deadline", "sau thời điểm hiện tại"),
    ],
)
def test_create_errors_save_nothing(world, locked, kwargs, field, message):
    with pytest.raises(DomainError, match=message) as error:
        svc.create_round(db.session, locked, now=NOW, **kwargs)
    assert error.value.field == field
    db.session.rollback()
    assert db.session.scalars(select(ScoringRound)).all() == []


def test_team_of_outsiders_is_refused(world, locked):
    with pytest.raises(DomainError, match="thành viên") as error:
        svc.create_round(db.session, locked, "team", team_ids=[world.outsider.id])
    assert error.value.field == "team"


def test_needs_a_locked_table_and_one_round_a_year(world):
    cset = factories.criteria_set(world)
    with pytest.raises(DomainError, match="khóa bảng tiêu chí"):
        svc.create_round(db.session, cset, "all_pairs")
    criteria_svc.lock(db.session, cset)
    svc.create_round(db.session, cset, "all_pairs")
    with pytest.raises(DomainError, match="đã được lập"):
        svc.create_round(db.session, cset, "k_each", k=1)


def test_manual_adjustments(world, locked):
    scoring_round = svc.create_round(db.session, locked, "team", team_ids=[world.head.id])
    added = svc.add_assignment(db.session, scoring_round, world.deputy.id, world.head.id)
    assert (world.deputy.id, world.head.id) in _pairs(scoring_round)
    for reviewer, subject, field, message in (
        (world.head.id, world.head.id, "subject_unit_id", "chính mình"),
        (world.deputy.id, world.head.id, "subject_unit_id", "đã được phân công"),
        (world.outsider.id, world.head.id, "reviewer_unit_id", "thành viên"),
        (world.head.id, world.outsider.id, "subject_unit_id", "thành viên"),
    ):
        with pytest.raises(DomainError, match=message) as error:
            svc.add_assignment(db.session, scoring_round, reviewer, subject)
        assert error.value.field == field
    svc.remove_assignment(db.session, scoring_round, added)
    assert (world.deputy.id, world.head.id) not in _pairs(scoring_round)
    db.session.commit()
    logged = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "ReviewAssignment")).all()
    assert logged.count("create") == 5 and logged.count("delete") == 1


def test_open_creates_one_peer_assessment_per_assignment(world, locked):
    scoring_round = svc.create_round(db.session, locked, "k_each", k=2, seed=3)
    assert svc.open_round(db.session, scoring_round, now=NOW) == 10
    assessments = db.session.scalars(select(Assessment).where(Assessment.round_id == scoring_round.id)).all()
    assert {(a.author_unit_id, a.subject_unit_id) for a in assessments} == _pairs(scoring_round)
    assert {(a.stage, a.status, a.criteria_set_id) for a in assessments} == {("peer", "draft", locked.id)}
    assert scoring_round.status == "open"
    for change in (
        lambda: svc.add_assignment(db.session, scoring_round, world.head.id, world.member.id),
        lambda: svc.remove_assignment(db.session, scoring_round, db.session.scalars(select(ReviewAssignment)).first()),
        lambda: svc.reassign(db.session, scoring_round, "all_pairs"),
        lambda: svc.open_round(db.session, scoring_round),
    ):
        with pytest.raises(DomainError, match="đã mở"):
            change()


def test_open_needs_assignments_and_a_future_deadline(world, locked):
    scoring_round = svc.create_round(
        db.session, locked, "team", team_ids=[world.head.id], deadline=NOW, now=NOW - timedelta(days=1)
    )
    for assignment in db.session.scalars(select(ReviewAssignment)).all():
        svc.remove_assignment(db.session, scoring_round, assignment)
    with pytest.raises(DomainError, match="Hạn chấm chéo đã qua"):
        svc.open_round(db.session, scoring_round, now=NOW + timedelta(minutes=1))
    with pytest.raises(DomainError, match="Chưa có phân công"):
        svc.open_round(db.session, scoring_round, now=NOW - timedelta(minutes=1))


def test_open_uses_the_table_in_force(world, locked):
    scoring_round = svc.create_round(db.session, locked, "all_pairs")
    draft = criteria_svc.new_version(db.session, locked, "Điều chỉnh điểm chuẩn theo hội nghị")
    with pytest.raises(DomainError, match="chưa được khóa"):
        svc.open_round(db.session, scoring_round)
    criteria_svc.publish(db.session, draft)
    criteria_svc.lock(db.session, draft)
    svc.open_round(db.session, scoring_round)
    assert scoring_round.criteria_set_id == draft.id
    assert set(db.session.scalars(select(Assessment.criteria_set_id))) == {draft.id}


def test_deadline_and_close(world, locked):
    scoring_round = svc.create_round(db.session, locked, "all_pairs")
    with pytest.raises(DomainError, match="đang mở"):
        svc.close_round(db.session, scoring_round)
    svc.set_deadline(db.session, scoring_round, NOW + timedelta(days=7), now=NOW)
    with pytest.raises(DomainError, match="sau thời điểm hiện tại") as error:
        svc.set_deadline(db.session, scoring_round, NOW - timedelta(days=1), now=NOW)
    assert error.value.field == "deadline"
    svc.open_round(db.session, scoring_round, now=NOW)
    svc.set_deadline(db.session, scoring_round, None, now=NOW)
    svc.close_round(db.session, scoring_round, now=NOW)
    assert (scoring_round.status, scoring_round.closed_at) == ("closed", NOW)
    with pytest.raises(DomainError, match="đã đóng"):
        svc.set_deadline(db.session, scoring_round, NOW + timedelta(days=1), now=NOW)


def _submit_all(reviewer_id, scoring_round, cset):
    leaves = [c for c in cset.criteria if c.parent_id is not None]
    for assessment in db.session.scalars(
        select(Assessment).where(Assessment.round_id == scoring_round.id, Assessment.author_unit_id == reviewer_id)
    ):
        for criterion in leaves:
            assessments_svc.save_score(db.session, assessment, criterion, "10", expected_revision=None, user_id=None)
        assessments_svc.submit(db.session, assessment, None)


def test_progress_and_reviews_of(world, locked):
    scoring_round = svc.create_round(db.session, locked, "k_each", k=2, seed=9)
    before = svc.reviews_of(db.session, world.member.id, world.cluster.id, world.year.id)
    assert len(before) == 2 and {r.status for r in before} == {None}
    svc.open_round(db.session, scoring_round)
    _submit_all(world.member.id, scoring_round, locked)
    db.session.commit()
    progress = svc.progress(db.session, scoring_round)
    assert (progress.assigned, progress.submitted) == (10, 2)
    by_unit = {p.unit.id: p for p in progress.reviewers}
    assert (by_unit[world.member.id].submitted, by_unit[world.member.id].done) == (2, True)
    assert by_unit[world.head.id].pending and world.member.id not in {p.unit.id for p in progress.behind}
    assert len(progress.behind) == 4
    assert sum(s.submitted for s in progress.subjects) == 2
    mine = svc.reviews_of(db.session, world.member.id, world.cluster.id, world.year.id)
    assert {r.status for r in mine} == {"submitted"} and all(r.assessment_id for r in mine)
    assert svc.reviews_of(db.session, world.outsider.id, world.cluster.id, world.year.id) == []


def test_progress_is_two_queries(world, locked, count_queries):
    scoring_round = svc.create_round(db.session, locked, "all_pairs")
    svc.open_round(db.session, scoring_round)
    db.session.commit()
    db.session.expire_all()
    scoring_round = db.session.get(ScoringRound, scoring_round.id)
    with count_queries() as n:
        progress = svc.progress(db.session, scoring_round)
        names = [(p.unit.name, [line.unit.name for line in p.lines]) for p in progress.reviewers]
    assert n() == 2 and len(names) == 5


def test_a_closed_round_takes_no_more_reviews(world, locked):
    scoring_round = svc.create_round(db.session, locked, "all_pairs")
    svc.open_round(db.session, scoring_round)
    svc.close_round(db.session, scoring_round)
    late = db.session.scalars(select(Assessment).where(Assessment.round_id == scoring_round.id)).first()
    leaf = next(c for c in locked.criteria if c.code == "2")
    with pytest.raises(DomainError):
        assessments_svc.save_score(db.session, late, leaf, "10", expected_revision=None, user_id=None)
