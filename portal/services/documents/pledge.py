"""The pledge agreement as a Word document in the state format (Nghị định 30/2020/NĐ-CP).

A4 portrait, Times New Roman: the cluster and the national motto side by side at the
top, number and symbol, the place-and-date line in italics, the title, the legal
grounds, the commitments, a signature block for every member unit, "Nơi nhận" and,
when given, the criteria table as an appendix. Plain Python; the view sends the bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from docx.shared import Mm, Pt

from portal.formatting import long_vn_date, vn_date
from portal.services.documents.layout import (
    CENTER,
    DOTS,
    HEADER_MM,
    JUSTIFY,
    TEXT_WIDTH_MM,
    TITLE_PT,
    lines,
    new_document,
    page_break,
    province_place,
    row_flag,
    to_bytes,
)
from portal.services.documents.layout import para as _para
from portal.services.documents.layout import rule as _rule
from portal.services.documents.layout import table as _table

__all__ = ["CENTER", "DOTS", "JUSTIFY", "lines", "pledge_docx"]
APPENDIX_MM = (15, TEXT_WIDTH_MM - 45, 30)
INTRO = "Các đơn vị thành viên cùng thống nhất ký kết giao ước thi đua với các nội dung sau:"

CriteriaRow = tuple[int, str, str, str]  # depth, code, title, maximum points as Vietnamese text


def pledge_docx(
    pledge, statuses: Sequence, *, province_name: str, criteria_rows: list[CriteriaRow] | None, today: date
) -> bytes:
    """The agreement with every member's signature block, as the bytes of a .docx file."""
    document = new_document()
    _header(document, pledge, province_name, today)
    _title(document, pledge)
    _body(document, pledge)
    _signatures(document, statuses)
    _recipients(document, pledge.recipients)
    if criteria_rows:
        _appendix(document, pledge, criteria_rows)
    return to_bytes(document, pledge.title)


# --- text helpers -------------------------------------------------------------------------


def number_line(number_symbol: str) -> str:
    value = (number_symbol or "").strip()
    if not value:
        return "Số:       /GƯTĐ"  # left blank for the office to number, as on seed letters
    return value if value.lower().startswith("số") else f"Số: {value}"


def place_of(pledge, province_name: str) -> str:
    if (pledge.place or "").strip():
        return pledge.place.strip()
    return province_place(province_name)


def place_date_line(pledge, province_name: str, today: date) -> str:
    return f"{place_of(pledge, province_name)}, {long_vn_date(pledge.meeting_date or today)}"


def subtitle(pledge) -> str:
    """The line under "GIAO ƯỚC THI ĐUA": the rest of the title, or the year."""
    title = (pledge.title or "").strip()
    if title.lower().startswith("giao ước thi đua"):
        title = title[len("giao ước thi đua") :].strip(" -:,")
    return title.upper() if title else f"NĂM {pledge.year.year}"


def ground(line: str) -> str:
    return line if line.lower().startswith("căn cứ") else f"Căn cứ {line}"


# --- the parts of the document -------------------------------------------------------------


def _header(document, pledge, province_name: str, today: date) -> None:
    table = _table(document, 2, HEADER_MM, borders=False)
    (issuer, motto), (number, dateline) = table.rows[0].cells, table.rows[1].cells
    _para(issuer, pledge.cluster.name.upper(), bold=True, align=CENTER)
    _rule(issuer, 25, HEADER_MM[0])
    _para(motto, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True, align=CENTER)
    _para(motto, "Độc lập - Tự do - Hạnh phúc", size=TITLE_PT, bold=True, align=CENTER)
    _rule(motto, 62, HEADER_MM[1])
    _para(number, number_line(pledge.number_symbol), align=CENTER)
    _para(dateline, place_date_line(pledge, province_name, today), italic=True, align=CENTER)


def _title(document, pledge) -> None:
    _para(document, "GIAO ƯỚC THI ĐUA", size=TITLE_PT, bold=True, align=CENTER).paragraph_format.space_before = Pt(18)
    _para(document, subtitle(pledge), size=TITLE_PT, bold=True, align=CENTER, after=12)


def _body(document, pledge) -> None:
    for line in lines(pledge.legal_grounds):
        _para(document, ground(line), italic=True, align=JUSTIFY, indent=True, after=6)
    for line in lines(pledge.goals):
        _para(document, line, align=JUSTIFY, indent=True, after=6)
    _para(document, INTRO, align=JUSTIFY, indent=True, after=6)
    for number, line in enumerate(lines(pledge.commitments), start=1):
        _para(document, f"{number}. {line}", align=JUSTIFY, indent=True, after=6)
    if (pledge.meeting_place or "").strip():
        when = f" {long_vn_date(pledge.meeting_date)}" if pledge.meeting_date else ""
        _para(
            document,
            f"Giao ước được ký kết tại {pledge.meeting_place.strip()}{when}.",
            align=JUSTIFY,
            indent=True,
            after=6,
        )


def _signature_block(cell, status) -> None:
    signature = status.signature if status.current else None
    _para(cell, f"ĐẠI DIỆN {status.unit.name.upper()}", bold=True, align=CENTER)
    _para(cell, signature.representative_position.upper() if signature else DOTS, bold=True, align=CENTER)
    for _ in range(3):
        _para(cell)
    _para(cell, signature.representative_name if signature else DOTS, bold=True, align=CENTER)
    if signature is not None:
        _para(cell, f"Đã ký ngày {vn_date(signature.signed_on)}", size=11, italic=True, align=CENTER)
    elif status.signature is not None:  # signed an earlier text: not a signature of this one
        _para(
            cell,
            f"Đã ký bản trước ngày {vn_date(status.signature.signed_on)}; cần ký xác nhận lại",
            size=11,
            italic=True,
            align=CENTER,
        )
    _para(cell, after=12)


def _signatures(document, statuses: Sequence) -> None:
    if not statuses:
        return
    _para(document, after=6)
    table = _table(document, (len(statuses) + 1) // 2, (TEXT_WIDTH_MM / 2, TEXT_WIDTH_MM / 2), borders=False)
    for index, status in enumerate(statuses):
        row = table.rows[index // 2]
        if index % 2 == 0 and index == len(statuses) - 1:  # an odd last block stands centred
            _signature_block(row.cells[0].merge(row.cells[1]), status)
        else:
            _signature_block(row.cells[index % 2], status)
    for row in table.rows:
        row_flag(row, "w:cantSplit")


def _recipients(document, recipients: str) -> None:
    _para(document, "Nơi nhận:", size=12, bold=True, italic=True).paragraph_format.space_before = Pt(12)
    for line in lines(recipients):
        _para(document, f"- {line}", size=11)


def _appendix(document, pledge, rows: list[CriteriaRow]) -> None:
    page_break(document)
    _para(document, "PHỤ LỤC: BẢNG TIÊU CHÍ, THANG ĐIỂM", size=TITLE_PT, bold=True, align=CENTER)
    _para(document, f"(Kèm theo {pledge.title})", italic=True, align=CENTER, after=12)
    table = _table(document, len(rows) + 1, APPENDIX_MM, borders=True)
    for cell, text in zip(table.rows[0].cells, ("STT", "Nội dung tiêu chí", "Điểm chuẩn"), strict=True):
        _para(cell, text, bold=True, align=CENTER)
    row_flag(table.rows[0], "w:tblHeader")
    for row, (depth, code, title, points) in zip(table.rows[1:], rows, strict=True):
        number, content, maximum = row.cells
        _para(number, code, bold=depth == 1, align=CENTER)
        _para(content, title, bold=depth == 1, align=JUSTIFY).paragraph_format.left_indent = Mm(4 * (depth - 1))
        _para(maximum, points, bold=depth == 1, align=CENTER)
