"""The offline scoring form's layout, shared by its export and its import: sheets, rows, columns, values."""

from __future__ import annotations

from decimal import Decimal

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from portal.models import Criterion
from portal.models.criteria import Method

SHEET, META = "Tự chấm điểm", "_meta"
FORMAT = "cong-thi-dua/cham-diem/1"
HEADER_ROW = 10
CODE, TITLE, HOW, MAXIMUM, TARGET, VALUE, NOTE, POINTS = range(1, 9)  # columns, as Excel numbers them
HEADERS = ("Mã", "Nội dung tiêu chí", "Cách chấm", "Điểm tối đa", "Chỉ tiêu đăng ký", None, None, "Điểm")
META_FIRST = 6  # the first criterion row of "_meta"; rows 1-4 name the file, row 5 is a header
PASS, FAIL = "Đạt", "Không đạt"


def shown_value(node: Criterion, value: Decimal | None):
    """A stored value as the form shows it: Đạt/Không đạt, a whole count, or the number."""
    if value is None:
        return None
    if node.method == Method.PASS_FAIL:
        return PASS if value == 1 else FAIL
    if node.method == Method.PER_OCCURRENCE:
        return int(value)
    return int(value) if value == value.to_integral_value() else value.normalize()


def clean_note(note: str | None) -> str:
    """An explanation as the file can hold it (and as it comes back)."""
    text = ILLEGAL_CHARACTERS_RE.sub("", str(note or "").replace("\r\n", "\n").replace("\r", "\n"))
    return text.strip()
