"""Criteria tables in Excel: exact round trip, the documented layout, tables typed by hand, bad files."""

import random
import zipfile
from datetime import datetime
from decimal import Decimal as D
from io import BytesIO

import openpyxl
import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEntry, Criterion, TargetRegistration
from portal.services import DomainError
from portal.services.criteria import sets as svc
from portal.services.criteria.excel.apply import replace_tree
from portal.services.criteria.excel.export import export_workbook
from portal.services.criteria.excel.layout import HEADER_ROW
from portal.services.criteria.excel.parse import parse_workbook

# A realistic 40-item table: (code, title, fields, children). Scored sections add up to 100.
GUIDE_THU = (
    "Đạt 100% dự toán: 4 điểm.\nVượt dự toán: cộng điểm theo tỷ lệ so với đơn vị dẫn đầu.\nKhông đạt: trừ tương ứng."
)
TABLE = [
    (
        "I",
        "Thực hiện nhiệm vụ chính trị, phát triển kinh tế - xã hội",
        {},
        [
            (
                "1",
                "Thu ngân sách nhà nước trên địa bàn",
                dict(
                    method="quantitative",
                    max_points=D(8),
                    measure_unit="triệu đồng",
                    evidence_required=True,
                    guidance=GUIDE_THU,
                ),
                [],
            ),
            (
                "2",
                "Tốc độ tăng trưởng giá trị sản xuất",
                dict(method="quantitative", max_points=D(6), measure_unit="%"),
                [],
            ),
            (
                "3",
                "Giải quyết việc làm cho người lao động",
                dict(method="quantitative", max_points=D(5), measure_unit="người"),
                [],
            ),
            (
                "4",
                "Giảm nghèo bền vững, an sinh xã hội",
                dict(evidence_required=True, guidance="Chấm theo từng nội dung a, b, c."),
                [
                    (
                        "a",
                        "Tỷ lệ hộ nghèo giảm so với đầu năm",
                        dict(method="quantitative", max_points=D("3.25"), measure_unit="%"),
                        [],
                    ),
                    ("b", "Hỗ trợ xây dựng, sửa chữa nhà ở cho hộ nghèo", dict(max_points=D("1.75")), []),
                    (
                        "c",
                        "Tỷ lệ người dân tham gia bảo hiểm y tế đạt chỉ tiêu giao",
                        dict(method="pass_fail", max_points=D(2), guidance="Đạt: 2 điểm; không đạt: 0 điểm."),
                        [],
                    ),
                ],
            ),
            ("5", "Xây dựng nông thôn mới, đô thị văn minh", dict(max_points=D(4)), []),
            ("6", "Chuyển đổi số, xây dựng chính quyền số", dict(max_points=D(5), evidence_required=True), []),
        ],
    ),
    (
        "II",
        "Xây dựng Đảng, chính quyền, Mặt trận và các đoàn thể",
        {},
        [
            ("1", "Công tác xây dựng Đảng trong sạch, vững mạnh", dict(max_points=D(6)), []),
            ("2", "Hoạt động của Mặt trận Tổ quốc và các đoàn thể", dict(max_points=D(5)), []),
            ("3", "Bảo đảm quốc phòng, an ninh, trật tự an toàn xã hội", dict(max_points=D(5)), []),
            ("4", "Tuyên truyền, phổ biến, giáo dục pháp luật", dict(method="pass_fail", max_points=D(4)), []),
            (
                "5",
                "Phòng, chống tham nhũng, tiêu cực, lãng phí",
                dict(max_points=D(5), guidance="Có vụ việc bị phát hiện: 0 điểm."),
                [],
            ),
        ],
    ),
    (
        "III",
        "Cải cách hành chính",
        {},
        [
            (
                "1",
                "Cải cách thủ tục hành chính",
                {},
                [
                    (
                        "1.1",
                        "Tỷ lệ hồ sơ giải quyết đúng hạn",
                        dict(method="quantitative", max_points=D(5), measure_unit="%"),
                        [],
                    ),
                    (
                        "1.2",
                        "Dịch vụ công trực tuyến",
                        {},
                        [
                            (
                                "a",
                                "Tỷ lệ hồ sơ trực tuyến toàn trình",
                                dict(method="quantitative", max_points=D(3), measure_unit="%"),
                                [],
                            ),
                            ("b", "Thanh toán trực tuyến phí, lệ phí", dict(max_points=D(2)), []),
                        ],
                    ),
                ],
            ),
            ("2", "Chỉ số hài lòng của người dân, tổ chức", dict(max_points=D(5)), []),
            ("3", "Ứng dụng công nghệ thông tin trong quản lý", dict(max_points=D(5)), []),
        ],
    ),
    (
        "IV",
        "Công tác thi đua, khen thưởng",
        {},
        [
            (
                "1",
                "Ban hành kế hoạch phát động phong trào thi đua",
                dict(method="pass_fail", max_points=D(4), guidance="= 100% kế hoạch: đạt điểm tối đa"),
                [],
            ),
            ("2", "Tổ chức các phong trào thi đua chuyên đề", dict(max_points=D(4)), []),
            ("3", "Báo cáo sơ kết, tổng kết đúng thời hạn", dict(max_points=D(4)), []),
            (
                "4",
                "Phát hiện, bồi dưỡng, nhân rộng điển hình tiên tiến",
                dict(max_points=D(4), evidence_required=True),
                [],
            ),
            ("5", "Khen thưởng kịp thời, đúng đối tượng", dict(max_points=D(4)), []),
        ],
    ),
    (
        "V",
        "Điểm thưởng",
        dict(kind="bonus"),
        [
            (
                "1",
                "Được tặng Cờ thi đua của Chính phủ",
                dict(method="pass_fail", max_points=D(3), evidence_required=True),
                [],
            ),
            (
                "2",
                "Được tặng Bằng khen của Thủ tướng Chính phủ",
                dict(method="per_occurrence", points_each=D(1), max_points=D(3)),
                [],
            ),
            (
                "3",
                "Sáng kiến được công nhận cấp tỉnh",
                dict(method="per_occurrence", points_each=D("0.5"), max_points=D(2)),
                [],
            ),
            ("4", "Mô hình mới, cách làm hay được nhân rộng", dict(max_points=D(2)), []),
        ],
    ),
    (
        "VI",
        "Điểm trừ",
        dict(kind="deduction"),
        [
            (
                "1",
                "Nộp báo cáo trễ hạn",
                dict(
                    method="per_occurrence",
                    points_each=D("0.5"),
                    max_points=D(3),
                    guidance="Mỗi lần trễ hạn trừ 0,5 điểm,\ntối đa 3 điểm.",
                ),
                [],
            ),
            ("2", "Vắng họp Cụm không có lý do", dict(method="per_occurrence", points_each=D(1), max_points=D(3)), []),
            (
                "3",
                "Cán bộ bị kỷ luật từ khiển trách trở lên",
                dict(method="per_occurrence", points_each=D(2), max_points=D(5)),
                [],
            ),
            ("4", "Sai phạm bị phát hiện qua thanh tra, kiểm tra", dict(method="pass_fail", max_points=D(5)), []),
        ],
    ),
]
SECTION_I, ITEM_THU, ITEM_GIAM_NGHEO, ITEM_A = 6, 7, 10, 11  # Excel rows of the export (header at row 5)


def _build(cset, nodes=TABLE, parent=None):
    for code, title, fields, children in nodes:
        node = svc.add_criterion(db.session, cset, parent, code=code, title=title, **fields)
        _build(cset, children, node)


def _snapshot(cset):
    tree = svc.load_tree(db.session, cset)
    return [
        (
            n.code,
            n.title,
            n.guidance,
            n.kind,
            n.method,
            n.max_points,
            n.points_each,
            n.measure_unit,
            n.evidence_required,
            depth,
        )
        for n, depth in tree.walk()
    ]


def _count(cset):
    return db.session.scalar(select(func.count()).select_from(Criterion).where(Criterion.set_id == cset.id))


def _export(cset):
    return export_workbook(cset, svc.load_tree(db.session, cset))


def _table_rows(data):
    ws = openpyxl.load_workbook(BytesIO(data))["Tiêu chí"]
    return list(ws.iter_rows(min_row=HEADER_ROW, values_only=True))


@pytest.fixture
def source(world):
    cset = svc.create_set(
        db.session, world.cluster, world.year, title="Bảng tiêu chí thi đua Cụm số 1 năm 2026", target_total=D(100)
    )
    _build(cset)
    db.session.commit()
    return cset


@pytest.fixture
def target(world):
    """A draft of another cluster that already has two criteria, which an import replaces."""
    cset = svc.create_set(
        db.session, world.other_cluster, world.year, title="Bảng tiêu chí Khối các sở", target_total=D(100)
    )
    section = svc.add_criterion(db.session, cset, None, code="I", title="Nhiệm vụ cũ")
    svc.add_criterion(db.session, cset, section, code="1", title="Tiêu chí cũ", max_points=D(10))
    db.session.commit()
    return cset


def _refused(target, parsed):
    """Nothing of a bad file reaches the draft."""
    before = _snapshot(target)
    with pytest.raises(DomainError):
        replace_tree(db.session, target, parsed)
    db.session.rollback()
    assert _snapshot(target) == before and _count(target) == 2


# --- round trip -----------------------------------------------------------------------


def test_round_trip_is_exact(source, target):
    tree = svc.load_tree(db.session, source)
    assert len(list(tree.walk())) == 40 and svc.warnings(source, tree) == []
    assert (tree.total("bonus"), tree.total("deduction")) == (D(10), D(16))
    data = _export(source)

    parsed = parse_workbook(data)
    assert parsed.errors == [] and len(parsed.rows) == 40
    assert replace_tree(db.session, target, parsed) == 40
    db.session.commit()

    assert _snapshot(target) == _snapshot(source)
    assert _table_rows(_export(target)) == _table_rows(data)


def test_replace_writes_the_audit_log(source, target):
    def tally(action):
        return db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.object_type.in_(["Criterion", "CriteriaSet"]))
        )

    before = {action: tally(action) for action in ("create", "delete", "import")}
    replace_tree(db.session, target, parse_workbook(_export(source)))
    db.session.commit()
    assert tally("create") - before["create"] == 40
    assert tally("delete") - before["delete"] == 2
    event = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import"))
    assert event.object_id == str(target.id) and "40 tiêu chí" in event.summary


def test_export_layout(source):
    book = openpyxl.load_workbook(BytesIO(_export(source)))
    assert book.sheetnames == ["Tiêu chí", "Hướng dẫn"]
    ws = book["Tiêu chí"]
    assert ws["A1"].value == "Bảng tiêu chí thi đua Cụm số 1 năm 2026" and ws["A1"].font.bold
    assert ws["A2"].value == "Cụm thi đua số 1 – Năm 2026" and ws["A3"].value == "Tổng điểm chuẩn: 100"
    assert [c.value for c in ws[HEADER_ROW]] == [
        "STT",
        "Nội dung tiêu chí",
        "Điểm chuẩn",
        "Cấp",
        "Loại",
        "Phương pháp chấm",
        "Điểm mỗi lần",
        "Đơn vị tính",
        "Cách chấm",
        "Minh chứng",
    ]
    assert ws.freeze_panes == "A6" and ws.print_title_rows == "$5:$5"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws["B7"].alignment.wrap_text and ws.column_dimensions["B"].width >= 40

    section, thu = ws[SECTION_I], ws[ITEM_THU]
    assert [c.value for c in section[:5]] == [
        "I",
        "Thực hiện nhiệm vụ chính trị, phát triển kinh tế - xã hội",
        35,
        1,
        "Chấm điểm",
    ]
    assert all(c.font.bold for c in section) and not thu[1].font.bold
    assert [c.value for c in thu] == [
        "1",
        "Thu ngân sách nhà nước trên địa bàn",
        8,
        2,
        "Chấm điểm",
        "Định lượng (so với chỉ tiêu đăng ký)",
        None,
        "triệu đồng",
        GUIDE_THU,
        "Có",
    ]
    assert thu[2].data_type == "n" and thu[2].number_format == "#,##0.00" and thu[0].data_type == "s"
    assert ws[ITEM_A][2].value == 3.25 and ws[ITEM_A][3].value == 3

    rows = {r[1]: r for r in ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True)}
    assert rows["Nộp báo cáo trễ hạn"][2:7] == (3, 2, "Điểm trừ", "Chấm thẳng theo số lần", 0.5)
    assert rows["Dịch vụ công trực tuyến"][2:8] == (5, 3, "Chấm điểm", None, None, None)
    formula_like = next(c for c in ws["I"] if c.value and c.value.startswith("= 100%"))
    assert formula_like.data_type == "s"  # written as text, never as a formula

    guide = [c for row in book["Hướng dẫn"].iter_rows(values_only=True) for c in row if c]
    assert all(header in guide for header in ("STT", "Điểm chuẩn", "Phương pháp chấm", "Minh chứng"))
    assert any("Chấm thẳng theo số lần" in str(text) for text in guide)


# --- tables typed by hand -------------------------------------------------------------


def _typed(header, rows, title="BẢNG CHẤM ĐIỂM THI ĐUA NĂM 2026"):
    """A sheet as people type it: a title, a blank line, the header at row 3, data from row 4."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Bảng điểm"
    ws["A1"] = title
    ws.append([])
    ws.append(header)
    for row in rows:
        ws.append(list(row))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def test_depth_is_inferred_from_the_numbering_without_a_level_column(target):
    data = _typed(
        ["STT", "Nội dung tiêu chí", "Điểm chuẩn", "Cách chấm"],
        [
            ("I", "CÔNG TÁC CHUYÊN MÔN", 30),
            (1, "Hoàn thành kế hoạch năm"),
            ("a)", "Chỉ tiêu thứ nhất", 10, "Đạt: 10 điểm"),
            ("b)", "Chỉ tiêu thứ hai", "5"),
            (2, "Báo cáo đúng hạn", 15),
            (),
            ("II", "CÔNG TÁC XÂY DỰNG ĐẢNG", 20),
            ("1", "Công tác chính trị, tư tưởng", "20"),
            (1.1, "Học tập, quán triệt nghị quyết", 8),
            ("1.2", "Kiểm tra, giám sát"),
            ("a.", "Kiểm tra thường xuyên", "6,5"),
            ("b.", "Giám sát chuyên đề", 5.5),
            ("III", "ĐIỂM THƯỞNG", 5),
            ("1", "Được tặng Cờ thi đua", 5),
            (None, "Tổng cộng", 55),
        ],
    )
    parsed = parse_workbook(data)
    assert parsed.errors == []
    assert [(r.code, r.depth, r.excel_row) for r in parsed.rows][:4] == [
        ("I", 1, 4),
        ("1", 2, 5),
        ("a)", 3, 6),
        ("b)", 3, 7),
    ]
    assert [r.depth for r in parsed.rows] == [1, 2, 3, 3, 2, 1, 2, 3, 3, 4, 4, 1, 2]
    assert [r.code for r in parsed.rows][7:9] == ["1.1", "1.2"]
    assert [r.kind for r in parsed.rows][-2:] == ["bonus", "bonus"]
    assert parsed.rows[1].max_points == D(15) and parsed.rows[8].max_points == D(12) and not parsed.rows[1].guidance

    assert replace_tree(db.session, target, parsed) == 13
    db.session.commit()
    tree = svc.load_tree(db.session, target)
    assert (tree.base_total, tree.total("bonus")) == (D(50), D(5))
    assert [(n.code, depth) for n, depth in tree.walk()][9:11] == [("a.", 4), ("b.", 4)]
    section = db.session.scalar(select(Criterion).where(Criterion.set_id == target.id, Criterion.code == "I"))
    assert section.max_points is None


def test_a_table_without_sections_starts_at_the_criteria():
    parsed = parse_workbook(
        _typed(
            ["STT", "Nội dung tiêu chí", "Điểm chuẩn"],
            [("1", "Nhiệm vụ chuyên môn"), ("a", "Kế hoạch", 10), ("b", "Báo cáo", 10), ("2", "Thi đua", 5)],
        )
    )
    assert parsed.errors == [] and [r.depth for r in parsed.rows] == [1, 2, 2, 1]


def test_choices_accept_short_forms_in_any_case_and_without_diacritics():
    parsed = parse_workbook(
        _typed(
            [
                "STT",
                "Nội dung tiêu chí",
                "Điểm chuẩn",
                "Loại",
                "Phương pháp chấm",
                "Điểm mỗi lần",
                "ĐƠN VỊ TÍNH",
                "minh chung",
            ],
            [
                ("I", "Nhiệm vụ", None, "chấm điểm"),
                ("1", "Thu ngân sách", 10, None, "ĐỊNH LƯỢNG", None, "%", "x"),
                ("2", "Ban hành kế hoạch", 5, None, "dinh tinh", None, None, "Có"),
                ("3", "Chuyển đổi số", 5, None, "Trực tiếp", None, None, "không"),
                ("II", "Các khoản trừ", None, "DIEM TRU"),
                ("1", "Trễ hạn", 2, None, "theo số lần", "0,5"),
                ("2", "Vi phạm", 3, None, None, 1),
            ],
        )
    )
    assert parsed.errors == []
    assert [(r.kind, r.method, r.points_each, r.measure_unit, r.evidence_required) for r in parsed.rows] == [
        ("scored", "direct", None, "", False),
        ("scored", "quantitative", None, "%", True),
        ("scored", "pass_fail", None, "", True),
        ("scored", "direct", None, "", False),
        ("deduction", "direct", None, "", False),
        ("deduction", "per_occurrence", D("0.5"), "", False),
        ("deduction", "per_occurrence", D(1), "", False),
    ]


HEADER = ["STT", "Nội dung tiêu chí", "Điểm chuẩn", "Cấp", "Loại", "Phương pháp chấm", "Điểm mỗi lần", "Đơn vị tính"]


RULES = [  # rows typed under HEADER at row 3 (so the first data row is 4), the error's row, column and words
    (
        [("I", "Nhiệm vụ", None, 1), ("1", "Họp", 5, 2, None, "theo số lần")],
        5,
        "Điểm mỗi lần",
        "Nhập số điểm cho mỗi lần",
    ),
    (
        [("I", "Thưởng", None, 1, "Điểm thưởng"), ("1", "Vượt thu", 5, 2, None, "định lượng", None, "%")],
        5,
        "Phương pháp chấm",
        "không chấm theo phương pháp định lượng",
    ),
    (
        [("I", "Nhiệm vụ", None, 1, "Chấm điểm"), ("1", "Cờ thi đua", 5, 2, "Điểm thưởng")],
        5,
        "Loại",
        "Tiêu chí con phải cùng loại với mục cha (chấm điểm, dòng 4)",
    ),
    ([("I", "Nhiệm vụ", None, 1), ("1", "Họp", -2, 2)], 5, "Điểm chuẩn", "Điểm chuẩn không được âm"),
    (
        [("I", "Nhiệm vụ", None, 1), ("1", "Họp", 2, 2), ("2", "Báo cáo", None, 2)],
        6,
        "Điểm chuẩn",
        "phải có điểm chuẩn",
    ),
    (
        [("I", "A", None, 1), ("1", "B", None, 2), ("1.1", "C", None, 3), ("a", "D", 2, 4), ("a1", "E", 2, 5)]
        + [("-", "F", 1, 6)],
        9,
        "Cấp",
        "tối đa 5 cấp; dòng này ở cấp 6",
    ),
    (
        [("I", "Nhiệm vụ", None, 1), (datetime(2025, 2, 1), "Ngày tháng", 2, 2)],
        5,
        "STT",
        "đổi số thứ tự thành ngày tháng",
    ),
    ([("I", "Nhiệm vụ", None, 1), ("1", "Họp", 2, 2, None, "bình bầu")], 5, "Phương pháp chấm", "không hợp lệ"),
    ([("I", "Nhiệm vụ", None, 1), ("1", "Họp", 2.333, 2)], 5, "Điểm chuẩn", "tối đa 2 chữ số thập phân"),
    ([("I", "Nhiệm vụ", None, 1), ("1", "Họp", 2, 2, None, "trực tiếp", 1)], 5, "Điểm mỗi lần", "chỉ dùng với"),
    ([("I", "Nhiệm vụ", 5, 1, None, "định lượng"), ("1", "Họp", 5, 2)], 4, "Phương pháp chấm", "để trống"),
    ([("I", "Nhiệm vụ", 10, "hai")], 4, "Cấp", "số nguyên từ 1 đến 5"),
    ([("I", "Nhiệm vụ", None, 1), ("1234567890abcdefgh", "Tiêu chí", 5, 2)], 5, "STT", "tối đa 16 ký tự"),
]
SEVERAL_ERRORS = [("I", "Nhiệm vụ", None, 1), ("1", "", "mười", 2), ("", "Không mã", 5, 2), ("2", "Họp", 5, 2, "lạ")]


@pytest.mark.parametrize("rows, row, column, message", RULES)
def test_rules_of_the_table_are_reported_with_row_and_column(rows, row, column, message):
    parsed = parse_workbook(_typed(HEADER, rows))
    assert [(e.excel_row, e.column) for e in parsed.errors] == [(row, column)]
    assert message in parsed.errors[0].message and str(parsed.errors[0]).startswith(f"Dòng {row}, cột “{column}”: ")


def test_every_error_is_collected_in_row_order():
    parsed = parse_workbook(_typed(HEADER, SEVERAL_ERRORS))
    assert [(e.excel_row, e.column) for e in parsed.errors] == [
        (5, "Nội dung tiêu chí"),
        (5, "Điểm chuẩn"),
        (6, "STT"),
        (7, "Loại"),
    ]
    assert "Điểm chuẩn phải là một số" in parsed.errors[1].message


def test_missing_required_column():
    parsed = parse_workbook(_typed(["STT", "Nội dung tiêu chí", "Cấp"], [("I", "Nhiệm vụ", 1)]))
    assert [str(e) for e in parsed.errors] == ["Dòng 3: Thiếu cột “Điểm chuẩn” ở dòng tiêu đề."]


# --- malformed files ------------------------------------------------------------------


def _edited(data, edit):
    book = openpyxl.load_workbook(BytesIO(data))
    edit(book["Tiêu chí"])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _set(cell, value):
    return lambda ws: setattr(ws[cell], "value", value)


@pytest.mark.parametrize(
    "edit, row, column, message",
    [
        (lambda ws: ws.merge_cells(f"B{ITEM_A}:B{ITEM_A + 1}"), ITEM_A, "Nội dung tiêu chí", "ô gộp"),
        (_set(f"C{ITEM_THU}", "mười"), ITEM_THU, "Điểm chuẩn", "Điểm chuẩn phải là một số"),
        (_set(f"A{ITEM_THU}", None), ITEM_THU, "STT", "Thiếu số thứ tự"),
        (_set(f"A{ITEM_THU + 1}", "1"), ITEM_THU + 1, "STT", "Mã “1” trùng với dòng 7"),
        (_set(f"D{ITEM_THU}", 3), ITEM_THU, "Cấp", "Cấp 3 ngay sau cấp 1"),
        (_set(f"C{SECTION_I}", 40), SECTION_I, "Điểm chuẩn", "Điểm chuẩn 40 khác tổng điểm các tiêu chí con (35)"),
        (_set(f"C{ITEM_GIAM_NGHEO}", "7,5"), ITEM_GIAM_NGHEO, "Điểm chuẩn", "khác tổng điểm các tiêu chí con (7)"),
    ],
    ids=["merged", "text-number", "missing-code", "duplicate-code", "depth-jump", "parent-sum", "parent-sum-text"],
)
def test_malformed_export_is_refused_with_row_numbers(source, target, edit, row, column, message):
    parsed = parse_workbook(_edited(_export(source), edit))
    assert [(e.excel_row, e.column) for e in parsed.errors] == [(row, column)]
    assert message in parsed.errors[0].message and f"Dòng {row}" in str(parsed.errors[0])
    _refused(target, parsed)


def _zip_without_workbook():
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "xin chào")
    return out.getvalue()


NOT_WORKBOOKS = [
    (random.Random(7).randbytes(4096), "không phải là bảng tính Excel (.xlsx)"),
    ("STT\tNội dung tiêu chí\tĐiểm chuẩn\nI\tNhiệm vụ\t10\n".encode(), "không phải là bảng tính Excel (.xlsx)"),
    (b"", "không phải là bảng tính Excel (.xlsx)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "Excel 97-2003 (.xls)"),
    (_zip_without_workbook(), "không phải là bảng tính Excel (.xlsx)"),
]


@pytest.mark.parametrize(
    "data, message", NOT_WORKBOOKS, ids=["random-bytes", "renamed-txt", "empty", "xls", "zip-not-workbook"]
)
def test_not_a_workbook(data, message):
    parsed = parse_workbook(data)
    assert len(parsed.errors) == 1 and parsed.errors[0].excel_row is None and parsed.rows == []
    assert message in str(parsed.errors[0])


def test_truncated_workbook(source, target):
    parsed = parse_workbook(_export(source)[:-300])
    assert len(parsed.errors) == 1 and "đã bị hỏng" in parsed.errors[0].message
    _refused(target, parsed)


def _without_header():
    return _typed(["Số", "Tên", "Điểm"], [("I", "Nhiệm vụ", 10)] * 20)


def _too_long():
    rows = [("I", "Nhiệm vụ", None)] + [(str(n), f"Tiêu chí {n}", 1) for n in range(1, 2001)]
    return _typed(["STT", "Nội dung tiêu chí", "Điểm chuẩn"], rows)


def _header_only():
    return _typed(["STT", "Nội dung tiêu chí", "Điểm chuẩn"], [(), (None, "  ")])


def test_workbook_without_the_header_row():
    assert [str(e) for e in parse_workbook(_without_header()).errors] == [
        "Không tìm thấy dòng tiêu đề cột (có “STT” và “Nội dung tiêu chí”) trong 15 dòng đầu của trang “Bảng điểm”."
    ]


def test_more_rows_than_allowed_is_one_clear_error():
    parsed = parse_workbook(_too_long())
    assert [e.excel_row for e in parsed.errors] == [3 + 2001]
    assert "hơn 2.000 dòng tiêu chí" in str(parsed.errors[0]) and str(parsed.errors[0]).startswith("Dòng 2004: ")


def test_a_header_with_no_rows_under_it():
    assert [str(e) for e in parse_workbook(_header_only()).errors] == [
        "Dòng 3: Không có dòng tiêu chí nào dưới dòng tiêu đề cột."
    ]


def test_nothing_of_a_bad_file_is_saved(target):
    files = (
        [_typed(HEADER, rows) for rows, *_ in RULES]
        + [data for data, _ in NOT_WORKBOOKS]
        + [
            _typed(HEADER, SEVERAL_ERRORS),
            _without_header(),
            _too_long(),
            _header_only(),
            _typed(["STT", "Nội dung tiêu chí", "Cấp"], [("I", "Nhiệm vụ", 1)]),
        ]
    )
    for data in files:
        parsed = parse_workbook(data)
        assert parsed.errors and not parsed.ok
        _refused(target, parsed)


# --- when a draft may be replaced -----------------------------------------------------


def test_a_locked_set_is_not_replaced(source, target):
    parsed = parse_workbook(_export(source))
    svc.publish(db.session, target)
    svc.lock(db.session, target)
    db.session.commit()
    with pytest.raises(DomainError, match="đã khóa"):
        replace_tree(db.session, target, parsed)


def test_registered_targets_block_a_replacement(world, source, target):
    criterion = db.session.scalar(select(Criterion).where(Criterion.set_id == target.id, Criterion.code == "1"))
    db.session.add(
        TargetRegistration(
            cluster_id=world.other_cluster.id,
            year_id=world.year.id,
            unit_id=world.outsider.id,
            criterion_id=criterion.id,
            target=D(100),
        )
    )
    db.session.commit()
    with pytest.raises(DomainError, match="đăng ký chỉ tiêu"):
        replace_tree(db.session, target, parse_workbook(_export(source)))
    db.session.rollback()
    assert _count(target) == 2
