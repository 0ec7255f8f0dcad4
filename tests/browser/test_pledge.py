"""In the browser: the head drafts the pledge agreement, members sign it and register their targets."""

import re
from decimal import Decimal

import docx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Pledge, PledgeSignature, TargetRegistration
from portal.services.criteria import sets as criteria_svc
from tests import factories
from tests.browser import label

pytestmark = pytest.mark.browser

SET_TITLE = "Bảng tiêu chí thi đua Cụm số 1 năm 2026"
MEETING = factories.past_date(10)  # the signing meeting, the date every signature carries
MEMBER_SIGNER = ("Nguyễn Văn An", "Chủ tịch UBND xã")
DEPUTY_SIGNER = ("Trần Thị Bích", "Chủ tịch UBND phường")


@pytest.fixture
def province(seed):
    """The small province, with the cluster's 2026 criteria published (one quantitative item)."""

    def build():
        world = factories.world()
        cset = criteria_svc.create_set(
            db.session, world.cluster, world.year, title=SET_TITLE, target_total=Decimal(100)
        )
        section = criteria_svc.add_criterion(db.session, cset, None, code="I", title="Phát triển kinh tế")
        budget = criteria_svc.add_criterion(
            db.session,
            cset,
            section,
            code="1",
            title="Thu ngân sách nhà nước",
            method="quantitative",
            max_points=Decimal(60),
            measure_unit="tỷ đồng",
        )
        criteria_svc.add_criterion(
            db.session, cset, section, code="2", title="Cải cách hành chính", max_points=Decimal(40)
        )
        criteria_svc.publish(db.session, cset)
        return {
            "cluster_id": world.cluster.id,
            "set_id": cset.id,
            "budget_id": budget.id,
            "head": world.head.name,
            "deputy": world.deputy.name,
            "member": world.member.name,
        }

    return seed(build)


def _switch_user(page, sign_in, username: str) -> None:
    page.context.clear_cookies()
    sign_in(username)


def _docx_text(path) -> str:
    """Every paragraph of a .docx, including those in tables (signature blocks, the appendix)."""
    document = docx.Document(str(path))
    texts = [p.text for p in document.paragraphs]

    def cells(table):
        for row in table.rows:
            for cell in row.cells:
                texts.extend(p.text for p in cell.paragraphs)
                for inner in cell.tables:
                    cells(inner)

    for table in document.tables:
        cells(table)
    return "\n".join(texts)


def _sign(page, settled, name: str, position: str) -> None:
    form = page.locator("#pledge-signatures form")
    form.get_by_label(label("Họ và tên người ký")).fill(name)
    form.get_by_label(label("Chức vụ")).fill(position)
    expect(form.get_by_label(label("Ngày ký"))).to_have_value(factories.vn_format(MEETING))
    with settled():
        form.get_by_role("button", name="Ký giao ước").click()


def test_two_members_sign_and_export(page, sign_in, settled, province, page_problems, live_db, tmp_path):
    pledges_path = f"/pledges/{province['cluster_id']}/2026"

    # The head drafts the agreement from the cluster's page.
    sign_in("head")
    page.goto(f"/clusters/{province['cluster_id']}?year=2026")
    page.get_by_role("link", name="Giao ước thi đua").click()
    expect(page).to_have_url(re.compile(pledges_path + "$"))
    page.get_by_role("button", name="Tạo dự thảo giao ước").click()
    expect(page).to_have_url(re.compile(r"/pledges/\d+/edit$"))
    expect(page.get_by_role("alert").filter(has_text="Đã tạo dự thảo giao ước thi đua")).to_be_visible()
    pledge_path = re.search(r"/pledges/\d+", page.url).group(0)

    # The edit page: bind the published criteria set, set the meeting's date and place.
    choice = page.get_by_label(label("Bảng tiêu chí gắn với giao ước"))
    choice.select_option(label=f"{SET_TITLE} — phiên bản 1 (đã công bố)")
    expect(choice).to_have_value(str(province["set_id"]))
    page.get_by_label(label("Ngày hội nghị ký kết")).fill(factories.vn_format(MEETING))
    page.get_by_label(label("Địa điểm hội nghị")).fill("Hội trường UBND phường An Bình")
    page.get_by_role("button", name="Lưu giao ước").click()
    expect(page).to_have_url(re.compile(pledges_path + "$"))
    expect(page.get_by_role("alert").filter(has_text="Đã lưu giao ước.")).to_be_visible()
    document = page.locator(".pledge-document")
    expect(document).to_contain_text(f"Các đơn vị cùng thực hiện và chấm điểm theo {SET_TITLE} (phiên bản 1)")
    meeting_day = f"ngày {MEETING:%d} tháng {MEETING:%m} năm {MEETING.year}"
    expect(document).to_contain_text(f"Giao ước được ký kết tại Hội trường UBND phường An Bình {meeting_day}.")
    signatures = page.locator("#pledge-signatures")
    counter = signatures.get_by_role("heading", name=re.compile(r"^Tình hình ký kết"))
    expect(counter).to_have_text("Tình hình ký kết: 0/3 đơn vị đã ký")
    with live_db() as session:
        assert session.scalar(select(Pledge.criteria_set_id)) == province["set_id"]

    # The member signs; an empty name first gets the Vietnamese message, in place.
    sign_path = pledge_path + "/sign"
    page_problems.expect(422, sign_path)
    _switch_user(page, sign_in, "member")
    page.goto(pledges_path)
    expect(page.get_by_role("heading", name=f"Ký giao ước cho {province['member']}")).to_be_visible()
    page.evaluate("window.noReload = true")
    _sign(page, settled, "", MEMBER_SIGNER[1])
    expect(signatures.locator("#representative_name-error")).to_have_text("Vui lòng nhập trường này.")
    expect(signatures.get_by_label(label("Chức vụ"))).to_have_value(MEMBER_SIGNER[1])
    expect(counter).to_have_text("Tình hình ký kết: 0/3 đơn vị đã ký")
    with live_db() as session:
        assert session.scalar(select(PledgeSignature.id)) is None
    _sign(page, settled, *MEMBER_SIGNER)
    expect(signatures.get_by_role("alert")).to_have_text("Đơn vị đã ký giao ước thi đua.")
    expect(counter).to_have_text("Tình hình ký kết: 1/3 đơn vị đã ký")
    expect(signatures.get_by_role("button", name="Ký giao ước")).to_have_count(0)
    member_row = signatures.locator("tbody tr").filter(has_text=province["member"])
    expect(member_row).to_contain_text("Đã ký")
    expect(member_row).to_contain_text(f"{MEMBER_SIGNER[0]}, {MEMBER_SIGNER[1]}")
    expect(member_row).to_contain_text("Chờ xác nhận")
    assert page.evaluate("window.noReload") is True

    # The deputy signs too.
    _switch_user(page, sign_in, "deputy")
    page.goto(pledges_path)
    page.evaluate("window.noReload = true")
    _sign(page, settled, *DEPUTY_SIGNER)
    expect(counter).to_have_text("Tình hình ký kết: 2/3 đơn vị đã ký")
    expect(signatures.locator("tbody tr").filter(has_text=province["deputy"])).to_contain_text(DEPUTY_SIGNER[0])
    assert page.evaluate("window.noReload") is True

    # The head sees who has not signed (its own unit), and confirms the member's signature.
    _switch_user(page, sign_in, "head")
    page.goto(pledges_path)
    unsigned = page.get_by_label("Các đơn vị chưa ký (sao chép để nhắc):")
    expect(unsigned).to_have_value(f"{province['head']} — Chưa ký\n")
    page.evaluate("window.noReload = true")
    with settled():
        signatures.get_by_role("button", name=f"Xác nhận chữ ký của {province['member']}").click()
    expect(signatures.get_by_role("alert")).to_have_text(f"Đã xác nhận chữ ký của {province['member']}.")
    member_row = signatures.locator("tbody tr").filter(has_text=province["member"])
    expect(member_row).to_contain_text(re.compile(r"✓ \d{2}/\d{2}/\d{4}"))
    expect(member_row.get_by_role("button")).to_have_count(0)
    expect(signatures.get_by_role("button", name=f"Xác nhận chữ ký của {province['deputy']}")).to_be_visible()
    assert page.evaluate("window.noReload") is True
    with live_db() as session:
        confirmed = session.scalars(select(PledgeSignature).where(PledgeSignature.confirmed_at.is_not(None))).all()
        assert [s.representative_name for s in confirmed] == [MEMBER_SIGNER[0]]

    # The Word file carries both signers.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Tải Word (.docx)").click()
    download = download_info.value
    assert download.suggested_filename.endswith("-2026.docx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = _docx_text(saved)
    assert "GIAO ƯỚC THI ĐUA" in text
    assert MEMBER_SIGNER[0] in text and DEPUTY_SIGNER[0] in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text

    # The printable page.
    page.get_by_role("link", name="Bản in").click()
    expect(page).to_have_url(re.compile(pledge_path + "/print$"))
    body = page.locator("body")
    expect(body).to_contain_text("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    expect(body).to_contain_text("Độc lập - Tự do - Hạnh phúc")
    expect(page.locator(".doc-title").first).to_contain_text("GIAO ƯỚC THI ĐUA")
    expect(body).to_contain_text(MEMBER_SIGNER[0])
    expect(body).to_contain_text(DEPUTY_SIGNER[0])
    expect(body).to_contain_text("PHỤ LỤC: BẢNG TIÊU CHÍ, THANG ĐIỂM")
    expect(page.get_by_role("navigation", name="Menu chính")).to_have_count(0)


def test_targets_autosave(page, sign_in, settled, province, page_problems, live_db):
    # A member registers its target: saved when it leaves the field, no reload.
    sign_in("member")
    page.goto(f"/clusters/{province['cluster_id']}?year=2026")
    page.get_by_role("link", name="Chỉ tiêu đăng ký của các thành viên").click()
    expect(page).to_have_url(re.compile(rf"/pledges/{province['cluster_id']}/2026/targets$"))
    page.wait_for_load_state()
    row = page.locator(f"#target-{province['budget_id']}")
    expect(row).to_contain_text("1. Thu ngân sách nhà nước (tỷ đồng)")
    page.evaluate("window.noReload = true")
    target = row.get_by_label("Chỉ tiêu 1", exact=True)
    target.fill("1.250,5")
    target.press("Tab")
    expect(row.locator(".save-status")).to_contain_text("Đã lưu lúc")
    expect(row.get_by_label("Chỉ tiêu 1", exact=True)).to_have_value("1.250,5")
    with live_db() as session:
        assert session.scalar(select(TargetRegistration.target)) == Decimal("1250.5")

    # Not a number: the message appears in the row and the saved target stays.
    page_problems.expect(422, f"/pledges/targets/{province['budget_id']}")
    target = row.get_by_label("Chỉ tiêu 1", exact=True)
    target.fill("abc")
    target.press("Tab")
    expect(row.locator(".save-status")).to_have_text("Nhập một số, ví dụ 12,5.")
    expect(row.get_by_label("Chỉ tiêu 1", exact=True)).to_have_value("abc")
    expect(row.get_by_label("Chỉ tiêu 1", exact=True)).to_have_class(re.compile("is-invalid"))
    assert page.evaluate("window.noReload") is True
    with live_db() as session:
        assert session.scalar(select(TargetRegistration.target)) == Decimal("1250.5")

    # The head sees it in the compiled table.
    _switch_user(page, sign_in, "head")
    page.goto(f"/pledges/{province['cluster_id']}/2026/targets")
    compiled = page.locator(".card").filter(has=page.get_by_role("heading", name="Tổng hợp chỉ tiêu các đơn vị"))
    member_row = compiled.get_by_role("row", name=province["member"])
    expect(member_row.get_by_role("cell")).to_have_text(["1.250,5"])
    expect(compiled.get_by_role("row", name=province["deputy"]).get_by_role("cell")).to_have_text(["—"])


NEW_NOTE = "Kế hoạch giao của UBND tỉnh, đã trừ nguồn thu đột biến"


@pytest.mark.parametrize("old_note", ["", "Số liệu tạm tính quý I"], ids=["no-note", "existing-note"])
def test_targets_keep_every_character_typed(page, sign_in, province, live_db, old_note):
    """Value, Tab, note typed at speed: the answer to the first save never swaps out the note being typed."""
    if old_note:
        with live_db() as session:
            from portal.models import CriteriaSet, Criterion, Unit
            from portal.services.pledges import agreements as pledges_svc

            member = session.scalar(select(Unit).where(Unit.name == province["member"]))
            cset, item = session.get(CriteriaSet, province["set_id"]), session.get(Criterion, province["budget_id"])
            pledges_svc.register_target(session, cset, member, item, Decimal("1000"), old_note)
            session.commit()
    sign_in("member")
    page.goto(f"/pledges/{province['cluster_id']}/2026/targets")
    row = page.locator(f"#target-{province['budget_id']}")
    note = row.get_by_label("Ghi chú 1", exact=True)
    expect(note).to_have_value(old_note)
    target = row.get_by_label("Chỉ tiêu 1", exact=True)
    target.click()
    target.press("Control+A")
    target.press_sequentially("1.300", delay=15)
    page.keyboard.press("Tab")  # the browser selects the note's old text: typing replaces it
    expect(note).to_be_focused()
    page.keyboard.type(NEW_NOTE, delay=25)
    page.keyboard.press("Tab")
    page.wait_for_function("() => !document.querySelector('.htmx-request, form[data-dirty]')")
    expect(row.get_by_label("Ghi chú 1", exact=True)).to_have_value(NEW_NOTE)
    expect(row.locator(".save-status")).to_contain_text("Đã lưu lúc")
    with live_db() as session:
        stored = session.execute(select(TargetRegistration.target, TargetRegistration.note)).one()
    assert tuple(stored) == (Decimal("1300"), NEW_NOTE)
