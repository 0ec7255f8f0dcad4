"""Units not eligible for awards: marking, ending, the years a mark counts for, and who may mark."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEntry, Ineligibility
from portal.models.results import IneligibilityKind
from portal.policy import ANONYMOUS, ClusterYear, Principal, results_permission
from portal.services import DomainError
from portal.services.org import cluster_year
from portal.services.results import eligibility as svc
from tests import factories

REASON = "Thanh tra tỉnh thanh tra công tác tài chính theo QĐ 15/QĐ-TTr"


def _mark(world, unit=None, **kw):
    values = {"kind": "inspection", "reason": REASON, "starts_on": date(world.year.year, 5, 1), "user_id": None}
    return svc.mark(db.session, world.year, unit or world.member, **(values | kw))


def test_mark_and_end(world):
    row = _mark(world, user_id=world.users["head"].id)
    db.session.commit()
    assert (row.kind_label, row.ends_on, row.created_by_user_id) == (
        "Đang thanh tra, kiểm tra",
        None,
        world.users["head"].id,
    )
    svc.end(db.session, row, date(world.year.year, 9, 30))
    db.session.commit()
    assert row.ends_on == date(world.year.year, 9, 30)
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "Ineligibility").order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[0].object_label == "Không đủ điều kiện khen thưởng: UBND xã Tân Hồng (Đang thanh tra, kiểm tra)"
    with pytest.raises(DomainError, match="đã kết thúc"):
        svc.end(db.session, row, date(world.year.year, 10, 30))


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"kind": "rumour"}, "kind", "Chọn trường hợp"),
        ({"reason": " x "}, "reason", "Nêu rõ lý do"),
        ({"reason": "Lý do\x07 ẩn"}, "reason", "ký tự điều khiển"),
        ({"starts_on": None}, "starts_on", "ngày bắt đầu"),
        ({"ends_on": date(factories.YEAR, 4, 30)}, "ends_on", "không được trước"),
        ({"starts_on": date(factories.YEAR + 1, 1, 1)}, "starts_on", "trong năm"),
        (
            {"starts_on": date(factories.YEAR - 1, 1, 1), "ends_on": date(factories.YEAR - 1, 12, 31)},
            "starts_on",
            "trong năm",
        ),
    ],
)
def test_every_value_is_checked(world, change, field, message):
    with pytest.raises(DomainError, match=message) as error:
        _mark(world, **change)
    assert error.value.field == field
    assert db.session.scalars(select(Ineligibility)).all() == []


def test_only_a_member_of_a_cluster_that_year(world):
    loner = factories.unit()
    with pytest.raises(DomainError, match="không thuộc cụm, khối nào") as error:
        _mark(world, loner)
    assert error.value.field == "unit_id"
    assert svc.cluster_year_of(db.session, world.year, loner) is None
    assert svc.cluster_year_of(db.session, world.year, world.member) == ClusterYear(world.year.id, world.cluster.id)


def test_an_end_before_the_start_is_refused(world):
    row = _mark(world)
    for day, message in ((None, "ngày kết thúc"), (date(world.year.year, 4, 1), "không được trước")):
        with pytest.raises(DomainError, match=message):
            svc.end(db.session, row, day)
    assert row.ends_on is None


def test_a_mark_counts_for_every_year_its_period_overlaps(world):
    this_year = world.year.year
    open_ended = _mark(world, kind=IneligibilityKind.INVESTIGATION, starts_on=date(this_year, 11, 1))
    ended = _mark(world, world.head, kind="complaint", starts_on=date(this_year, 2, 1), ends_on=date(this_year, 3, 1))
    db.session.commit()
    members = [world.head.id, world.deputy.id, world.member.id]
    assert svc.of_year(db.session, this_year, members) == {world.head.id: [ended], world.member.id: [open_ended]}
    assert svc.of_year(db.session, this_year + 1, members) == {world.member.id: [open_ended]}
    assert svc.of_year(db.session, this_year - 1, members) == {}
    assert svc.of_year(db.session, this_year, []) == {}
    following = factories.year(this_year + 1, current=False)
    cluster_year.add_membership(db.session, following, world.cluster, world.member)
    svc.mark(
        db.session,
        following,
        world.member,
        kind="targets_missed",
        reason="Không đạt chỉ tiêu thu ngân sách",
        starts_on=date(this_year + 1, 1, 1),
        user_id=None,
    )
    db.session.commit()
    both = svc.of_year(db.session, this_year + 1, members)[world.member.id]
    assert svc.reason_text(both) == (
        f"Đang điều tra: {REASON}; Không hoàn thành chỉ tiêu đã đăng ký: Không đạt chỉ tiêu thu ngân sách"
    )


def test_the_database_keeps_the_period_in_order(world):
    db.session.add(
        Ineligibility(
            year_id=world.year.id,
            unit_id=world.member.id,
            kind="other",
            reason=REASON,
            starts_on=date(world.year.year, 5, 1),
            ends_on=date(world.year.year, 4, 1),
        )
    )
    with pytest.raises(Exception, match="(?i)check"):
        db.session.flush()
    db.session.rollback()


# ---------------------------------------------------------------- who may mark


HERE = ClusterYear(year_id=1, cluster_id=10)
ELSEWHERE = ClusterYear(year_id=1, cluster_id=20)
HEAD = Principal(kind="unit", user_id=4, unit_id=1, memberships=frozenset({HERE}), offices={HERE: "head"})
DEPUTY = Principal(kind="unit", user_id=5, unit_id=2, memberships=frozenset({HERE}), offices={HERE: "deputy"})
PRINCIPALS = {
    "anonymous": ANONYMOUS,
    "secretariat": Principal(kind="secretariat", user_id=1),
    "overseer": Principal(kind="council", user_id=2, council_member_id=1, oversees=frozenset({HERE})),
    "head": HEAD,
    "deputy": DEPUTY,
    "member": Principal(kind="unit", user_id=6, unit_id=3, memberships=frozenset({HERE})),
    "other head": Principal(
        kind="unit", user_id=7, unit_id=9, memberships=frozenset({ELSEWHERE}), offices={ELSEWHERE: "head"}
    ),
}
EXPECTED = {
    "edit_result_settings": {"head"},
    "mark_not_applicable": {"head"},
    "mark_ineligible": {"secretariat", "head"},
    "edit_bands": {"secretariat"},
}


@pytest.mark.parametrize("role", PRINCIPALS)
@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_who_may_change_what_results_are_computed_with(role, action):
    scope = None if action == "edit_bands" else HERE
    assert results_permission(PRINCIPALS[role], action, scope) is (role in EXPECTED[action])


@pytest.mark.parametrize("action", ["edit_result_settings", "mark_not_applicable", "mark_ineligible"])
def test_a_deputy_when_the_head_lets_it_lead(action):
    assert results_permission(DEPUTY, action, HERE, deputy_may_lead=True)
    assert not results_permission(HEAD, action, ELSEWHERE)
    assert not results_permission(HEAD, action, None)


def test_the_unit_of_another_cluster_is_not_the_heads():
    """The scope is the unit's cluster-year: the head of another cluster never marks it."""
    assert not results_permission(PRINCIPALS["other head"], "mark_ineligible", HERE)
    assert results_permission(PRINCIPALS["other head"], "mark_ineligible", ELSEWHERE)


def test_unknown_action():
    with pytest.raises(ValueError, match="unknown results action"):
        results_permission(HEAD, "publish_results", HERE)
