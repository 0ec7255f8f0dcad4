"""The layout of a criteria table in Excel: its sheets and columns, and what a parse yields."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from openpyxl.styles import Border, Side

from portal.models.criteria import METHODS
from portal.services.criteria.tree import MAX_DEPTH
from portal.services.platform.excel import located

SHEET, GUIDE = "Tiêu chí", "Hướng dẫn"
HEADER_ROW = 5  # of an exported file; an imported one may have its header anywhere in the first rows
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
NUMBER_FORMAT = "#,##0.00"


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


def fold(text) -> str:
    """Lower case, no diacritics, punctuation as single spaces: how headers and choices are compared."""
    text = unicodedata.normalize("NFD", str(text).casefold().replace("đ", "d"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


class RowError(NamedTuple):
    excel_row: int | None  # as Excel numbers it; None for a problem with the whole file
    column: str  # the column header, or "" for the whole row or file
    message: str

    def __str__(self) -> str:
        return located(self.message, row=self.excel_row, column=self.column)


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


@dataclass
class Layout:
    """Where the table is in an uploaded file."""

    sheet: str
    header_row: int
    columns: dict[str, int]  # key → 0-based column index
    last_row: int
