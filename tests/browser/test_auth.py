"""In the browser: a first sign-in must set a new password before anything else."""

import re

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from tests import factories
from tests.browser import label, sign_out

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def newcomer(seed):
    def build():
        factories.year(2026)
        unit = factories.unit("UBND xã Tân Phú Đông")
        user = factories.user("tanphudong", unit=unit)
        user.must_change_password = True
        db.session.flush()
        return {"unit": unit.name}

    return seed(build)


def test_first_login_forces_password_change(page, sign_in, newcomer, page_problems):
    sign_in("tanphudong")
    expect(page).to_have_url(re.compile(r"/password$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Đổi mật khẩu")
    expect(page.get_by_text("Đây là lần đăng nhập đầu tiên")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/password$"))

    page_problems.expect(422, "/password")
    page.get_by_label(label("Mật khẩu hiện tại")).fill(factories.PASSWORD)
    page.get_by_label(label("Mật khẩu mới")).fill("ngan-1")
    page.get_by_label(label("Nhập lại mật khẩu mới")).fill("ngan-1")
    page.get_by_role("button", name="Lưu mật khẩu mới").click()
    expect(page.locator("#new_password-error")).to_have_text("Mật khẩu phải có ít nhất 10 ký tự.")
    expect(page.get_by_label(label("Mật khẩu mới"))).to_have_class(re.compile(r"\bis-invalid\b"))

    page.get_by_label(label("Mật khẩu hiện tại")).fill(factories.PASSWORD)
    page.get_by_label(label("Mật khẩu mới")).fill("Song-Tien-mua-nuoc-noi-7")
    page.get_by_label(label("Nhập lại mật khẩu mới")).fill("Song-Tien-mua-nuoc-noi-7")
    page.get_by_role("button", name="Lưu mật khẩu mới").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(
        page.get_by_role("alert").filter(has_text="Đã đổi mật khẩu; các phiên đăng nhập khác đã kết thúc.")
    ).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{newcomer['unit']} — năm 2026")

    sign_out(page)
    sign_in("tanphudong", "Song-Tien-mua-nuoc-noi-7")
    expect(page).to_have_url(re.compile(r"/$"))
