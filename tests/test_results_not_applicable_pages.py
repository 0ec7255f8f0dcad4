"""The "không áp dụng" page, and what a mark does to the unit's scoring forms and its Excel workbook."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Assessment, AuditEntry, NotApplicable, Score, Term
from portal.models.base import utcnow
from portal.policy import ClusterYear
from portal.services import DomainError
from portal.services.results import applicability
from portal.services.results import settings as settings_svc
from portal.services.results.inputs import Settings
from portal.services.scoring import assessments as scoring
from portal.services.scoring import rounds, verification
from portal.services.scoring.excel.apply import import_workbook
from portal.services.scoring.excel.export import export_workbook
from tests import factories

REASON = "Địa bàn không có khu du lịch"


@pytest.fixture
def table(world):
    cset, items = factories.scoring_table(world)
    db.session.commit()
    return cset, items


@pytest.fixture
def url(world):
    return f"/results/{world.cluster.id}/not-applicable?year={factories.YEAR}"


def _marks() -> list[NotApplicable]:
    return db.session.scalars(select(NotApplicable)).all()


def _mark(world, criterion, unit=None, reason=REASON) -> NotApplicable:
    here = ClusterYear(world.year.id, world.cluster.id)
    found = applicability.mark(db.session, here, unit or world.member, criterion, reason, user_id=None)
    db.session.commit()
    return found


def test_the_page_three_ways(world, table, auth, client, hx, url):
    _mark(world, table[1]["direct"])
    auth.login("head")
    page = client.get(url)
    assert page.status_code == 200 and "<html" in page.text and "HX-Request" in page.headers["Vary"]
    assert "Tiêu chí không áp dụng năm" in page.text and REASON in page.text and "Đánh dấu không áp dụng" in page.text
    assert "not-applicable-matrix" in page.text  # the compact matrix (shown from 992 px)
    fragment = hx.get(url)
    assert fragment.status_code == 200 and "<html" not in fragment.text and 'id="not-applicable-form"' in fragment.text
    for full in (hx.history_restore(url), hx.boosted(url)):
        assert full.status_code == 200 and "<html" in full.text


def test_head_marks_edits_and_removes_plain_and_htmx(world, table, auth, client, hx, url):
    _cset, items = table
    auth.login("head")
    data = {"unit_id": world.member.id, "criterion_id": items["direct"].id, "reason": REASON}
    response = client.post(url, data=data)
    assert response.status_code == 303 and response.headers["Location"].endswith(url)
    (found,) = _marks()
    assert (found.unit_id, found.criterion_id, found.reason) == (world.member.id, items["direct"].id, REASON)
    assert found.created_by_user_id == world.users["head"].id
    response = hx.post(f"/results/not-applicable/{found.id}", data={"reason": "Không có điểm du lịch nào"})
    assert response.status_code == 200 and "<html" not in response.text and "Không có điểm du lịch nào" in response.text
    assert "Đã lưu lý do không áp dụng" in response.text
    response = hx.post(f"/results/not-applicable/{found.id}/delete")
    assert response.status_code == 200 and "Tiêu chí lại áp dụng" in response.text
    assert _marks() == []
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "NotApplicable").order_by(AuditEntry.id)
    ).all()
    assert actions == ["create", "update", "delete"]


def test_a_reason_is_required_next_to_the_field(world, table, auth, hx, client, url):
    auth.login("head")
    response = hx.post(url, data={"unit_id": world.member.id, "criterion_id": table[1]["direct"].id, "reason": " "})
    assert response.status_code == 422 and "<html" not in response.text
    assert 'id="reason-error"' in response.text and "Nêu lý do tiêu chí không áp dụng cho đơn vị." in response.text
    assert _marks() == []
    found = _mark(world, table[1]["direct"])
    response = client.post(f"/results/not-applicable/{found.id}", data={"reason": ""})
    assert response.status_code == 422 and "Nêu lý do tiêu chí không áp dụng" in response.text
    db.session.expire_all()
    assert _marks()[0].reason == REASON


def test_a_bonus_item_is_refused_with_its_message(world, table, auth, client, url):
    auth.login("head")
    response = client.post(
        url, data={"unit_id": world.member.id, "criterion_id": table[1]["bonus"].id, "reason": REASON}
    )
    assert response.status_code == 422  # not even offered: the choice is not valid
    assert _marks() == []


@pytest.mark.parametrize(
    ("role", "get", "post"),
    [("member", 200, 403), ("outsider", 404, 404), ("overseer", 200, 403), ("deputy", 200, 403), ("head", 200, 303)],
)
def test_who_reads_and_who_marks(world, table, auth, client, url, role, get, post):
    found = _mark(world, table[1]["direct"], world.deputy, "Không giao chỉ tiêu này")
    auth.login(role)
    assert client.get(url).status_code == get
    data = {"unit_id": world.member.id, "criterion_id": table[1]["pass"].id, "reason": REASON}
    assert client.post(url, data=data).status_code == post
    expected_mark = 303 if role == "head" else post
    assert client.post(f"/results/not-applicable/{found.id}", data={"reason": REASON}).status_code == expected_mark
    assert client.post(f"/results/not-applicable/{found.id}/delete").status_code == expected_mark


def test_a_member_reads_only_its_own_marks(world, table, auth, client, url):
    _mark(world, table[1]["direct"])
    _mark(world, table[1]["quant"], world.deputy, "Không giao chỉ tiêu thu ngân sách")
    auth.login("member")
    page = client.get(url).text
    assert REASON in page and "Không giao chỉ tiêu thu ngân sách" not in page
    assert "Đánh dấu không áp dụng" not in page and "Bỏ đánh dấu" not in page


def test_a_deputy_marks_when_the_head_lets_it_lead(world, table, auth, client, url):
    term = db.session.scalar(select(Term).where(Term.year_id == world.year.id, Term.cluster_id == world.cluster.id))
    term.deputy_may_lead = True
    db.session.commit()
    auth.login("deputy")
    data = {"unit_id": world.member.id, "criterion_id": table[1]["direct"].id, "reason": REASON}
    assert client.post(url, data=data).status_code == 303
    assert len(_marks()) == 1


def test_while_units_score_the_page_reads_only_and_a_mark_is_refused(world, table, auth, client, url):
    cset, items = table
    found = _mark(world, items["direct"])
    scoring.open_self_round(db.session, cset)
    db.session.commit()
    auth.login("head")
    page = client.get(url).text
    assert "hiện chỉ xem được" in page and "Bỏ đánh dấu" not in page and REASON in page
    data = {"unit_id": world.deputy.id, "criterion_id": items["direct"].id, "reason": REASON}
    response = client.post(url, data=data)
    assert response.status_code == 422 and "trước khi mở vòng tự chấm" in response.text
    assert client.post(f"/results/not-applicable/{found.id}/delete").status_code == 303  # flashed, kept
    assert len(_marks()) == 1


def test_published_results_lock_the_marks(world, table, auth, client, url):
    found = _mark(world, table[1]["direct"])
    row = settings_svc.save(db.session, ClusterYear(world.year.id, world.cluster.id), Settings())
    row.locked_at = utcnow()
    db.session.commit()
    auth.login("head")
    assert "đã công bố" in client.get(url).text
    response = client.post(f"/results/not-applicable/{found.id}", data={"reason": "Lý do mới hơn"})
    assert response.status_code == 422 and "công bố" in response.text
    db.session.expire_all()
    assert _marks()[0].reason == REASON


def test_the_page_queries_stay_flat(world, table, auth, client, url, count_queries):
    auth.login("head")
    client.get(url)
    with count_queries() as none:
        client.get(url)
    _mark(world, table[1]["direct"])
    _mark(world, table[1]["quant"], world.deputy)
    _mark(world, table[1]["pass"], world.head)
    with count_queries() as some:
        client.get(url)
    assert some() == none()


def test_links_from_the_cluster_and_settings_pages(world, table, auth, client):
    auth.login("head")
    link = f"/results/{world.cluster.id}/not-applicable?year={factories.YEAR}"
    assert link in client.get(f"/clusters/{world.cluster.id}?year={factories.YEAR}").text
    assert link in client.get(f"/results/{world.cluster.id}/settings?year={factories.YEAR}").text
    auth.login("member")
    assert link in client.get(f"/clusters/{world.cluster.id}?year={factories.YEAR}").text


# ---------------------------------------------------------------- the unit's forms


def _insert_mark(cset, criterion, unit) -> None:
    """A mark as the head leaves it on verification, without opening that round here."""
    db.session.add(NotApplicable(criteria_set_id=cset.id, criterion=criterion, unit_id=unit.id, reason=REASON))
    db.session.commit()


def _own(unit) -> Assessment:
    return db.session.scalar(
        select(Assessment).where(Assessment.subject_unit_id == unit.id, Assessment.stage == "self")
    )


def _fill(assessment, items, skip=()):
    for key, raw in (("quant", "100"), ("direct", "20"), ("pass", "1"), ("bonus", "0"), ("minus", "0")):
        if key not in skip:
            scoring.save_score(db.session, assessment, items[key], raw, expected_revision=None, user_id=None)


def test_the_self_assessment_form_shows_the_mark_and_leaves_it_out(world, table, auth, client):
    cset, items = table
    _mark(world, items["direct"])
    scoring.open_self_round(db.session, cset)
    db.session.commit()
    own = _own(world.member)
    auth.login("member")
    page = client.get(f"/scoring/assessments/{own.id}").text
    assert f'Không áp dụng</span> <span class="note-text">— {REASON}' in page
    assert f'name="value" id="value-{own.id}-{items["direct"].id}"' not in page  # no input
    assert f'name="value" id="value-{own.id}-{items["quant"].id}"' in page
    assert "điểm chuẩn các tiêu chí áp dụng: 70" in page  # 100 − 30
    totals = scoring.totals(db.session, own)
    assert totals.maximum == Decimal(70) and "I.2" not in [*totals.missing]
    response = client.post(
        f"/scoring/assessments/{own.id}/scores/{items['direct'].id}", data={"value": "10", "revision": "0"}
    )
    assert response.status_code == 422 and "không áp dụng cho đơn vị" in response.text
    assert db.session.scalar(select(func.count()).select_from(Score)) == 0
    _fill(own, items, skip=("direct",))
    scoring.submit(db.session, own, None)  # complete without the leaf that does not apply
    db.session.commit()
    assert own.status == "submitted"


def test_the_verification_form_leaves_it_out_too(world, table):
    cset, items = table
    scoring.open_self_round(db.session, cset)
    own = _own(world.member)
    _fill(own, items)
    scoring.submit(db.session, own, None)
    verified = verification.start_verification(db.session, own, world.head.id)
    _mark(world, items["direct"])  # on verification: the window is open again
    totals = scoring.totals(db.session, verified)
    assert totals.maximum == Decimal(70) and totals.base == Decimal(40) + Decimal(30)  # the 20 of I.2 left out
    with pytest.raises(DomainError, match="không áp dụng cho đơn vị"):
        scoring.save_score(db.session, verified, items["direct"], "25", expected_revision=None, user_id=None)


def test_the_form_queries_stay_flat_with_marks(world, table, auth, client, count_queries):
    cset, items = table
    scoring.open_self_round(db.session, cset)
    db.session.commit()
    own = _own(world.member)
    auth.login("member")
    client.get(f"/scoring/assessments/{own.id}")
    with count_queries() as none:
        client.get(f"/scoring/assessments/{own.id}")
    here = ClusterYear(world.year.id, world.cluster.id)
    for key in ("direct", "pass"):
        _insert_mark(cset, items[key], world.member)
    assert not applicability.window_open(db.session, here)  # added behind the window's back: a page only reads
    page = client.get(f"/scoring/assessments/{own.id}")  # the marks' audit entries drop the kept rows
    assert page.text.count("Không áp dụng</span>") == 2
    with count_queries() as marked:
        client.get(f"/scoring/assessments/{own.id}")
    assert marked() == none()


def test_the_excel_workbook_shows_the_mark_and_an_import_skips_it(world, table):
    cset, items = table
    scoring.open_self_round(db.session, cset)
    own = _own(world.member)
    db.session.commit()
    before = export_workbook(db.session, own)  # downloaded before the mark (made on verification, say)
    _insert_mark(cset, items["direct"], world.member)
    data = export_workbook(db.session, own)
    sheet = load_workbook(BytesIO(data))["Tự chấm điểm"]
    rows = {sheet.cell(r, 1).value: r for r in range(11, sheet.max_row + 1) if sheet.cell(r, 1).value}
    direct = rows["I.2"]
    assert sheet.cell(direct, 6).value == "Không áp dụng" and sheet.cell(direct, 7).value == REASON
    assert sheet.cell(direct, 6).protection.locked and sheet.cell(direct, 4).value is None
    assert sheet.cell(rows["I"], 4).value == 70  # the section's maximum without the leaf
    meta = load_workbook(BytesIO(data))["_meta"]
    assert items["direct"].id not in [meta.cell(r, 2).value for r in range(6, meta.max_row + 1)]
    # the older file, filled in with a value for the leaf marked since: that row is skipped with a note
    book = load_workbook(BytesIO(before))
    ws = book["Tự chấm điểm"]
    old_rows = {ws.cell(r, 1).value: r for r in range(11, ws.max_row + 1) if ws.cell(r, 1).value}
    ws.cell(old_rows["I.2"], 6).value = 25
    ws.cell(old_rows["I.1"], 6).value = 90
    out = BytesIO()
    book.save(out)
    report = import_workbook(db.session, own, out.getvalue(), user_id=None)
    db.session.commit()
    assert report.errors == [] and report.saved == 1
    assert report.skipped == [
        f"Dòng {old_rows['I.2']} (I.2): tiêu chí không áp dụng cho đơn vị (lý do: {REASON}); bỏ qua."
    ]
    assert scoring.score_maps(db.session, [own.id])[own.id].keys() == {items["quant"].id}


def test_the_progress_page_sums_leave_it_out(world, table):
    cset, items = table
    scoring.open_self_round(db.session, cset)
    own = _own(world.member)
    _fill(own, items)
    db.session.commit()
    before = rounds.sums(db.session, [own.id])[own.id]
    _insert_mark(cset, items["direct"], world.member)  # marked on verification, after the unit scored it
    after = rounds.sums(db.session, [own.id])[own.id]
    assert before.base - after.base == Decimal(20) and before.scored - after.scored == 1
