"""In the browser: the head builds the year's criteria table in place and publishes it; a member reads it."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import CriteriaSet, Criterion
from portal.services.criteria import sets as criteria_svc
from tests import factories
from tests.browser import label

pytestmark = pytest.mark.browser

SECTION_I = "Thực hiện nhiệm vụ chính trị, chuyên môn"
ITEM_1 = "Hoàn thành các chỉ tiêu kinh tế - xã hội được giao"
ITEM_1_EDITED = "Hoàn thành vượt mức các chỉ tiêu kinh tế - xã hội"
ITEM_2 = "Thu ngân sách nhà nước trên địa bàn"
SECTION_II = "Thành tích nổi bật được khen thưởng"
BONUS_A = "Được tặng Cờ thi đua của UBND tỉnh"


@pytest.fixture
def province(seed):
    """The small province of factories.world(), with no criteria yet."""

    def build():
        world = factories.world()
        return {"cluster_id": world.cluster.id}

    return seed(build)


def _criterion(live_db, code: str, parent_code: str | None = None) -> int:
    """The id of the criterion with this code (under the section with parent_code)."""
    with live_db() as session:
        query = select(Criterion).where(Criterion.code == code)
        if parent_code is None:
            query = query.where(Criterion.parent_id.is_(None))
        else:
            parent = session.scalar(
                select(Criterion.id).where(Criterion.code == parent_code, Criterion.parent_id.is_(None))
            )
            query = query.where(Criterion.parent_id == parent)
        return session.scalar(query).id


def _fill_item(
    page,
    settled,
    code: str,
    title: str,
    *,
    kind: str | None = None,
    method: str | None = None,
    points: str | None = None,
    unit: str | None = None,
) -> None:
    """Fill the one open criterion form and press "Thêm" (the tree swaps in place)."""
    form = page.locator("form.criterion-form")
    expect(form).to_have_count(1)
    form.get_by_label(label("Số thứ tự")).fill(code)
    form.get_by_label(label("Nội dung tiêu chí")).fill(title)
    if kind:
        form.get_by_label(label("Loại")).select_option(label=kind)
    if method:
        form.get_by_label(label("Phương pháp chấm")).select_option(label=method)
    if points:
        form.get_by_label(label("Điểm chuẩn (điểm tối đa)")).fill(points)
    if unit:
        form.get_by_label(label("Đơn vị tính (định lượng)")).fill(unit)
    with settled():
        form.get_by_role("button", name="Thêm", exact=True).click()


def test_head_builds_publishes_member_sees(page, sign_in, settled, province, page_problems, live_db):
    criteria_path = f"/criteria/{province['cluster_id']}/2026"

    # The head opens the criteria page from its cluster's page and starts an empty table.
    sign_in("head")
    page.goto(f"/clusters/{province['cluster_id']}?year=2026")
    page.get_by_role("link", name="Bảng tiêu chí, thang điểm").click()
    expect(page).to_have_url(re.compile(criteria_path + "$"))
    page.get_by_label(label("Tên bảng tiêu chí")).fill("Bảng tiêu chí thi đua Cụm số 1 năm 2026")
    page.get_by_label(label("Tổng điểm chuẩn")).fill("100")
    expect(page.get_by_label(label("Bước điểm khi chấm"))).to_have_value("0,25")  # the default, kept
    page.get_by_role("button", name="Tạo bảng tiêu chí").click()
    expect(page).to_have_url(re.compile(r"/criteria/sets/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bảng tiêu chí thi đua Cụm số 1 năm 2026")
    expect(page.get_by_role("alert").filter(has_text="Đã tạo bảng tiêu chí (bản nháp).")).to_be_visible()
    page.wait_for_load_state()
    set_path = re.search(r"/criteria/sets/\d+", page.url).group(0)
    tree = page.locator("#criteria-tree")
    totals = tree.locator(".criteria-totals")
    expect(tree).to_contain_text("Chưa có tiêu chí nào.")

    # From here on every change swaps the tree in place: the marker survives only without a reload.
    page.evaluate("window.noReload = true")
    with settled():
        tree.get_by_role("link", name="+ Thêm phần (I, II, …) hoặc mục điểm thưởng, điểm trừ").click()
    _fill_item(page, settled, "I", SECTION_I)
    expect(tree.locator("li.depth-1")).to_contain_text(f"I. {SECTION_I}")
    section_i = _criterion(live_db, "I")

    with settled():
        tree.get_by_role("link", name="+ Mục con của I", exact=True).click()
    expect(page.locator("form.criterion-form")).to_contain_text(f"Thêm mục con của I. {SECTION_I}")
    _fill_item(page, settled, "1", ITEM_1, points="60")
    expect(tree.locator(f"#node-{section_i} li.depth-2")).to_have_count(1)
    expect(totals).to_contain_text("Tổng điểm chuẩn 60 / 100 đã khai báo", use_inner_text=True)

    with settled():
        tree.get_by_role("link", name="+ Mục con của I", exact=True).click()
    _fill_item(page, settled, "2", ITEM_2, method="Định lượng (so với chỉ tiêu đăng ký)", points="40", unit="tỷ đồng")
    expect(tree.locator(f"#node-{section_i} li.depth-2")).to_have_count(2)
    expect(totals).to_contain_text("Tổng điểm chuẩn 100 / 100 đã khai báo", use_inner_text=True)
    expect(tree.locator(f"#node-{section_i} > details > summary .criterion-points")).to_have_text("100")
    expect(tree.locator("li.depth-2").nth(1)).to_contain_text("Định lượng (so với chỉ tiêu đăng ký) (tỷ đồng)")
    expect(tree.locator(".alert-warning")).to_have_count(0)
    assert page.evaluate("window.noReload") is True

    # A duplicate code under the same parent: the 422 form is swapped back in with the message by the field.
    items_path = set_path + "/items"
    page_problems.expect(422, items_path)
    with settled():
        tree.get_by_role("link", name="+ Mục con của I", exact=True).click()
    _fill_item(page, settled, "1", "Một tiêu chí trùng mã", points="5")
    form = page.locator(f"#new-under-{section_i} form.criterion-form")
    expect(form.locator("#code-error")).to_have_text("Đã có tiêu chí mã “1” cùng cấp.")
    expect(form.get_by_label(label("Số thứ tự"))).to_have_value("1")
    expect(form.get_by_label(label("Nội dung tiêu chí"))).to_have_value("Một tiêu chí trùng mã")
    with settled():
        form.get_by_role("link", name="Hủy").click()
    expect(page.locator("form.criterion-form")).to_have_count(0)
    expect(tree.locator(f"#node-{section_i} li.depth-2")).to_have_count(2)
    expect(tree).not_to_contain_text("Một tiêu chí trùng mã")

    # Edit a title in place: the row turns into a form and back.
    item_1 = _criterion(live_db, "1", "I")
    with settled():
        tree.get_by_role("link", name="Sửa 1", exact=True).click()
    form = page.locator(f"#edit-{item_1} form.criterion-form")
    expect(form.get_by_label(label("Nội dung tiêu chí"))).to_have_value(ITEM_1)
    expect(form.get_by_label(label("Điểm chuẩn (điểm tối đa)"))).to_have_value("60")
    form.get_by_label(label("Nội dung tiêu chí")).fill(ITEM_1_EDITED)
    with settled():
        form.get_by_role("button", name="Lưu", exact=True).click()
    expect(page.locator("form.criterion-form")).to_have_count(0)
    expect(tree.locator(f"#node-{item_1}")).to_contain_text(f"1. {ITEM_1_EDITED}")

    # Move item 2 above item 1.
    codes = tree.locator(f"#node-{section_i} li.depth-2 .criterion-code")
    expect(codes).to_have_text(["1.", "2."])
    with settled():
        tree.get_by_role("button", name="Lên 2", exact=True).click()
    expect(codes).to_have_text(["2.", "1."])

    # A bonus section with a pass/fail child: shown apart from the base total, with a plus sign.
    with settled():
        tree.get_by_role("link", name="+ Thêm phần (I, II, …) hoặc mục điểm thưởng, điểm trừ").click()
    _fill_item(page, settled, "II", SECTION_II, kind="Điểm thưởng")
    with settled():
        tree.get_by_role("link", name="+ Mục con của II", exact=True).click()
    expect(page.locator("form.criterion-form").get_by_label(label("Loại"))).to_have_value("bonus")
    _fill_item(page, settled, "a", BONUS_A, method="Định tính (đạt / không đạt)", points="10")
    section_ii = _criterion(live_db, "II")
    expect(tree.locator(f"#node-{section_ii}")).to_contain_text(BONUS_A)
    expect(tree.locator(f"#node-{section_ii} > details > summary .badge")).to_have_text("Điểm thưởng")
    expect(totals).to_contain_text("Điểm thưởng tối đa +10", use_inner_text=True)
    expect(totals).to_contain_text("Tổng điểm chuẩn 100 / 100 đã khai báo", use_inner_text=True)

    # Delete a section added by mistake, after the confirmation dialog.
    with settled():
        tree.get_by_role("link", name="+ Thêm phần (I, II, …) hoặc mục điểm thưởng, điểm trừ").click()
    _fill_item(page, settled, "III", "Phần thêm nhầm")
    expect(tree.locator("li.depth-1")).to_have_count(3)
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    with settled():
        tree.get_by_role("button", name="Xóa III", exact=True).click()
    expect(tree.locator("li.depth-1")).to_have_count(2)
    expect(tree).not_to_contain_text("Phần thêm nhầm")
    expect(tree.get_by_role("alert")).to_have_text("Đã xóa tiêu chí.")
    assert dialogs == ["Xóa “III. Phần thêm nhầm”?"]

    # Collapse and re-expand section I.
    summary = tree.locator(f"#node-{section_i} > details > summary")
    item_2_title = tree.get_by_text(ITEM_2, exact=True)
    expect(item_2_title).to_be_visible()
    summary.click()
    expect(tree.locator(f"#node-{section_i} > details")).not_to_have_attribute("open", re.compile(".*"))
    expect(item_2_title).to_be_hidden()
    summary.click()
    expect(item_2_title).to_be_visible()
    assert page.evaluate("window.noReload") is True

    with live_db() as session:
        assert session.scalar(select(CriteriaSet.status)) == "draft"
        assert session.scalar(select(Criterion.title).where(Criterion.id == item_1)) == ITEM_1_EDITED

    # Before publishing, a member sees no table: not even the draft's titles.
    page.context.clear_cookies()
    sign_in("member")
    page.goto(criteria_path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Bảng tiêu chí thi đua năm 2026")
    expect(page.get_by_role("main")).to_contain_text("Cụm thi đua chưa công bố bảng tiêu chí năm 2026.")
    expect(page.get_by_text(SECTION_I)).to_have_count(0)
    expect(page.get_by_role("button", name="Tạo bảng tiêu chí")).to_have_count(0)

    # The head publishes.
    page.context.clear_cookies()
    sign_in("head")
    page.goto(criteria_path)
    expect(page).to_have_url(re.compile(criteria_path + "$"))
    page.get_by_role("button", name="Công bố cho các thành viên").click()
    expect(page).to_have_url(re.compile(set_path + "$"))
    expect(
        page.get_by_role("alert").filter(has_text="Đã công bố bảng tiêu chí; các thành viên đã xem được.")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Trở lại bản nháp")).to_be_visible()

    # The member now reads the published tree, with no editing controls.
    page.context.clear_cookies()
    sign_in("member")
    page.goto(f"/clusters/{province['cluster_id']}?year=2026")
    page.get_by_role("link", name="Bảng tiêu chí, thang điểm").click()
    expect(page).to_have_url(re.compile(criteria_path + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bảng tiêu chí thi đua Cụm số 1 năm 2026")
    tree = page.locator("#criteria-tree")
    for title in (SECTION_I, ITEM_1_EDITED, ITEM_2, SECTION_II, BONUS_A):
        expect(tree.get_by_text(title, exact=True)).to_be_visible()
    totals = tree.locator(".criteria-totals")
    expect(totals).to_contain_text("Tổng điểm chuẩn 100 / 100 đã khai báo", use_inner_text=True)
    expect(totals).to_contain_text("Điểm thưởng tối đa +10", use_inner_text=True)
    expect(tree.locator(f"#node-{section_i} li.depth-2 .criterion-code")).to_have_text(["2.", "1."])
    expect(page.get_by_role("link", name=re.compile(r"^Sửa"))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"^Xóa"))).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile(r"^\+"))).to_have_count(0)
    expect(page.get_by_role("button", name="Công bố cho các thành viên")).to_have_count(0)


@pytest.fixture
def drafted(seed):
    """A draft table: section I with one leaf worth 2,5 points, and the default scoring step 0,25."""

    def build():
        world = factories.world()
        cset = criteria_svc.create_set(
            db.session, world.cluster, world.year, title="Bảng tiêu chí 2026", target_total=Decimal(100)
        )
        section = criteria_svc.add_criterion(db.session, cset, None, code="I", title=SECTION_I)
        leaf = criteria_svc.add_criterion(db.session, cset, section, code="1", title=ITEM_1, max_points=Decimal("2.5"))
        return {"cluster_id": world.cluster.id, "set_id": cset.id, "section_id": section.id, "leaf_id": leaf.id}

    return seed(build)


def test_editing_a_title_keeps_decimal_points(page, sign_in, settled, drafted, live_db):
    sign_in("head")
    page.goto(f"/criteria/sets/{drafted['set_id']}")
    with settled():
        page.get_by_role("link", name="Sửa 1", exact=True).click()
    form = page.locator(f"#edit-{drafted['leaf_id']} form.criterion-form")
    form.get_by_label(label("Nội dung tiêu chí")).fill(ITEM_1_EDITED)
    with settled():
        form.get_by_role("button", name="Lưu", exact=True).click()
    expect(page.locator("form.criterion-form")).to_have_count(0)
    with live_db() as session:
        saved = session.get(Criterion, drafted["leaf_id"])
        assert saved.title == ITEM_1_EDITED
        assert saved.max_points == Decimal("2.5")


def test_start_form_keeps_the_default_step(page, sign_in, province):
    sign_in("head")
    page.goto(f"/criteria/{province['cluster_id']}/2026")
    step = page.get_by_label(label("Bước điểm khi chấm"))
    assert step.input_value() == "0,25"
    step.fill("")
    step.press_sequentially("0,5")
    assert step.input_value() == "0,5"


def test_typing_a_section_title_keeps_the_section_open(page, sign_in, settled, drafted):
    sign_in("head")
    page.goto(f"/criteria/sets/{drafted['set_id']}")
    with settled():
        page.get_by_role("link", name="Sửa I", exact=True).click()
    title = page.locator(f"#edit-{drafted['section_id']} form.criterion-form").get_by_label(label("Nội dung tiêu chí"))
    expect(title).to_have_value(SECTION_I)
    section = page.locator(f"#node-{drafted['section_id']} > details")
    section.evaluate("details => { window.toggles = 0; details.addEventListener('toggle', () => window.toggles++); }")
    title.press("End")
    title.press_sequentially(" và cải cách hành chính")
    expect(title).to_have_value(f"{SECTION_I} và cải cách hành chính")
    assert page.evaluate("window.toggles") == 0
    assert section.evaluate("details => details.open")
