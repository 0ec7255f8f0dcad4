"""Reading the organisation workbook: its data sheets, their headers and rows, then each cell's value.

Files are read with openpyxl in read-only mode, which streams rows but cannot see
merged cells; merges are found by scanning the sheet's own XML for <mergeCell>
instead, which is as cheap as reading the rows and works for any file size.
"""

from __future__ import annotations

import logging
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from io import BytesIO

from openpyxl.xml.functions import iterparse

from portal.models.base import N_
from portal.models.org import CLUSTER_KINDS, SECTORS, ClusterKind
from portal.services import DomainError
from portal.services.org import structure as org
from portal.services.org.transfer.layout import SHEETS, STATUS_LABELS, Column, fold, thousands
from portal.services.org.transfer.report import RowError, file_error
from portal.services.platform.excel import UploadMessages, WorkbookRefused, open_uploaded_workbook

log = logging.getLogger(__name__)
# A zip can expand a hundredfold; refuse what would not fit a sane workbook of our size.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
NOT_XLSX = (
    "Tệp không phải là tệp Excel .xlsx (có thể là tệp .xls, .csv hoặc tệp khác đổi tên). "
    "Hãy mở bằng Excel và lưu lại dạng “Excel Workbook (*.xlsx)”."
)
DAMAGED = NOT_XLSX + " Tệp có thể đã bị hỏng."


@dataclass
class Sheet:
    name: str
    columns: set[str]  # keys of the columns present
    rows: list[tuple[int, dict]]


def read_workbook(data: bytes, *, max_rows: int, max_bytes: int) -> tuple[dict[str, Sheet], list[RowError]]:
    """The data sheets of an uploaded file, or the problems that make it unreadable as a whole."""
    messages = UploadMessages(
        not_xlsx=NOT_XLSX,
        unpacked="Nội dung tệp sau khi giải nén quá lớn; hãy chia thành nhiều tệp nhỏ hơn.",
        too_big=f"Tệp lớn hơn {thousands(max_bytes // 1024)} KB; hãy chia thành nhiều tệp nhỏ hơn.",
        damaged=DAMAGED,
        empty="Tệp rỗng.",
    )
    try:
        workbook = open_uploaded_workbook(data, max_bytes, max_unpacked=MAX_UNPACKED_BYTES, messages=messages)
    except WorkbookRefused as refusal:
        return {}, file_error(refusal.message)
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            return _read(archive, workbook, max_rows)
    except Exception:  # openpyxl, zipfile, zlib and the XML parser each raise their own kind for a damaged file
        log.info("unreadable workbook", exc_info=True)  # kept, so that a bug here is not mistaken for a bad file
        return {}, file_error(DAMAGED)
    finally:
        workbook.close()


def _read(archive: zipfile.ZipFile, workbook, max_rows: int) -> tuple[dict[str, Sheet], list[RowError]]:
    found = {fold(ws.title): ws for ws in workbook.worksheets}
    present = [name for name in SHEETS if fold(name) in found]
    if not present:
        return {}, file_error(
            "Không tìm thấy trang tính nào tên “Đơn vị”, “Cụm, khối” hoặc “Thành viên”. Hãy dùng tệp mẫu."
        )
    sheets, errors = {}, []
    for name in present:
        ws = found[fold(name)]
        errors += _merged_cells(archive, ws, name)
        sheet, problems = _read_sheet(ws, name, max_rows)
        errors += problems
        if sheet is not None:
            sheets[name] = sheet
    return sheets, errors


def _merged_cells(archive: zipfile.ZipFile, ws, name: str) -> list[RowError]:
    errors = []
    # Read-only sheets do not parse merges; openpyxl keeps the sheet's path inside the zip.
    with archive.open(ws._worksheet_path) as source:
        for _event, element in iterparse(source):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "mergeCell":
                ref = element.get("ref", "")
                row = int("".join(ch for ch in ref.split(":")[0] if ch.isdigit()) or 0)
                errors.append(RowError(name, row, ref, f"Có ô gộp ({ref}); hãy bỏ gộp ô (Unmerge) rồi gửi lại."))
            elif tag == "row":
                element.clear()
    return errors


def _read_sheet(ws, name: str, max_rows: int) -> tuple[Sheet | None, list[RowError]]:
    ws.reset_dimensions()  # some writers record a wrong size; read what is really there
    rows = ws.iter_rows(values_only=True)
    positions, errors = _header(name, next(rows, ()) or ())
    if errors:
        return None, errors
    sheet = Sheet(name, {col.key for col in positions.values()}, [])
    for number, values in enumerate(rows, start=2):
        if all(_blank(v) for v in values):
            continue
        if len(sheet.rows) == max_rows:
            return None, [
                RowError(
                    name,
                    number,
                    "",
                    f"Trang có quá {thousands(max_rows)} dòng dữ liệu (tối đa "
                    f"{thousands(max_rows)} dòng mỗi trang); hãy chia thành nhiều tệp.",
                )
            ]
        sheet.rows.append((number, {col.key: values[i] for i, col in positions.items() if i < len(values)}))
    return sheet, []


def _header(name: str, header: tuple) -> tuple[dict[int, Column], list[RowError]]:
    expected = {fold(col.header): col for col in SHEETS[name]}
    positions: dict[int, Column] = {}
    errors = []
    for i, cell in enumerate(header):
        if _blank(cell):
            continue
        col = expected.get(fold(cell))
        if col is None:
            valid = ", ".join(f"“{c.header}”" for c in SHEETS[name])
            errors.append(RowError(name, 1, str(cell), f"Cột không có trong mẫu. Các cột hợp lệ: {valid}."))
        elif col in positions.values():
            errors.append(RowError(name, 1, col.header, "Cột bị lặp lại."))
        else:
            positions[i] = col
    missing = [col for col in SHEETS[name] if col.required and col not in positions.values()]
    errors += [RowError(name, 1, col.header, "Thiếu cột bắt buộc.") for col in missing]
    return positions, errors


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


SECTOR_CHOICES = {**{fold(code): code for code in SECTORS}, **{fold(label): code for code, label in SECTORS.items()}}
KIND_CHOICES = {
    **{fold(code): code for code in CLUSTER_KINDS},
    **{fold(label): code for code, label in CLUSTER_KINDS.items()},
    "cum": ClusterKind.CLUSTER,
    "khoi": ClusterKind.BLOCK,
}
STATUS_CHOICES = {"hoat dong": True, "dang hoat dong": True, "ngung hoat dong": False, "da ngung hoat dong": False}


def parse_cell(col: Column, value):
    """The cell's value for the column, None when blank; DomainError when it cannot be one."""
    if _blank(value):
        if col.required:
            raise DomainError(N_("Không được để trống."))
        return None
    if col.kind == "int":
        return parse_integer(value)
    if isinstance(value, (bool, datetime, date, time, timedelta)):
        raise DomainError(N_("Phải là chữ, không phải ngày tháng hay giá trị đúng/sai."))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value))
    text = text.strip() if col.kind == "longtext" else org.clean(text)
    if col.max_length and len(text) > col.max_length:
        raise DomainError(N_("Dài quá %(length)s ký tự."), length=thousands(col.max_length))
    choices = {"sector": SECTOR_CHOICES, "status": STATUS_CHOICES, "cluster_kind": KIND_CHOICES}.get(col.kind)
    if choices is None:
        return text
    if fold(text) not in choices:
        allowed = {"sector": SECTORS.values(), "status": STATUS_LABELS.values(), "cluster_kind": CLUSTER_KINDS.values()}
        raise DomainError(
            N_("Giá trị “%(value)s” không hợp lệ; chọn một trong: %(choices)s."),
            value=text,
            choices="; ".join(allowed[col.kind]),
        )
    return choices[fold(text)]


def parse_integer(value) -> int:
    """A whole number from a number cell or digits typed as text; DomainError otherwise."""
    if isinstance(value, bool):
        raise DomainError(N_("Phải là số nguyên."))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    if text.isascii() and text.isdigit():
        return int(text)
    raise DomainError(N_("Phải là số nguyên (ví dụ 2026), không phải “%(value)s”."), value=text[:40])
