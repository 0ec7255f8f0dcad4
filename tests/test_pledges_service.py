"""Pledge agreements on the service: binding rules, charters, signing, re-confirming, targets."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal as D

import pytest
import time_machine
from sqlalchemy import select

from portal.extensions import db
from portal.formatting import VN_TZ
from portal.models import Charter, PledgeSignature
from portal.services import DomainError
from portal.services.criteria import sets as criteria_svc
from portal.services.pledges import agreements as svc
from tests import factories


@pytest.fixture
def published(world):
    return factories.criteria_set(world)


@pytest.fixture
def pledge(world, published):
    p = svc.create(db.session, world.cluster, world.year)
    db.session.commit()
    return p


def _sign(pledge, unit, name="Nguyễn Văn A", signed_on=None):
    return svc.sign(
        db.session,
        pledge,
        unit,
        representative_name=name,
        representative_position="Chủ tịch UBND",
        signed_on=signed_on or factories.past_date(3),
        user_id=None,
    )


def test_create_binds_the_published_set(pledge, published):
    assert pledge.criteria_set_id == published.id and pledge.title == "Giao ước thi đua năm 2026"
    with pytest.raises(DomainError, match="đã có giao ước"):
        svc.create(db.session, pledge.cluster, pledge.year)


def test_a_draft_set_cannot_be_bound(pledge, world):
    criteria_svc.unpublish(db.session, pledge.criteria_set)
    with pytest.raises(DomainError, match="đã công bố"):
        svc.update(
            db.session, pledge, criteria_set_id=pledge.criteria_set_id, meeting_date=None, title="X", commitments="Một"
        )


def test_charter_is_stable_and_changes_with_the_rules(pledge):
    first = svc.current_charter(db.session, pledge)
    assert svc.current_charter(db.session, pledge).hash == first.hash and svc.verify(first)
    svc.update(
        db.session,
        pledge,
        criteria_set_id=pledge.criteria_set_id,
        meeting_date=None,
        **{k: getattr(pledge, k) for k in svc.TEXT_FIELDS} | {"commitments": pledge.commitments + "\nCam kết mới."},
    )
    second = svc.current_charter(db.session, pledge)
    assert second.hash != first.hash
    assert '"Cam kết mới."' in second.content or "Cam kết mới." in second.content


def test_sign_confirm_and_reconfirm_after_an_amendment(pledge, world, published):
    head_sig = _sign(pledge, world.head)
    _sign(pledge, world.deputy)
    with pytest.raises(DomainError, match="đã ký"):
        _sign(pledge, world.head)
    svc.confirm(db.session, head_sig, None)
    charter = svc.current_charter(db.session, pledge).hash
    labels = [(s.unit.name, s.label) for s in svc.statuses(db.session, pledge, charter)]
    assert labels == [
        ("UBND phường An Bình", "Đã ký"),
        ("UBND phường Mỹ Trà", "Đã ký"),
        ("UBND xã Tân Hồng", "Chưa ký"),
    ]
    # the rules change: a new criteria version is bound
    criteria_svc.lock(db.session, published)
    v2 = criteria_svc.new_version(db.session, published, "Bổ sung tiêu chí chuyển đổi số")
    criteria_svc.publish(db.session, v2)
    svc.update(
        db.session, pledge, criteria_set_id=v2.id, meeting_date=None, **{k: getattr(pledge, k) for k in svc.TEXT_FIELDS}
    )
    now = svc.current_charter(db.session, pledge).hash
    assert [s.label for s in svc.statuses(db.session, pledge, now)] == [
        "Cần ký xác nhận lại",
        "Cần ký xác nhận lại",
        "Chưa ký",
    ]
    _sign(pledge, world.head)
    assert svc.statuses(db.session, pledge, now)[0].label == "Đã ký"
    # every signature still names the exact charter it was for, and that charter still verifies
    for signature in db.session.scalars(select(PledgeSignature)):
        assert svc.verify(db.session.get(Charter, signature.charter_hash))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"representative_name": " "}, "họ tên"),
        ({"representative_position": ""}, "chức vụ"),
        ({"signed_on": None}, "ngày ký"),
        ({"signed_on": "tomorrow"}, "sau hôm nay"),
    ],
)
def test_bad_signatures(pledge, world, change, message):
    fields = {
        "representative_name": "Lê Văn B",
        "representative_position": "Giám đốc",
        "signed_on": factories.past_date(3),
    } | change
    if fields["signed_on"] == "tomorrow":  # computed when the test runs, not when it is collected
        fields["signed_on"] = factories.future_date(1)
    with pytest.raises(DomainError, match=message):
        svc.sign(db.session, pledge, world.member, user_id=None, **fields)


def _early_morning_in_vietnam() -> datetime:
    """01:30 in Vietnam is 18:30 UTC the day before: the server's UTC date is still yesterday."""
    return datetime.combine(factories.future_date(1), time(1, 30), tzinfo=VN_TZ)


def test_today_is_the_vietnam_day_before_seven_in_the_morning(pledge, world):
    early = _early_morning_in_vietnam()
    with time_machine.travel(early, tick=False):
        assert datetime.now(UTC).date() == early.date() - timedelta(days=1)  # the server's day is still yesterday
        assert _sign(pledge, world.member, signed_on=early.date()).signed_on == early.date()
        with pytest.raises(DomainError, match="sau hôm nay"):
            _sign(pledge, world.head, signed_on=early.date() + timedelta(days=1))


def test_a_signature_may_carry_the_meeting_date_ahead(pledge, world):
    """The agreement is dated the day of its signing meeting; a member that signs ahead signs that date."""
    meeting = factories.future_date(10)
    svc.update(
        db.session,
        pledge,
        criteria_set_id=pledge.criteria_set_id,
        meeting_date=meeting,
        **{k: getattr(pledge, k) for k in svc.TEXT_FIELDS},
    )
    assert _sign(pledge, world.member, signed_on=meeting).signed_on == meeting
    with pytest.raises(DomainError, match="sau hôm nay"):
        _sign(pledge, world.head, signed_on=meeting - timedelta(days=1))


def test_only_members_sign(pledge, world):
    with pytest.raises(DomainError, match="không phải thành viên"):
        _sign(pledge, world.outsider)


def test_targets(pledge, world, published):
    [item] = svc.quantitative_items(db.session, pledge)
    row = svc.register_target(db.session, published, world.member, item, D(1200), "Theo kế hoạch UBND tỉnh giao")
    again = svc.register_target(db.session, published, world.member, item, D(1300))
    assert row.id == again.id and again.target == D(1300)
    with pytest.raises(DomainError, match="không được âm"):
        svc.register_target(db.session, published, world.member, item, D(-1))
    criteria_svc.lock(db.session, published)
    with pytest.raises(DomainError, match="đã khóa"):
        svc.register_target(db.session, published, world.member, item, D(1))
    assert svc.targets_of(db.session, [world.member.id], [item])[(world.member.id, item.id)].target == D(1300)
