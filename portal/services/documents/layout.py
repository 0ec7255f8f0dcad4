"""The state format of Nghị định 30/2020/NĐ-CP, shared by every Word document the portal writes.

A4 portrait, Times New Roman 13 pt (14 pt titles) for every script, 30/15/20/20 mm margins; the
issuing body and the national motto side by side at the top with their short rules, the number
and symbol under the one, the place-and-date line in italics under the other; bordered tables
whose header row repeats on every page; "Nơi nhận:" and the signature block side by side.
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

from portal.formatting import long_vn_date

FONT = "Times New Roman"
BODY_PT, TITLE_PT = 13, 14
TEXT_WIDTH_MM = 210 - 30 - 15  # A4 less the left and right margins
HEADER_MM = (60, TEXT_WIDTH_MM - 60)  # the motto must fit on one line
CENTER, JUSTIFY, LEFT = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY, WD_ALIGN_PARAGRAPH.LEFT
DOTS = "." * 40
MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
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


# --- text helpers -------------------------------------------------------------------------


def lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def province_place(province_name: str) -> str:
    """ "tỉnh Đồng Tháp" → "Đồng Tháp": the place of the place-and-date line."""
    name = province_name.strip()
    for prefix in ("tỉnh ", "thành phố "):
        if name.lower().startswith(prefix):
            return name[len(prefix) :].strip()
    return name


def place_date(place: str, day: date) -> str:
    return f"{place}, {long_vn_date(day)}"


# --- formatting helpers -------------------------------------------------------------------


def fonts(rpr) -> None:
    """Times New Roman for every script, so Word does not fall back for Vietnamese."""
    found = rpr.get_or_add_rFonts()
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        found.attrib.pop(qn(theme), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        found.set(qn(attr), FONT)


def new_document():
    """An empty A4 document in the state format (page, margins, fonts, Vietnamese spell-check)."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts(defaults)
    for lang in defaults.findall(qn("w:lang")):  # spell-check as Vietnamese
        lang.set(qn("w:val"), "vi-VN")
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(BODY_PT)
    fonts(normal.element.get_or_add_rPr())
    normal.paragraph_format.space_after, normal.paragraph_format.line_spacing = Pt(0), 1.0
    return document


def to_bytes(document, title: str) -> bytes:
    document.core_properties.title = title
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def para(
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
    fonts(run._r.get_or_add_rPr())
    return paragraph


def body(container, text: str, *, italic: bool = False):
    """A paragraph of body text: justified, first line indented, 6 pt after."""
    return para(container, text, italic=italic, align=JUSTIFY, indent=True, after=6)


def heading(container, text: str, *, before: float = 6):
    """A bold heading of the body (I., 1., a)…), 6 pt before and after."""
    paragraph = para(container, text, bold=True, align=JUSTIFY, after=6)
    paragraph.paragraph_format.space_before = Pt(before)
    return paragraph


def page_break(document) -> None:
    para(document).runs[0].add_break(WD_BREAK.PAGE)


def _blank_start(container):
    """A table cell starts with one empty paragraph: write its first line there."""
    paragraphs = container.paragraphs if isinstance(container, _Cell) else []
    return paragraphs[0] if len(paragraphs) == 1 and not paragraphs[0].runs else None


def rule(cell, width_mm: float, cell_mm: float) -> None:
    """A short centred rule under the line above (a top border on an empty, indented paragraph)."""
    paragraph = para(cell, size=4, align=CENTER)
    side = Mm(max(cell_mm - width_mm, 0) / 2)
    paragraph.paragraph_format.left_indent = paragraph.paragraph_format.right_indent = side
    borders, top = OxmlElement("w:pBdr"), OxmlElement("w:top")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        top.set(qn(key), value)
    borders.append(top)
    paragraph._p.get_or_add_pPr().insert_element_before(borders, *PBDR_SUCCESSORS)  # Word checks the order


def row_flag(row, tag: str) -> None:
    """`w:cantSplit` keeps a row on one page; `w:tblHeader` repeats it on every page."""
    row._tr.get_or_add_trPr().append(OxmlElement(tag))


def table(document, rows: int, widths_mm: Sequence[float], *, borders: bool) -> Table:
    found = document.add_table(rows=rows, cols=len(widths_mm))
    found.style = document.styles["Table Grid" if borders else "Normal Table"]
    found.autofit = False
    for column, width in zip(found.columns, widths_mm, strict=True):
        column.width = Mm(width)  # the grid: a fixed layout follows it, not the cells
    for row in found.rows:
        for cell, width in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width)
    return found


def data_table(document, header: Sequence[str], rows: Sequence[Sequence[str]], widths_mm: Sequence[float]) -> Table:
    """A bordered table: the bold header row repeats on every page, no row splits across pages.

    Numbers and short codes are centred, the second column (names, contents) is left-aligned.
    """
    found = table(document, len(rows) + 1, widths_mm, borders=True)
    for cell, text in zip(found.rows[0].cells, header, strict=True):
        para(cell, text, size=12, bold=True, align=CENTER)
    row_flag(found.rows[0], "w:tblHeader")
    for row, values in zip(found.rows[1:], rows, strict=True):
        for column, (cell, text) in enumerate(zip(row.cells, values, strict=True)):
            para(cell, text, size=12, align=LEFT if column == 1 else CENTER)
        row_flag(row, "w:cantSplit")
    return found


# --- the parts of a document ---------------------------------------------------------------


def state_header(document, issuer: Sequence[str], number: str, dateline: str) -> None:
    """The issuing body (its last line bold, ruled) beside the motto; the number beside the place and date."""
    found = table(document, 2, HEADER_MM, borders=False)
    (left, motto), (number_cell, date_cell) = found.rows[0].cells, found.rows[1].cells
    for position, line in enumerate(issuer):
        para(left, line.upper(), bold=position == len(issuer) - 1, align=CENTER)
    rule(left, 25, HEADER_MM[0])
    para(motto, MOTTO[0], size=12, bold=True, align=CENTER)
    para(motto, MOTTO[1], size=TITLE_PT, bold=True, align=CENTER)
    rule(motto, 62, HEADER_MM[1])
    para(number_cell, number, align=CENTER)
    para(date_cell, dateline, italic=True, align=CENTER)


def title(document, text: str, subtitle: str = "") -> None:
    """The document's name in bold capitals, its subject below."""
    para(document, text.upper(), size=TITLE_PT, bold=True, align=CENTER).paragraph_format.space_before = Pt(18)
    if subtitle:
        para(document, subtitle, size=TITLE_PT, bold=True, align=CENTER)
    para(document, after=6)


def signatures(document, blocks: Sequence[Sequence[str]], recipients: Sequence[str] = ()) -> None:
    """Signature blocks side by side (each: authority line(s), then the name after room to sign).

    With `recipients`, "Nơi nhận:" stands bottom left and the one signature bottom right.
    """
    para(document, after=6)
    cells = [None, *blocks] if recipients else list(blocks)
    widths = (TEXT_WIDTH_MM / len(cells),) * len(cells)
    found = table(document, 1, widths, borders=False)
    row_flag(found.rows[0], "w:cantSplit")
    for cell, block in zip(found.rows[0].cells, cells, strict=True):
        if block is None:
            para(cell, "Nơi nhận:", size=12, bold=True, italic=True)
            for line in recipients:
                para(cell, f"- {line}", size=11)
            continue
        *authority, name = block
        for line in authority:
            para(cell, line, bold=True, align=CENTER)
        for _ in range(3):
            para(cell)
        para(cell, name or DOTS, bold=True, align=CENTER)


WRITE_IN = "." * 150  # a dotted line the unit writes on


def write_in(document, guidance: str = "", count: int = 3) -> None:
    """A blank to complete by hand or in Word: the form's guidance in italics, then dotted lines."""
    if guidance:
        para(document, guidance, size=12, italic=True, align=JUSTIFY, after=3)
    for _ in range(count):
        para(document, WRITE_IN, size=11, after=3)


def form_mark(document, text: str) -> None:
    """The form's reference above the header ("Mẫu số 01, Phụ lục I, …"), small italics on the right."""
    para(document, text, size=11, italic=True, align=WD_ALIGN_PARAGRAPH.RIGHT, after=6)
