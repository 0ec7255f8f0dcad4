"""Reading an uploaded criteria table: the file as a whole (its sheet, header row and size), then every row.

`parse_workbook` never raises for bad content: every problem comes back with its Excel row.
"""

from __future__ import annotations

import logging
from io import BytesIO

from openpyxl import load_workbook

from portal.formatting import vn_number
from portal.services.criteria.excel.checks import check_tree
from portal.services.criteria.excel.layout import COLUMNS, GUIDE, SHEET, Layout, ParsedTable, RowError, fold
from portal.services.criteria.excel.rows import RowReader, blank
from portal.services.platform.excel import XLS, UploadMessages, WorkbookRefused, open_uploaded_workbook

log = logging.getLogger(__name__)

HEADER_SEARCH = 15
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
HEADER_KEYS = {fold(alias): col.key for col in COLUMNS for alias in (col.header, *col.aliases)}


class _Refused(Exception):
    """The file as a whole cannot be read; carries the one error that says why."""

    def __init__(self, row: int | None, message: str):
        super().__init__(message)
        self.error = RowError(row, "", message)


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
    reader = RowReader(layout)
    reader.merged(ws.merged_cells.ranges)
    width = max(layout.columns.values()) + 1
    rows = ws.iter_rows(min_row=layout.header_row + 1, max_row=layout.last_row, max_col=width, values_only=True)
    for number, values in enumerate(rows, layout.header_row + 1):
        reader.read(number, values)
    return check_tree(reader)


def _scan(data: bytes, max_rows: int) -> Layout:
    """A streaming pass: the sheet, its header row and its size, before the whole file is loaded."""
    try:
        book = open_uploaded_workbook(data, None, max_unpacked=MAX_UNPACKED_BYTES, messages=UPLOAD)
    except WorkbookRefused as refusal:
        raise _Refused(None, refusal.message) from None
    try:
        sheet = _sheet(book.sheetnames)
        ws = book[sheet]
        ws.reset_dimensions()  # some writers record a wrong size; read what is really there
        rows = enumerate(ws.iter_rows(values_only=True), 1)
        header_row, columns = _header_or_refuse(rows, sheet)
        return Layout(sheet, header_row, columns, _last_row(rows, header_row, max_rows))
    finally:
        book.close()


def _sheet(names: list[str]) -> str:
    """The table's sheet: the one named so, or else the first that is not the guide."""
    by_folded = {fold(name): name for name in names}
    sheet = by_folded.get(fold(SHEET)) or next((n for n in names if fold(n) != fold(GUIDE)), None)
    if sheet is None:
        raise _Refused(None, "Tệp không có trang tính nào ngoài trang “Hướng dẫn”.")
    return sheet


def _header_or_refuse(rows, sheet: str) -> tuple[int, dict[str, int]]:
    """The header row and its columns; refused when there is none or it lacks a required column."""
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
    return header_row, columns


def _last_row(rows, header_row: int, max_rows: int) -> int:
    """The last row that is not blank, below the header; refused when there is none or more than `max_rows`."""
    last_row, count = header_row, 0
    for number, values in rows:
        if not blank(values):
            count, last_row = count + 1, number
            if count > max_rows:
                raise _Refused(
                    number,
                    f"Bảng có hơn {vn_number(max_rows)} dòng tiêu chí (tối đa "
                    f"{vn_number(max_rows)}); hãy kiểm tra lại tệp.",
                )
    if count == 0:
        raise _Refused(header_row, "Không có dòng tiêu chí nào dưới dòng tiêu đề cột.")
    return last_row


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
