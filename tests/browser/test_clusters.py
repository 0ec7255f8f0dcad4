"""In the browser: the secretariat builds a cluster, its members and its leadership for the year."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import Cluster, Term
from tests import factories
from tests.browser import label

pytestmark = pytest.mark.browser

NEW_UNITS = ("UBND xã Phú Điền", "UBND xã Mỹ Hiệp", "UBND xã Bình Thạnh")
DECIDED = factories.vn_format(date(factories.YEAR, 1, 20))  # the assignment decision: data of the year


@pytest.fixture(scope="module")
def province(seed):
    def build():
        world = factories.world()
        for name in NEW_UNITS:
            factories.unit(name)
        return {"overseer": world.overseer.full_name}

    return seed(build)


def test_secretariat_builds_a_cluster(page, sign_in, province, page_problems, live_db):
    sign_in("secretariat")
    page.get_by_role("navigation", name="Menu chính").get_by_role("link", name="Cụm, khối", exact=True).click()
    expect(page).to_have_url(re.compile(r"/clusters/$"))

    create = page.locator("#cluster-create")
    create.get_by_label(label("Loại")).select_option(label="Cụm thi đua")
    create.get_by_label(label("Mã")).fill("c07")
    create.get_by_label(label("Tên cụm, khối")).fill("Cụm thi đua số 7")
    create.get_by_role("button", name="Thêm", exact=True).click()
    expect(page).to_have_url(re.compile(r"/clusters/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Cụm thi đua số 7")
    expect(page.get_by_text("Cụm thi đua · C07")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="Đã tạo “Cụm thi đua số 7”.")).to_be_visible()
    cluster_path = re.search(r"/clusters/\d+", page.url).group(0)

    # Members are added in place: the members block swaps, the page does not reload.
    page.evaluate("window.noReload = true")
    members = page.locator("#cluster-members")
    for count, name in enumerate(NEW_UNITS, start=1):
        members.get_by_label("Đơn vị cần thêm").select_option(label=name)
        members.get_by_role("button", name="Thêm thành viên").click()
        expect(members.get_by_role("alert")).to_contain_text(f"Đã thêm “{name}” vào Cụm thi đua số 7 năm 2026.")
        expect(members.locator("tbody tr")).to_have_count(count)
        expect(members.locator("tbody tr").nth(count - 1)).to_contain_text(name)
    assert page.evaluate("window.noReload") is True
    expect(members.get_by_label("Đơn vị cần thêm").locator("option", has_text=NEW_UNITS[0])).to_have_count(0)

    page.get_by_role("link", name="Phân công").click()
    expect(page).to_have_url(re.compile(cluster_path + r"/term\?year=2026$"))
    head, deputy = NEW_UNITS[0], NEW_UNITS[1]

    # Bad input: the same unit as head and deputy.
    page_problems.expect(422, cluster_path + "/term")
    page.get_by_label(label("Trưởng cụm")).select_option(label=head)
    page.get_by_role("checkbox", name=head).check()
    page.get_by_label(label("Số quyết định")).fill("35/QĐ-HĐTĐKT")
    page.get_by_label(label("Ngày ban hành")).fill(DECIDED)
    page.get_by_role("button", name="Lưu phân công").click()
    error = page.locator("fieldset .invalid-feedback")
    expect(error).to_have_text("Trưởng cụm và Phó cụm phải là hai đơn vị khác nhau.")
    expect(page).to_have_url(re.compile(cluster_path + r"/term\?year=2026$"))
    expect(page.get_by_label(label("Ngày ban hành"))).to_have_value(DECIDED)
    with live_db() as session:
        cluster = session.scalar(select(Cluster).where(Cluster.code == "C07"))
        term = session.scalar(select(Term).where(Term.cluster_id == cluster.id))
        assert term is None or (not term.positions and not term.decision_number)

    page.get_by_role("checkbox", name=head).uncheck()
    page.get_by_role("checkbox", name=deputy).check()
    page.get_by_label(label("Thành viên Hội đồng phụ trách")).select_option(
        label=f"{province['overseer']} (Ủy viên Hội đồng)"
    )
    page.get_by_label(label("Cơ quan ban hành")).fill("Hội đồng Thi đua - Khen thưởng tỉnh")
    page.get_by_role("button", name="Lưu phân công").click()

    expect(page).to_have_url(re.compile(cluster_path + r"\?year=2026$"))
    expect(page.get_by_role("alert").filter(has_text="Đã lưu phân công năm 2026.")).to_be_visible()
    leadership = page.locator("dl").first
    expect(leadership).to_contain_text(f"Trưởng cụm {head}")
    expect(leadership).to_contain_text(f"Phó cụm {deputy}")
    expect(leadership).to_contain_text(f"Thành viên HĐ phụ trách {province['overseer']}")
    expect(leadership).to_contain_text(f"Số 35/QĐ-HĐTĐKT ngày {DECIDED} của Hội đồng Thi đua - Khen thưởng tỉnh")
    rows = page.locator("#cluster-members tbody tr")
    expect(rows.filter(has_text=head).locator(".badge")).to_have_text("Trưởng cụm")
    expect(rows.filter(has_text=deputy).locator(".badge")).to_have_text("Phó cụm")
