"""In the browser: members self-score (autosave), submit, review each other; the head follows the progress."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assessment, Score
from portal.services.scoring import assessments
from tests import factories
from tests.browser import another_browser, label, score_row, sign_out

pytestmark = pytest.mark.browser


@pytest.fixture
def province(seed):
    """The cluster's locked table, the self round open, and the head's own self-assessment already handed in."""

    def build():
        world = factories.world()
        cset, items = factories.scoring_table(world)
        assessments.open_self_round(db.session, cset)
        head_own = db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == world.head.id))
        for key, raw in (("quant", "100"), ("direct", "30"), ("pass", "dat"), ("bonus", "0"), ("minus", "0")):
            assessments.save_score(db.session, head_own, items[key], raw, "", expected_revision=None, user_id=None)
        assessments.submit(db.session, head_own, None)
        return {
            "cluster_id": world.cluster.id,
            "member": world.member.name,
            "deputy": world.deputy.name,
            "head": world.head.name,
            "items": {key: item.id for key, item in items.items()},
        }

    return seed(build)


def _fill(page, code: str, value: str, note: str | None = None, select: bool = False) -> None:
    row = score_row(page, code)
    field = row.locator("form.score-form [name=value]")
    if select:
        field.select_option(label=value)
    else:
        field.fill(value)
        field.press("Tab")
    if note is not None:
        row.locator("form.score-form [name=note]").fill(note)
        row.locator("form.score-form [name=note]").press("Tab")
    expect(row.locator(".save-status")).to_contain_text("Đã lưu lúc")


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _upload(page, settled, code: str, name: str, content: bytes) -> None:
    row = score_row(page, code)
    row.locator("input[type=file]").set_input_files({"name": name, "mimeType": "application/pdf", "buffer": content})
    with settled():
        row.get_by_role("button", name="Tải lên").click()


def self_score_and_submit(page, sign_in, province, username: str, settled=None, page_problems=None) -> None:
    sign_in(username)
    page.goto(f"/clusters/{province['cluster_id']}?year=2026")
    page.get_by_role("link", name="Tự chấm điểm, thẩm định và tiến độ").click()
    page.get_by_role("link", name="Tự chấm").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tự chấm")
    _fill(page, "I.1", "60", "Thu ngân sách đạt 60 tỷ đồng")
    if settled is not None:  # evidence: a renamed program is refused, a real PDF is kept
        own_path = urlpath(page.url)
        page_problems.expect(
            422, own_path.replace("/scoring/", "/evidence/") + f"/criteria/{province['items']['quant']}"
        )
        _upload(page, settled, "I.1", "bao-cao.pdf", b"MZ\x90\x00" + b"\x00" * 200)
        expect(score_row(page, "I.1").locator(".evidence-box")).to_contain_text("không")
        _upload(page, settled, "I.1", "bao-cao-thu-ngan-sach.pdf", PDF)
        expect(score_row(page, "I.1").get_by_role("link", name="bao-cao-thu-ngan-sach.pdf")).to_be_visible()
    _fill(page, "I.2", "25,5")
    _fill(page, "I.3", "Đạt", select=True)
    _fill(page, "II.1", "1", "Sáng kiến cải cách thủ tục")
    _fill(page, "III.1", "0")
    totals = page.locator(".score-sidebar [data-total]")
    expect(totals).not_to_have_text("0")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Nộp bản tự chấm").click()
    expect(page.get_by_role("alert").filter(has_text="Đã nộp bản tự chấm")).to_be_visible()
    expect(page.locator("#assessment-status")).to_have_text("Đã nộp")
    expect(page.locator("form.score-form")).to_have_count(0)
    sign_out(page)


def test_a_wrong_score_is_refused_next_to_the_field_and_kept_on_screen(page, sign_in, province, page_problems, live_db):
    sign_in("member")
    page.goto(f"/scoring/{province['cluster_id']}/2026")
    page.get_by_role("link", name="Tự chấm").click()
    own_path = urlpath(page.url)
    page_problems.expect(422, f"{own_path}/scores/{province['items']['direct']}")
    row = score_row(page, "I.2")
    row.locator("form.score-form [name=value]").fill("31")
    row.locator("form.score-form [name=value]").press("Tab")
    expect(row.locator(".save-status")).to_contain_text("30")
    expect(row.locator("form.score-form [name=value]")).to_have_value("31")  # the typed text stays for correction
    expect(row.locator("form.score-form [name=value]")).to_have_class(re.compile("is-invalid"))
    own_id = int(own_path.rsplit("/", 1)[1])
    with live_db() as session:
        assert session.scalar(select(Score.id).where(Score.assessment_id == own_id)) is None
    row.locator("form.score-form [name=value]").fill("29,75")
    row.locator("form.score-form [name=value]").press("Tab")
    expect(row.locator(".save-status")).to_contain_text("Đã lưu lúc")
    expect(row.locator("form.score-form [name=value]")).not_to_have_class(re.compile("is-invalid"))
    expect(page.locator(f"#points-{own_id}-{province['items']['direct']}")).to_have_text("29,75")
    with live_db() as session:
        assert session.scalar(select(Score.value).where(Score.assessment_id == own_id)) == Decimal("29.75")


def urlpath(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def _fill_form(page, values: dict[str, tuple[str, bool]]) -> None:
    for code, (value, is_select) in values.items():
        _fill(page, code, value, select=is_select)


REVIEW = {"I.1": ("55", False), "I.2": ("24", False), "I.3": ("Đạt", True), "II.1": ("1", False), "III.1": ("0", False)}


def review_peer(page, sign_in, province, username: str, reviewee: str, settled) -> None:
    sign_in(username)
    page.goto(f"/clusters/{province['cluster_id']}?year=2026")
    page.get_by_role("link", name="Chấm chéo").click()
    page.get_by_role("link", name=f"Chấm điểm {reviewee}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Chấm chéo: {reviewee}")
    # the reviewee's own scores are shown beside the inputs
    expect(page.get_by_role("columnheader", name="Tự chấm")).to_be_visible()
    expect(score_row(page, "I.1")).to_contain_text("Thu ngân sách đạt 60 tỷ đồng")
    if reviewee == province["member"]:
        expect(score_row(page, "I.1").get_by_role("link", name="bao-cao-thu-ngan-sach.pdf")).to_be_visible()
    _fill_form(page, REVIEW)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Nộp bản chấm chéo").click()
    expect(page.get_by_role("alert").filter(has_text="Đã nộp bản chấm chéo")).to_be_visible()
    sign_out(page)


def test_two_members_self_score_review_each_other_and_the_head_sees_progress(
    page, sign_in, settled, province, live_db, page_problems
):
    self_score_and_submit(page, sign_in, province, "member", settled, page_problems)
    self_score_and_submit(page, sign_in, province, "deputy")

    # The head sets up the peer round: a cross-check team of the two members, who review each other.
    sign_in("head")
    page.goto(f"/clusters/{province['cluster_id']}?year=2026")
    page.get_by_role("link", name="Chấm chéo").click()
    page.get_by_label("Tổ kiểm tra chéo chấm tất cả các đơn vị").check()
    page.get_by_label(label("Tổ kiểm tra chéo")).select_option(label=[province["deputy"], province["member"]])
    page.get_by_role("button", name="Lập vòng chấm chéo").click()
    expect(page.get_by_role("heading", name="Phân công chấm chéo: 4 lượt chấm")).to_be_visible()
    for reviewer in (province["deputy"], province["member"]):
        with settled():
            page.get_by_role("button", name=f"Bỏ phân công {reviewer} chấm {province['head']}").click()
    expect(page.get_by_role("heading", name="Phân công chấm chéo: 2 lượt chấm")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    with settled():
        page.get_by_role("button", name="Mở vòng chấm chéo").click()
    expect(page.get_by_role("heading", name="Tiến độ: 0/2 bản chấm chéo đã nộp")).to_be_visible()
    sign_out(page)

    review_peer(page, sign_in, province, "member", province["deputy"], settled)
    review_peer(page, sign_in, province, "deputy", province["member"], settled)

    # The head: every self-assessment and every review is in.
    sign_in("head")
    page.goto(f"/reviews/{province['cluster_id']}/2026")
    expect(page.get_by_role("heading", name="Tiến độ: 2/2 bản chấm chéo đã nộp")).to_be_visible()
    page.goto(f"/scoring/{province['cluster_id']}/2026")
    expect(page.locator("#progress-summary")).to_have_text("3/3 đơn vị đã nộp bản tự chấm.")
    expect(page.get_by_text("Tất cả các đơn vị đã nộp bản tự chấm.")).to_be_visible()
    with live_db() as session:
        rows = session.execute(select(Assessment.stage, Assessment.status)).all()
    assert sorted(rows) == [("peer", "submitted")] * 2 + [("self", "submitted")] * 3


def test_two_people_of_one_unit_never_overwrite_each_other_silently(
    page, browser, live_server, sign_in, province, page_problems, live_db
):
    """Two officers of the same unit have the form open; the second saves over a value it never saw."""
    with live_db() as session:
        from portal.models import Unit, User

        member_unit = session.scalar(select(Unit.id).where(Unit.name == province["member"]))
        colleague = factories.user("member-vanthu", unit=session.get(Unit, member_unit))
        colleague.must_change_password = False
        session.commit()
        assert session.scalar(select(User.id).where(User.username == "member-vanthu"))
    sign_in("member")
    page.goto(f"/scoring/{province['cluster_id']}/2026")
    page.get_by_role("link", name="Tự chấm").click()
    url = page.url
    own_id = int(url.rsplit("/", 1)[1])
    save_path = f"/scoring/assessments/{own_id}/scores/{province['items']['direct']}"
    page_problems.expect(409, save_path)

    with another_browser(browser, live_server.url, "member-vanthu") as other:
        other.goto(url)  # both forms now hold the same (empty) revision
        _fill(page, "I.2", "20", "Bản của chị Lan")
        row = score_row(other, "I.2")
        row.locator("form.score-form [name=value]").fill("25")
        row.locator("form.score-form [name=value]").press("Tab")
        expect(row.locator(".save-status")).to_contain_text("người khác vừa sửa")
        conflict = row.get_by_role("alert")
        expect(conflict).to_contain_text("20")
        expect(conflict).to_contain_text("Bạn nhập: 25")
        with live_db() as session:
            assert session.scalar(select(Score.value).where(Score.assessment_id == own_id)) == 20
        conflict.get_by_role("button", name="Giữ giá trị của tôi").click()
        expect(row.locator(".save-status")).to_contain_text("Đã lưu lúc")
        with live_db() as session:
            assert session.scalar(select(Score.value).where(Score.assessment_id == own_id)) == 25
    # the first officer's form is now stale too: it takes the stored value instead of overwriting it
    row = score_row(page, "I.2")
    row.locator("form.score-form [name=value]").fill("21")
    row.locator("form.score-form [name=value]").press("Tab")
    row.get_by_role("button", name="Dùng bản đã lưu").click()
    expect(score_row(page, "I.2").get_by_role("alert")).to_have_count(0)  # the row was swapped for the stored one
    expect(score_row(page, "I.2").locator("form.score-form [name=value]")).to_have_value("25")
    with live_db() as session:
        assert session.scalar(select(Score.value).where(Score.assessment_id == own_id)) == 25
