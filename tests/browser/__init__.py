"""Browser tests: Playwright drives Debian's Chromium against a live server (marker `browser`)."""

import re


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
