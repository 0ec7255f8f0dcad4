"""Self-assessment pages: opening the round, autosave per field, conflicts, submit/return, deadlines, verification."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.formatting import vn_number
from portal.models import Assessment, AuditEntry, Score, ScoringRound
from portal.services.scoring import assessments as svc
from tests import factories


@pytest.fixture
def table(world):
    cset, items = factories.scoring_table(world)
    db.session.commit()
    return cset, items


@pytest.fixture
def opened(world, table):
    cset, items = table
    svc.open_self_round(db.session, cset)
    db.session.commit()
    return items


def own(unit, stage="self") -> Assessment:
    return db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == unit.id, Assessment.stage == stage))


def score_of(assessment, item) -> Score | None:
    return db.session.scalar(select(Score).where(Score.assessment_id == assessment.id, Score.criterion_id == item.id))


def save(hx, assessment, item, value, note="", revision=""):
    url = f"/scoring/assessments/{assessment.id}/scores/{item.id}"
    return hx.post(url, data={"value": value, "note": note, "revision": revision})


def fill_all(unit, items):
    a = own(unit)
    for key, raw in (("quant", "60"), ("direct", "25,5"), ("pass", "dat"), ("bonus", "1"), ("minus", "0")):
        svc.save_score(db.session, a, items[key], raw, "căn cứ", expected_revision=None, user_id=None)
    db.session.commit()
    return a


def test_the_head_opens_the_round_with_a_deadline(world, table, auth, client):
    due = factories.future_date(60)
    auth.login("head")
    page = client.get(f"/scoring/{world.cluster.id}/2026")
    assert "Mở vòng tự chấm điểm" in page.text
    response = client.post(f"/scoring/{world.cluster.id}/2026/open", data={"deadline": factories.vn_format(due)})
    assert response.status_code == 303
    scoring_round = db.session.scalar(select(ScoringRound))
    assert scoring_round.deadline == factories.vn_moment(due, 23, 59, 59)  # end of the day in Vietnam, in UTC
    assert db.session.scalar(select(func.count(Assessment.id))) == 3


def test_a_bad_deadline_is_shown_next_to_the_field_and_nothing_opens(world, table, auth, client):
    auth.login("head")
    response = client.post(f"/scoring/{world.cluster.id}/2026/open", data={"deadline": "31/02/2025"})
    assert response.status_code == 422 and "dd/mm/yyyy" in response.text
    assert db.session.scalar(select(func.count(ScoringRound.id))) == 0


def test_members_cannot_open_the_round(world, table, auth, client):
    auth.login("member")
    assert client.post(f"/scoring/{world.cluster.id}/2026/open", data={}).status_code == 403


def test_autosave_saves_one_field_and_answers_with_points_and_totals(world, opened, auth, client, hx):
    auth.login("member")
    a = own(world.member)
    page = client.get(f"/scoring/assessments/{a.id}")
    assert page.status_code == 200 and "Cải cách" in page.text and 'name="revision"' in page.text
    response = save(hx, a, opened["direct"], "25,5", "Đã ban hành kế hoạch")
    assert response.status_code == 200
    assert "Đã lưu lúc" in response.text and f'id="points-{a.id}-{opened["direct"].id}"' in response.text
    assert f'id="totals-{a.id}"' in response.text and "25,5" in response.text
    score = score_of(a, opened["direct"])
    assert score.value == D("25.5") and score.points == D("25.5") and score.note == "Đã ban hành kế hoạch"


@pytest.mark.parametrize(
    "raw, message",
    [
        ("-1", "không được âm"),
        ("31", "30"),
        ("10,3", "0,25"),
        ("NaN", "Điểm"),
        ("mười", "Điểm"),
        ("1e400", "Điểm"),
    ],
)
def test_boundary_scores_are_refused_next_to_the_field(world, opened, auth, hx, raw, message):
    auth.login("member")
    a = own(world.member)
    response = save(hx, a, opened["direct"], raw)
    assert response.status_code == 422
    assert f'id="status-{a.id}-{opened["direct"].id}"' in response.text and message in response.text
    assert score_of(a, opened["direct"]) is None


def test_values_by_method(world, opened, auth, hx):
    auth.login("member")
    a = own(world.member)
    assert save(hx, a, opened["pass"], "khong dat").status_code == 200
    assert save(hx, a, opened["bonus"], "2").status_code == 200
    assert save(hx, a, opened["bonus"] if False else opened["minus"], "1,5").status_code == 422  # a count is whole
    assert save(hx, a, opened["pass"], "có lẽ").status_code == 422
    assert score_of(a, opened["pass"]).points == 0
    assert score_of(a, opened["bonus"]).points == 4


def test_a_stale_revision_is_a_conflict_showing_both_values(world, opened, auth, hx):
    auth.login("member")
    a = own(world.member)
    save(hx, a, opened["direct"], "20")
    first = score_of(a, opened["direct"]).revision
    assert save(hx, a, opened["direct"], "22", revision=str(first)).status_code == 200  # colleague's save
    response = save(hx, a, opened["direct"], "28", "của tôi", revision=str(first))  # made on the old revision
    assert response.status_code == 409
    assert "Giữ giá trị của tôi" in response.text and "22" in response.text and "28" in response.text
    assert score_of(a, opened["direct"]).value == 22
    keep = save(hx, a, opened["direct"], "28", "của tôi", revision=str(first + 1))
    assert keep.status_code == 200 and score_of(a, opened["direct"]).value == 28


def test_saving_the_same_text_again_writes_nothing(world, opened, auth, hx):
    auth.login("member")
    a = own(world.member)
    save(hx, a, opened["direct"], "20", "x")
    revision = score_of(a, opened["direct"]).revision
    entries = db.session.scalar(select(func.count(AuditEntry.id)))
    assert save(hx, a, opened["direct"], "20", "x", revision="1").status_code == 200
    assert score_of(a, opened["direct"]).revision == revision
    assert db.session.scalar(select(func.count(AuditEntry.id))) == entries


def test_nobody_else_reads_a_draft_and_nobody_else_writes_it(world, opened, auth, client, hx):
    a = own(world.member)
    for role in ("head", "deputy", "overseer", "secretariat", "outsider"):
        auth.login(role)
        assert client.get(f"/scoring/assessments/{a.id}").status_code == 404, role
        assert save(hx, a, opened["direct"], "10").status_code in (403, 404), role
        assert client.get(f"/scoring/assessments/{a.id}/export.xlsx").status_code == 404, role
        auth.logout()
    assert score_of(a, opened["direct"]) is None


def test_a_criterion_of_another_table_is_not_found(world, opened, auth, hx):
    from portal.services.criteria import sets as criteria_svc

    other = criteria_svc.create_set(db.session, world.other_cluster, world.year, title="Bảng khối", target_total=D(10))
    item = criteria_svc.add_criterion(db.session, other, None, code="I", title="Khác", max_points=D(10))
    db.session.commit()
    auth.login("member")
    assert save(hx, own(world.member), item, "10").status_code == 404


def test_submit_needs_every_criterion_then_locks(world, opened, auth, client, hx):
    auth.login("member")
    a = own(world.member)
    save(hx, a, opened["direct"], "20")
    response = hx.post(f"/scoring/assessments/{a.id}/submit")
    assert response.status_code == 422 and "chưa chấm" in response.text and "I.1" in response.text
    fill_all(world.member, opened)
    assert hx.post(f"/scoring/assessments/{a.id}/submit").status_code == 204
    assert own(world.member).status == "submitted"
    late_edit = save(hx, a, opened["direct"], "21")
    assert late_edit.status_code == 422 and "đã nộp" in late_edit.text
    # once submitted, the cluster reads it
    auth.logout()
    auth.login("deputy")
    assert client.get(f"/scoring/assessments/{a.id}").status_code == 200


def test_the_head_returns_with_a_reason(world, opened, auth, client):
    a = fill_all(world.member, opened)
    svc.submit(db.session, a, None)
    db.session.commit()
    auth.login("head")
    blank = client.post(f"/scoring/assessments/{a.id}/return", data={"reason": ""})
    assert blank.status_code == 422 and "Vui lòng nhập" in blank.text
    assert (
        client.post(f"/scoring/assessments/{a.id}/return", data={"reason": "Thiếu minh chứng mục I.2"}).status_code
        == 303
    )
    assert own(world.member).status == "returned"
    auth.logout()
    auth.login("member")
    page = client.get(f"/scoring/assessments/{a.id}")
    assert "Thiếu minh chứng mục I.2" in page.text and "score-form" in page.text


def test_a_deadline_blocks_late_work_until_extended(world, opened, auth, client, hx):
    a = own(world.member)
    a.round.deadline = datetime.utcnow() - timedelta(hours=1)  # noqa: DTZ003 (naive UTC like the database)
    later, earlier = factories.vn_format(factories.future_date(30)), factories.vn_format(factories.past_date(1))
    db.session.commit()
    auth.login("member")
    page = client.get(f"/scoring/assessments/{a.id}")
    assert "Đã quá hạn" in page.text and "score-form" not in page.text
    assert save(hx, a, opened["direct"], "10").status_code == 422
    auth.logout()
    auth.login("member")
    assert client.post(f"/scoring/assessments/{a.id}/extend", data={"until": later}).status_code == 403
    auth.logout()
    auth.login("head")
    assert client.post(f"/scoring/assessments/{a.id}/extend", data={"until": earlier}).status_code == 422
    assert client.post(f"/scoring/assessments/{a.id}/extend", data={"until": later}).status_code == 303
    auth.logout()
    auth.login("member")
    assert save(hx, a, opened["direct"], "10").status_code == 200


def test_progress_page_for_the_leadership_with_a_reminder_list(world, opened, auth, client):
    fill_all(world.head, opened)
    svc.submit(db.session, own(world.head), None)
    factories.user("member2", unit=world.member).email = "vanthu@tanhong.gov.vn"
    db.session.commit()
    for role in ("head", "deputy", "overseer", "secretariat"):
        auth.login(role)
        page = client.get(f"/scoring/{world.cluster.id}/2026")
        assert "1/3 đơn vị đã nộp" in page.text, role
        assert "vanthu@tanhong.gov.vn" in page.text and "UBND xã Tân Hồng" in page.text, role
        auth.logout()
    auth.login("member")
    page = client.get(f"/scoring/{world.cluster.id}/2026")
    assert "progress-table" not in page.text and "Bản chấm của đơn vị" in page.text
    auth.logout()
    auth.login("outsider")
    assert client.get(f"/scoring/{world.cluster.id}/2026").status_code == 404


def _cold_and_kept(client, count_queries, url: str) -> tuple[int, int]:
    """Statements of a read with no fragment kept (computed), then of the next (kept)."""
    client.get(url)  # first-request work
    client.application.extensions.pop("fragments", None)
    client.application.extensions.pop("fragment-cards", None)
    with count_queries() as cold:
        client.get(url)
    with count_queries() as kept:
        client.get(url)
    return cold(), kept()


def test_progress_page_queries_stay_flat(world, opened, auth, client, count_queries):
    auth.login("head")
    url = f"/scoring/{world.cluster.id}/2026"
    few = _cold_and_kept(client, count_queries, url)
    assert few[1] < few[0]  # the kept progress skips the progress's own reads
    # between two writes: the user with their session, unit and bell; the principal; the cluster and year
    # with the data version (no term for a head, the own card kept, the layout's unit and bell already read)
    assert few[1] == 3
    from portal.services.org import cluster_year

    cset = db.session.scalar(select(ScoringRound)).criteria_set
    for i in range(8):
        unit = factories.unit(f"UBND xã Thêm {i}")
        cluster_year.add_membership(db.session, world.year, world.cluster, unit)
        db.session.add(
            Assessment(
                round_id=cset.id and db.session.scalar(select(ScoringRound.id)),
                criteria_set_id=cset.id,
                subject_unit_id=unit.id,
                author_unit_id=unit.id,
            )
        )
    db.session.commit()
    assert _cold_and_kept(client, count_queries, url) == few


def test_the_assessment_page_queries_stay_flat(world, opened, auth, client, count_queries):
    auth.login("member")
    url = f"/scoring/assessments/{own(world.member).id}"
    empty = _cold_and_kept(client, count_queries, url)
    assert empty[1] < empty[0]  # the kept rows skip the table's own reads
    fill_all(world.member, opened)
    assert _cold_and_kept(client, count_queries, url) == empty


def test_reminder_e_mail_when_mail_is_configured(world, opened, auth, client, app, monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append((host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, message):
            sent.append(message)

    monkeypatch.setattr("smtplib.SMTP", FakeSMTP)
    factories.user("member2", unit=world.member).email = "vanthu@tanhong.gov.vn"
    db.session.commit()
    auth.login("head")
    assert client.post(f"/scoring/{world.cluster.id}/2026/remind").status_code == 400  # mail not configured
    app.config.update(MAIL_SERVER="smtp.example.vn", MAIL_SENDER="thiduacum@example.vn")
    assert "Gửi e-mail nhắc" in client.get(f"/scoring/{world.cluster.id}/2026").text
    assert client.post(f"/scoring/{world.cluster.id}/2026/remind").status_code == 303
    message = sent[-1]
    assert "vanthu@tanhong.gov.vn" in message["Bcc"] and "UBND xã Tân Hồng" in message.get_content()
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reminder_sent")) is not None


def test_verification_explanation_and_final_are_kept_apart(world, opened, auth, client, hx):
    a = fill_all(world.member, opened)
    svc.submit(db.session, a, None)
    db.session.commit()
    auth.login("member")
    assert client.post(f"/scoring/assessments/{a.id}/verify").status_code == 403
    auth.logout()
    auth.login("head")
    assert client.post(f"/scoring/assessments/{a.id}/verify").status_code == 303
    verified = own(world.member, "verified")
    assert verified.author_unit_id == world.head.id and score_of(verified, opened["direct"]).value == D("25.5")
    assert save(hx, verified, opened["direct"], "20").status_code == 200
    response = hx.post(f"/scoring/assessments/{verified.id}/submit")
    assert response.status_code == 422 and "lý do" in response.text and "I.2" in response.text
    save(
        hx,
        verified,
        opened["direct"],
        "20",
        "Chưa có văn bản chứng minh",
        revision=str(score_of(verified, opened["direct"]).revision),
    )
    assert hx.post(f"/scoring/assessments/{verified.id}/submit").status_code == 204
    auth.logout()
    auth.login("member")
    page = client.get(f"/scoring/assessments/{verified.id}")
    assert "Chưa có văn bản chứng minh" in page.text and "Giải trình kết quả thẩm định" in page.text
    assert client.post(f"/scoring/assessments/{verified.id}/explain").status_code == 303
    explanation = own(world.member, "explanation")
    assert save(hx, explanation, opened["direct"], "25", "Có Quyết định số 5/QĐ-UBND").status_code == 200
    assert hx.post(f"/scoring/assessments/{explanation.id}/submit").status_code == 204
    auth.logout()
    auth.login("head")
    assert client.post(f"/scoring/assessments/{verified.id}/finalize").status_code == 303
    final = own(world.member, "final")
    save(
        hx,
        final,
        opened["direct"],
        "25",
        "Chấp nhận giải trình",
        revision=str(score_of(final, opened["direct"]).revision),
    )
    assert hx.post(f"/scoring/assessments/{final.id}/submit").status_code == 204
    # every step kept
    values = {
        st: score_of(own(world.member, st), opened["direct"]).value
        for st in ("self", "verified", "explanation", "final")
    }
    assert values == {"self": D("25.5"), "verified": 20, "explanation": 25, "final": 25}


def test_offline_excel_round_trip_through_the_pages(world, opened, auth, client):
    from io import BytesIO

    from openpyxl import load_workbook

    auth.login("member")
    a = own(world.member)
    download = client.get(f"/scoring/assessments/{a.id}/export.xlsx")
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(BytesIO(download.data))
    sheet = book.worksheets[0]
    header = next(r for r in sheet.iter_rows() if any(c.value == "Giá trị tự chấm" for c in r))
    value_col = next(c.column for c in header if c.value == "Giá trị tự chấm")
    row = next(r for r in sheet.iter_rows() if r[0].value == "I.2")
    sheet.cell(row=row[0].row, column=value_col, value="31")  # above the maximum: refused, nothing saved
    bad = BytesIO()
    book.save(bad)
    response = client.post(
        f"/scoring/assessments/{a.id}/import", data={"file": (BytesIO(bad.getvalue()), "tu-cham.xlsx")}
    )
    assert response.status_code == 422 and "I.2" in response.text and "không có gì được lưu" in response.text
    assert score_of(a, opened["direct"]) is None
    sheet.cell(row=row[0].row, column=value_col, value="27,5")
    good = BytesIO()
    book.save(good)
    response = client.post(
        f"/scoring/assessments/{a.id}/import", data={"file": (BytesIO(good.getvalue()), "tu-cham.xlsx")}
    )
    assert response.status_code == 303
    assert score_of(a, opened["direct"]).value == D("27.5")
    not_excel = client.post(f"/scoring/assessments/{a.id}/import", data={"file": (BytesIO(b"MZ\x90"), "a.xlsx")})
    assert not_excel.status_code == 422


def test_an_id_beyond_the_database_integer_is_simply_not_found(world, auth, client):
    auth.login("secretariat")
    assert client.get("/scoring/assessments/99999999999999999999").status_code == 404
    assert client.get("/units/2147483648").status_code == 404


def test_a_units_home_page_lists_its_scoring_work(world, opened, auth, client):
    auth.login("member")
    page = client.get("/")
    a = own(world.member)
    assert "Việc của đơn vị năm 2026" in page.text and f"/scoring/assessments/{a.id}" in page.text
    assert "Đang chấm" in page.text
    fill_all(world.member, opened)
    svc.submit(db.session, own(world.member), None)
    db.session.commit()
    assert "Đã nộp" in client.get("/").text


def test_the_assessment_page_is_whole_for_boosted_and_history_restore_requests(world, opened, auth, client, hx):
    auth.login("member")
    url = f"/scoring/assessments/{own(world.member).id}"
    for response in (client.get(url), hx.boosted(url), hx.history_restore(url)):
        assert response.status_code == 200 and "<html" in response.text and "score-table" in response.text
        assert "HX-Request" in response.headers.get("Vary", "")


def test_two_forms_that_saw_no_score_yet_do_not_overwrite_each_other(world, opened, auth, hx):
    auth.login("member")
    a = own(world.member)
    assert save(hx, a, opened["direct"], "20", revision="0").status_code == 200
    second = save(hx, a, opened["direct"], "25", revision="0")  # the colleague's form was opened before
    assert second.status_code == 409 and "Giữ giá trị của tôi" in second.text
    assert score_of(a, opened["direct"]).value == 20


def test_the_verification_marks_in_words_the_scores_that_differ_and_signs_deductions(world, opened, auth, client, hx):
    """A score unlike the self-score is marked (a class and the words "khác điểm tự chấm", not colour alone),
    on the page and in the autosave's answer; a deduction reads "−1", never "1"."""
    from portal.formatting import vn_points

    assert (vn_points(D(1), "deduction"), vn_points(D("1.5"), "deduction"), vn_points(D(0), "deduction")) == (
        "\u22121",
        "\u22121,5",
        "0",
    )
    assert (vn_points(D(2), "bonus"), vn_points(D(2)), vn_points(None, "deduction")) == ("2", "2", "")
    a = own(world.member)
    for key, raw in (("quant", "60"), ("direct", "25,5"), ("pass", "dat"), ("bonus", "1"), ("minus", "2")):
        svc.save_score(db.session, a, opened[key], raw, "căn cứ", expected_revision=None, user_id=None)
    svc.submit(db.session, a, None)
    db.session.commit()
    auth.login("head")
    assert client.post(f"/scoring/assessments/{a.id}/verify").status_code == 303
    verified = own(world.member, "verified")
    minus = f"{verified.id}-{opened['minus'].id}"
    page = client.get(f"/scoring/assessments/{verified.id}").text
    assert "differs-mark" not in page
    assert f'<span id="points-{minus}">\u22121</span>' in page and "→ \u22121 điểm" in page
    answer = save(hx, verified, opened["direct"], "20", revision=str(score_of(verified, opened["direct"]).revision))
    mark = f'id="differs-{verified.id}-{opened["direct"].id}" hx-swap-oob="true"'
    assert answer.status_code == 200 and mark in answer.text and "khác điểm tự chấm" in answer.text
    page = client.get(f"/scoring/assessments/{verified.id}").text
    row = re.search(rf'<tr id="row-{verified.id}-{opened["direct"].id}".*?</tr>', page, re.S).group(0)
    assert 'class="score-row autosave-row differs"' in row and "differs-mark" in row and "khác điểm tự chấm" in row
    assert page.count("differs-mark") == 1
    assert "−3" in page  # the deduction's cap in the maximum column
    section = re.search(rf'id="section-{verified.id}-(\d+)">\u22121<', page)
    assert section is not None  # section III's subtotal


def test_the_head_closes_the_self_round_and_members_then_read_the_results(world, opened, auth, client, hx):
    """Closing the self round (no verification round yet) opens the results to the cluster's members."""
    from portal.models.scoring import RoundStatus

    scoring_round = own(world.member).round
    results_url = f"/results/{world.cluster.id}/{world.year.year}"
    auth.login("member")
    assert client.get(results_url).status_code == 404
    assert client.post(f"/scoring/rounds/{scoring_round.id}/close").status_code == 403
    auth.logout()
    auth.login("head")
    page = client.get(f"/scoring/{world.cluster.id}/{world.year.year}")
    assert "Đóng vòng tự chấm điểm" in page.text
    response = hx.post(f"/scoring/rounds/{scoring_round.id}/close")
    assert response.status_code == 204 and "HX-Redirect" in response.headers
    closed = db.session.get(ScoringRound, scoring_round.id)
    assert closed.status == RoundStatus.CLOSED and closed.closed_at is not None
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "update")) >= 1
    again = client.post(f"/scoring/rounds/{scoring_round.id}/close")  # refused: flashed on the page it returns to
    assert again.status_code == 303 and closed.status == RoundStatus.CLOSED
    auth.logout()
    auth.login("member")
    assert client.get(results_url).status_code == 200


# one update save, statement by statement: user, principal, assessment with its round and table, criteria tree
# (the term only for a deputy, whose delegation changes what it may write), "không áp dụng" marks, the row
# lock, the published check, the score, its UPDATE, the audit entry, the assessment's points for the totals —
# then the answer renders from what is loaded, reading nothing again — and the seal: on PostgreSQL after the
# commit (lock, unsealed entries with the head, INSERT), on SQLite before it (unsealed entries with the head,
# INSERT). 31 statements before (bench/README.md, "Autosave"); one less since the term is read for deputies only.
SAVE_STATEMENTS = {"sqlite": 13, "postgresql": 14}


def test_one_autosave_sends_a_fixed_number_of_statements_and_answers_what_was_committed(
    world, opened, auth, hx, count_queries
):
    auth.login("member")
    a = own(world.member)
    item = opened["direct"]
    first = save(hx, a, item, "10", "kế hoạch")
    revision = re.search(rf'id="rev-{a.id}-{item.id}" value="(\d+)"', first.text).group(1)
    with count_queries() as statements:
        second = save(hx, a, item, "12,5", "kế hoạch đã ban hành", revision)
    assert second.status_code == 200
    assert statements() == SAVE_STATEMENTS[db.engine.dialect.name]
    stored = score_of(a, item)
    assert stored.value == D("12.5") and stored.revision == int(revision) + 1
    assert f'id="rev-{a.id}-{item.id}" value="{stored.revision}"' in second.text
    assert f'id="points-{a.id}-{item.id}" hx-swap-oob="true">12,5<' in second.text
    totals = svc.totals(db.session, a)
    assert re.search(r"data-total>([^<]*)<", second.text).group(1) == vn_number(totals.total)
