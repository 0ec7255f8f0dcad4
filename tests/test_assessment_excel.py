"""The offline route: a prefilled Excel form for an assessment, downloaded, filled in and uploaded back."""

from datetime import datetime, timedelta
from decimal import Decimal as D
from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Assessment, AuditEntry, Score
from portal.services import DomainError
from portal.services.criteria import sets as criteria_svc
from portal.services.criteria.excel.export import export_workbook as export_criteria
from portal.services.pledges import agreements as pledges
from portal.services.scoring import assessments as svc
from portal.services.scoring.excel import form
from portal.services.scoring.excel.apply import import_workbook
from portal.services.scoring.excel.export import export_workbook
from portal.services.scoring.excel.parse import MAX_BYTES
from tests import factories

DAY = factories.future_date(10)
NOW = factories.vn_moment(DAY, 15)  # a frozen "now" the tests pass on
CODES = ["I", "I.1", "I.2", "I.2.1", "I.2.2", "I.3", "II", "II.1", "III", "III.1"]


@pytest.fixture
def table(world):
    """I: 1 quantitative 40 (tỷ đồng); 2 → 2.1 direct 20, 2.2 pass/fail 10; 3 direct 30. II bonus, III deduction."""
    cset = criteria_svc.create_set(db.session, world.cluster, world.year, title="Bảng 2026", target_total=D(100))
    section = criteria_svc.add_criterion(db.session, cset, None, code="I", title="Nhiệm vụ")

    def add(parent, code, title, **kw):
        return criteria_svc.add_criterion(db.session, cset, parent, code=code, title=title, **kw)

    items = {
        "quant": add(section, "1", "Thu ngân sách", method="quantitative", max_points=D(40), measure_unit="tỷ đồng")
    }
    reform = add(section, "2", "Cải cách hành chính")
    items["direct"] = add(reform, "1", "Chỉ số CCHC", max_points=D(20), guidance="Theo kết quả công bố.")
    items["pass"] = add(reform, "2", "Một cửa liên thông", method="pass_fail", max_points=D(10))
    items["direct2"] = add(section, "3", "=Chuyển đổi số", max_points=D(30))  # a title that looks like a formula
    bonus = add(None, "II", "Điểm thưởng", kind="bonus")
    items["bonus"] = add(
        bonus, "1", "Sáng kiến", kind="bonus", method="per_occurrence", points_each=D(2), max_points=D(5)
    )
    minus = add(None, "III", "Điểm trừ", kind="deduction")
    items["minus"] = add(
        minus, "1", "Báo cáo trễ", kind="deduction", method="per_occurrence", points_each=D("0.5"), max_points=D(3)
    )
    criteria_svc.publish(db.session, cset)
    for unit, target in ((world.head, D(100)), (world.member, D(50))):
        pledges.register_target(db.session, cset, unit, items["quant"], target)
    criteria_svc.lock(db.session, cset)
    scoring_round = svc.open_self_round(db.session, cset, deadline=NOW + timedelta(days=3))
    db.session.commit()
    return {"set": cset, "round": scoring_round, **items}


def _own(unit) -> Assessment:
    return db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == unit.id))


def _save(unit, item, raw, note=""):
    return svc.save_score(db.session, _own(unit), item, raw, note, expected_revision=None, user_id=None, now=NOW)


def _rows(ws) -> dict[str, int]:
    return {ws.cell(r, 1).value: r for r in range(form.HEADER_ROW + 1, ws.max_row + 1) if ws.cell(r, 1).value}


def _fill(data: bytes, values: dict[str, object], notes: dict[str, str] | None = None) -> bytes:
    """What a unit does in Excel: type into the value (and explanation) cells of some rows."""
    book = load_workbook(BytesIO(data))
    ws = book[form.SHEET]
    rows = _rows(ws)
    for code, value in values.items():
        ws.cell(rows[code], form.VALUE).value = value
    for code, note in (notes or {}).items():
        ws.cell(rows[code], form.NOTE).value = note
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _import(unit, data, now=NOW):
    return import_workbook(db.session, _own(unit), BytesIO(data), user_id=None, now=now)


def _export(unit):
    return export_workbook(db.session, _own(unit), now=NOW)


def _scores(unit) -> dict[int, Score]:
    return {s.criterion_id: s for s in db.session.scalars(select(Score).where(Score.assessment_id == _own(unit).id))}


def test_the_form_is_prefilled_protected_and_names_its_rows_by_id(world, table):
    _save(world.member, table["pass"], "Đạt", "Đã triển khai")
    _save(world.member, table["direct"], "12,5")
    db.session.commit()
    book = load_workbook(BytesIO(_export(world.member)))
    ws = book[form.SHEET]
    head = "\n".join(str(ws.cell(r, 1).value) for r in range(1, form.HEADER_ROW))
    for text in (
        "BẢNG TỰ CHẤM ĐIỂM THI ĐUA NĂM 2026",
        "Cụm thi đua số 1",
        "Đơn vị: UBND xã Tân Hồng",
        "Giai đoạn: Tự chấm",
        f"Hạn chấm: {factories.vn_format(DAY + timedelta(days=3))} 15:00",
        f"Tải lúc {factories.vn_format(DAY)} 15:00",
    ):
        assert text in head
    header = [ws.cell(form.HEADER_ROW, c).value for c in range(1, 9)]
    assert header == [
        "Mã",
        "Nội dung tiêu chí",
        "Cách chấm",
        "Điểm tối đa",
        "Chỉ tiêu đăng ký",
        "Giá trị tự chấm",
        "Giải trình",
        "Điểm",
    ]
    rows = _rows(ws)
    assert list(rows) == CODES  # tree order, full codes
    how = {code: ws.cell(r, form.HOW).value for code, r in rows.items()}
    assert how["I.2.1"] == "Chấm trực tiếp (0 … 20, bước 0,25)\nTheo kết quả công bố."
    assert how["I.2.2"].startswith("Đạt/Không đạt")
    assert how["II.1"] == "Số lần × 2 điểm mỗi lần (tối đa 5)"
    assert how["I.1"].startswith("Kết quả thực hiện (tỷ đồng) so với chỉ tiêu")
    assert ws.cell(rows["I.1"], form.TARGET).value == 50  # the member's own registered target
    assert ws.cell(rows["I.2.1"], form.TARGET).value is None
    assert ws.cell(rows["I.2.2"], form.VALUE).value == "Đạt"
    assert ws.cell(rows["I.2.2"], form.NOTE).value == "Đã triển khai"
    assert ws.cell(rows["I.2.1"], form.VALUE).value == 12.5
    assert ws.cell(rows["I.2"], form.POINTS).value == 22.5  # 12,5 + 10, a section's subtotal
    assert ws.cell(rows["I.3"], form.TITLE).value == "=Chuyển đổi số"
    assert ws.cell(rows["I.3"], form.TITLE).data_type == "s"  # text, never a formula
    assert ws.cell(rows["I"], form.CODE).font.b and not ws.cell(rows["I.1"], form.CODE).font.b
    # only the value and explanation cells of the leaves are open; the sheet is protected without a password
    assert ws.protection.sheet and not ws.protection.password
    for code, r in rows.items():
        leaf = code not in ("I", "I.2", "II", "III")
        for column in range(1, 9):
            assert ws.cell(r, column).protection.locked is not (leaf and column in (form.VALUE, form.NOTE))
    assert ws.cell(rows["I.2"], form.VALUE).value is None
    listed = [v for v in ws.data_validations.dataValidation if v.type == "list"]
    assert len(listed) == 1 and listed[0].formula1 == '"Đạt,Không đạt"'
    assert f"F{rows['I.2.2']}" in str(listed[0].sqref)
    # the hidden sheet: the assessment, the criteria version and each row's criterion id
    meta = book[form.META]
    assert meta.sheet_state == "hidden"
    assert [meta.cell(r, 2).value for r in range(2, 5)] == [_own(world.member).id, table["set"].id, 1]
    ids = {meta.cell(r, 3).value: (meta.cell(r, 1).value, meta.cell(r, 2).value) for r in range(6, meta.max_row + 1)}
    assert ids["I.2.1"] == (rows["I.2.1"], table["direct"].id)
    assert set(ids) == {"I.1", "I.2.1", "I.2.2", "I.3", "II.1", "III.1"}


def test_round_trip_saves_points_by_method_and_recomputes_the_cluster(world, table):
    _save(world.head, table["quant"], "150")  # r = 1,5: the best so far → 40
    db.session.commit()
    filled = _fill(
        _export(world.member),
        {"I.1": 100, "I.2.1": "12,5", "I.2.2": "Đạt", "I.3": 27.75, "II.1": 4, "III.1": "3"},
        {"I.2.1": "Xếp thứ 3 toàn tỉnh"},
    )
    report = _import(world.member, filled)
    assert (report.errors, report.saved, report.unchanged) == ([], 6, 0)
    db.session.commit()
    scores = _scores(world.member)
    points = {key: scores[table[key].id].points for key in ("quant", "direct", "pass", "direct2", "bonus", "minus")}
    assert points == {
        "quant": D("40.00"),  # r = 100 / 50 = 2: the member now leads
        "direct": D("12.50"),
        "pass": D("10.00"),
        "direct2": D("27.75"),
        "bonus": D("5.00"),  # 4 × 2, capped at 5
        "minus": D("1.50"),
    }
    assert scores[table["direct"].id].note == "Xếp thứ 3 toàn tỉnh"
    assert _scores(world.head)[table["quant"].id].points == D("30.00")  # 20 + 20 × 0,5 / 1: recomputed
    # downloading again shows what was saved
    ws = load_workbook(BytesIO(_export(world.member)))[form.SHEET]
    rows = _rows(ws)
    assert ws.cell(rows["II.1"], form.VALUE).value == 4 and ws.cell(rows["II.1"], form.POINTS).value == 5


def test_a_blank_cell_clears_a_value(world, table):
    _save(world.member, table["direct"], "10")
    db.session.commit()
    report = _import(world.member, _fill(_export(world.member), {"I.2.1": None}))
    assert (report.saved, report.errors) == (1, [])
    assert _scores(world.member)[table["direct"].id].value is None


@pytest.mark.parametrize(
    "value, message",
    [
        ("20,5", "Điểm không được vượt quá điểm chuẩn (20)."),
        ("7,3", "Điểm phải là bội số của 0,25."),
        (7.3, "Điểm phải là bội số của 0,25."),
        ("-1", "Điểm không được âm."),
        (-1, "Điểm không được âm."),
        ("mười", "Điểm phải là một số (ví dụ 12,5)."),
        ("NaN", "Điểm phải là một số hữu hạn."),
        ("#DIV/0!", "Điểm phải là một số (ví dụ 12,5)."),
        (datetime(2025, 5, 1), "Excel đã tự đổi giá trị thành ngày tháng"),
    ],
)
def test_a_wrong_value_is_reported_with_its_row_and_code(world, table, value, message):
    data = _fill(_export(world.member), {"I.2.1": value})
    row = _rows(load_workbook(BytesIO(data))[form.SHEET])["I.2.1"]
    report = _import(world.member, data)
    assert report.saved == 0 and len(report.errors) == 1
    assert report.errors[0].startswith(f"Dòng {row} (I.2.1): {message}")


def test_every_error_is_listed_and_nothing_is_saved(world, table):
    audited = db.session.scalar(select(func.count(AuditEntry.id)))
    data = _fill(
        _export(world.member),
        {
            "I.1": "-5",
            "I.2.1": "25",
            "I.2.2": "Có lẽ",
            "I.3": "12,5",  # right: still not saved, since others are wrong
            "II.1": "1,5",
            "III.1": "NaN",
        },
        {"I.3": "x" * 4001},
    )
    rows = _rows(load_workbook(BytesIO(data))[form.SHEET])
    report = _import(world.member, data)
    assert report.saved == 0
    assert report.errors == [
        f"Dòng {rows['I.1']} (I.1): Kết quả thực hiện không được âm.",
        f"Dòng {rows['I.2.1']} (I.2.1): Điểm không được vượt quá điểm chuẩn (20).",
        f"Dòng {rows['I.2.2']} (I.2.2): Chọn Đạt hoặc Không đạt.",
        f"Dòng {rows['I.3']} (I.3): Giải trình tối đa 4.000 ký tự (đang có 4.001).",
        f"Dòng {rows['II.1']} (II.1): Số lần phải là số nguyên không âm.",
        f"Dòng {rows['III.1']} (III.1): Số lần phải là một số hữu hạn.",
    ]
    assert not db.session.new and not db.session.dirty  # nothing even flushed
    db.session.rollback()
    assert db.session.scalars(select(Score)).all() == []
    assert db.session.scalar(select(func.count(AuditEntry.id))) == audited


def test_another_assessments_form_is_refused(world, table):
    theirs = _fill(export_workbook(db.session, _own(world.head), now=NOW), {"I.2.1": "20"})
    with pytest.raises(DomainError, match="bản chấm điểm khác"):
        _import(world.member, theirs)
    assert db.session.scalars(select(Score)).all() == []


def test_a_form_of_another_criteria_version_is_refused(world, table):
    book = load_workbook(BytesIO(_export(world.member)))
    book[form.META]["B4"] = 2
    out = BytesIO()
    book.save(out)
    with pytest.raises(DomainError, match="phiên bản 2 của bảng tiêu chí; bản chấm này đang chấm theo phiên bản 1"):
        _import(world.member, out.getvalue())


@pytest.mark.parametrize(
    "content, message",
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "không phải là bảng tính Excel"),
        (b"MZ\x90\x00" + b"\x00" * 200, "không phải là bảng tính Excel"),  # an executable renamed .xlsx
        (b"", "không phải là bảng tính Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "Excel 97-2003"),
    ],
)
def test_a_file_that_is_not_an_xlsx_is_refused(world, table, content, message):
    with pytest.raises(DomainError, match=message):
        _import(world.member, content)


def test_a_broken_or_foreign_workbook_is_refused(world, table):
    data = _export(world.member)
    with pytest.raises(DomainError, match="không phải là bảng tính Excel"):
        _import(world.member, data[: len(data) // 2])  # a download cut short
    plain = BytesIO()
    Workbook().save(plain)
    with pytest.raises(DomainError, match="không phải mẫu chấm điểm tải từ cổng"):
        _import(world.member, plain.getvalue())
    tree = criteria_svc.load_tree(db.session, table["set"])
    with pytest.raises(DomainError, match="không phải mẫu chấm điểm tải từ cổng"):
        _import(world.member, export_criteria(table["set"], tree))  # the criteria table itself


def test_a_file_over_the_size_limit_is_refused_before_reading(world, table):
    with pytest.raises(DomainError, match="lớn hơn 10 MB"):
        _import(world.member, b"PK" + b"\x00" * (MAX_BYTES + 10))


def test_a_submitted_or_late_assessment_is_refused(world, table):
    data = _fill(_export(world.member), {"I.2.1": "20"})
    with pytest.raises(DomainError, match="quá hạn"):
        _import(world.member, data, now=NOW + timedelta(days=4))
    for key, raw in (("quant", "50"), ("direct", "1"), ("pass", "0"), ("direct2", "1"), ("bonus", "0"), ("minus", "0")):
        _save(world.member, table[key], raw)
    svc.submit(db.session, _own(world.member), None, now=NOW)
    db.session.commit()
    with pytest.raises(DomainError, match="đã nộp"):
        _import(world.member, data)
    assert _scores(world.member)[table["direct"].id].value == D(1)


def test_unchanged_rows_are_not_saved_again(world, table):
    filled = _fill(_export(world.member), {"I.2.1": "12,5", "I.2.2": "Không đạt"}, {"I.2.1": "Có minh chứng"})
    assert _import(world.member, filled).saved == 2
    db.session.commit()
    revisions = {cid: s.revision for cid, s in _scores(world.member).items()}
    audited = db.session.scalar(select(func.count(AuditEntry.id)))
    for data in (filled, _export(world.member)):  # the same file again, and a fresh download sent back as it is
        report = _import(world.member, data)
        assert (report.saved, report.unchanged, report.errors) == (0, 6, [])
        db.session.commit()
    assert {cid: s.revision for cid, s in _scores(world.member).items()} == revisions
    assert db.session.scalar(select(func.count(AuditEntry.id))) == audited


def test_a_row_changed_on_the_portal_after_the_download_is_never_overwritten(world, table):
    downloaded = _export(world.member)
    _save(world.member, table["direct"], "15", "sửa trên cổng")
    _save(world.member, table["direct2"], "20")
    db.session.commit()
    # I.2.1 untouched in the file: the portal's value stays; I.3 changed in both places: an error
    data = _fill(downloaded, {"I.3": "25", "II.1": "1"})
    rows = _rows(load_workbook(BytesIO(data))[form.SHEET])
    report = _import(world.member, data)
    assert report.errors == [
        f"Dòng {rows['I.3']} (I.3): đã được sửa trên cổng sau khi tải tệp (giá trị hiện tại: 20); hãy tải lại "
        "mẫu Excel hoặc sửa dòng này trên cổng."
    ]
    db.session.rollback()
    report = _import(world.member, _fill(downloaded, {"I.3": "20", "II.1": "1"}))  # the same as on the portal now
    assert (report.errors, report.saved) == ([], 1)
    db.session.commit()
    scores = _scores(world.member)
    assert (scores[table["direct"].id].value, scores[table["direct"].id].note) == (D(15), "sửa trên cổng")
    assert scores[table["bonus"].id].points == D(2)


def test_rows_moved_in_the_sheet_are_refused(world, table):
    book = load_workbook(BytesIO(_export(world.member)))
    ws = book[form.SHEET]
    rows = _rows(ws)
    ws.cell(rows["I.3"], form.CODE).value, ws.cell(rows["I.3"], form.VALUE).value = "II.1", 3
    out = BytesIO()
    book.save(out)
    report = _import(world.member, out.getvalue())
    assert report.errors == [
        f"Dòng {rows['I.3']} (I.3): ô mã ghi “II.1”, khác mẫu đã tải; đừng chèn, xóa hay sắp xếp lại các dòng."
    ]


def test_other_stages_name_their_columns(world, table):
    assessment = _own(world.member)
    assessment.stage = "verified"
    book = load_workbook(BytesIO(export_workbook(db.session, assessment, now=NOW)))
    ws = book[form.SHEET]
    assert (ws.cell(form.HEADER_ROW, form.VALUE).value, ws.cell(form.HEADER_ROW, form.NOTE).value) == (
        "Giá trị chấm",
        "Lý do",
    )
    assert "Giai đoạn: Thẩm định" in ws.cell(4, 1).value
    db.session.rollback()


def test_the_export_takes_the_same_queries_whatever_the_size(world, table, count_queries):
    """The world's other cluster gets a table five times as large, every leaf scored: no query per row."""
    big = criteria_svc.create_set(db.session, world.other_cluster, world.year, title="Bảng lớn", target_total=D(30))
    section = criteria_svc.add_criterion(db.session, big, None, code="I", title="Nhiệm vụ")
    leaves = [
        criteria_svc.add_criterion(db.session, big, section, code=str(n), title=f"Tiêu chí {n}", max_points=D(1))
        for n in range(1, 30)
    ]
    leaves.append(
        criteria_svc.add_criterion(
            db.session, big, section, code="30", title="Thu", method="quantitative", max_points=D(1)
        )
    )
    criteria_svc.publish(db.session, big)
    pledges.register_target(db.session, big, world.outsider, leaves[-1], D(10))
    criteria_svc.lock(db.session, big)
    svc.open_self_round(db.session, big)
    for leaf in leaves:
        _save(world.outsider, leaf, "1")
    for key, raw in (("quant", "50"), ("direct", "1"), ("pass", "0"), ("bonus", "2")):
        _save(world.member, table[key], raw)
    db.session.commit()
    counts = []
    for unit in (world.member, world.outsider):
        assessment = _own(unit)
        db.session.expire_all()
        with count_queries() as queries:
            export_workbook(db.session, assessment, now=NOW)
        counts.append(queries())
    assert counts[0] == counts[1] <= 13  # one of them reads the criteria that do not apply to the unit
