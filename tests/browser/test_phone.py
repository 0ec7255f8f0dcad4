"""In the browser at phone width: the menu folds behind its toggler and no page scrolls sideways."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 800}


@pytest.fixture(scope="module")
def province(seed):
    def build():
        factories.world()

    seed(build)


def _fits_the_width(page) -> None:
    width, scroll = page.evaluate("[window.innerWidth, document.scrollingElement.scrollWidth]")
    assert scroll <= width + 1, f"{page.url} scrolls sideways: content {scroll}px wide in a {width}px viewport"


def _menu_opens(page, link: str) -> None:
    menu = page.get_by_role("navigation", name="Menu chính")
    toggler = menu.get_by_role("button", name="Mở menu")
    expect(toggler).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "false")
    expect(menu.get_by_role("link", name=link)).to_be_hidden()
    toggler.click()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("link", name=link)).to_be_visible()


def test_phone_width(page, sign_in, province):
    page.set_viewport_size(PHONE)
    page.goto("/login")
    _fits_the_width(page)
    sign_in("secretariat")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Năm thi đua 2026")
    _fits_the_width(page)

    _menu_opens(page, "Đơn vị")
    _fits_the_width(page)
    page.get_by_role("navigation", name="Menu chính").get_by_role("link", name="Đơn vị").click()
    expect(page).to_have_url(re.compile(r"/units/$"))
    expect(page.locator("#unit-results tbody tr")).to_have_count(4)
    _fits_the_width(page)
    _menu_opens(page, "Trang chủ")
