"""In the browser: the units list filters as one types and edits a row in place."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests import factories

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def province(seed):
    def build():
        world = factories.world()
        return {"deputy_id": world.deputy.id}

    return seed(build)


def test_units_inline_edit(page, sign_in, province, page_problems):
    sign_in("secretariat")
    page.get_by_role("navigation", name="Menu chính").get_by_role("link", name="Đơn vị").click()
    expect(page).to_have_url(re.compile(r"/units/$"))
    rows = page.locator("#unit-results tbody tr")
    expect(rows).to_have_count(4)

    page.evaluate("window.noReload = true")
    page.get_by_role("searchbox", name="Tìm theo tên").fill("phường")
    expect(rows).to_have_count(2)
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("q") == ["phường"])
    expect(rows.nth(0)).to_contain_text("UBND phường An Bình")
    expect(rows.nth(1)).to_contain_text("UBND phường Mỹ Trà")
    assert page.evaluate("window.noReload") is True

    row = page.locator(f"#unit-{province['deputy_id']}")
    row.get_by_role("link", name="Sửa UBND phường Mỹ Trà").click()
    name = row.get_by_label("Tên đơn vị")
    expect(name).to_have_value("UBND phường Mỹ Trà")
    name.fill("UBND phường Mỹ Trà (mới)")
    row.get_by_role("button", name="Lưu").click()
    expect(row.get_by_role("link", name="UBND phường Mỹ Trà (mới)", exact=True)).to_be_visible()
    expect(row.get_by_role("textbox")).to_have_count(0)

    # A taken name: the 422 answer is swapped into the row, next to the field.
    page_problems.expect(422, f"/units/{province['deputy_id']}/edit")
    row.get_by_role("link", name="Sửa UBND phường Mỹ Trà (mới)").click()
    row.get_by_label("Tên đơn vị").fill("UBND phường An Bình")
    row.get_by_role("button", name="Lưu").click()
    expect(row.locator(".invalid-feedback")).to_have_text("Đã có đơn vị tên “UBND phường An Bình”.")
    expect(row.get_by_label("Tên đơn vị")).to_have_class(re.compile(r"\bis-invalid\b"))
    assert page.evaluate("window.noReload") is True

    row.get_by_role("link", name="Hủy").click()
    expect(row.get_by_role("link", name="UBND phường Mỹ Trà (mới)", exact=True)).to_be_visible()

    # The pushed URL is a real address: loading it gives the filtered page.
    page.reload()
    expect(page.get_by_role("searchbox", name="Tìm theo tên")).to_have_value("phường")
    expect(rows).to_have_count(2)
    expect(page.get_by_role("link", name="UBND phường An Bình", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="UBND phường Mỹ Trà (mới)", exact=True)).to_be_visible()
