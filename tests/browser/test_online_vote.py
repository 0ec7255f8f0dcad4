"""In the browser: the head opens the online secret ballot, two member units vote from their own browsers on a
phone-sized screen, the head closes the vote, the nominations appear, a voter checks its receipt code."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser import label
from tests.meeting_helpers import opened, scored

pytestmark = pytest.mark.browser

POINTS = {"head": ("55", "35"), "deputy": ("50", "28"), "member": ("45", "35")}
FLAG = "Cờ thi đua của Ủy ban nhân dân tỉnh"
CERTIFICATE = "(toàn diện)"
WIDE = "() => document.documentElement.scrollWidth > window.innerWidth"


@pytest.fixture
def meeting(seed):
    """Three members scored, the year-end meeting opened with all three present."""

    def build():
        world = factories.world()
        scored(world, POINTS)
        opened(world)
        return {"cluster": world.cluster.id, "head": world.head.name, "deputy": world.deputy.name}

    return seed(build)


def _voter(browser, live_server, username: str):
    """A phone-sized browser context of its own, signed in as the unit's account."""
    context = browser.new_context(
        base_url=live_server.url, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", viewport={"width": 375, "height": 800}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label(label("Tên đăng nhập")).fill(username)
    page.get_by_label(label("Mật khẩu")).fill(factories.PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return context, page


def _vote(page, path: str, flag: str, certificates: list[str]) -> str:
    page.goto(path + "/vote")
    page.locator("fieldset", has_text=FLAG).get_by_label(flag).check()
    for name in certificates:
        page.locator("fieldset", has_text=CERTIFICATE).get_by_label(name).check()
    assert not page.evaluate(WIDE), "the ballot scrolls sideways at 375 px"
    page.get_by_role("button", name="Bỏ phiếu", exact=True).click()
    expect(page.locator("#voted")).to_be_visible()
    code = page.locator("[data-receipt]").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", code), code
    assert not page.evaluate(WIDE), "the receipt scrolls sideways at 375 px"
    return code


def test_the_head_opens_two_units_vote_the_head_closes_and_a_voter_checks_its_receipt(
    page, sign_in, settled, meeting, browser, live_server
):
    path = f"/meetings/{meeting['cluster']}/2026"
    sign_in("head")
    page.goto(path)
    online = page.locator("#online-vote")
    expect(online).to_contain_text("Chưa mở bỏ phiếu trực tuyến.")
    with settled():
        online.get_by_role("button", name="Mở bỏ phiếu trực tuyến").click()
    expect(page.locator("#online-vote")).to_contain_text("0/3 đơn vị có mặt đã bỏ phiếu")

    codes = {}
    contexts = []
    try:
        for username, certificates in (
            ("member", [meeting["deputy"]]),
            ("deputy", [meeting["deputy"], meeting["head"]]),
        ):
            context, voter = _voter(browser, live_server, username)
            contexts.append((context, voter))
            codes[username] = _vote(voter, path, meeting["head"], certificates)

        page.reload()
        expect(page.locator("#online-vote")).to_contain_text("2/3 đơn vị có mặt đã bỏ phiếu")
        expect(page.locator("#online-vote")).to_contain_text("ẩn cho đến khi đóng")
        page.once("dialog", lambda dialog: dialog.accept())
        with settled():
            page.locator("#online-vote").get_by_role("button", name="Đóng bỏ phiếu và kiểm phiếu").click()
        expect(page.locator("#meeting")).to_contain_text("Đã đóng bỏ phiếu và kiểm phiếu.")
        nominations = page.locator("table.results-table").last
        expect(nominations.locator("tr", has_text=FLAG).filter(has_text=meeting["head"])).to_contain_text(
            "Được suy tôn"
        )
        expect(nominations.locator("tr", has_text=CERTIFICATE).filter(has_text=meeting["deputy"])).to_contain_text(
            "Được suy tôn"
        )

        voter = contexts[0][1]
        voter.goto(path + "/vote")
        expect(voter.locator("#ballot")).to_contain_text("Bỏ phiếu đã đóng")
        voter.get_by_role("link", name="Kiểm tra mã biên nhận").click()
        voter.get_by_label(label("Mã biên nhận")).fill(codes["member"])
        voter.get_by_role("button", name="Kiểm tra", exact=True).click()
        found = voter.locator("#receipt-found")
        expect(found).to_contain_text("Phiếu đã được kiểm đúng như đã bầu")
        expect(found).to_contain_text(meeting["deputy"])
        assert not voter.evaluate(WIDE), "the receipt check scrolls sideways at 375 px"
    finally:
        for context, _page in contexts:
            context.close()
