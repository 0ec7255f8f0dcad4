"""Criteria that do not apply to a unit: when the head may mark them, which, and the matrix."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assessment, AuditEntry, NotApplicable
from portal.models.base import utcnow
from portal.policy import ClusterYear
from portal.services import DomainError
from portal.services.criteria import sets as criteria_svc
from portal.services.results import applicability as svc
from portal.services.results import settings as settings_svc
from portal.services.results.inputs import Settings
from portal.services.scoring import assessments as scoring
from portal.services.scoring import verification
from tests import factories

REASON = "Đơn vị không có khu du lịch"


@pytest.fixture
def here(world):
    return ClusterYear(world.year.id, world.cluster.id)


@pytest.fixture
def table(world):
    cset, items = factories.scoring_table(world)
    db.session.commit()
    return cset, items


def _mark(here, unit, criterion, reason=REASON):
    return svc.mark(db.session, here, unit, criterion, reason, user_id=None)


def test_mark_before_scoring_change_the_reason_and_unmark(world, here, table):
    _cset, items = table
    found = _mark(here, world.member, items["direct"])
    again = _mark(here, world.member, items["direct"], "Địa bàn không có điểm du lịch")
    db.session.commit()
    assert again.id == found.id and again.reason == "Địa bàn không có điểm du lịch"
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "NotApplicable").order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[0].object_label == "Không áp dụng tiêu chí 2: UBND xã Tân Hồng"
    svc.unmark(db.session, here, found)
    db.session.commit()
    assert db.session.scalars(select(NotApplicable)).all() == []


def test_refused_while_units_score_allowed_during_verification(world, here, table):
    cset, items = table
    self_round = scoring.open_self_round(db.session, cset)
    db.session.commit()
    with pytest.raises(DomainError, match="trước khi mở vòng tự chấm"):
        _mark(here, world.member, items["direct"])
    assert not svc.window_open(db.session, here)
    own = db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == world.head.id))
    for key, raw in (("quant", "100"), ("direct", "20"), ("pass", "1"), ("bonus", "0"), ("minus", "0")):
        scoring.save_score(db.session, own, items[key], raw, expected_revision=None, user_id=None)
    scoring.submit(db.session, own, None)
    verification.start_verification(db.session, own, world.head.id)
    assert verification.verification_round(db.session, self_round).status == "open"
    assert _mark(here, world.member, items["direct"]).reason == REASON
    verification.verification_round(db.session, self_round).status = "closed"
    db.session.flush()
    with pytest.raises(DomainError, match="trong khi thẩm định"):
        _mark(here, world.deputy, items["direct"])


@pytest.mark.parametrize(
    ("item", "unit", "reason", "field", "message"),
    [
        ("bonus", "member", REASON, None, "điểm thưởng, điểm trừ"),
        ("minus", "member", REASON, None, "điểm thưởng, điểm trừ"),
        ("section", "member", REASON, "criterion_id", "không có tiêu chí con"),
        ("direct", "outsider", REASON, "unit_id", "không thuộc cụm"),
        ("direct", "member", "  ", "reason", "Nêu lý do"),
        ("direct", "member", "Lý do\x00", "reason", "ký tự"),
    ],
)
def test_what_may_be_marked(world, here, table, item, unit, reason, field, message):
    cset, items = table
    criterion = items.get(item) or next(c for c in cset.criteria if c.code == "I")
    with pytest.raises(DomainError, match=message) as error:
        _mark(here, getattr(world, unit), criterion, reason)
    assert error.value.field == field
    assert db.session.scalars(select(NotApplicable)).all() == []


def test_a_criterion_of_another_table(world, here, table):
    other = criteria_svc.create_set(db.session, world.other_cluster, world.year, title="Bảng khối", target_total=100)
    section = criteria_svc.add_criterion(db.session, other, None, code="I", title="Nhiệm vụ", max_points=100)
    with pytest.raises(DomainError, match="không thuộc bảng tiêu chí") as error:
        _mark(here, world.member, section)
    assert error.value.field == "criterion_id"


def test_no_table_nothing_to_mark(world, here):
    with pytest.raises(DomainError, match="chưa có bảng tiêu chí"):
        svc.unmark(db.session, here, NotApplicable())
    assert svc.matrix(db.session, here) is None


def test_published_results_refuse_marks(world, here, table):
    _cset, items = table
    found = _mark(here, world.member, items["direct"])
    row = settings_svc.save(db.session, here, Settings())
    row.locked_at = utcnow()
    db.session.commit()
    with pytest.raises(DomainError, match="công bố"):
        _mark(here, world.deputy, items["direct"])
    with pytest.raises(DomainError, match="công bố"):
        svc.unmark(db.session, here, found)
    assert not svc.matrix(db.session, here).editable


def test_the_matrix_in_a_fixed_number_of_queries(world, here, table, count_queries):
    cset, items = table
    _mark(here, world.member, items["direct"])
    _mark(here, world.deputy, items["quant"], "Không giao chỉ tiêu thu ngân sách")
    db.session.commit()
    ids = (world.member.id, world.deputy.id, items["direct"].id, items["quant"].id)
    db.session.expire_all()
    with count_queries() as n:
        found = svc.matrix(db.session, here)
    assert n() == 6
    member, deputy, direct, quant = ids
    assert found.criteria_set.id == cset.id and found.editable
    assert [path for _leaf, path in found.leaves] == ["I.1", "I.2", "I.3"]  # scored leaves only
    assert [u.name for u in found.units] == ["UBND phường An Bình", "UBND phường Mỹ Trà", "UBND xã Tân Hồng"]
    assert found.mark_of(member, direct).reason == REASON
    assert found.mark_of(deputy, quant).reason.startswith("Không giao")
    assert found.mark_of(member, quant) is None
