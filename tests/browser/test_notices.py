"""In the browser: the bell counts the member's notices, on a phone too; opening one leads to its page;
"mark all read" empties the bell through htmx without a reload (CSRF on, as in production)."""

import re

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models.notices import NoticeKind
from portal.services.notices import events
from tests import factories

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def province(seed):
    def build():
        world = factories.world()
        member = world.users["member"]
        for text in ("Vòng tự chấm điểm năm nay đã mở.", "Giao ước thi đua năm nay cần được ký."):
            events.notify(
                db.session,
                [member.id],
                NoticeKind.ROUND_OPENED,
                cluster_id=world.cluster.id,
                year_id=world.year.id,
                message=text,
                params={},
                endpoint="scoring.for_cluster",
                args={"cluster_id": world.cluster.id, "year": world.year.year},
            )
        return {"cluster": world.cluster.id, "year": world.year.year}

    return seed(build)


def test_the_bell_on_a_phone_then_mark_all_read(page, sign_in, province, settled, page_problems):
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in("member")
    bell = page.locator("#notice-bell")
    expect(bell).to_be_visible()  # beside the menu button, not folded into the menu
    expect(bell.locator(".badge")).to_have_text("2")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    bell.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thông báo")
    expect(page.locator(".notice-unread")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_role("button", name=re.compile("Giao ước thi đua năm nay")).click()
    expect(page).to_have_url(re.compile(rf"/scoring/{province['cluster']}/{province['year']}$"))
    expect(page.locator("#notice-bell .badge")).to_have_text("1")

    page.goto("/notices/")
    with settled():
        page.get_by_role("button", name="Đánh dấu tất cả là đã đọc").click()
    expect(page.locator(".notice-unread")).to_have_count(0)
    expect(page.locator("#notice-bell .badge")).to_have_count(0)  # the bell refreshed without a reload
    page_problems.assert_clean()
