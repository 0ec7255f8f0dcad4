"""Every main page, signed in as each role, at 375, 768, 1280 and 1920 px: nothing scrolls sideways.

One Chromium, one context per role (signed in once); each page is loaded once and measured at
every width. The pages are the GET routes that need no id, plus the pages of the objects a
small province holds (cluster, criteria, pledge, targets, self-assessment, verification, peer
review, accounts, units, council, audit log …). A page a role may not open is skipped for it.
The published results with an online vote (the receipt check) and a correction's diff need a published
year: test_screens_published.py measures them at the same widths.
"""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assessment, AuditEntry, Pledge, User
from portal.policy import ClusterYear
from portal.services.meetings import record
from portal.services.pledges import agreements as pledges
from portal.services.scoring import assessments, reviews
from portal.services.scoring import verification as verification_svc
from tests import factories
from tests.browser import label

pytestmark = pytest.mark.browser

WIDTHS = (375, 768, 1280, 1920)
ROLES = ("secretariat", "overseer", "head", "member")
# files, the JSON API, the sign-in page (a signed-in user is sent on) and pages that only redirect
SKIPPED_ENDPOINTS = ("static", "auth.login", "transfer.export", "transfer.template", "dashboard.stream")
SKIPPED_PREFIXES = ("api.",)


@pytest.fixture(scope="module")
def province(seed):
    """The small province with its 2026 year under way: locked criteria with targets, the pledge,
    the self round (the member's submitted and under verification), the peer round open."""

    def build():
        world = factories.world()
        cset, items = factories.scoring_table(world)
        pledge = pledges.create(db.session, world.cluster, world.year)
        pledge.criteria_set_id = cset.id
        assessments.open_self_round(db.session, cset)
        own = db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == world.member.id))
        for key, raw in (("quant", "60"), ("direct", "25,5"), ("pass", "dat"), ("bonus", "1"), ("minus", "2")):
            assessments.save_score(db.session, own, items[key], raw, "Căn cứ", expected_revision=None, user_id=None)
        assessments.submit(db.session, own, None)
        verified = verification_svc.start_verification(db.session, own, world.head.id)
        peer = reviews.create_round(db.session, cset, "all_pairs")
        reviews.open_round(db.session, peer)
        fields = record.RecordFields(
            factories.past_date(1), "Hội trường UBND phường An Bình", "Nguyễn Văn An", "Lê Bình"
        )
        meeting = record.open_meeting(db.session, ClusterYear(world.year.id, world.cluster.id), fields, user_id=None)
        for unit in (world.head, world.deputy):
            record.mark(
                db.session, meeting, unit.id, present=True, representative="Nguyễn Thị Thanh", position="Chủ tịch"
            )
        db.session.flush()
        member_user = db.session.scalar(select(User).where(User.username == "member"))
        return {
            "cluster": world.cluster.id,
            "block": world.other_cluster.id,
            "unit": world.member.id,
            "council_member": world.overseer.id,
            "set": cset.id,
            "item": items["direct"].id,
            "pledge": db.session.scalar(select(Pledge.id)),
            "self": own.id,
            "verified": verified.id,
            "user": member_user.id,
            "audit": db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)),
        }

    return seed(build)


def _pages(app: Flask, ids: dict) -> list[str]:
    plain = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and not rule.arguments
        and rule.endpoint not in SKIPPED_ENDPOINTS
        and not rule.endpoint.startswith(SKIPPED_PREFIXES)
        and not rule.rule.endswith((".xlsx", ".docx", ".json"))
    )
    c, year = ids["cluster"], 2026
    objects = [
        f"/clusters/{c}?year={year}",
        f"/clusters/{ids['block']}?year={year}",
        f"/clusters/{c}/edit",
        f"/clusters/{c}/term?year={year}",
        f"/units/{ids['unit']}",
        f"/units/{ids['unit']}/edit",
        f"/council/{ids['council_member']}",
        f"/accounts/{ids['user']}",
        f"/years/{year}",
        f"/years/{year}/next",
        f"/criteria/{c}/{year}",
        f"/criteria/sets/{ids['set']}",
        f"/criteria/sets/{ids['set']}/print",
        f"/pledges/{c}/{year}",
        f"/pledges/{ids['pledge']}/edit",
        f"/pledges/{ids['pledge']}/print",
        f"/pledges/{c}/{year}/targets",
        f"/scoring/{c}/{year}",
        f"/scoring/assessments/{ids['self']}",
        f"/scoring/assessments/{ids['verified']}",
        f"/reviews/{c}/{year}",
        f"/results/{c}/{year}",
        f"/results/{c}/{year}/units/{ids['unit']}",
        f"/results/{c}/{year}/print",
        f"/audit-log/{ids['audit']}",
        f"/results/{c}/settings?year={year}",
        f"/results/bands/{year}",
        f"/results/bands/{year}?kind=block",
        f"/results/eligibility/{year}",
        f"/meetings/{c}/{year}",
        f"/meetings/{ids['block']}/{year}",
        f"/meetings/quotas/{year}",
        f"/meetings/{c}/{year}/vote",
        f"/meetings/{c}/{year}/receipt",
        f"/dashboard/clusters/{c}/{year}",
        f"/dashboard/units/{ids['unit']}",
    ]
    return plain + objects


MEASURE = """() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => {
    const inner = window.innerWidth;
    // the outermost elements that stick out, to name the culprit in the failure message
    const out = [];
    for (const e of document.body.querySelectorAll("*")) {
        const r = e.getBoundingClientRect();
        if (r.width && r.right > inner + 1 && !out.some(o => o.contains(e))) out.push(e);
    }
    done({
        inner,
        out: out.slice(0, 3).map(e => [e.tagName.toLowerCase(), e.id, ...e.classList].join(" ")),
        root: document.documentElement.scrollWidth,
        body: document.body.scrollWidth,
    });
})))"""


def _sign_in(page, username: str) -> None:
    page.goto("/login")
    page.get_by_label(label("Tên đăng nhập")).fill(username)
    page.get_by_label(label("Mật khẩu")).fill(factories.PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_no_page_scrolls_sideways_at_any_width(browser, live_server, province):
    pages = _pages(live_server.app, province)
    too_wide, visited = [], 0
    for role in ROLES:
        context = browser.new_context(base_url=live_server.url, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
        try:
            page = context.new_page()
            _sign_in(page, role)
            for path in pages:
                if context.request.get(path, max_redirects=0).status != 200:
                    continue  # not this role's page (403/404) or a redirect
                page.set_viewport_size({"width": WIDTHS[0], "height": 800})
                page.goto(path)
                visited += 1
                for width in WIDTHS:
                    page.set_viewport_size({"width": width, "height": 800})
                    m = page.evaluate(MEASURE)
                    if m["root"] > m["inner"] or m["body"] > m["inner"]:
                        culprits = ", ".join(m["out"])
                        too_wide.append(f"{role} {path} at {width}px: {m['root']}/{m['body']}px wide ({culprits})")
        finally:
            context.close()
    assert visited >= 4 * 12, f"only {visited} pages visited"
    assert not too_wide, "pages wider than the window:\n" + "\n".join(too_wide)


@pytest.mark.parametrize("width", [1280, 1366])
def test_the_secretariats_account_menu_is_on_screen_at_laptop_widths(page, sign_in, province, width):
    page.set_viewport_size({"width": width, "height": 768})
    sign_in("secretariat")
    account = page.locator(".account-button")
    expect(account).to_be_visible()
    box = account.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"account menu at {box} in a {width}px window"
    account.click()
    for item in (page.get_by_role("link", name="Đổi mật khẩu"), page.get_by_role("button", name="Đăng xuất")):
        expect(item).to_be_visible()
        item_box = item.bounding_box()
        assert item_box["x"] >= 0 and item_box["x"] + item_box["width"] <= width


def test_a_phone_reaches_every_self_assessment_input_without_scrolling_sideways(page, sign_in, province):
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in("deputy")
    page.goto(f"/scoring/{province['cluster']}/2026")
    page.get_by_role("link", name="Tự chấm").click()
    fields = page.locator("form.score-form [name=value], form.score-form [name=note]")
    expect(fields.first).to_be_visible()
    assert fields.count() == 10
    for i in range(fields.count()):
        box = fields.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, f"field {i} at {box}"
    scrolled = page.evaluate("[document.scrollingElement.scrollLeft, document.documentElement.scrollWidth]")
    assert scrolled[0] == 0 and scrolled[1] <= 375
