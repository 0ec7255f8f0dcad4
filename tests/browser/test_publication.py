"""In the browser: the head publishes a closed meeting's results (the hash shows, the recompute says "khớp"),
the secretariat records the council's decision on the flag proposal, and the unit reads it on its cluster's
published results — at a phone's width and a desktop's, without horizontal scrolling."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.publication_helpers import award, voted

pytestmark = pytest.mark.browser


@pytest.fixture
def closed_meeting(seed):
    def build():
        world = factories.world()
        voted(world)
        return {
            "cluster": world.cluster.id,
            "year": world.year.year,
            "flag": award("co_thi_dua").id,
            "head": world.head.id,
        }

    return seed(build)


def _no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", [375, 1280])
def test_publish_then_the_council_decides_and_the_unit_sees_it(page, sign_in, settled, closed_meeting, width):
    ids = closed_meeting
    page.set_viewport_size({"width": width, "height": 900})
    url = f"/publication/{ids['cluster']}/{ids['year']}"
    sign_in("head")
    page.goto(url)
    with settled():
        page.get_by_role("button", name="Công bố kết quả").click()
    expect(page.get_by_text("Đã công bố kết quả.")).to_be_visible()
    expect(page.locator("#snapshot-hash")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    with settled():
        page.get_by_role("link", name="Tính lại và đối chiếu").click()
    expect(page.locator("#verify-result")).to_have_text("Tính lại từ dữ liệu đã lưu: khớp.")
    _no_horizontal_scroll(page)

    page.context.clear_cookies()
    sign_in("secretariat")
    page.goto(f"/publication/council/{ids['year']}")
    proposal = page.locator(f"#proposal-{ids['cluster']}-{ids['flag']}-{ids['head']}")
    proposal.locator("summary").click()
    proposal.get_by_label("Phiếu đồng ý").fill("9")
    proposal.get_by_label("Phiếu không đồng ý").fill("2")
    proposal.get_by_label("Số thành viên biểu quyết").fill("13")
    proposal.get_by_label("Số quyết định").fill("125/QĐ-UBND")
    day = factories.vn_format(factories.past_date(2))
    proposal.get_by_label("Ngày quyết định").fill(day)
    with settled():
        proposal.get_by_role("button", name="Lưu quyết định").click()
    expect(page.get_by_text("Đã ghi quyết định.")).to_be_visible()
    _no_horizontal_scroll(page)

    page.context.clear_cookies()
    sign_in("member")
    page.goto(url)
    expect(page.get_by_text(f"Quyết định số 125/QĐ-UBND ngày {day}")).to_be_visible()
    _no_horizontal_scroll(page)
