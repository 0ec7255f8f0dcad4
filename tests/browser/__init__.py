"""Browser tests: Playwright drives Debian's Chromium against a live server (marker `browser`)."""

import re
from contextlib import contextmanager


def label(text: str) -> re.Pattern:
    """Match a field's label exactly, with or without the required-field asterisk.

    Playwright's get_by_label reads the whole label, including the aria-hidden " *"
    that marks a required field, so an exact string would miss required fields.
    """
    return re.compile(rf"^{re.escape(text)}(\s*\*)?$")


def sign_out(page) -> None:
    """Open the account menu in the header and sign out (once the page's deferred Bootstrap runs the menu)."""
    page.wait_for_load_state("load")
    page.locator(".account-button").click()
    page.get_by_role("button", name="Đăng xuất").click()


def sign_in_as(page, username: str, password: str | None = None) -> None:
    """Fill in the login page as a user would; returns once the browser has left /login."""
    from urllib.parse import urlsplit

    from tests import factories

    page.goto("/login")
    page.get_by_label(label("Tên đăng nhập")).fill(username)
    page.get_by_label(label("Mật khẩu")).fill(password or factories.PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(lambda url: urlsplit(url).path != "/login")


@contextmanager
def another_browser(browser, base_url: str, username: str):
    """A second person's browser (its own context, hence its own cookies), signed in as `username`."""
    context = browser.new_context(base_url=base_url, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    try:
        page = context.new_page()
        sign_in_as(page, username)
        yield page
    finally:
        context.close()


def score_row(page, code: str):
    """The row of the criterion `code` (I.2, …) on an assessment page."""
    return page.locator("tr.score-row").filter(has=page.locator("td", has_text=re.compile(rf"^{re.escape(code)}$")))


def fill_and_submit(page, assessment_id: int, values: dict[str, str], passed: tuple[str, str] = ("I.3", "Đạt")):
    """Open the self-assessment, type each criterion's points (leaving the field saves it), choose the
    pass/fail criterion's answer, then press "Nộp bản tự chấm" and confirm."""
    from playwright.sync_api import expect

    page.goto(f"/scoring/assessments/{assessment_id}")
    for code, value in values.items():
        field = score_row(page, code).locator("form.score-form [name=value]")
        field.fill(value)
        field.press("Tab")
        expect(score_row(page, code).locator(".save-status")).to_contain_text("Đã lưu lúc")
    code, answer = passed
    score_row(page, code).locator("form.score-form [name=value]").select_option(label=answer)
    expect(score_row(page, code).locator(".save-status")).to_contain_text("Đã lưu lúc")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Nộp bản tự chấm").click()
    expect(page.get_by_role("alert").filter(has_text="Đã nộp bản tự chấm")).to_be_visible()
