"""Issue 16's whole year in the browser: one cluster from a published criteria table to published results
with an online vote, and the council's decision recorded by the secretariat and read by the unit.

Built with factories and services (not UI): the organisation (a cluster-year with head, deputy and one more
member, their accounts), the criteria table, published and locked (publishing a table through the UI is
covered by test_criteria.py), and the pledge agreement drafted on it (drafting: test_pledge.py).

Through the browser (UI): the head opens the self round; each of the three units signs the pledge, then
self-scores and submits from its own account; the head closes the self round and reads the ranking on the
results page; verifies the member's self-assessment (thẩm định: I.1 lowered from 45 to 44 with its reason) and
sends it to the unit, which opens it from its notice and explains (giải trình), and the ranking reads the
verified score; opens the year-end meeting, marks every unit present (quorum), opens the online vote; each
unit votes from its own browser context; the head closes the vote, the nominations appear; the head ends
the meeting, publishes ("Công bố kết quả"), the recompute says "khớp" and the three hashes show (snapshot,
criteria, pledge charter); a voter finds its receipt in the published record; the secretariat records the
council's decision; the unit reads it on the published results. No final score (chốt điểm thống nhất) is
fixed: the agreed score is the verification's (see docs/architecture.md, "The glossary in the code").
"""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.services.criteria import sets as criteria_svc
from portal.services.pledges import agreements
from tests import factories
from tests.browser import label, score_row

pytestmark = pytest.mark.browser

YEAR = factories.YEAR
FLAG = "Cờ thi đua của Ủy ban nhân dân tỉnh"
CERTIFICATE = "(toàn diện)"
# Each unit's self-scores (I.1 of 60, I.2 of 40): the head first (90), then the member (80), the deputy (78);
# the head's verification lowers the member's I.1 to 44 (79), which keeps the order.
SIGNED_ON = factories.past_date(20)  # the pledge's signing meeting
POINTS = {"head": ("55", "35"), "deputy": ("50", "28"), "member": ("45", "35")}


@pytest.fixture
def year_start(seed):
    """The organisation and a published, locked criteria table: I. 1 (60) and 2 (40), both scored directly."""

    def build():
        world = factories.world()
        cset = criteria_svc.create_set(db.session, world.cluster, world.year, title="Bảng", target_total=D(100))
        section = criteria_svc.add_criterion(db.session, cset, None, code="I", title="Nhiệm vụ")
        criteria_svc.add_criterion(db.session, cset, section, code="1", title="Kinh tế", max_points=D(60))
        criteria_svc.add_criterion(db.session, cset, section, code="2", title="Xã hội", max_points=D(40))
        criteria_svc.publish(db.session, cset)
        criteria_svc.lock(db.session, cset)
        pledge = agreements.create(db.session, world.cluster, world.year)  # bound to the locked table
        pledge.meeting_date = SIGNED_ON
        return {
            "cluster": world.cluster.id,
            "names": {key: getattr(world, key).name for key in POINTS},
            "flag": next(a.id for a in _awards() if a.code == "co_thi_dua"),
            "head_id": world.head.id,
        }

    return seed(build)


def _awards():
    from portal.services.meetings import awards

    return awards.award_types(db.session)


def _fill(page, code: str, value: str) -> None:
    field = score_row(page, code).locator("form.score-form [name=value]")
    field.fill(value)
    field.press("Tab")
    expect(score_row(page, code).locator(".save-status")).to_contain_text("Đã lưu lúc")


def _switch(page, sign_in, username: str) -> None:
    page.context.clear_cookies()
    sign_in(username)


def _sign_pledge(page, settled, cluster: int) -> None:
    page.goto(f"/pledges/{cluster}/{YEAR}")
    form = page.locator("#pledge-signatures form")
    form.get_by_label(label("Họ và tên người ký")).fill("Nguyễn Văn An")
    form.get_by_label(label("Chức vụ")).fill("Chủ tịch UBND")
    form.get_by_label(label("Ngày ký")).fill(factories.vn_format(SIGNED_ON))
    with settled():
        form.get_by_role("button", name="Ký giao ước").click()
    expect(page.locator("#pledge-signatures").get_by_role("alert")).to_have_text("Đơn vị đã ký giao ước thi đua.")


def _self_score(page, sign_in, settled, cluster: int, username: str) -> None:
    _switch(page, sign_in, username)
    _sign_pledge(page, settled, cluster)
    page.goto(f"/scoring/{cluster}/{YEAR}")
    page.get_by_role("link", name="Tự chấm").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tự chấm")
    first, second = POINTS[username]
    _fill(page, "I.1", first)
    _fill(page, "I.2", second)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Nộp bản tự chấm").click()
    expect(page.locator("#assessment-actions")).to_contain_text("Đã nộp lúc")


def _voter(browser, live_server, username: str):
    """A browser context of the unit's own, phone-sized, signed in as the unit's account."""
    context = browser.new_context(
        base_url=live_server.url, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", viewport={"width": 375, "height": 800}
    )
    context.set_default_timeout(10_000)
    voter = context.new_page()
    voter.goto("/login")
    voter.get_by_label(label("Tên đăng nhập")).fill(username)
    voter.get_by_label(label("Mật khẩu")).fill(factories.PASSWORD)
    voter.get_by_role("button", name="Đăng nhập").click()
    voter.wait_for_url(lambda url: "/login" not in url)
    return context, voter


def _vote(voter, path: str, names: dict[str, str]) -> str:
    """Everyone votes the head for the flag and the head and the deputy for the certificates."""
    voter.goto(path + "/vote")
    voter.locator("fieldset", has_text=FLAG).get_by_label(names["head"]).check()
    for key in ("head", "deputy"):
        voter.locator("fieldset", has_text=CERTIFICATE).get_by_label(names[key]).check()
    voter.get_by_role("button", name="Bỏ phiếu", exact=True).click()
    expect(voter.locator("#voted")).to_be_visible()
    return voter.locator("[data-receipt]").inner_text()


def _saved(page, row, name: str, value: str) -> None:
    """Type into a row's field and leave it; returns once the autosave has answered."""
    field = row.locator(f"form.score-form [name={name}]")
    with page.expect_response(lambda r: "/scores/" in r.url and r.request.method == "POST"):
        field.fill(value)
        field.press("Tab")


def _verify_and_explain(page, sign_in, ids) -> None:
    """The head verifies the member's self-assessment and sends it; the member explains from its notice."""
    member = ids["names"]["member"]
    page.goto(f"/scoring/{ids['cluster']}/{YEAR}")
    page.locator(f'#progress-table tr[data-unit="{member}"]').get_by_role("button", name="Thẩm định").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Thẩm định: {member}")
    _saved(page, score_row(page, "I.1"), "value", "44")
    expect(score_row(page, "I.1").locator(".differs-mark")).to_contain_text("khác điểm tự chấm")
    _saved(page, score_row(page, "I.1"), "note", "Thiếu minh chứng chỉ tiêu thu ngân sách quý IV")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Gửi kết quả thẩm định cho đơn vị").click()
    expect(page.locator("#assessment-actions")).to_contain_text("Đã nộp lúc")

    _switch(page, sign_in, "member")
    page.goto("/notices/")
    page.get_by_role("button", name=re.compile(f"đã gửi kết quả thẩm định điểm của {re.escape(member)}")).click()
    expect(score_row(page, "I.1")).to_contain_text("Thiếu minh chứng chỉ tiêu thu ngân sách quý IV")
    page.get_by_role("button", name="Giải trình kết quả thẩm định").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Giải trình")
    _saved(page, score_row(page, "I.1"), "note", "Đơn vị bổ sung biên bản đối chiếu thu ngân sách quý IV")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Gửi giải trình").click()
    expect(page.locator("#assessment-actions")).to_contain_text("Đã nộp lúc")
    _switch(page, sign_in, "head")


def _score_and_rank(page, sign_in, settled, ids) -> None:
    cluster, names = ids["cluster"], ids["names"]
    sign_in("head")
    page.goto(f"/scoring/{cluster}/{YEAR}")
    page.get_by_role("button", name="Mở vòng tự chấm điểm").click()
    expect(page.get_by_role("button", name="Đóng vòng tự chấm điểm")).to_be_visible()
    for username in POINTS:
        _self_score(page, sign_in, settled, cluster, username)
    _switch(page, sign_in, "head")
    page.goto(f"/scoring/{cluster}/{YEAR}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Đóng vòng tự chấm điểm").click()
    expect(page.get_by_text("Đã đóng lúc")).to_be_visible()
    _verify_and_explain(page, sign_in, ids)
    page.goto(f"/results/{cluster}/{YEAR}")
    rows = page.locator("table tbody tr")
    for place, key in enumerate(("head", "member", "deputy")):
        expect(rows.nth(place)).to_contain_text(names[key])
    expect(rows.nth(0)).to_contain_text("90")
    expect(rows.nth(1)).to_contain_text("79")  # the verified score, not the self-score (80)


def _open_meeting(page, settled, ids) -> str:
    path = f"/meetings/{ids['cluster']}/{YEAR}"
    page.goto(path)
    page.get_by_label(label("Ngày họp")).fill(factories.vn_format(factories.past_date(0)))
    page.get_by_label(label("Địa điểm")).fill("Hội trường UBND phường An Bình")
    page.get_by_label(label("Chủ trì hội nghị")).fill("Nguyễn Văn An")
    page.get_by_label(label("Thư ký hội nghị")).fill("Lê Thị Bình")
    with settled():
        page.get_by_role("button", name="Mở hội nghị").click()
    for name in ids["names"].values():
        unit = page.locator("#meeting form").filter(has=page.get_by_label(name, exact=True))
        unit.get_by_label(name, exact=True).check()
        unit.get_by_placeholder("Người dự họp").fill("Đại diện " + name)
        unit.get_by_placeholder("Chức vụ").fill("Chủ tịch")
        with settled():
            unit.get_by_role("button", name=f"Lưu {name}").click()
    expect(page.locator("#quorum")).to_contain_text("Có mặt 3/3 thành viên")
    expect(page.locator("#quorum")).to_contain_text("Đủ số thành viên để biểu quyết")
    return path


def _online_vote(page, settled, browser, live_server, path: str, names: dict[str, str]) -> dict[str, str]:
    with settled():
        page.locator("#online-vote").get_by_role("button", name="Mở bỏ phiếu trực tuyến").click()
    expect(page.locator("#online-vote")).to_contain_text("0/3 đơn vị có mặt đã bỏ phiếu")
    codes, contexts = {}, []
    try:
        for username in POINTS:
            context, voter = _voter(browser, live_server, username)
            contexts.append(context)
            codes[username] = _vote(voter, path, names)
    finally:
        for context in contexts:
            context.close()
    page.reload()
    expect(page.locator("#online-vote")).to_contain_text("3/3 đơn vị có mặt đã bỏ phiếu")
    page.once("dialog", lambda dialog: dialog.accept())
    with settled():
        page.locator("#online-vote").get_by_role("button", name="Đóng bỏ phiếu và kiểm phiếu").click()
    nominations = page.locator("table.results-table").last
    expect(nominations.locator("tr", has_text=FLAG).filter(has_text=names["head"])).to_contain_text("Được suy tôn")
    for key in ("head", "deputy"):
        row = nominations.locator("tr", has_text=CERTIFICATE).filter(has_text=names[key])
        expect(row).to_contain_text("Được suy tôn")
    return codes


def _publish(page, settled, ids, code: str) -> str:
    page.once("dialog", lambda dialog: dialog.accept())
    with settled():
        page.get_by_role("button", name="Kết thúc hội nghị").click()
    page.get_by_role("link", name="Công bố kết quả, quyết định khen thưởng").click()
    with settled():
        page.get_by_role("button", name="Công bố kết quả").click()
    expect(page.get_by_text("Đã công bố kết quả.")).to_be_visible()
    expect(page.locator("#snapshot-hash")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    # the snapshot, the criteria table and the signed pledge charter, each with its SHA-256
    expect(page.locator("#publication dd code").filter(has_text=re.compile(r"^[0-9a-f]{64}$"))).to_have_count(3)
    with settled():
        page.get_by_role("link", name="Tính lại và đối chiếu").click()
    expect(page.locator("#verify-result")).to_have_text("Tính lại từ dữ liệu đã lưu: khớp.")
    page.get_by_label("Mã biên nhận").fill(code)
    page.get_by_role("button", name="Đối chiếu với bản công bố").click()
    expect(page.locator("#snapshot-receipt")).to_contain_text("Phiếu mang mã này có trong bản công bố")
    expect(page.locator("#snapshot-receipt")).to_contain_text(ids["names"]["deputy"])
    return f"/publication/{ids['cluster']}/{YEAR}"


def _council_decides(page, sign_in, settled, ids) -> str:
    _switch(page, sign_in, "secretariat")
    page.goto(f"/publication/council/{YEAR}")
    proposal = page.locator(f"#proposal-{ids['cluster']}-{ids['flag']}-{ids['head_id']}")
    proposal.locator("summary").click()
    proposal.get_by_label("Phiếu đồng ý").fill("10")
    proposal.get_by_label("Phiếu không đồng ý").fill("1")
    proposal.get_by_label("Số thành viên biểu quyết").fill("13")
    proposal.get_by_label("Số quyết định").fill("201/QĐ-UBND")
    day = factories.vn_format(factories.past_date(0))
    proposal.get_by_label("Ngày quyết định").fill(day)
    with settled():
        proposal.get_by_role("button", name="Lưu quyết định").click()
    expect(page.get_by_text("Đã ghi quyết định.")).to_be_visible()
    return day


def test_one_clusters_whole_year_from_the_criteria_table_to_the_councils_decision(
    page, sign_in, settled, year_start, browser, live_server
):
    ids = year_start
    _score_and_rank(page, sign_in, settled, ids)
    path = _open_meeting(page, settled, ids)
    codes = _online_vote(page, settled, browser, live_server, path, ids["names"])
    url = _publish(page, settled, ids, codes["member"])
    day = _council_decides(page, sign_in, settled, ids)

    _switch(page, sign_in, "head")  # the unit the decision is about reads it on its cluster's results
    page.goto(url)
    expect(page.get_by_text(f"Quyết định số 201/QĐ-UBND ngày {day}")).to_be_visible()
