"""In the browser: a five-level table and a refused import fit a phone and a desktop without sideways scrolling."""

from io import BytesIO

import openpyxl
import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.services.criteria import sets as criteria_svc
from tests import factories
from tests.test_criteria_depth import POLICE, _build

pytestmark = pytest.mark.browser

WIDTHS = ({"width": 375, "height": 800}, {"width": 1280, "height": 900})


@pytest.fixture
def five_levels(seed):
    def build():
        world = factories.world()
        cset = criteria_svc.create_set(
            db.session, world.cluster, world.year, title="Bảng chấm điểm 2026", target_total=1000
        )
        _build(cset, POLICE)
        return {"set_id": cset.id}

    return seed(build)


def _fits_the_width(page) -> None:
    width, scroll = page.evaluate("[window.innerWidth, document.scrollingElement.scrollWidth]")
    assert scroll <= width + 1, f"{page.url} scrolls sideways: content {scroll}px wide in a {width}px viewport"


def _many_errors() -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["STT", "Nội dung tiêu chí", "Điểm chuẩn", "Phương pháp chấm"])
    ws.append(["I", "Nhiệm vụ", None, None])
    for n in range(1, 201):
        ws.append([str(n), f"Tiêu chí {n}", 1, "bình bầu"])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("size", WIDTHS, ids=("phone", "desktop"))
def test_five_levels_and_every_import_error_fit_the_screen(page, sign_in, five_levels, page_problems, size):
    page.set_viewport_size(size)
    sign_in("head")
    url = f"/criteria/sets/{five_levels['set_id']}"
    page.goto(url)
    deepest = page.locator("li.criterion.depth-5")
    expect(deepest).to_have_count(5)
    expect(deepest.first).to_be_visible()
    expect(page.locator("#score-step")).to_have_text("0,25")
    _fits_the_width(page)
    page.goto(f"{url}/print")
    expect(page.locator("tr.depth-5")).to_have_count(5)
    _fits_the_width(page)

    page.goto(url)
    page.locator("summary", has_text="Nhập từ Excel").click()
    page.locator("#import-file").set_input_files(
        {
            "name": "bang.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": _many_errors(),
        }
    )
    page_problems.expect(422, f"{url}/import")
    page.get_by_role("button", name="Nhập và thay thế").click()
    errors = page.locator(".import-errors")
    expect(errors).to_contain_text("tệp có 200 lỗi")
    expect(errors).to_contain_text("Dòng 3, 4, 5")
    expect(errors).to_contain_text("201, 202")
    _fits_the_width(page)
    with page.expect_download() as download_info:
        errors.get_by_role("button", name="Tải danh sách lỗi (.xlsx)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    listed = openpyxl.load_workbook(BytesIO(download.path().read_bytes()))["Lỗi"]
    assert listed.max_row == 4 + 200
