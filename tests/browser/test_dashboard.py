"""In the browser: the council's dashboard updates by itself when a unit submits in another browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import Assessment, Cluster, Criterion
from portal.services.scoring import assessments
from tests import factories
from tests.browser import another_browser, fill_and_submit

pytestmark = pytest.mark.browser


@pytest.fixture
def province(self_round_open):
    return self_round_open


def test_the_dashboard_updates_when_a_unit_submits_elsewhere(page, browser, live_server, live_db, sign_in, province):
    sign_in("council")
    page.goto("/dashboard/")
    row = page.locator("tr", has=page.get_by_role("link", name=province["cluster"]))
    expect(row).to_contain_text("Đã nộp tự chấm: 0/3")
    expect(row).to_contain_text("Chưa có điểm")
    expect(page.get_by_role("img", name="Số cụm, khối ở từng giai đoạn")).to_be_visible()

    with live_db() as session:
        own = session.scalar(select(Assessment.id).where(Assessment.stage == "self").order_by(Assessment.id))
    with another_browser(browser, live_server.url, "head") as other:
        fill_and_submit(other, own, {"I.1": "100", "I.2": "25", "III.1": "0", "II.1": "0"})
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


def test_sorting_on_a_phone_with_the_forms_select_and_on_a_laptop_with_the_headers(page, sign_in, province):
    sign_in("secretariat")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/dashboard/")
    names = page.locator("#dashboard-table .dashboard-table tbody tr td:first-child > a")
    expect(names.first).to_have_text("Cụm thi đua số 1")
    headers = page.locator("#dashboard-table .dashboard-table thead")
    assert headers.bounding_box()["width"] <= 1  # cards: no column header to click
    sort = page.get_by_label("Sắp xếp theo")
    expect(sort).to_be_visible()
    page.get_by_label("Chiều sắp xếp").select_option(label="Giảm dần")
    expect(page).to_have_url(re.compile(r"dir=desc"))
    expect(names.first).to_have_text("Khối các sở")
    sort.select_option(label="Giai đoạn")  # the cluster's self round is open, the block has no table
    expect(page).to_have_url(re.compile(r"sort=stage.*dir=desc|dir=desc.*sort=stage"))
    expect(names.first).to_have_text(province["cluster"])
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 375, f"{wide}px wide at 375px"
    page.screenshot(path="/tmp/dashboard-sort-375.png", full_page=True)

    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator("#dashboard-table .dashboard-table thead").get_by_role("link", name="Cụm, khối", exact=True).click()
    expect(page).to_have_url(re.compile(r"sort=cluster"))
    expect(sort).to_have_value("cluster")  # the header's choice shows in the form's select
    expect(names.first).to_have_text("Cụm thi đua số 1")
    page.get_by_label("Loại").select_option("block")  # a filter keeps the order the header chose
    expect(page).to_have_url(re.compile(r"kind=block"))
    assert "sort=cluster" in page.url


def test_the_cluster_drill_down_updates_by_itself(page, live_db, sign_in, province, page_problems):
    """A submission committed elsewhere reaches the open drill-down through its poll, without a reload."""
    sign_in("council")
    with live_db() as session:
        cluster_id = session.scalar(select(Cluster.id).where(Cluster.name == province["cluster"]))
    page.goto(f"/dashboard/clusters/{cluster_id}/{factories.YEAR}")
    progress = page.locator("#cluster-live")
    expect(progress).to_contain_text("Chưa có điểm để xếp hạng.")
    with live_db() as session:
        own = session.scalar(select(Assessment).where(Assessment.stage == "self").order_by(Assessment.id))
        for key, value in {"quant": "100", "direct": "25", "pass": "1", "bonus": "0", "minus": "0"}.items():
            criterion = session.get(Criterion, province["items"][key])
            assessments.save_score(session, own, criterion, value, "", expected_revision=None, user_id=None)
        assessments.submit(session, own, None)
        session.commit()
    expect(progress).to_contain_text("UBND phường An Bình", timeout=15_000)
    expect(progress.get_by_role("link", name="Kết quả chi tiết")).to_be_visible()
    page_problems.assert_clean()


@pytest.fixture
def decided(seed):
    """The cluster's meeting voted and its results published; the council decided on the flag only."""

    def build():
        from portal.extensions import db
        from portal.services.publication import council, snapshots
        from tests.meeting_helpers import where
        from tests.publication_helpers import award, voted

        world = factories.world()
        voted(world)
        snapshots.publish(db.session, where(world), None)
        flag = award("co_thi_dua")
        fields = council.DecisionFields(9, 2, 13, "approved", "", "125/QĐ-UBND", factories.past_date(3))
        council.decide(db.session, world.year.id, world.cluster.id, flag.id, world.head.id, fields)
        return {"cluster": world.cluster.name, "head": world.head.id, "flag": flag.name}

    return seed(build)


def test_proposals_and_awards_fit_a_phone_and_a_laptop(page, sign_in, decided):
    sign_in("council")
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto("/dashboard/")
        row = page.locator("tr", has=page.get_by_role("link", name=decided["cluster"]))
        expect(row).to_contain_text("Đề nghị khen thưởng:")
        expect(row).to_contain_text("Đồng ý khen thưởng")
        expect(row).to_contain_text("chờ Hội đồng quyết định")
        page.goto(f"/dashboard/units/{decided['head']}")
        expect(page.locator("table")).to_contain_text(decided["flag"])
        for path in ("/dashboard/", f"/dashboard/units/{decided['head']}"):
            page.goto(path)
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{path}: {wide}px wide at {width}px"
            page.screenshot(path=f"/tmp/dashboard-proposals-{width}-{path.count('/')}.png", full_page=True)
