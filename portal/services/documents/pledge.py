"""The pledge agreement as a Word document in the state format (Nghị định 30/2020/NĐ-CP).

A4 portrait, Times New Roman: the cluster and the national motto side by side at the
top, number and symbol, the place-and-date line in italics, the title, the legal
grounds, the commitments, a signature block for every member unit, "Nơi nhận" and,
when given, the criteria table as an appendix. Plain Python; the view sends the bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from io import BytesIO

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.table import Table, _Cell

from portal.formatting import long_vn_date, vn_date

FONT = "Times New Roman"
BODY_PT, TITLE_PT = 13, 14
TEXT_WIDTH_MM = 210 - 30 - 15  # A4 less the left and right margins
HEADER_MM = (60, TEXT_WIDTH_MM - 60)  # the motto must fit on one line
APPENDIX_MM = (15, TEXT_WIDTH_MM - 45, 30)
CENTER, JUSTIFY = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY
DOTS = "." * 40
PBDR_SUCCESSORS = (
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:bidi",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:jc",
    "w:textDirection",
    "w:outlineLvl",
    "w:rPr",
    "w:sectPr",
)
INTRO = "Các đơn vị thành viên cùng thống nhất ký kết giao ước thi đua với các nội dung sau:"

CriteriaRow = tuple[int, str, str, str]  # depth, code, title, maximum points as Vietnamese text


def pledge_docx(
    pledge, statuses: Sequence, *, province_name: str, criteria_rows: list[CriteriaRow] | None, today: date
) -> bytes:
    """The agreement with every member's signature block, as the bytes of a .docx file."""
    document = Document()
    _page_and_fonts(document)
    _header(document, pledge, province_name, today)
    _title(document, pledge)
    _body(document, pledge)
    _signatures(document, statuses)
    _recipients(document, pledge.recipients)
    if criteria_rows:
        _appendix(document, pledge, criteria_rows)
    document.core_properties.title = pledge.title
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- text helpers -------------------------------------------------------------------------


def lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def number_line(number_symbol: str) -> str:
    value = (number_symbol or "").strip()
    if not value:
        return "Số:       /GƯTĐ"  # left blank for the office to number, as on seed letters
    return value if value.lower().startswith("số") else f"Số: {value}"


def place_of(pledge, province_name: str) -> str:
    if (pledge.place or "").strip():
        return pledge.place.strip()
    name = province_name.strip()
    for prefix in ("tỉnh ", "thành phố "):
        if name.lower().startswith(prefix):
            return name[len(prefix) :].strip()
    return name


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


# --- formatting helpers -------------------------------------------------------------------


def _fonts(rpr) -> None:
    """Times New Roman for every script, so Word does not fall back for Vietnamese."""
    fonts = rpr.get_or_add_rFonts()
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def _page_and_fonts(document) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _fonts(defaults)
    for lang in defaults.findall(qn("w:lang")):  # spell-check as Vietnamese
        lang.set(qn("w:val"), "vi-VN")
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(BODY_PT)
    _fonts(normal.element.get_or_add_rPr())
    normal.paragraph_format.space_after, normal.paragraph_format.line_spacing = Pt(0), 1.0


def _para(
    container,
    text: str = "",
    *,
    size: float = BODY_PT,
    bold: bool = False,
    italic: bool = False,
    align=None,
    indent: bool = False,
    after: float = 0,
):
    """A paragraph of one run; `indent` and `after` for body text (1 cm first line, spacing)."""
    paragraph = _blank_start(container) or container.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.alignment, fmt.space_after = align, Pt(after)
    if indent:
        fmt.first_line_indent = Cm(1)
    run = paragraph.add_run(text)
    run.bold, run.italic, run.font.size = bold or None, italic or None, Pt(size)
    _fonts(run._r.get_or_add_rPr())
    return paragraph


def _blank_start(container):
    """A table cell starts with one empty paragraph: write its first line there."""
    paragraphs = container.paragraphs if isinstance(container, _Cell) else []
    return paragraphs[0] if len(paragraphs) == 1 and not paragraphs[0].runs else None


def _rule(cell, width_mm: float, cell_mm: float) -> None:
    """A short centred rule under the line above (a top border on an empty, indented paragraph)."""
    paragraph = _para(cell, size=4, align=CENTER)
    side = Mm(max(cell_mm - width_mm, 0) / 2)
    paragraph.paragraph_format.left_indent = paragraph.paragraph_format.right_indent = side
    borders, top = OxmlElement("w:pBdr"), OxmlElement("w:top")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        top.set(qn(key), value)
    borders.append(top)
    paragraph._p.get_or_add_pPr().insert_element_before(borders, *PBDR_SUCCESSORS)  # Word checks the order


def _row_flag(row, tag: str) -> None:
    """`w:cantSplit` keeps a row on one page; `w:tblHeader` repeats it on every page."""
    row._tr.get_or_add_trPr().append(OxmlElement(tag))


def _table(document, rows: int, widths_mm: Sequence[float], *, borders: bool) -> Table:
    table = document.add_table(rows=rows, cols=len(widths_mm))
    table.style = document.styles["Table Grid" if borders else "Normal Table"]
    table.autofit = False
    for column, width in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(width)  # the grid: a fixed layout follows it, not the cells
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width)
    return table


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
        _row_flag(row, "w:cantSplit")


def _recipients(document, recipients: str) -> None:
    _para(document, "Nơi nhận:", size=12, bold=True, italic=True).paragraph_format.space_before = Pt(12)
    for line in lines(recipients):
        _para(document, f"- {line}", size=11)


def _appendix(document, pledge, rows: list[CriteriaRow]) -> None:
    _para(document).runs[0].add_break(WD_BREAK.PAGE)
    _para(document, "PHỤ LỤC: BẢNG TIÊU CHÍ, THANG ĐIỂM", size=TITLE_PT, bold=True, align=CENTER)
    _para(document, f"(Kèm theo {pledge.title})", italic=True, align=CENTER, after=12)
    table = _table(document, len(rows) + 1, APPENDIX_MM, borders=True)
    for cell, text in zip(table.rows[0].cells, ("STT", "Nội dung tiêu chí", "Điểm chuẩn"), strict=True):
        _para(cell, text, bold=True, align=CENTER)
    _row_flag(table.rows[0], "w:tblHeader")
    for row, (depth, code, title, points) in zip(table.rows[1:], rows, strict=True):
        number, content, maximum = row.cells
        _para(number, code, bold=depth == 1, align=CENTER)
        _para(content, title, bold=depth == 1, align=JUSTIFY).paragraph_format.left_indent = Mm(4 * (depth - 1))
        _para(maximum, points, bold=depth == 1, align=CENTER)
