"""Excel files the portal writes and reads: one safe cell writer, one way to open an uploaded workbook.

Writing: text always stays text. openpyxl turns a string that starts with “=” into a formula; `put`
keeps it a string, so a unit named “=HYPERLINK(…)” is never a live formula in an export (text that
starts with + - @, a tab or CR is a string to openpyxl already). Characters Excel cannot hold are
dropped and Windows line breaks become one line feed. `print_setup` gives a table the one print
layout the exports share.

Reading: `open_uploaded_workbook` checks the container before openpyxl sees it (empty, too large,
an Excel 97-2003 file, not a zip, a zip that unpacks beyond the limit, damaged) and refuses with
the caller's own words, so every import keeps its message; `located` says where in the file a
problem is, the same way for every import.
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass
from io import BytesIO

from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.page import PageMargins

from portal.services import DomainError

log = logging.getLogger(__name__)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the Excel 97-2003 (.xls) container
XLS = "Đây là tệp Excel 97-2003 (.xls). Hãy mở bằng Excel, lưu lại dạng “Excel Workbook (*.xlsx)” rồi tải lên lại."


# --- writing -------------------------------------------------------------------------------


def put(cell, value):
    """Write a value; text is always text, even when it starts with “=” (no formula injection)."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value.replace("\r\n", "\n")) or None
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
    return cell


def put_row(ws, row: int, values) -> None:
    """Write `values` into `row` from column A on, each through `put`."""
    for column, value in enumerate(values, 1):
        put(ws.cell(row, column), value)


def append_row(ws, values) -> None:
    """Write `values` into the row under the last one used, each through `put`."""
    put_row(ws, ws.max_row + 1 if ws._cells else 1, values)


def print_setup(ws, header_row: int) -> None:
    """The rows below the header scroll under it and it repeats on every page: A4 landscape, one page wide."""
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.6)


# --- reading -------------------------------------------------------------------------------


class WorkbookRefused(DomainError):
    """The uploaded file as a whole cannot be read as a workbook; `message` says why."""


@dataclass(frozen=True)
class UploadMessages:
    """What an import says for each way a file is refused, in its own words."""

    not_xlsx: str  # not a zip at all (a .csv, a renamed file …)
    unpacked: str  # the zip unpacks beyond `max_unpacked`
    too_big: str = ""  # the file is over `max_bytes` (needed when a limit is given)
    damaged: str | None = None  # a zip openpyxl cannot read; None: `not_xlsx`
    empty: str | None = None  # no bytes at all; None: `not_xlsx`
    xls: str | None = None  # an Excel 97-2003 file; None: `not_xlsx`


def check_uploaded_workbook(data: bytes, max_bytes: int | None, *, max_unpacked: int, messages: UploadMessages) -> None:
    """Raise WorkbookRefused unless `data` is a zip container of sane size (openpyxl is not called)."""
    if not data:
        raise WorkbookRefused(messages.empty or messages.not_xlsx)
    if max_bytes is not None and len(data) > max_bytes:
        raise WorkbookRefused(messages.too_big)
    if messages.xls is not None and data[:8] == OLE_MAGIC:
        raise WorkbookRefused(messages.xls)
    if not zipfile.is_zipfile(BytesIO(data)):
        raise WorkbookRefused(messages.not_xlsx)
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except Exception:  # zipfile raises several kinds for a damaged directory
        log.info("unreadable uploaded workbook", exc_info=True)
        raise WorkbookRefused(messages.damaged or messages.not_xlsx) from None
    if unpacked > max_unpacked:
        raise WorkbookRefused(messages.unpacked)


def open_uploaded_workbook(
    data: bytes, max_bytes: int | None, *, max_unpacked: int, messages: UploadMessages, read_only: bool = True
):
    """The checked workbook, values only (read-only unless asked); the caller closes it.

    Raises WorkbookRefused, with the caller's message, for every file that cannot be opened.
    """
    check_uploaded_workbook(data, max_bytes, max_unpacked=max_unpacked, messages=messages)
    try:
        return load_workbook(BytesIO(data), read_only=read_only, data_only=True)
    except Exception:  # openpyxl, zipfile, zlib and the XML parser each raise their own kind for a damaged file
        log.info("unreadable uploaded workbook", exc_info=True)  # kept, so that a bug is not mistaken for a bad file
        raise WorkbookRefused(messages.damaged or messages.not_xlsx) from None


def located(message: str, *, sheet: str = "", row: int | None = None, column: str = "") -> str:
    """A problem found in an uploaded workbook, said with its place first: “Trang “Đơn vị”, dòng 12,
    cột “Tên”: …”, “Dòng 12: …”, or the message alone for the file as a whole."""
    where = [f"Trang “{sheet}”"] if sheet else []
    where += [f"dòng {row}"] if row else []
    where += [f"cột “{column}”"] if column else []
    if not where:
        return message
    place = ", ".join(where)
    return f"{place[0].upper()}{place[1:]}: {message}"
