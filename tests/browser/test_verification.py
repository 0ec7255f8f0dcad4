"""In the browser: a top-level bonus item autosaves cleanly; deductions carry their sign; the head's
verification marks every score that differs from the unit's self-score, as it is typed."""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assessment
from portal.services.criteria import sets as criteria_svc
from portal.services.scoring import assessments
from tests import factories
from tests.browser import score_row

pytestmark = pytest.mark.browser


@pytest.fixture
def province(seed):
    """I. 1 direct (90); II. a top-level bonus item, 2 per occurrence (cap 10); III. 1 deduction 0,5 each (cap 3).
    The self round is open; the member has self-scored 80, 1 occurrence, 2 late reports and submitted."""

    def build():
        world = factories.world()
        cset = criteria_svc.create_set(db.session, world.cluster, world.year, title="Bảng 2026", target_total=D(90))
        section = criteria_svc.add_criterion(db.session, cset, None, code="I", title="Nhiệm vụ")
        direct = criteria_svc.add_criterion(db.session, cset, section, code="1", title="Cải cách", max_points=D(90))
        bonus = criteria_svc.add_criterion(
            db.session,
            cset,
            None,
            code="II",
            title="Sáng kiến được công nhận",
            kind="bonus",
            method="per_occurrence",
            points_each=D(2),
            max_points=D(10),
        )
        minus = criteria_svc.add_criterion(db.session, cset, None, code="III", title="Điểm trừ", kind="deduction")
        late = criteria_svc.add_criterion(
            db.session,
            cset,
            minus,
            code="1",
            title="Báo cáo trễ hạn",
            kind="deduction",
            method="per_occurrence",
            points_each=D("0.5"),
            max_points=D(3),
        )
        criteria_svc.publish(db.session, cset)
        criteria_svc.lock(db.session, cset)
        assessments.open_self_round(db.session, cset)
        own = db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == world.member.id))
        for item, raw in ((direct, "80"), (bonus, "1"), (late, "2")):
            assessments.save_score(db.session, own, item, raw, "", expected_revision=None, user_id=None)
        assessments.submit(db.session, own, None)
        return {"cluster_id": world.cluster.id, "member_assessment": own.id, "member": world.member.name}

    return seed(build)


def _type(row, value: str) -> None:
    field = row.locator("form.score-form [name=value]")
    field.fill(value)
    field.press("Tab")
    expect(row.locator(".save-status")).to_contain_text("Đã lưu lúc")


def test_a_top_level_bonus_item_and_a_deduction_autosave_without_console_errors(page, sign_in, province):
    """Saving the top-level bonus item swaps only targets that exist (no htmx:oobErrorNoTarget in the console)."""
    sign_in("deputy")
    page.goto(f"/scoring/{province['cluster_id']}/2026")
    page.get_by_role("link", name="Tự chấm").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tự chấm")
    _type(score_row(page, "II"), "2")
    expect(score_row(page, "II").locator("[id^=points-]")).to_have_text("4")
    _type(score_row(page, "III.1"), "3")
    expect(score_row(page, "III.1").locator("[id^=points-]")).to_have_text("−1,5")
    section_iii = page.locator("tr.section-row").filter(has_text="Điểm trừ")
    expect(section_iii.locator("[id^=section-]")).to_have_text("−1,5")
    expect(page.locator(".score-sidebar [data-total]")).to_have_text("2,5")  # 0 + 4 − 1,5


def test_verification_marks_scores_that_differ_from_the_self_score(page, sign_in, province):
    sign_in("head")
    page.goto(f"/scoring/assessments/{province['member_assessment']}")
    # the self-assessment shows its deduction with its sign
    expect(score_row(page, "III.1").locator("[id^=points-]")).to_have_text("−1")
    page.get_by_role("button", name="Thẩm định bản tự chấm này").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Thẩm định: {province['member']}")
    expect(page.locator(".differs-mark")).to_have_count(0)  # the verification starts from the self-score
    self_cell = score_row(page, "III.1").locator("td.ref-cell")
    expect(self_cell).to_contain_text("→ −1 điểm")
    expect(score_row(page, "III.1").locator("[id^=points-]")).to_have_text("−1")

    # The head lowers I.1 and adds a late report: both rows are marked, in words, as soon as they are saved.
    _type(score_row(page, "I.1"), "70")
    marker = score_row(page, "I.1").locator(".differs-mark")
    expect(marker).to_be_visible()
    expect(marker).to_contain_text("khác điểm tự chấm")
    _type(score_row(page, "III.1"), "3")
    expect(score_row(page, "III.1").locator(".differs-mark")).to_contain_text("khác điểm tự chấm")
    expect(score_row(page, "III.1").locator("[id^=points-]")).to_have_text("−1,5")
    expect(score_row(page, "II").locator(".differs-mark")).to_have_count(0)
    # back to the self-score: the mark goes
    _type(score_row(page, "I.1"), "80")
    expect(score_row(page, "I.1").locator(".differs-mark")).to_have_count(0)

    # reloaded, the page marks the same rows
    page.reload()
    expect(page.locator("tr.score-row.differs")).to_have_count(1)
    expect(score_row(page, "III.1")).to_have_class(re.compile(r"\bdiffers\b"))
