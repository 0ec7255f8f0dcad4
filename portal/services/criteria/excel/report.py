"""The errors of a refused import: grouped by message for the page, or one per line in a workbook."""

from __future__ import annotations

from io import BytesIO
from typing import NamedTuple

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from portal.formatting import vn_number
from portal.services.criteria.excel.layout import BOX, RowError
from portal.services.platform.excel import put


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
