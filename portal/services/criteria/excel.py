"""Excel import and export of a criteria table (bảng tiêu chí, thang điểm).

The layout is the one these tables are written in by hand: a title block, then one
header row (STT | Nội dung tiêu chí | Điểm chuẩn | Cấp | Loại | Phương pháp chấm |
Điểm mỗi lần | Đơn vị tính | Cách chấm | Minh chứng) and one row per section or
criterion, in the order of the table. docs/criteria-excel.md documents it and the
"Hướng dẫn" sheet of every exported file repeats it.

Import takes two steps. `parse_workbook` reads and checks the whole file and returns
every problem with its Excel row; it never raises for bad content. `replace_tree`
then swaps the draft's criteria for the parsed ones through `criteria.add_criterion`,
so the tree rules and the audit log apply; the caller commits once. Exporting a
table and importing the file gives back the same tree.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from io import BytesIO
from typing import NamedTuple

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.page import PageMargins
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.formatting import vn_number
from portal.models import CriteriaSet, Criterion, TargetRegistration
from portal.models.criteria import CRITERION_KINDS, METHODS
from portal.services import DomainError
from portal.services.criteria import tree as treelib
from portal.services.criteria.methods import ScoreError, parse_decimal
from portal.services.criteria.sets import MAX_POINTS, add_criterion, load_nodes, step_for
from portal.services.criteria.tree import MAX_DEPTH, Tree
from portal.services.org.structure import clean
from portal.services.platform.audit import record_event
from portal.services.platform.excel import XLS, UploadMessages, WorkbookRefused, open_uploaded_workbook, put

log = logging.getLogger(__name__)

SHEET, GUIDE = "Tiêu chí", "Hướng dẫn"
HEADER_ROW = 5  # of an exported file; an imported one may have its header anywhere in the first rows
HEADER_SEARCH = 15
MAX_CODE, MAX_UNIT = 16, 64
CENT = Decimal("0.01")
# A zip can expand a hundredfold; nothing near a real table of 2,000 rows needs more.
MAX_UNPACKED_BYTES = 40 * 1024 * 1024
NOT_XLSX = (
    "Tệp không phải là bảng tính Excel (.xlsx) hoặc đã bị hỏng (có thể là tệp .xls, .csv hay tệp khác "
    "đổi đuôi). Hãy mở bằng Excel, lưu lại dạng “Excel Workbook (*.xlsx)” rồi tải lên lại."
)
UPLOAD = UploadMessages(
    not_xlsx=NOT_XLSX,
    unpacked="Nội dung tệp sau khi giải nén quá lớn so với một bảng tiêu chí; hãy kiểm tra lại tệp.",
    xls=XLS,
)


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    aliases: tuple[str, ...]  # folded (see `fold`) other names found in real tables
    width: int
    help: str
    required: bool = False


COLUMNS = (
    Column(
        "code",
        "STT",
        ("so tt", "so thu tu", "tt"),
        7,
        required=True,
        help="Số thứ tự như trong văn bản: I, II, … cho mục; 1, 2, … cho tiêu chí; 1.1 hoặc a, b, … cho tiêu "
        "chí con. Bắt buộc, tối đa 16 ký tự, không trùng trong cùng một mục.",
    ),
    Column(
        "title",
        "Nội dung tiêu chí",
        ("noi dung",),
        46,
        required=True,
        help="Bắt buộc. Có thể xuống dòng trong ô (Alt+Enter).",
    ),
    Column(
        "max_points",
        "Điểm chuẩn",
        ("diem toi da", "thang diem"),
        11,
        required=True,
        help="Số, tối đa 2 chữ số thập phân, từ 0 đến 10.000. Bắt buộc ở tiêu chí không có tiêu chí con (với "
        "điểm thưởng, điểm trừ: mức tối đa). Ở mục có tiêu chí con: tổng điểm các tiêu chí con, hoặc để "
        "trống; ghi khác tổng là lỗi.",
    ),
    Column(
        "depth",
        "Cấp",
        ("cap tieu chi",),
        6,
        help=f"1 đến {MAX_DEPTH}: 1 là mục (I, II), 2 là tiêu chí (1, 2), từ 3 đến {MAX_DEPTH} là tiêu chí con "
        "(1.1; a, b; a1, a2). Mỗi dòng sâu hơn dòng trước nhiều nhất một cấp. Để trống hoặc bỏ cột: suy ra từ "
        "STT (I → 1; 1 → 2; 1.1 → 3; 1.1.1 → 4; a, b → ngay dưới tiêu chí đứng trước; a1, a2 → ngay dưới "
        "tiêu chí a đứng trước).",
    ),
    Column(
        "kind",
        "Loại",
        ("loai tieu chi",),
        13,
        help="Chấm điểm, Điểm thưởng hoặc Điểm trừ. Tiêu chí con cùng loại với mục cha. Để trống: theo mục "
        "cha; mục có tên chứa “điểm thưởng” hay “điểm trừ” được nhận là loại đó, mục khác là Chấm điểm.",
    ),
    Column(
        "method",
        "Phương pháp chấm",
        ("phuong phap",),
        22,
        help="Một trong: " + "; ".join(METHODS.values()) + ". Viết gọn cũng được: trực tiếp, định lượng, định "
        "tính, theo số lần. Chỉ ghi ở tiêu chí không có tiêu chí con. Để trống: Chấm trực tiếp (hoặc "
        "chấm thẳng theo số lần nếu có Điểm mỗi lần). Điểm thưởng, điểm trừ không chấm định lượng.",
    ),
    Column(
        "points_each",
        "Điểm mỗi lần",
        (),
        10,
        help="Số lớn hơn 0; bắt buộc với phương pháp chấm thẳng theo số lần, để trống với phương pháp khác.",
    ),
    Column(
        "measure_unit",
        "Đơn vị tính",
        ("dvt",),
        12,
        help="Đơn vị của kết quả ở tiêu chí định lượng (ví dụ %, triệu đồng, người), tối đa 64 ký tự; để "
        "trống với phương pháp khác.",
    ),
    Column(
        "guidance",
        "Cách chấm",
        ("huong dan cham", "cach cham diem", "cach tinh diem"),
        42,
        help="Hướng dẫn cách chấm, cách tính điểm; có thể nhiều dòng.",
    ),
    Column(
        "evidence_required",
        "Minh chứng",
        ("yeu cau minh chung",),
        11,
        help="“Có” nếu phải nộp minh chứng; để trống (hoặc “Không”) nếu không.",
    ),
)
HEADERS = {col.key: col.header for col in COLUMNS}
METHOD_SHORT = {
    "direct": ("truc tiep",),
    "quantitative": ("dinh luong",),
    "pass_fail": ("dinh tinh", "dat khong dat"),
    "per_occurrence": ("theo so lan", "cham thang"),
}
KIND_SHORT = {"scored": (), "bonus": ("thuong", "diem cong"), "deduction": ("tru",)}
YES, NO = {"co", "x", "yes", "1", "true"}, {"khong", "no", "0", "false", ""}
TOTAL_ROWS = ("tong cong", "tong diem", "tong so diem")
ROMAN = re.compile(r"(?=[ivxlcdm]+$)m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})", re.I)
LETTER = re.compile(r"[a-zđ][.)]?")
LETTER_NUMBERED = re.compile(r"[a-zđ]\.?\d+[.)]?")  # a1, a.1, a1), a1.: one below the lettered row before it
NUMBERED = re.compile(rf"\d+(\.\d+){{0,{MAX_DEPTH - 2}}}\.?")  # 1 is level 2, so 1.1.1.1 is level 5


def fold(text) -> str:
    """Lower case, no diacritics, punctuation as single spaces: how headers and choices are compared."""
    text = unicodedata.normalize("NFD", str(text).casefold().replace("đ", "d"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def _choices(labels: dict[str, str], short: dict[str, tuple[str, ...]]) -> dict[str, str]:
    found = {fold(label): key for key, label in labels.items()}
    found.update({fold(label.split("(")[0]): key for key, label in labels.items()})
    found.update({word: key for key, words in short.items() for word in words})
    return found


METHOD_CHOICES = _choices(METHODS, METHOD_SHORT)
KIND_CHOICES = _choices(CRITERION_KINDS, KIND_SHORT)
HEADER_KEYS = {fold(alias): col.key for col in COLUMNS for alias in (col.header, *col.aliases)}


class RowError(NamedTuple):
    excel_row: int | None  # as Excel numbers it; None for a problem with the whole file
    column: str  # the column header, or "" for the whole row or file
    message: str

    def __str__(self) -> str:
        where = [f"Dòng {self.excel_row}"] if self.excel_row else []
        where += [f"cột “{self.column}”"] if self.column else []
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass
class ParsedRow:
    code: str
    title: str
    max_points: Decimal | None  # a parent's is the sum of its children's
    depth: int
    kind: str
    method: str
    points_each: Decimal | None
    measure_unit: str
    guidance: str
    evidence_required: bool
    excel_row: int
    has_children: bool = False


@dataclass
class ParsedTable:
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors


class ErrorGroup(NamedTuple):
    """One message of an import, with every row it was found on (in order)."""

    column: str
    message: str
    rows: list[int]  # Excel rows; empty for a problem with the whole file

    def __str__(self) -> str:
        return f"Cột “{self.column}”: {self.message}" if self.column else self.message


def group_errors(errors: list[RowError]) -> list[ErrorGroup]:
    """Every error once per message and column, with all its rows; in the order of the first row of each."""
    groups: dict[tuple[str, str], ErrorGroup] = {}
    for error in sorted(errors, key=lambda e: e.excel_row or 0):
        group = groups.setdefault((error.column, error.message), ErrorGroup(error.column, error.message, []))
        if error.excel_row and error.excel_row not in group.rows:
            group.rows.append(error.excel_row)
    return list(groups.values())


ERROR_HEADERS = ("Dòng", "Cột", "Lỗi")


def errors_workbook(errors: list[RowError], filename: str = "") -> bytes:
    """Every error of an import, one per line (row, column, message), for the user to work through in Excel."""
    book = Workbook()
    ws = book.active
    ws.title = "Lỗi"
    put(ws.cell(1, 1), f"Lỗi khi nhập bảng tiêu chí{f' từ tệp “{filename}”' if filename else ''}").font = Font(
        bold=True, size=13
    )
    put(ws.cell(2, 1), f"{vn_number(len(errors))} lỗi; không có gì được lưu. Sửa tệp rồi nhập lại.")
    for index, header in enumerate(ERROR_HEADERS, 1):
        cell = put(ws.cell(4, index), header)
        cell.font, cell.border = Font(bold=True), BOX
        cell.fill = PatternFill("solid", fgColor="F8D7DA")
    for row, error in enumerate(sorted(errors, key=lambda e: e.excel_row or 0), 5):
        for index, value in enumerate((error.excel_row, error.column, error.message), 1):
            cell = put(ws.cell(row, index), value)
            cell.border, cell.alignment = BOX, Alignment(vertical="top", wrap_text=True)
    for letter, width in (("A", 8), ("B", 20), ("C", 90)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A5"
    out = BytesIO()
    book.save(out)
    return out.getvalue()


# --- export -------------------------------------------------------------------------

THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
NUMBER_FORMAT = "#,##0.00"


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
    _print_setup(ws)
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
        node.points_each if leaf and node.method == "per_occurrence" else None,
        node.measure_unit if leaf and node.method == "quantitative" else None,
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


def _print_setup(ws) -> None:
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1)
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.6)


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


# --- import: the file ---------------------------------------------------------------


class _Refused(Exception):
    """The file as a whole cannot be read; carries the one error that says why."""

    def __init__(self, row: int | None, message: str):
        super().__init__(message)
        self.error = RowError(row, "", message)


@dataclass
class _Layout:
    sheet: str
    header_row: int
    columns: dict[str, int]  # key → 0-based column index
    last_row: int


def parse_workbook(data: bytes, max_rows: int = 2000) -> ParsedTable:
    """Read and check a whole criteria table; every problem is returned with its Excel row, none is raised."""
    try:
        layout = _scan(data, max_rows)
        book = load_workbook(BytesIO(data), data_only=True)  # not read-only: only then are merges visible
    except _Refused as refusal:
        return ParsedTable(errors=[refusal.error])
    except Exception:  # openpyxl, zipfile, zlib and the XML parser each raise their own kind for a damaged file
        log.info("unreadable criteria workbook", exc_info=True)
        return ParsedTable(errors=[RowError(None, "", NOT_XLSX)])
    ws = book[layout.sheet]
    parser = _Parser(layout)
    parser.merged(ws.merged_cells.ranges)
    width = max(layout.columns.values()) + 1
    rows = ws.iter_rows(min_row=layout.header_row + 1, max_row=layout.last_row, max_col=width, values_only=True)
    for number, values in enumerate(rows, layout.header_row + 1):
        parser.read(number, values)
    return parser.finish()


def _scan(data: bytes, max_rows: int) -> _Layout:
    """A streaming pass: the sheet, its header row and its size, before the whole file is loaded."""
    try:
        book = open_uploaded_workbook(data, None, max_unpacked=MAX_UNPACKED_BYTES, messages=UPLOAD)
    except WorkbookRefused as refusal:
        raise _Refused(None, refusal.message) from None
    try:
        names = {fold(name): name for name in book.sheetnames}
        sheet = names.get(fold(SHEET)) or next((n for n in book.sheetnames if fold(n) != fold(GUIDE)), None)
        if sheet is None:
            raise _Refused(None, "Tệp không có trang tính nào ngoài trang “Hướng dẫn”.")
        ws = book[sheet]
        ws.reset_dimensions()  # some writers record a wrong size; read what is really there
        rows = enumerate(ws.iter_rows(values_only=True), 1)
        header_row, columns = _header(rows)
        if header_row is None:
            raise _Refused(
                None,
                f"Không tìm thấy dòng tiêu đề cột (có “STT” và “Nội dung tiêu chí”) trong "
                f"{HEADER_SEARCH} dòng đầu của trang “{sheet}”.",
            )
        missing = [col.header for col in COLUMNS if col.required and col.key not in columns]
        if missing:
            raise _Refused(header_row, "Thiếu cột " + ", ".join(f"“{m}”" for m in missing) + " ở dòng tiêu đề.")
        last_row, count = header_row, 0
        for number, values in rows:
            if not _blank(values):
                count, last_row = count + 1, number
                if count > max_rows:
                    raise _Refused(
                        number,
                        f"Bảng có hơn {vn_number(max_rows)} dòng tiêu chí (tối đa "
                        f"{vn_number(max_rows)}); hãy kiểm tra lại tệp.",
                    )
        if count == 0:
            raise _Refused(header_row, "Không có dòng tiêu chí nào dưới dòng tiêu đề cột.")
        return _Layout(sheet, header_row, columns, last_row)
    finally:
        book.close()


def _header(rows) -> tuple[int | None, dict[str, int]]:
    for number, values in rows:
        columns: dict[str, int] = {}
        for index, value in enumerate(values):
            key = HEADER_KEYS.get(fold(value)) if value is not None else None
            if key and key not in columns:
                columns[key] = index
        if "code" in columns and "title" in columns:
            return number, columns
        if number >= HEADER_SEARCH:
            break
    return None, {}


def _blank(values) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


# --- import: the rows ---------------------------------------------------------------


class _Parser:
    """Reads the data rows one by one, then checks the tree they make; collects every error."""

    def __init__(self, layout: _Layout):
        self.layout = layout
        self.rows: list[ParsedRow] = []
        self.stated: dict[int, Decimal | None] = {}  # excel row → the Điểm chuẩn the file gives
        self.errors: list[RowError] = []
        self.unreadable: set[tuple[int, str]] = set()  # (row, column key) of numbers that could not be read
        self.merged_rows: set[int] = set()  # their values are unreliable: only the merge is reported
        self.context = 0  # depth of the last row numbered other than with a letter (a, b …)
        self.letter = 0  # depth of the last lettered row (a, b …) under it; 0 when none since
        self.guessed: set[int] = set()  # excel rows whose depth could not be read: placed by a guess
        self.unsure: set[int] = set()  # indexes of rows whose place, or whose children, follow from a guess

    def error(self, row: int, key: str, message: str) -> None:
        if row not in self.merged_rows:
            self.errors.append(RowError(row, HEADERS.get(key, ""), message))

    def merged(self, ranges) -> None:
        first, last = self.layout.header_row + 1, self.layout.last_row
        by_index = {index: key for key, index in self.layout.columns.items()}
        for cells in ranges:
            if cells.max_row >= first and cells.min_row <= last:
                row = max(cells.min_row, first)
                self.errors.append(
                    RowError(
                        row,
                        HEADERS.get(by_index.get(cells.min_col - 1, ""), ""),
                        f"Có ô gộp ({cells.coord}); hãy bỏ gộp ô (Unmerge) và ghi đủ giá trị vào từng dòng.",
                    )
                )
                self.merged_rows.update(range(row, cells.max_row + 1))

    def read(self, number: int, values: tuple) -> None:
        cells = {key: values[index] if index < len(values) else None for key, index in self.layout.columns.items()}
        title = _text(cells.get("title"))
        if _blank(cells.values()) or _blank([cells.get("code")]) and fold(title).startswith(TOTAL_ROWS):
            return  # blank, or the "Tổng cộng" line under a table typed by hand
        code = self._code(number, cells.get("code"))
        if not title:
            self.error(number, "title", "Thiếu nội dung tiêu chí.")
        self.stated[number] = self._number(number, "max_points", cells.get("max_points"))
        self.rows.append(
            ParsedRow(
                code=code,
                title=title,
                max_points=self.stated[number],
                depth=self._depth(number, code, cells.get("depth")),
                kind=self._choice(number, "kind", cells.get("kind"), KIND_CHOICES),
                method=self._choice(number, "method", cells.get("method"), METHOD_CHOICES),
                points_each=self._number(number, "points_each", cells.get("points_each")),
                measure_unit=clean(_text(cells.get("measure_unit"))),
                guidance=_text(cells.get("guidance")),
                evidence_required=self._yes(number, cells.get("evidence_required")),
                excel_row=number,
            )
        )
        if len(self.rows[-1].measure_unit) > MAX_UNIT:
            self.error(number, "measure_unit", f"Đơn vị tính tối đa {MAX_UNIT} ký tự.")

    def _code(self, number: int, value) -> str:
        if isinstance(value, (datetime, date, time)):
            self.error(
                number,
                "code",
                "Excel đã tự đổi số thứ tự thành ngày tháng; hãy định dạng cột STT là Văn bản (Text) rồi gõ lại.",
            )
            return ""
        if isinstance(value, float):
            code = str(int(value)) if value.is_integer() else repr(value)
        else:
            code = clean(_text(value))
        if not code:
            self.error(number, "code", "Thiếu số thứ tự (mã) của tiêu chí, ví dụ I, 1 hoặc a.")
        elif len(code) > MAX_CODE:
            self.error(number, "code", f"Mã tiêu chí tối đa {MAX_CODE} ký tự.")
        return code

    def _number(self, number: int, key: str, value) -> Decimal | None:
        header = HEADERS[key]
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            if isinstance(value, (bool, datetime, date, time)):
                raise ScoreError(f"{header} phải là một số (ví dụ 12,5).")
            # a number cell is read as it is; only text goes through the Vietnamese reading of "1.000" or "12,5"
            result = parse_decimal(value if isinstance(value, str) else Decimal(repr(value)), field=header)
        except ScoreError as error:
            self.error(number, key, str(error))
            self.unreadable.add((number, key))
            return None
        rounded = result.quantize(CENT)
        if result < 0:
            self.error(number, key, f"{header} không được âm.")
        elif result > MAX_POINTS:
            self.error(number, key, f"{header} không quá {vn_number(MAX_POINTS)}.")
        elif abs(result - rounded) > Decimal("1e-9"):  # what is left of binary floating point is not a decimal
            self.error(number, key, f"{header} có tối đa 2 chữ số thập phân.")
        return rounded

    def _choice(self, number: int, key: str, value, choices: dict[str, str]) -> str:
        text = fold(value) if value is not None else ""
        if not text:
            return ""
        found = choices.get(text) or choices.get(fold(str(value).split("(")[0]))
        if not found:
            labels = CRITERION_KINDS if key == "kind" else METHODS
            self.error(number, key, f"“{_text(value)}” không hợp lệ; chọn một trong: {'; '.join(labels.values())}.")
        return found or ""

    def _yes(self, number: int, value) -> bool:
        text = fold(value) if value is not None else ""
        if text not in YES | NO:
            self.error(number, "evidence_required", f"“{_text(value)}” không hợp lệ; ghi “Có” hoặc để trống.")
        return text in YES

    def _depth(self, number: int, code: str, value) -> int:
        text = _text(value) if not isinstance(value, bool) else "?"
        if text.isdigit() and int(text) >= 1:
            self._remember(code, int(text))
            return int(text)
        inferred = self._infer(code)
        if text:
            self.error(number, "depth", f"Cấp phải là một số nguyên từ 1 đến {MAX_DEPTH}.")
        elif inferred is None and code:
            self.error(
                number,
                "depth" if "depth" in self.layout.columns else "code",
                f"Không suy ra được cấp từ STT “{code}”; ghi cấp (1–{MAX_DEPTH}) vào cột “Cấp”.",
            )
        if inferred is None or text:
            self.guessed.add(number)  # placed by a guess: what follows from its place is not reported
        return inferred or max(self.context, 1)

    def _remember(self, code: str, depth: int) -> None:
        """The context the next lettered codes are read in, after a row of a known depth."""
        if LETTER_NUMBERED.fullmatch(code):
            return
        if LETTER.fullmatch(code):
            self.letter = depth
        else:
            self.context, self.letter = depth, 0

    def _infer(self, code: str) -> int | None:
        """I, II → 1; 1, 2 → 2; 1.1 → 3; 1.1.1 → 4; 1.1.1.1 → 5; a, b, a), a. → one below the row numbered
        before them; a1, a.1, a1) → one below the lettered row before them."""
        if LETTER_NUMBERED.fullmatch(code):
            return self.letter + 1 if self.letter else None
        if LETTER.fullmatch(code) and (self.context or not ROMAN.fullmatch(code[0])):
            self.letter = self.context + 1 if self.context else 0
            return self.letter or None
        if ROMAN.fullmatch(code.rstrip(".")):
            depth = 1
        elif NUMBERED.fullmatch(code):
            depth = 2 + code.rstrip(".").count(".")
        else:
            return None
        self.context, self.letter = depth, 0
        return depth

    def finish(self) -> ParsedTable:
        if "depth" not in self.layout.columns and self.rows and min(r.depth for r in self.rows) > 1:
            shift = min(r.depth for r in self.rows) - 1  # a table typed without sections: 1, 2 … are the top level
            for row in self.rows:
                row.depth -= shift
        if not self.rows:
            self.error(self.layout.header_row, "", "Không có dòng tiêu chí nào dưới dòng tiêu đề cột.")
        parents = self._link()
        self._check_leaves()
        self._check_sums(parents)
        return ParsedTable(rows=self.rows, errors=sorted(self.errors, key=lambda e: e.excel_row or 0))

    def _link(self) -> list[int | None]:
        """Depth, kind and duplicate checks; returns each row's parent index.

        A row that cannot be placed where the file says (too deep, a missing level, a code
        not understood) is reported once, at its row, and put where it most likely belongs.
        Nothing that follows from that guess is reported: not the sums, leaves, kinds or
        duplicates of the rows it may have been put among, nor of the rows under it, nor of
        the rows it may have been taken from (`self.unsure`).
        """
        depth_key = "depth" if "depth" in self.layout.columns else "code"
        stack: list[int] = []
        parents: list[int | None] = []
        seen: dict[tuple[int | None, str], int] = {}
        stated_before = 0  # the depth the previous row states: a missing level is reported once, where it is
        region: int | None = None  # while rows follow a guessed one: the depth it was placed at
        after_guess = False
        for index, row in enumerate(self.rows):
            stated = row.depth
            if stated > MAX_DEPTH:
                self.error(
                    row.excel_row, depth_key, f"Bảng tiêu chí có tối đa {MAX_DEPTH} cấp; dòng này ở cấp {stated}."
                )
            elif stated > stated_before + 1 and stated > len(stack) + 1 and not after_guess:
                self.error(
                    row.excel_row,
                    depth_key,
                    f"Cấp {stated} ngay sau cấp {stated_before}: thiếu cấp ở giữa."
                    if stated_before
                    else "Dòng đầu tiên của bảng phải là một mục cấp 1 (I, II, …).",
                )
            row.depth, stated_before = min(stated, MAX_DEPTH, len(stack) + 1), stated
            after_guess = row.excel_row in self.guessed  # its own depth is a guess: the next row's jump is not news
            if after_guess or row.depth != stated:
                self.unsure.update(stack)  # it may belong under any of these, or deeper
                region = row.depth if region is None else min(region, row.depth)
            elif region is not None and row.depth <= region:
                region = None
            if region is not None:
                self.unsure.add(index)
            del stack[row.depth - 1 :]
            parent = self.rows[stack[-1]] if stack else None
            parents.append(stack[-1] if stack else None)
            if parent is not None:
                parent.has_children = True
            if not row.kind:
                row.kind = parent.kind if parent else _kind_from_title(row.title)
            elif parent is not None and row.kind != parent.kind and region is None:
                self.error(
                    row.excel_row,
                    "kind",
                    f"Tiêu chí con phải cùng loại với mục cha "
                    f"({CRITERION_KINDS[parent.kind].lower()}, dòng {parent.excel_row}).",
                )
            key = (parents[-1], row.code.casefold())
            if row.code and key in seen and region is None:
                self.error(row.excel_row, "code", f"Mã “{row.code}” trùng với dòng {seen[key]} trong cùng một mục.")
            seen.setdefault(key, row.excel_row)
            stack.append(index)
        return parents

    def _check_leaves(self) -> None:
        for index, row in enumerate(self.rows):
            number = row.excel_row
            if index in self.unsure:  # whether it has children is a guess
                continue
            if row.has_children:
                if row.method not in ("", "direct") or row.points_each is not None or row.measure_unit:
                    self.error(
                        number,
                        "method",
                        "Mục có tiêu chí con được tính bằng tổng các tiêu chí con; để trống "
                        "“Phương pháp chấm”, “Điểm mỗi lần” và “Đơn vị tính”.",
                    )
                row.method, row.points_each, row.measure_unit = "direct", None, ""
                continue
            row.method = row.method or ("per_occurrence" if row.points_each is not None else "direct")
            if row.kind != "scored" and row.method == "quantitative":
                self.error(number, "method", "Điểm thưởng, điểm trừ không chấm theo phương pháp định lượng.")
            if row.method == "per_occurrence" and not row.points_each:
                self.error(
                    number,
                    "points_each",
                    "Nhập số điểm cho mỗi lần (lớn hơn 0) với phương pháp chấm thẳng theo số lần.",
                )
            elif row.method != "per_occurrence" and row.points_each is not None:
                self.error(number, "points_each", "Điểm mỗi lần chỉ dùng với phương pháp chấm thẳng theo số lần.")
            if row.method != "quantitative" and row.measure_unit:
                self.error(number, "measure_unit", "Đơn vị tính chỉ dùng với phương pháp định lượng.")
            if row.max_points is None and (number, "max_points") not in self.unreadable:
                self.error(
                    number,
                    "max_points",
                    "Tiêu chí không có tiêu chí con phải có điểm chuẩn (với điểm thưởng, điểm trừ: mức tối đa).",
                )

    def _check_sums(self, parents: list[int | None]) -> None:
        sums: dict[int, Decimal] = {}
        # parents with a leaf whose points are missing or unreadable, or placed by a guess: no check
        incomplete: set[int] = set(self.unsure)
        for index in reversed(range(len(self.rows))):
            row = self.rows[index]
            if row.has_children:
                stated = self.stated[row.excel_row]
                if stated is not None and index not in incomplete and stated != sums[index]:
                    self.error(
                        row.excel_row,
                        "max_points",
                        f"Điểm chuẩn {vn_number(stated)} khác tổng điểm các tiêu chí con ({vn_number(sums[index])}).",
                    )
                row.max_points = sums[index]
            if parents[index] is not None:
                sums[parents[index]] = sums.get(parents[index], Decimal(0)) + (row.max_points or Decimal(0))
                if row.max_points is None or index in incomplete:
                    incomplete.add(parents[index])


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _kind_from_title(title: str) -> str:
    words = fold(title)
    return "bonus" if "diem thuong" in words else "deduction" if "diem tru" in words else "scored"


# --- import: saving -----------------------------------------------------------------


def replace_tree(session: Session, cset: CriteriaSet, parsed: ParsedTable) -> int:
    """Swap every criterion of the set for the parsed ones; returns how many were created. The caller commits.

    The scoring step follows the table: kept if every directly scored maximum is a multiple
    of it, else the finest the table needs (3,48 → 0,01), so each leaf can be given full points.
    """
    if not cset.editable:
        raise DomainError("Bảng tiêu chí đã khóa để chấm điểm; muốn thay đổi, hãy tạo phiên bản mới có nêu lý do.")
    if not parsed.ok:
        raise DomainError("Tệp Excel còn lỗi hoặc không có tiêu chí nào; chưa lưu gì.")
    registered = select(TargetRegistration.id).join(Criterion).where(Criterion.set_id == cset.id).limit(1)
    if session.scalar(registered) is not None:
        raise DomainError(
            "Đã có đơn vị đăng ký chỉ tiêu theo bảng tiêu chí này; không thay toàn bộ bảng từ Excel được."
        )
    _delete_all(session, cset)
    stack: list[Criterion] = []
    for row in parsed.rows:
        del stack[row.depth - 1 :]
        try:
            stack.append(
                add_criterion(
                    session,
                    cset,
                    stack[-1] if stack else None,
                    code=row.code,
                    title=row.title,
                    guidance=row.guidance,
                    kind=row.kind,
                    method=row.method,
                    max_points=None if row.has_children else row.max_points,
                    points_each=row.points_each,
                    measure_unit=row.measure_unit,
                    evidence_required=row.evidence_required,
                )
            )
        except DomainError as error:
            raise DomainError(f"Dòng {row.excel_row}: {error.message}", error.field) from error
    step = step_for([r.max_points for r in parsed.rows if not r.has_children and r.method == "direct"], cset.score_step)
    summary = f"Nhập bảng tiêu chí từ Excel: {len(parsed.rows)} tiêu chí."
    if step != cset.score_step:
        summary += f" Bước điểm đổi từ {vn_number(cset.score_step)} thành {vn_number(step)} theo điểm chuẩn trong tệp."
        cset.score_step = step
        session.flush()
    record_event(session, "import", summary, cset)
    return len(parsed.rows)


def _delete_all(session: Session, cset: CriteriaSet) -> None:
    """Deepest first, one flush per level, so every deletion is a row of the audit log and no
    database cascade removes a row the session still means to delete."""
    levels: dict[int, list[Criterion]] = {}
    for node, depth in treelib.build(load_nodes(session, cset)).walk():
        levels.setdefault(depth, []).append(node)
    for depth in sorted(levels, reverse=True):
        for node in levels[depth]:
            session.delete(node)
        session.flush()
    session.expire(cset, ["criteria"])
