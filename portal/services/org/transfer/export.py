"""Writing the organisation workbook: the blank template and the export share one layout."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Cluster, EmulationYear, Membership, Unit
from portal.models.org import CLUSTER_KINDS, SECTORS
from portal.services.org.transfer.layout import CLUSTERS, GUIDE, MEMBERS, SHEETS, STATUS_LABELS, UNITS, rules
from portal.services.platform.excel import append_row

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
