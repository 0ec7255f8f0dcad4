"""Excel import and export of units, clusters and memberships, in one documented workbook.

The workbook has three data sheets ("Đơn vị", "Cụm, khối", "Thành viên"), each with
its Vietnamese headers in row 1, and a "Hướng dẫn" sheet that the import ignores.
Import is an upsert: units are matched by name (case and repeated spaces ignored),
clusters by code, memberships by year and unit. The whole file is validated before
anything is written, every error is collected with its sheet, row and column, and
the changes go through the services of `org` and `years`, so the audit hook records
each one; the caller commits once, or rolls back when the report has errors.

Files are read with openpyxl in read-only mode, which streams rows but cannot see
merged cells; merges are found by scanning the sheet's own XML for <mergeCell>
instead, which is as cheap as reading the rows and works for any file size.
"""

from __future__ import annotations

import logging
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.xml.functions import iterparse
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal import vntext
from portal.models import Cluster, EmulationYear, Membership, Unit
from portal.models.org import CLUSTER_KINDS, SECTORS
from portal.services import DomainError
from portal.services.org import structure as org
from portal.services.org import years
from portal.services.platform.audit import record_event
from portal.services.platform.excel import UploadMessages, WorkbookRefused, append_row, open_uploaded_workbook

log = logging.getLogger(__name__)
UNITS, CLUSTERS, MEMBERS, GUIDE = "Đơn vị", "Cụm, khối", "Thành viên", "Hướng dẫn"
STATUS_LABELS = {True: "Hoạt động", False: "Ngừng hoạt động"}
ACTION_LABELS = {"create": "thêm mới", "update": "cập nhật", "unchanged": "không đổi"}
# A zip can expand a hundredfold; refuse what would not fit a sane workbook of our size.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
NOT_XLSX = (
    "Tệp không phải là tệp Excel .xlsx (có thể là tệp .xls, .csv hoặc tệp khác đổi tên). "
    "Hãy mở bằng Excel và lưu lại dạng “Excel Workbook (*.xlsx)”."
)
DAMAGED = NOT_XLSX + " Tệp có thể đã bị hỏng."


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    required: bool = False
    kind: str = "text"  # text | longtext | int | sector | status | cluster_kind
    max_length: int | None = None
    help: str = ""
    width: int = 18


SHEETS: dict[str, tuple[Column, ...]] = {
    UNITS: (
        Column(
            "Tên đơn vị",
            "name",
            True,
            max_length=255,
            width=45,
            help="Tên đầy đủ, không trùng. Đơn vị đã có được nhận ra theo tên (không phân biệt chữ hoa, "
            "chữ thường và khoảng trắng thừa); muốn đổi tên, dùng chức năng Đổi tên trong mục Đơn vị.",
        ),
        Column("Tên viết tắt", "short_name", max_length=64, help="Tối đa 64 ký tự."),
        Column(
            "Loại hình",
            "sector",
            kind="sector",
            width=34,
            help="Một trong: " + "; ".join(SECTORS.values()) + ". Trống: “Khác” với đơn vị mới.",
        ),
        Column("Địa chỉ", "address", max_length=255, width=40, help="Tối đa 255 ký tự."),
        Column(
            "Tình trạng",
            "active",
            kind="status",
            help="Hoạt động hoặc Ngừng hoạt động. Đơn vị mới phải đang hoạt động; giải thể, sáp nhập, "
            "hoạt động trở lại làm trong mục Đơn vị (cần ngày và quyết định).",
        ),
    ),
    CLUSTERS: (
        Column(
            "Mã",
            "code",
            True,
            max_length=32,
            width=12,
            help="Mã không trùng, ví dụ CUM01; lưu bằng chữ in hoa. Cụm, khối đã có được nhận ra theo mã.",
        ),
        Column("Tên", "name", True, max_length=255, width=40, help="Không trùng với cụm (khối) khác cùng loại."),
        Column("Loại", "kind", True, kind="cluster_kind", width=16, help="Cụm thi đua hoặc Khối thi đua."),
        Column("Mô tả", "description", kind="longtext", max_length=4000, width=40, help="Tối đa 4.000 ký tự."),
        Column(
            "Tình trạng",
            "active",
            kind="status",
            help="Hoạt động hoặc Ngừng hoạt động. Trống: Hoạt động với cụm, khối mới.",
        ),
    ),
    MEMBERS: (
        Column("Năm", "year", True, kind="int", width=8, help="Năm thi đua đã tạo trong mục Năm thi đua, ví dụ 2026."),
        Column(
            "Mã cụm, khối",
            "code",
            True,
            max_length=32,
            width=14,
            help="Mã của cụm, khối đã có, hoặc có trong trang “Cụm, khối” của cùng tệp.",
        ),
        Column(
            "Tên đơn vị",
            "unit",
            True,
            max_length=255,
            width=45,
            help="Tên đơn vị đã có, hoặc có trong trang “Đơn vị” của cùng tệp. Mỗi đơn vị thuộc một cụm, "
            "khối trong một năm; dòng trùng với thành viên đã có thì giữ nguyên.",
        ),
        Column(
            "Thứ tự luân phiên",
            "rotation_order",
            kind="int",
            width=18,
            help="Số nguyên dương; thứ tự luân phiên làm Trưởng, Phó. Trống: xếp cuối danh sách.",
        ),
    ),
}


def rules(max_rows: int) -> list[str]:
    """The general rules of the template, shown on the page and in the guide sheet."""
    return [
        "Dòng 1 của mỗi trang là tiêu đề cột, đúng như mẫu (thứ tự cột tùy ý); dữ liệu bắt đầu từ dòng 2.",
        "Có thể chỉ gửi một hoặc hai trang; trang “Hướng dẫn” và các trang khác tên bị bỏ qua.",
        f"Mỗi trang tối đa {_thousands(max_rows)} dòng dữ liệu; không gộp ô; dòng trống được bỏ qua.",
        "Ô trống ở cột không bắt buộc: giữ nguyên giá trị đang có (bản ghi mới nhận giá trị mặc định).",
        "Tệp được kiểm tra toàn bộ trước khi lưu: chỉ cần một lỗi là không lưu gì, mọi lỗi được liệt kê "
        "theo trang, dòng và cột.",
        "Nhập tên cột và giá trị lựa chọn có hay không có dấu, chữ hoa hay thường đều được.",
    ]


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int | None  # as Excel numbers it; None for a problem with the whole file
    column: str
    message: str

    def __str__(self) -> str:
        where = [f"Trang “{self.sheet}”"] if self.sheet else []
        where += [f"dòng {self.row}"] if self.row else []
        where += [f"cột “{self.column}”"] if self.column else []
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass
class Change:
    sheet: str
    row: int
    action: str  # create | update | unchanged
    label: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (column, before, after)
    apply: Callable[[Session], None] | None = None

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]


@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)
    applied: bool = False

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        tally = Counter((c.sheet, c.action) for c in self.changes)
        return {s: {a: tally[(s, a)] for a in ACTION_LABELS} for s in self.sheets}

    @property
    def edits(self) -> list[Change]:
        return [c for c in self.changes if c.action != "unchanged"]

    def summary(self) -> str:
        parts = [
            f"{sheet}: " + ", ".join(f"{n} {ACTION_LABELS[a]}" for a, n in counts.items())
            for sheet, counts in self.counts.items()
        ]
        return "; ".join(parts) + "."


# --- reading the file ---------------------------------------------------------------


def fold(text) -> str:
    """Lower case, single spaces, no diacritics: how choices and headers are compared."""
    text = org.clean(str(text or "")).casefold().replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def name_key(text: str) -> str:
    """Units are the same unit whatever the case, spacing, normal form or tone placement of their name."""
    return vntext.name_key(text)


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _file_error(message: str) -> list[RowError]:
    return [RowError("", None, "", message)]


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
        too_big=f"Tệp lớn hơn {_thousands(max_bytes // 1024)} KB; hãy chia thành nhiều tệp nhỏ hơn.",
        damaged=DAMAGED,
        empty="Tệp rỗng.",
    )
    try:
        workbook = open_uploaded_workbook(data, max_bytes, max_unpacked=MAX_UNPACKED_BYTES, messages=messages)
    except WorkbookRefused as refusal:
        return {}, _file_error(refusal.message)
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            return _read(archive, workbook, max_rows)
    except Exception:  # openpyxl, zipfile, zlib and the XML parser each raise their own kind for a damaged file
        log.info("unreadable workbook", exc_info=True)  # kept, so that a bug here is not mistaken for a bad file
        return {}, _file_error(DAMAGED)
    finally:
        workbook.close()


def _read(archive: zipfile.ZipFile, workbook, max_rows: int) -> tuple[dict[str, Sheet], list[RowError]]:
    found = {fold(ws.title): ws for ws in workbook.worksheets}
    present = [name for name in SHEETS if fold(name) in found]
    if not present:
        return {}, _file_error(
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
                    f"Trang có quá {_thousands(max_rows)} dòng dữ liệu (tối đa "
                    f"{_thousands(max_rows)} dòng mỗi trang); hãy chia thành nhiều tệp.",
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


# --- one cell at a time -------------------------------------------------------------

SECTOR_CHOICES = {**{fold(code): code for code in SECTORS}, **{fold(label): code for code, label in SECTORS.items()}}
KIND_CHOICES = {
    **{fold(code): code for code in CLUSTER_KINDS},
    **{fold(label): code for code, label in CLUSTER_KINDS.items()},
    "cum": "cluster",
    "khoi": "block",
}
STATUS_CHOICES = {"hoat dong": True, "dang hoat dong": True, "ngung hoat dong": False, "da ngung hoat dong": False}


def parse_cell(col: Column, value):
    """The cell's value for the column, None when blank; DomainError when it cannot be one."""
    if _blank(value):
        if col.required:
            raise DomainError("Không được để trống.")
        return None
    if col.kind == "int":
        return _integer(value)
    if isinstance(value, (bool, datetime, date, time, timedelta)):
        raise DomainError("Phải là chữ, không phải ngày tháng hay giá trị đúng/sai.")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value))
    text = text.strip() if col.kind == "longtext" else org.clean(text)
    if col.max_length and len(text) > col.max_length:
        raise DomainError(f"Dài quá {_thousands(col.max_length)} ký tự.")
    choices = {"sector": SECTOR_CHOICES, "status": STATUS_CHOICES, "cluster_kind": KIND_CHOICES}.get(col.kind)
    if choices is None:
        return text
    if fold(text) not in choices:
        allowed = {"sector": SECTORS.values(), "status": STATUS_LABELS.values(), "cluster_kind": CLUSTER_KINDS.values()}
        raise DomainError(f"Giá trị “{text}” không hợp lệ; chọn một trong: {'; '.join(allowed[col.kind])}.")
    return choices[fold(text)]


def _integer(value) -> int:
    if isinstance(value, bool):
        raise DomainError("Phải là số nguyên.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    if text.isascii() and text.isdigit():
        return int(text)
    raise DomainError(f"Phải là số nguyên (ví dụ 2026), không phải “{text[:40]}”.")


# --- planning: every row checked against the database and the rest of the file ---------


def _display(key: str, value) -> str:
    if value is None:
        return ""
    if key == "sector":
        return SECTORS.get(value, value)
    if key == "kind":
        return CLUSTER_KINDS.get(value, value)
    if key == "active":
        return STATUS_LABELS[value]
    return str(value)


class _Planner:
    """Checks every row and records what importing it would change, and how to apply it."""

    def __init__(self, session: Session, sheets: dict[str, Sheet]):
        self.sheets = sheets
        self.report = ImportReport(sheets=list(sheets))
        self.units = {name_key(u.name): u for u in session.scalars(select(Unit))}
        self.clusters = {c.code.upper(): c for c in session.scalars(select(Cluster))}
        self.cluster_names = {(c.kind, name_key(c.name)): c for c in self.clusters.values()}
        self.years = {y.year: y for y in session.scalars(select(EmulationYear))}
        self.memberships = self._memberships(session)
        self.file_units: dict[str, int] = {}  # name key -> row where the file names it
        self.file_clusters: dict[str, int] = {}  # code -> row

    def _memberships(self, session: Session) -> dict[tuple[int, int], Membership]:
        sheet = self.sheets.get(MEMBERS)
        wanted = {self.years[n].id for n in self._years_named(sheet) if n in self.years} if sheet else set()
        if not wanted:
            return {}
        rows = session.scalars(
            select(Membership).where(Membership.year_id.in_(wanted)).options(selectinload(Membership.cluster))
        )
        return {(m.year_id, m.unit_id): m for m in rows}

    @staticmethod
    def _years_named(sheet: Sheet) -> set:
        named = set()
        for _number, values in sheet.rows:
            try:
                named.add(_integer(values.get("year")))
            except DomainError:
                continue
        return named

    def plan(self) -> ImportReport:
        for name, step in ((UNITS, self._unit), (CLUSTERS, self._cluster), (MEMBERS, self._member)):
            sheet = self.sheets.get(name)
            if sheet is None:
                continue
            context: dict = {}  # what earlier rows of this sheet already claimed
            for number, values in sheet.rows:
                cells, ok = self._cells(sheet, number, values)
                step(number, cells, ok, context)
        return self.report

    def _cells(self, sheet: Sheet, number: int, values: dict) -> tuple[dict, bool]:
        cells, ok = {}, True
        for col in SHEETS[sheet.name]:
            if col.key not in sheet.columns:
                cells[col.key] = None
                continue
            try:
                cells[col.key] = parse_cell(col, values.get(col.key))
            except DomainError as error:
                self._error(sheet.name, number, col.key, error.message)
                cells[col.key], ok = None, False
        return cells, ok

    def _error(self, sheet: str, number: int, key: str, message: str) -> None:
        header = next((c.header for c in SHEETS[sheet] if c.key == key), "")
        self.report.errors.append(RowError(sheet, number, header, message))

    def _change(self, sheet: str, number: int, action: str, label: str, fields: list, apply=None) -> None:
        self.report.changes.append(Change(sheet, number, action, label, fields, apply))

    @staticmethod
    def _diff(sheet: str, before: dict, after: dict) -> list[tuple[str, str, str]]:
        shown = [
            (c.header, _display(c.key, before.get(c.key)), _display(c.key, after[c.key]))
            for c in SHEETS[sheet]
            if c.key in after
        ]
        return [(header, old, new) for header, old, new in shown if old != new]

    # Units: matched by name; the name itself is never changed here (renaming keeps history elsewhere).
    def _unit(self, number: int, cells: dict, ok: bool, context: dict) -> None:
        if not cells.get("name"):
            return
        key = name_key(cells["name"])
        if key in self.file_units:
            return self._error(UNITS, number, "name", f"Trùng tên với dòng {self.file_units[key]}.")
        self.file_units[key] = number
        if not ok:
            return
        unit = self.units.get(key)
        given = {k: cells[k] for k in ("short_name", "sector", "address") if cells[k] is not None}
        if unit is None:
            if cells["active"] is False:
                return self._error(UNITS, number, "active", "Đơn vị mới phải ở tình trạng Hoạt động.")
            values = {"short_name": "", "sector": "other", "address": "", **given}

            def create(session: Session) -> None:
                self.units[key] = org.save_unit(session, None, name=cells["name"], **values)

            return self._change(UNITS, number, "create", cells["name"], self._diff(UNITS, {}, values), create)
        if cells["active"] is not None and cells["active"] != unit.active:
            how = "“Giải thể / ngừng hoạt động” hoặc “Sáp nhập”" if unit.active else "“Cho hoạt động trở lại”"
            return self._error(
                UNITS,
                number,
                "active",
                f"Đổi tình trạng đơn vị bằng chức năng {how} trên trang của "
                "đơn vị trong mục Đơn vị (cần ngày hiệu lực và quyết định).",
            )
        current = {k: getattr(unit, k) for k in ("short_name", "sector", "address")}
        fields = self._diff(UNITS, current, given)
        if not fields:
            return self._change(UNITS, number, "unchanged", unit.name, [])
        self._change(
            UNITS,
            number,
            "update",
            unit.name,
            fields,
            lambda session: org.save_unit(session, unit, name=unit.name, active=unit.active, **{**current, **given}),
        )

    # Clusters and blocks: matched by code; the name is unique within its kind.
    def _cluster(self, number: int, cells: dict, ok: bool, context: dict) -> None:
        if not cells.get("code"):
            return
        code = cells["code"].upper()
        if code in self.file_clusters:
            return self._error(CLUSTERS, number, "code", f"Trùng mã với dòng {self.file_clusters[code]}.")
        self.file_clusters[code] = number
        if not ok:
            return
        named = (cells["kind"], name_key(cells["name"]))
        if named in context:
            return self._error(CLUSTERS, number, "name", f"Trùng tên với dòng {context[named]}.")
        context[named] = number
        clash = self.cluster_names.get(named)
        if clash is not None and clash.code.upper() != code:
            return self._error(
                CLUSTERS, number, "name", f"Đã có {clash.kind_label.lower()} tên “{clash.name}” (mã {clash.code})."
            )
        cluster = self.clusters.get(code)
        given = {k: cells[k] for k in ("kind", "name", "description", "active") if cells[k] is not None}
        if cluster is None:
            values = {"description": "", "active": True, **given}

            def create(session: Session) -> None:
                self.clusters[code] = org.save_cluster(session, None, code=code, **values)

            return self._change(
                CLUSTERS, number, "create", f"{code} – {cells['name']}", self._diff(CLUSTERS, {}, values), create
            )
        current = {k: getattr(cluster, k) for k in ("kind", "name", "description", "active")}
        fields = self._diff(CLUSTERS, current, given)
        label = f"{cluster.code} – {cluster.name}"
        if not fields:
            return self._change(CLUSTERS, number, "unchanged", label, [])
        self._change(
            CLUSTERS,
            number,
            "update",
            label,
            fields,
            lambda session: org.save_cluster(session, cluster, code=cluster.code, **{**current, **given}),
        )

    # Memberships: a unit is in one cluster per year; the same cluster again is no change.
    def _member(self, number: int, cells: dict, ok: bool, context: dict) -> None:
        known_errors = len(self.report.errors)
        year, code, name, order = self.years.get(cells["year"]), cells["code"], cells["unit"], cells["rotation_order"]
        if cells["year"] is not None and year is None:
            self._error(
                MEMBERS,
                number,
                "year",
                f"Chưa có năm thi đua {cells['year']}; hãy tạo năm trong mục Năm thi đua trước.",
            )
        code = code.upper() if code else None
        if code and code not in self.clusters and code not in self.file_clusters:
            self._error(
                MEMBERS,
                number,
                "code",
                f"Không có cụm, khối mã “{code}” trong hệ thống hay trong trang “Cụm, khối” của tệp.",
            )
        key = name_key(name) if name else None
        if key and key not in self.units and key not in self.file_units:
            self._error(
                MEMBERS, number, "unit", f"Không có đơn vị “{name}” trong hệ thống hay trong trang “Đơn vị” của tệp."
            )
        if order is not None and not 1 <= order <= 1000:
            self._error(MEMBERS, number, "rotation_order", "Phải là số nguyên từ 1 đến 1000.")
        if not ok or len(self.report.errors) > known_errors:
            return
        if (year.year, key) in context:
            return self._error(
                MEMBERS,
                number,
                "unit",
                f"Đơn vị đã có ở dòng {context[(year.year, key)]} "
                f"cho năm {year.year}; mỗi năm một đơn vị thuộc một cụm, khối.",
            )
        context[(year.year, key)] = number
        if order is not None:
            if (year.year, code, order) in context:
                return self._error(
                    MEMBERS,
                    number,
                    "rotation_order",
                    f"Trùng thứ tự luân phiên với dòng {context[(year.year, code, order)]}.",
                )
            context[(year.year, code, order)] = number
        self._place(number, year, code, key, name, order)

    def _place(self, number: int, year: EmulationYear, code: str, key: str, name: str, order: int | None) -> None:
        unit = self.units.get(key)
        label = f"{unit.name if unit else name} → {code} ({year.year})"
        membership = self.memberships.get((year.id, unit.id)) if unit is not None else None
        if membership is not None:
            placed = membership.cluster
            if placed.code.upper() != code:
                return self._error(
                    MEMBERS,
                    number,
                    "code",
                    f"Đơn vị “{unit.name}” đã thuộc “{placed.name}” (mã {placed.code}) trong năm {year.year}.",
                )
            if order is None or order == membership.rotation_order:
                return self._change(MEMBERS, number, "unchanged", label, [])
            fields = self._diff(MEMBERS, {"rotation_order": membership.rotation_order}, {"rotation_order": order})
            return self._change(
                MEMBERS, number, "update", label, fields, lambda session: _set_order(session, membership, order)
            )
        if unit is not None and not unit.active:
            return self._error(MEMBERS, number, "unit", f"Đơn vị “{unit.name}” đã ngừng hoạt động.")

        def create(session: Session) -> None:
            added = years.add_membership(session, year, self.clusters[code], self.units[key])
            if order is not None:
                _set_order(session, added, order)

        self._change(MEMBERS, number, "create", label, self._diff(MEMBERS, {}, {"rotation_order": order}), create)


def _set_order(session: Session, membership: Membership, order: int) -> None:
    membership.rotation_order = order
    session.flush()


def import_workbook(
    session: Session, data: bytes, *, apply: bool, max_rows: int, max_bytes: int, filename: str = ""
) -> ImportReport:
    """Validate the whole file; when it is clean and `apply` is set, make every change (flushed, not committed).

    A report with errors means nothing should be kept: the caller rolls back."""
    sheets, errors = read_workbook(data, max_rows=max_rows, max_bytes=max_bytes)
    if errors:
        return ImportReport(errors=errors)
    if not any(sheet.rows for sheet in sheets.values()):
        return ImportReport(errors=_file_error("Tệp không có dòng dữ liệu nào (dữ liệu bắt đầu từ dòng 2)."))
    report = _Planner(session, sheets).plan()
    if report.errors or not apply:
        return report
    for change in report.edits:
        try:
            change.apply(session)
        except DomainError as error:  # a rule the plan could not foresee; later rows may depend on this one
            key = {"unit_id": "unit"}.get(error.field, error.field)
            header = next((c.header for c in SHEETS[change.sheet] if c.key == key), "")
            report.errors.append(RowError(change.sheet, change.row, header, error.message))
            return report
    report.applied = True
    record_event(session, "import", f"Nhập tệp Excel “{filename}”. {report.summary()}", changes=report.counts)
    session.flush()
    return report


# --- writing: the blank template and the export share one layout ----------------------

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")


def template_workbook(max_rows: int) -> bytes:
    """The blank workbook: a guide sheet, then the three data sheets with their headers."""
    return _save(_workbook(max_rows))


def export_workbook(session: Session, year: EmulationYear | None, max_rows: int) -> bytes:
    """Every unit and cluster, and the memberships of `year` (of every year when None)."""
    book = _workbook(max_rows)
    for u in session.scalars(select(Unit).order_by(Unit.sort_key, Unit.id)):
        append_row(book[UNITS], [u.name, u.short_name, SECTORS[u.sector], u.address, STATUS_LABELS[u.active]])
    for c in session.scalars(select(Cluster).order_by(Cluster.kind, Cluster.code)):
        append_row(book[CLUSTERS], [c.code, c.name, c.kind_label, c.description, STATUS_LABELS[c.active]])
    query = (
        select(EmulationYear.year, Cluster.code, Unit.name, Membership.rotation_order)
        .join(Membership.year)
        .join(Membership.cluster)
        .join(Membership.unit)
        .order_by(EmulationYear.year, Cluster.code, Membership.rotation_order, Membership.id)
    )
    if year is not None:
        query = query.where(Membership.year_id == year.id)
    for row in session.execute(query):
        append_row(book[MEMBERS], list(row))
    return _save(book)


def _workbook(max_rows: int) -> Workbook:
    book = Workbook()
    guide = book.active
    guide.title = GUIDE
    lists = _guide(guide, max_rows)
    for name, columns in SHEETS.items():
        ws = book.create_sheet(name)
        ws.append([col.header for col in columns])
        for i, col in enumerate(columns, start=1):
            cell = ws.cell(row=1, column=i)
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            letter = cell.column_letter
            ws.column_dimensions[letter].width = col.width
            if col.kind in lists:
                # A drop-down of the allowed labels; other spellings and codes stay allowed.
                check = DataValidation(type="list", formula1=lists[col.kind], allow_blank=True)
                check.add(f"{letter}2:{letter}{max_rows + 1}")
                ws.add_data_validation(check)
        ws.freeze_panes = "A2"
    return book


def _guide(ws, max_rows: int) -> dict[str, str]:
    """Write the guide; return, for each kind of choice column, the range holding its values."""
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width, ws.column_dimensions["C"].width = 24, 11, 110
    wrap = Alignment(wrap_text=True, vertical="top")
    ws.append(["HƯỚNG DẪN NHẬP DỮ LIỆU ĐƠN VỊ, CỤM, KHỐI THI ĐUA VÀ THÀNH VIÊN"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([])
    for rule in rules(max_rows):
        ws.append(["•", "", rule])
    for name, columns in SHEETS.items():
        ws.append([])
        ws.append([f"Trang “{name}”"])
        ws.cell(row=ws.max_row, column=1).font = HEADER_FONT
        ws.append(["Cột", "Bắt buộc", "Giá trị hợp lệ, ghi chú"])
        for cell in ws[ws.max_row]:
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        for col in columns:
            ws.append([col.header, "Có" if col.required else "Không", col.help])
            ws.cell(row=ws.max_row, column=3).alignment = wrap
    lists = {}
    for kind, title, values in (
        ("sector", "Danh mục loại hình", SECTORS.values()),
        ("cluster_kind", "Danh mục loại cụm, khối", CLUSTER_KINDS.values()),
        ("status", "Danh mục tình trạng", STATUS_LABELS.values()),
    ):
        ws.append([])
        ws.append([title])
        ws.cell(row=ws.max_row, column=1).font = HEADER_FONT
        first = ws.max_row + 1
        for value in values:
            ws.append([value])
        lists[kind] = f"'{GUIDE}'!$A${first}:$A${ws.max_row}"
    return lists


def _save(book: Workbook) -> bytes:
    out = BytesIO()
    book.save(out)
    return out.getvalue()
