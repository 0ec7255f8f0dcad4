"""In the browser: the council's dashboard updates by itself when a unit submits in another browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import Assessment
from portal.services.scoring import assessments
from tests import factories
from tests.browser import label
from tests.browser.test_scoring import _row

pytestmark = pytest.mark.browser


@pytest.fixture
def province(seed):
    """The cluster's locked table and its self round open; nobody has submitted yet."""

    def build():
        from portal.extensions import db

        world = factories.world()
        cset, items = factories.scoring_table(world)
        assessments.open_self_round(db.session, cset)
        return {"cluster": world.cluster.name, "items": {key: item.id for key, item in items.items()}}

    return seed(build)


def test_the_dashboard_updates_when_a_unit_submits_elsewhere(page, browser, live_server, live_db, sign_in, province):
    sign_in("council")
    page.goto("/dashboard/")
    row = page.locator("tr", has=page.get_by_role("link", name=province["cluster"]))
    expect(row).to_contain_text("Đã nộp tự chấm: 0/3")
    expect(row).to_contain_text("Chưa có điểm")
    expect(page.get_by_role("img", name="Số cụm, khối ở từng giai đoạn")).to_be_visible()

    other_context = browser.new_context(base_url=live_server.url, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    other = other_context.new_page()
    try:
        other.goto("/login")
        other.get_by_label(label("Tên đăng nhập")).fill("head")
        other.get_by_label(label("Mật khẩu")).fill(factories.PASSWORD)
        other.get_by_role("button", name="Đăng nhập").click()
        other.wait_for_url(lambda url: "/login" not in url)
        with live_db() as session:
            own = session.scalar(select(Assessment.id).where(Assessment.stage == "self").order_by(Assessment.id))
        other.goto(f"/scoring/assessments/{own}")
        for code, value in (("I.1", "100"), ("I.2", "25"), ("III.1", "0"), ("II.1", "0")):
            field = _row(other, code)
            field.locator("form.score-form [name=value]").fill(value)
            field.locator("form.score-form [name=value]").press("Tab")
            expect(field.locator(".save-status")).to_contain_text("Đã lưu lúc")
        passfail = _row(other, "I.3")
        passfail.locator("form.score-form [name=value]").select_option(label="Đạt")
        expect(passfail.locator(".save-status")).to_contain_text("Đã lưu lúc")
        other.once("dialog", lambda dialog: dialog.accept())
        other.get_by_role("button", name="Nộp bản tự chấm").click()
        expect(other.get_by_role("alert").filter(has_text="Đã nộp bản tự chấm")).to_be_visible()
    finally:
        other_context.close()
    # the first page was never reloaded: its table polls (304 while nothing changes) and swaps the new one in
    expect(row).to_contain_text("Đã nộp tự chấm: 1/3", timeout=15_000)
    expect(row).to_contain_text("UBND phường An Bình")  # the leader now


def test_the_dashboard_at_phone_and_laptop_widths(page, sign_in, province):
    sign_in("secretariat")
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"/dashboard/?q={province['cluster'][:4].upper()}")
        expect(page.get_by_role("link", name=province["cluster"])).to_be_visible()
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{wide}px wide at {width}px"
        page.screenshot(path=f"/tmp/dashboard-{width}.png", full_page=True)
