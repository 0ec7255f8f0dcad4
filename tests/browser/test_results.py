"""In the browser: the head reads the ranking after verification, switches the score basis to the trimmed mean
and sees the ranks move; the head marks a criterion "không áp dụng" and the member's form shows it."""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assessment, CriteriaSet, NotApplicable
from portal.services.criteria import sets as criteria_svc
from portal.services.org import cluster_year
from portal.services.scoring import assessments, reviews, verification
from tests import factories
from tests.browser import label, sign_out

pytestmark = pytest.mark.browser

YEAR = factories.YEAR
# Self-scores rank the units one way; every peer scores them the other way round.
SELF = {"head": "90", "deputy": "80", "member": "70", "fourth": "60"}
PEER = {"head": "50", "deputy": "60", "member": "75", "fourth": "85"}
VERIFIED_MEMBER = "72"


def _table(world, leaves=1):
    """I. Nhiệm vụ: one direct criterion of 100 points (and, with leaves=2, a second of 20 for tourism)."""
    cset = criteria_svc.create_set(db.session, world.cluster, world.year, title="Bảng điểm", target_total=D(100))
    section = criteria_svc.add_criterion(db.session, cset, None, code="I", title="Nhiệm vụ")
    main = criteria_svc.add_criterion(
        db.session, cset, section, code="1", title="Cải cách hành chính", max_points=D(100 if leaves == 1 else 80)
    )
    extra = None
    if leaves == 2:
        extra = criteria_svc.add_criterion(
            db.session, cset, section, code="2", title="Phát triển du lịch", max_points=D(20)
        )
    criteria_svc.publish(db.session, cset)
    criteria_svc.lock(db.session, cset)
    return cset, main, extra


def _assessment(round_id, subject, author=None):
    return db.session.scalar(
        select(Assessment).where(
            Assessment.round_id == round_id,
            Assessment.subject_unit_id == subject.id,
            Assessment.author_unit_id == (author or subject).id,
        )
    )


def _save_submit(assessment, criterion, raw, note=""):
    assessments.save_score(db.session, assessment, criterion, raw, note, expected_revision=None, user_id=None)
    assessments.submit(db.session, assessment, None)


@pytest.fixture
def ranked(seed):
    """Four members self-scored and submitted; the head verified the member (70 → 72); an all-pairs peer round
    in which every unit scored every other, closed. Agreed scores rank head, deputy, member, fourth; the peers'
    trimmed means rank them the other way round."""

    def build():
        world = factories.world()
        fourth = factories.unit("UBND xã Hòa Lợi")
        cluster_year.add_membership(db.session, world.year, world.cluster, fourth)
        units = {"head": world.head, "deputy": world.deputy, "member": world.member, "fourth": fourth}
        cset, main, _extra = _table(world)
        self_round = assessments.open_self_round(db.session, cset)
        for name, unit in units.items():
            _save_submit(_assessment(self_round.id, unit), main, SELF[name])
        verified = verification.start_verification(db.session, _assessment(self_round.id, world.member), world.head.id)
        _save_submit(verified, main, VERIFIED_MEMBER, "Bổ sung minh chứng cải cách")
        peer_round = reviews.create_round(db.session, cset, "all_pairs")
        reviews.open_round(db.session, peer_round)
        for reviewer in units.values():
            for name, subject in units.items():
                if subject is not reviewer:
                    _save_submit(_assessment(peer_round.id, subject, reviewer), main, PEER[name])
        reviews.close_round(db.session, peer_round)
        return {"cluster_id": world.cluster.id, "names": {name: unit.name for name, unit in units.items()}}

    return seed(build)


def _rank(page, unit_name: str):
    row = page.locator("table tbody tr").filter(has=page.get_by_role("link", name=unit_name, exact=True))
    return row.locator("td[data-label='Hạng'] strong")


def test_the_head_switches_to_the_trimmed_mean_and_the_ranks_move(page, sign_in, ranked):
    names = ranked["names"]
    sign_in("head")
    page.goto(f"/results/{ranked['cluster_id']}/{YEAR}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    for name, rank in (("head", "1"), ("deputy", "2"), ("member", "3"), ("fourth", "4")):
        expect(_rank(page, names[name])).to_have_text(rank)
    member_row = page.locator("table tbody tr").filter(has=page.get_by_role("link", name=names["member"], exact=True))
    expect(member_row.locator("td[data-label='Tổng điểm']")).to_have_text("72")  # the verified score, not 70

    page.goto(f"/results/{ranked['cluster_id']}/settings?year={YEAR}")
    page.get_by_label("Trung bình chấm chéo, bỏ một điểm cao nhất và một điểm thấp nhất").check()
    page.get_by_role("button", name="Lưu cách tính").click()
    expect(page.locator(".alert-success")).to_contain_text("Đã lưu cách tính kết quả")

    page.goto(f"/results/{ranked['cluster_id']}/{YEAR}")
    for name, rank in (("fourth", "1"), ("member", "2"), ("deputy", "3"), ("head", "4")):
        expect(_rank(page, names[name])).to_have_text(rank)


@pytest.fixture
def unscored(seed):
    """A locked table with two criteria (I.1 of 80, I.2 tourism of 20); no round opened yet."""

    def build():
        world = factories.world()
        cset, _main, extra = _table(world, leaves=2)
        return {"cluster_id": world.cluster.id, "set_id": cset.id, "extra_id": extra.id, "member": world.member.name}

    return seed(build)


def test_the_head_marks_a_criterion_and_the_members_form_shows_it(
    page, page_problems, sign_in, settled, unscored, live_db
):
    reason = "Địa bàn xã không có khu du lịch"
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in("head")
    page.goto(f"/results/{unscored['cluster_id']}/not-applicable?year={YEAR}")
    page.get_by_label(label("Đơn vị")).select_option(label=unscored["member"])
    page.get_by_label(label("Tiêu chí")).select_option(label="I.2. Phát triển du lịch")
    page.get_by_label(label("Lý do")).fill("")
    page_problems.expect(422, f"/results/{unscored['cluster_id']}/not-applicable")  # the empty reason, on purpose
    with settled():
        page.get_by_role("button", name="Đánh dấu", exact=True).click()
    expect(page.locator("#reason-error")).to_contain_text("Nêu lý do")  # 422, next to the field
    page.get_by_label(label("Lý do")).fill(reason)
    with settled():
        page.get_by_role("button", name="Đánh dấu", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Đã đánh dấu không áp dụng")
    card = page.locator(".card").filter(has=page.get_by_role("heading", name=unscored["member"]))
    expect(card).to_contain_text("I.2")
    expect(card.locator("textarea")).to_have_value(reason)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll at 375 px

    with live_db() as session:
        assessments.open_self_round(session, session.get(CriteriaSet, unscored["set_id"]))
        session.commit()
        assert session.scalar(select(NotApplicable.reason)) == reason
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.locator(".not-applicable-matrix")).to_be_visible()  # the compact matrix at 1280 px
    sign_out(page)
    sign_in("member")
    page.goto(f"/scoring/{unscored['cluster_id']}/{YEAR}")
    page.get_by_role("link", name="Tự chấm").first.click()
    row = page.locator("tr.score-row").filter(has=page.locator("td", has_text=re.compile(r"^I\.2$")))
    expect(row).to_contain_text(f"Không áp dụng — {reason}")
    expect(row.locator("[name=value]")).to_have_count(0)
    expect(page.locator("[data-applicable-maximum]")).to_contain_text("điểm chuẩn các tiêu chí áp dụng: 80")
