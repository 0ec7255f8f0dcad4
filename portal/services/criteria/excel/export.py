"""A criteria table as an .xlsx in the documented layout, with the guide sheet that explains it."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from portal.formatting import vn_number
from portal.models import CriteriaSet, Criterion
from portal.models.criteria import CRITERION_KINDS, METHODS, Method
from portal.services.criteria.excel.layout import BOX, COLUMNS, GUIDE, HEADER_ROW, NUMBER_FORMAT, SHEET
from portal.services.criteria.tree import MAX_DEPTH, Tree
from portal.services.platform.excel import print_setup, put


def export_workbook(cset: CriteriaSet, tree: Tree) -> bytes:
    """The set as an .xlsx in the documented layout, ready to print on A4 landscape."""
    book = Workbook()
    ws = book.active
    ws.title = SHEET
    last = len(COLUMNS)
    place = " – ".join(([cset.cluster.name] if cset.cluster else []) + ([f"Năm {cset.year.year}"] if cset.year else []))
    for row, (text, font) in enumerate(
        [
            (cset.title, Font(bold=True, size=14)),
            (place, Font(italic=True)),
            (f"Tổng điểm chuẩn: {vn_number(cset.target_total)}", Font(bold=True)),
        ],
        1,
    ):
        put(ws.cell(row, 1), text or None).font = font
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last)
    for index, col in enumerate(COLUMNS, 1):
        cell = put(ws.cell(HEADER_ROW, index), col.header)
        cell.font, cell.border = Font(bold=True), BOX
        cell.fill = PatternFill("solid", fgColor="D9E1F2")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[cell.column_letter].width = col.width
    for row, (node, depth) in enumerate(tree.walk(), HEADER_ROW + 1):
        for index, value in enumerate(_values(node, depth, tree), 1):
            cell = put(ws.cell(row, index), value)
            cell.border, cell.font = BOX, Font(bold=depth == 1)
            cell.alignment = Alignment(vertical="top", wrap_text=True, indent=depth - 1 if index == 2 else 0)
            if COLUMNS[index - 1].key in ("max_points", "points_each"):
                cell.number_format = NUMBER_FORMAT
            elif COLUMNS[index - 1].key == "code":
                cell.number_format = "@"  # a code such as 1.1 stays text when edited in Excel
    _dropdowns(ws)
    print_setup(ws, HEADER_ROW)
    _guide(book.create_sheet(GUIDE))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _values(node: Criterion, depth: int, tree: Tree) -> list:
    leaf = tree.is_leaf(node)
    maximum = tree.maxima[node.id] if not leaf or node.max_points is not None else None
    return [
        node.code,
        node.title,
        maximum,
        depth,
        CRITERION_KINDS[node.kind],
        METHODS[node.method] if leaf else None,
        node.points_each if leaf and node.method == Method.PER_OCCURRENCE else None,
        node.measure_unit if leaf and node.method == Method.QUANTITATIVE else None,
        node.guidance,
        "Có" if node.evidence_required else None,
    ]


def _dropdowns(ws) -> None:
    """Lists to pick from; other spellings stay allowed (the import accepts short forms)."""
    last = HEADER_ROW + 2000
    for key, choices in (
        ("kind", CRITERION_KINDS.values()),
        ("method", METHODS.values()),
        ("evidence_required", ("Có",)),
        ("depth", tuple(str(level) for level in range(1, MAX_DEPTH + 1))),
    ):
        letter = ws.cell(HEADER_ROW, 1 + [c.key for c in COLUMNS].index(key)).column_letter
        rule = DataValidation(
            type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True, showErrorMessage=False
        )
        rule.add(f"{letter}{HEADER_ROW + 1}:{letter}{last}")
        ws.add_data_validation(rule)


def guide_rules(max_rows: int = 2000) -> list[str]:
    """The general rules of the layout, as the guide sheet states them."""
    return [
        "Dòng tiêu đề cột phải có “STT” và “Nội dung tiêu chí” và nằm trong 15 dòng đầu của trang “Tiêu chí” "
        "(hoặc trang đầu tiên); các dòng phía trên (tên bảng, tổng điểm) được bỏ qua.",
        "Thứ tự cột tùy ý; bắt buộc có cột “STT”, “Nội dung tiêu chí”, “Điểm chuẩn”; cột khác tên được bỏ qua.",
        "Mỗi dòng một mục hoặc một tiêu chí, theo đúng thứ tự trong bảng; dòng trống và dòng “Tổng cộng” được bỏ qua.",
        "Không gộp ô (Merge) ở các dòng dưới dòng tiêu đề cột.",
        f"Tối đa {vn_number(max_rows)} dòng tiêu chí.",
        "Tên cột và giá trị lựa chọn viết hoa hay thường, có dấu hay không dấu đều được.",
        "Nhập tệp sẽ thay toàn bộ tiêu chí của bảng đang soạn. Tệp có lỗi thì không lưu gì; mọi lỗi được liệt "
        "kê theo dòng và cột.",
    ]


def _guide(ws) -> None:
    ws["A1"] = "Hướng dẫn nhập bảng tiêu chí từ Excel"
    ws["A1"].font = Font(bold=True, size=14)
    for row, rule in enumerate(guide_rules(), 3):
        ws.cell(row, 1, "•")
        ws.cell(row, 2, rule).alignment = Alignment(wrap_text=True, vertical="top")
    top = len(guide_rules()) + 4
    for index, text in enumerate(("Cột", "Bắt buộc", "Ý nghĩa và giá trị hợp lệ"), 1):
        ws.cell(top, index, text).font = Font(bold=True)
    for row, col in enumerate(COLUMNS, top + 1):
        ws.cell(row, 1, col.header).font = Font(bold=True)
        ws.cell(row, 2, "Có" if col.required else None)
        ws.cell(row, 3, col.help).alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in (("A", 20), ("B", 60), ("C", 90)):
        ws.column_dimensions[letter].width = width
