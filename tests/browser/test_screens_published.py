"""The published results page with an online vote (its receipt check, found and not found) and a correction's
revision diff (where a correction's notice leads), at every width of test_screens.py: nothing scrolls sideways.

Its own module because it needs its own database: the province of test_screens.py has a meeting under way,
and `seed` empties the live database, so the two cannot share a module when the tests are shuffled.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_screens import MEASURE, WIDTHS, _sign_in
from tests.meeting_helpers import where
from tests.publication_helpers import voted_online

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def published(seed):
    """The world's cluster-year voted online, published, then corrected once (revision 2)."""

    def build():
        from portal.extensions import db
        from portal.services.publication import snapshots

        world = factories.world()
        codes, first = voted_online(world)
        content = snapshots.content_of(first)
        leaf = content["input"]["table"]["leaves"][0]["criterion_id"]
        correction = snapshots.Correction(world.member.id, leaf, "44")
        snapshots.revise(db.session, where(world), correction, "Sai sót khi cộng điểm chỉ tiêu thu ngân sách", None)
        db.session.commit()
        return {"cluster": world.cluster.id, "year": world.year.year, "code": codes["member"]}

    return seed(build)


def _too_wide(page, path: str) -> list[str]:
    found = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        m = page.evaluate(MEASURE)
        if m["root"] > m["inner"] or m["body"] > m["inner"]:
            found.append(f"{path} at {width}px: {m['root']}/{m['body']}px wide ({', '.join(m['out'])})")
    return found


@pytest.mark.parametrize("role", ["member", "secretariat"])
def test_the_receipt_check_and_the_revision_diff_fit_every_width(browser, live_server, published, role):
    base = f"/publication/{published['cluster']}/{published['year']}"
    context = browser.new_context(base_url=live_server.url, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    too_wide = []
    try:
        page = context.new_page()
        _sign_in(page, role)
        page.set_viewport_size({"width": 375, "height": 800})
        page.goto(base)
        form = page.locator("#snapshot-ballots")
        form.get_by_label("Mã biên nhận").fill(published["code"])
        form.get_by_role("button", name="Đối chiếu với bản công bố").click()
        expect(page.locator("#snapshot-receipt")).to_contain_text("Phiếu mang mã này có trong bản công bố")
        for element in (form.get_by_label("Mã biên nhận"), page.locator("#snapshot-receipt")):
            box = element.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, f"{element} at {box}"
        too_wide += _too_wide(page, f"{base}?receipt=…")
        page.set_viewport_size({"width": 375, "height": 800})
        page.goto(f"{base}?receipt=ZZZZ-ZZZZ-ZZZZ-ZZZZ")
        expect(page.locator("#snapshot-receipt")).to_contain_text("Không có phiếu nào mang mã biên nhận này")
        too_wide += _too_wide(page, f"{base}?receipt=ZZZZ…")
        page.set_viewport_size({"width": 375, "height": 800})
        page.goto(f"{base}?from=1&to=2#revision-diff")
        expect(page.locator("#revision-diff")).to_contain_text("Sai sót khi cộng điểm chỉ tiêu thu ngân sách")
        too_wide += _too_wide(page, f"{base}?from=1&to=2")
    finally:
        context.close()
    assert not too_wide, "pages wider than the window:\n" + "\n".join(too_wide)
