"""Real criteria tables (issue 12, section 6): five levels everywhere, one error per real cause,
every import error shown and downloadable, a scoring step that fits the table, full path labels.

The table below is modelled on a police-sector 1,000-point table (sections I 700 / II 200 /
III 100) that nests five levels deep in places (I → 1 → 1.1 → a → a1) and uses points such
as 3,48 and 1,77.
"""

from datetime import date, timedelta
from decimal import Decimal as D
from io import BytesIO

import openpyxl
import pytest
from docx import Document
from sqlalchemy import select

from portal.extensions import db
from portal.formatting import vn_number
from portal.models import Assessment, CriteriaSet, Criterion
from portal.models.base import utcnow
from portal.services import DomainError
from portal.services.criteria import sets as svc
from portal.services.criteria.excel.apply import replace_tree
from portal.services.criteria.excel.export import export_workbook
from portal.services.criteria.excel.parse import parse_workbook
from portal.services.documents import pledge as documents
from portal.services.pledges import agreements as pledges
from portal.services.scoring import assessments as scoring
from portal.services.scoring.excel import form as offline_form
from portal.services.scoring.excel.apply import import_workbook as import_offline
from portal.services.scoring.excel.export import export_workbook as export_offline

# (code, title, Điểm chuẩn as typed, level): every parent's points are the sum of its children's
POLICE = [
    ("I.", "CÔNG TÁC XÂY DỰNG LỰC LƯỢNG, THỰC HIỆN NHIỆM VỤ CHUYÊN MÔN", 700, 1),
    ("1.", "Công tác tham mưu", 300, 2),
    ("1.1", "Tham mưu cấp ủy, chính quyền cùng cấp", 150, 3),
    ("a)", "Ban hành kế hoạch công tác năm", 75, 4),
    ("a1", "Kế hoạch công tác trọng tâm", "40,52", 5),
    ("a2", "Kế hoạch chuyên đề", "34,48", 5),
    ("b)", "Sơ kết, tổng kết đúng thời hạn", 75, 4),
    ("1.2", "Tham mưu xử lý tình huống phức tạp", 150, 3),
    ("2.", "Đấu tranh phòng, chống tội phạm", 400, 2),
    ("2.1", "Kéo giảm tội phạm về trật tự xã hội", 200, 3),
    ("a)", "Tỷ lệ điều tra, khám phá án", 120, 4),
    ("a1", "Án rất nghiêm trọng, đặc biệt nghiêm trọng", 60, 5),
    ("a2", "Án nghiêm trọng", "58,23", 5),
    ("a3", "Án ít nghiêm trọng", "1,77", 5),
    ("b)", "Truy bắt đối tượng truy nã", 80, 4),
    ("2.2", "Phòng, chống tội phạm ma túy", "196,52", 3),
    ("2.3", "Phòng, chống tội phạm về môi trường", "3,48", 3),
    ("II.", "CÔNG TÁC XÂY DỰNG ĐẢNG, ĐOÀN THỂ", 200, 1),
    ("1.", "Xây dựng tổ chức đảng trong sạch, vững mạnh", 120, 2),
    ("2.", "Công tác đoàn thanh niên, công đoàn, phụ nữ", 80, 2),
    ("III.", "CÔNG TÁC THI ĐUA, KHEN THƯỞNG", 100, 1),
    ("1.", "Phát động và tổ chức phong trào thi đua", 100, 2),
    ("1.1", "Ban hành kế hoạch phát động", 50, 3),
    ("1.2", "Sơ kết, tổng kết phong trào", 50, 3),
]
FIRST_ROW = 4  # a title, a blank line, the header at row 3
ROW_OF_A1 = FIRST_ROW + 4  # I.1.1.a1
ROW_OF_2_3 = FIRST_ROW + 16  # I.2.3, worth 3,48
LEAF_PATHS = [
    "I.1.1.a1",
    "I.1.1.a2",
    "I.1.1.b",
    "I.1.2",
    "I.2.1.a1",
    "I.2.1.a2",
    "I.2.1.a3",
    "I.2.1.b",
    "I.2.2",
    "I.2.3",
    "II.1",
    "II.2",
    "III.1.1",
    "III.1.2",
]


def _typed(rows, *, levels: bool) -> bytes:
    """The table as it is typed by hand, with or without a "Cấp" column."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Bảng điểm"
    ws["A1"] = "BẢNG CHẤM ĐIỂM THI ĐUA NĂM 2026 (THANG ĐIỂM 1.000)"
    ws.append([])
    ws.append(["STT", "Nội dung tiêu chí", "Điểm chuẩn"] + (["Cấp"] if levels else []))
    for code, title, points, level in rows:
        ws.append([code, title, points] + ([level] if levels else []))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _new_set(world, cluster=None, **kw):
    return svc.create_set(
        db.session, cluster or world.cluster, world.year, title="Bảng chấm điểm 2026", target_total=D(1000), **kw
    )


def _build(cset, rows=POLICE):
    """Through the editor's service, row by row, as the head types it in."""
    stack: list[Criterion] = []
    for index, (code, title, points, level) in enumerate(rows):
        leaf = index + 1 == len(rows) or rows[index + 1][3] <= level
        value = D(str(points).replace(",", ".")) if leaf else None
        del stack[level - 1 :]
        stack.append(
            svc.add_criterion(db.session, cset, stack[-1] if stack else None, code=code, title=title, max_points=value)
        )


def _snapshot(cset):
    tree = svc.load_tree(db.session, cset)
    return [(depth, n.code, n.title, tree.maxima[n.id], n.max_points) for n, depth in tree.walk()]


# --- five levels everywhere ---------------------------------------------------------------


@pytest.mark.parametrize("levels", [False, True], ids=["levels-from-codes", "level-column"])
def test_a_five_level_table_is_read_as_written(world, levels):
    parsed = parse_workbook(_typed(POLICE, levels=levels))
    assert parsed.errors == []
    assert [r.depth for r in parsed.rows] == [level for *_, level in POLICE]
    cset = _new_set(world)
    assert replace_tree(db.session, cset, parsed) == len(POLICE)
    db.session.commit()
    tree = svc.load_tree(db.session, cset)
    assert (tree.base_total, svc.warnings(cset, tree)) == (D(1000), [])
    assert [tree.maxima[n.id] for n in tree.roots] == [D(700), D(200), D(100)]
    assert sorted(tree.paths()[leaf.id] for leaf in tree.leaves()) == sorted(LEAF_PATHS)


def test_the_editor_builds_five_levels_and_no_more(world, auth, hx, client):
    cset = _new_set(world)
    _build(cset, POLICE[:5])  # I. → 1. → 1.1 → a) → a1
    db.session.commit()
    a, a1 = (db.session.scalar(select(Criterion).where(Criterion.code == code)) for code in ("a)", "a1"))
    auth.login("head")
    page = client.get(f"/criteria/sets/{cset.id}")
    assert f"parent_id={a.id}" in page.text  # "+ Mục con" offered down to level 4 …
    assert f"parent_id={a1.id}" not in page.text  # … and not under level 5
    added = hx.post(
        f"/criteria/sets/{cset.id}/items", data={"parent_id": a.id, "code": "a2", "title": "Kế hoạch chuyên đề"}
    )
    assert added.status_code == 200 and "Kế hoạch chuyên đề" in added.text
    too_deep = hx.post(f"/criteria/sets/{cset.id}/items", data={"parent_id": a1.id, "code": "-", "title": "Quá sâu"})
    assert too_deep.status_code == 422 and "Bảng tiêu chí có tối đa 5 cấp." in too_deep.text


def test_five_levels_round_trip_through_excel_print_and_word(world, auth, client):
    source = _new_set(world)
    _build(source)
    db.session.commit()
    data = export_workbook(source, svc.load_tree(db.session, source))
    ws = openpyxl.load_workbook(BytesIO(data))["Tiêu chí"]
    exported = {(row[0], row[3]) for row in ws.iter_rows(min_row=6, values_only=True)}
    assert ("a1", 5) in exported and ("a3", 5) in exported
    assert any("5" in str(rule.formula1) for rule in ws.data_validations.dataValidation)  # "Cấp" offers 1 … 5

    parsed = parse_workbook(data)
    assert parsed.errors == []
    target = _new_set(world, cluster=world.other_cluster)
    replace_tree(db.session, target, parsed)
    db.session.commit()
    assert _snapshot(target) == _snapshot(source)
    assert max(depth for depth, *_ in _snapshot(target)) == 5

    auth.login("head")
    printed = client.get(f"/criteria/sets/{source.id}/print").text
    assert printed.count('<tr class="depth-5">') == 5 and "Án ít nghiêm trọng" in printed

    pledge = pledges.create(db.session, world.cluster, world.year)
    tree = svc.load_tree(db.session, source)
    rows = [(depth, n.code, n.title, vn_number(tree.maxima[n.id])) for n, depth in tree.walk()]
    word = Document(
        BytesIO(
            documents.pledge_docx(pledge, [], province_name="tỉnh Đồng Tháp", criteria_rows=rows, today=date.today())
        )
    )
    appendix = word.tables[-1]
    lines = [[c.text for c in row.cells] for row in appendix.rows]
    assert ["a3", "Án ít nghiêm trọng", "1,77"] in lines
    deepest = appendix.rows[lines.index(["a3", "Án ít nghiêm trọng", "1,77"])].cells[1].paragraphs[0]
    assert round(deepest.paragraph_format.left_indent.mm) == 16  # four steps in from its section


def test_an_offline_scoring_workbook_of_a_five_level_chain_is_taken_back(world):
    cset = _new_set(world)
    _build(
        cset, [("I", "Nhiệm vụ", 0, 1), ("1", "A", 0, 2), ("1.1", "B", 0, 3), ("a", "C", 0, 4), ("a1", "D", 1000, 5)]
    )
    svc.publish(db.session, cset)
    svc.lock(db.session, cset)
    now = utcnow()
    scoring.open_self_round(db.session, cset, deadline=now + timedelta(days=3))
    db.session.commit()
    own = db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == world.head.id))
    book = openpyxl.load_workbook(BytesIO(export_offline(db.session, own, now=now)))
    ws = book[offline_form.SHEET]
    row = next(r for r in range(offline_form.HEADER_ROW + 1, ws.max_row + 1) if ws.cell(r, 1).value == "I.1.1.a1")
    ws.cell(row, offline_form.VALUE).value = 987.5
    out = BytesIO()
    book.save(out)
    report = import_offline(db.session, own, out.getvalue(), user_id=None, now=now)
    assert report.errors == [] and report.saved == 1


# --- one error for one real cause -----------------------------------------------------------


def _with(rows, index, row):
    return rows[:index] + [row] + rows[index:]


def test_a_row_deeper_than_five_levels_is_one_error_and_the_sums_are_not_second_guessed():
    too_deep = ("-", "Kế hoạch tháng", "40,52", 6)  # all of I.1.1.a1 (40,52): every stated sum stays right
    parsed = parse_workbook(_typed(_with(POLICE, 5, too_deep), levels=True))
    assert [(e.excel_row, e.column, e.message) for e in parsed.errors] == [
        (ROW_OF_A1 + 1, "Cấp", "Bảng tiêu chí có tối đa 5 cấp; dòng này ở cấp 6.")
    ]


def test_a_code_that_gives_no_level_is_one_error():
    unknown = ("*", "Kế hoạch tháng", 0, 5)  # typed without a "Cấp" column: "*" says nothing of its level
    parsed = parse_workbook(_typed(_with(POLICE, 5, unknown), levels=False))
    assert [(e.excel_row, e.column) for e in parsed.errors] == [(ROW_OF_A1 + 1, "STT")]
    assert "Không suy ra được cấp từ STT “*”" in parsed.errors[0].message


def test_a_missing_level_is_reported_where_it_is_missing_not_on_every_row_below():
    # 1.1, a) and b) typed one level too deep (a1, a2 stay at 5): level 3 is missing right after 1. (level 2)
    rows = [
        (code, title, points, level + 1 if i in (2, 3, 6) else level)
        for i, (code, title, points, level) in enumerate(POLICE)
    ]
    parsed = parse_workbook(_typed(rows, levels=True))
    assert [(e.excel_row, e.column) for e in parsed.errors] == [(FIRST_ROW + 2, "Cấp")]
    assert parsed.errors[0].message == "Cấp 4 ngay sau cấp 2: thiếu cấp ở giữa."


def test_a_real_sum_error_is_still_found_next_to_a_guess_elsewhere():
    rows = _with(POLICE, 5, ("-", "Kế hoạch tháng", 0, 6))
    section_ii = rows.index(("II.", "CÔNG TÁC XÂY DỰNG ĐẢNG, ĐOÀN THỂ", 200, 1))
    rows[section_ii] = ("II.", "CÔNG TÁC XÂY DỰNG ĐẢNG, ĐOÀN THỂ", 250, 1)
    parsed = parse_workbook(_typed(rows, levels=True))
    assert [(e.excel_row, e.message) for e in parsed.errors] == [
        (ROW_OF_A1 + 1, "Bảng tiêu chí có tối đa 5 cấp; dòng này ở cấp 6."),
        (FIRST_ROW + section_ii, "Điểm chuẩn 250 khác tổng điểm các tiêu chí con (200)."),
    ]


# --- every error, grouped, and as a download -------------------------------------------------


def test_every_import_error_is_shown_grouped_and_downloadable(world, auth, client):
    cset = _new_set(world)
    db.session.commit()
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["STT", "Nội dung tiêu chí", "Điểm chuẩn", "Phương pháp chấm"])
    ws.append(["I", "Nhiệm vụ", None, None])
    for n in range(1, 61):
        ws.append([str(n), f"Tiêu chí {n}", 1, "bình bầu"])
    ws.append(["61", "", 1, None])
    out = BytesIO()
    book.save(out)

    auth.login("head")
    page = client.post(
        f"/criteria/sets/{cset.id}/import",
        data={"file": (BytesIO(out.getvalue()), "=bang-diem.xlsx")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 422 and "tệp có 61 lỗi" in page.text
    assert "lỗi khác" not in page.text
    assert page.text.count("“bình bầu” không hợp lệ") == 1  # one line for the message …
    assert "Dòng " + ", ".join(str(n) for n in range(3, 63)) in page.text  # … with every row it is on
    assert "Cột “Nội dung tiêu chí”: Thiếu nội dung tiêu chí." in page.text and "Dòng 63" in page.text
    assert db.session.scalar(select(Criterion.id).where(Criterion.set_id == cset.id)) is None

    token = page.text.split('name="errors" value="')[1].split('"')[0]
    download = client.post(f"/criteria/sets/{cset.id}/import-errors.xlsx", data={"errors": token})
    assert download.status_code == 200 and download.data[:2] == b"PK"
    assert "attachment" in download.headers["Content-Disposition"]
    listed = openpyxl.load_workbook(BytesIO(download.data))["Lỗi"]
    lines = list(listed.iter_rows(min_row=5, values_only=True))
    assert len(lines) == 61 and lines[0][:2] == (3, "Phương pháp chấm") and lines[-1][:2] == (63, "Nội dung tiêu chí")
    assert listed["A1"].value == "Lỗi khi nhập bảng tiêu chí từ tệp “=bang-diem.xlsx”"

    assert client.post(f"/criteria/sets/{cset.id}/import-errors.xlsx", data={"errors": token + "x"}).status_code == 400
    template = svc.create_set(db.session, None, None, title="Mẫu bảng tiêu chí", target_total=D(100))
    db.session.commit()
    assert client.post(f"/criteria/sets/{template.id}/import-errors.xlsx", data={"errors": token}).status_code == 404
    auth.logout()
    auth.login("secretariat")  # may edit the template, but the list is of another table's import
    assert client.post(f"/criteria/sets/{template.id}/import-errors.xlsx", data={"errors": token}).status_code == 400
    auth.logout()
    auth.login("member")
    assert client.post(f"/criteria/sets/{cset.id}/import-errors.xlsx", data={"errors": token}).status_code == 404


# --- the scoring step follows the table ------------------------------------------------------


def test_an_imported_table_with_3_48_and_1_77_can_be_scored_in_full(world, auth, client):
    cset = _new_set(world)  # the default step, 0,25
    db.session.commit()
    auth.login("head")
    done = client.post(
        f"/criteria/sets/{cset.id}/import",
        data={"file": (BytesIO(_typed(POLICE, levels=False)), "bang.xlsx")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 303
    db.session.refresh(cset)
    assert cset.score_step == D("0.01")
    page = client.get(f"/criteria/sets/{cset.id}").text
    assert "Bước điểm khi chấm đổi từ 0,25 thành 0,01" in page
    assert '<strong class="fs-5" id="score-step">0,01</strong>' in page

    svc.publish(db.session, cset)
    svc.lock(db.session, cset)
    now = utcnow()
    scoring.open_self_round(db.session, cset, deadline=now + timedelta(days=3))
    db.session.commit()
    own = db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == world.head.id))
    leaves = {svc.load_tree(db.session, cset).paths()[n.id]: n for n in svc.load_tree(db.session, cset).leaves()}
    for path, raw in (("I.2.3", "3,48"), ("I.2.1.a3", "1,77"), ("I.1.1.a2", "34,48")):
        score = scoring.save_score(db.session, own, leaves[path], raw, expected_revision=None, user_id=None, now=now)
        assert score.points == D(raw.replace(",", "."))

    missing = scoring.totals(db.session, own).missing
    assert missing == [p for p in LEAF_PATHS if p not in ("I.2.3", "I.2.1.a3", "I.1.1.a2")]
    with pytest.raises(DomainError, match=r"Còn 11 tiêu chí chưa chấm: I\.1\.1\.a1, I\.1\.1\.b, I\.1\.2, I\.2\.1\.a1"):
        scoring.submit(db.session, own, None, now=now)


def test_a_step_that_fits_the_table_is_kept(world):
    cset = _new_set(world, score_step=D("0.25"))
    quarter = [("I", "Nhiệm vụ", 1000, 1), ("1", "A", "999,75", 2), ("2", "B", "0,25", 2)]
    replace_tree(db.session, cset, parse_workbook(_typed(quarter, levels=False)))
    assert cset.score_step == D("0.25")
    assert svc.step_for([D("3.48"), D(2)], D("0.25")) == D("0.01")
    assert svc.step_for([D("2.5"), D("1.1")], D("0.25")) == D("0.1")
    assert svc.step_for([D(5), D(10)], D("0.3")) == D(1)


def test_a_maximum_the_step_cannot_reach_is_a_warning(world):
    cset = _new_set(world, score_step=D("0.25"))
    _build(cset)
    tree = svc.load_tree(db.session, cset)
    found = [w for w in svc.warnings(cset, tree) if "bước điểm" in w]
    assert found == [
        "Điểm chuẩn của 6 tiêu chí không phải bội số của bước điểm 0,25 nên không chấm đủ điểm được: "
        "I.1.1.a1 (40,52), I.1.1.a2 (34,48), I.2.1.a2 (58,23), I.2.1.a3 (1,77), I.2.2 (196,52)…. "
        "Hãy đổi bước điểm, ví dụ 0,01."
    ]
    svc.update_set(db.session, cset, title=cset.title, target_total=cset.target_total, score_step=D("0.01"))
    assert not [w for w in svc.warnings(cset, tree) if "bước điểm" in w]
    assert db.session.get(CriteriaSet, cset.id).score_step == D("0.01")
