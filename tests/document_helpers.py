"""Read-back helpers for the year-end documents: a meeting that voted, the settings, and what python-docx
reads back (every paragraph's text, tables as rows of cell texts, the state format's elements)."""

from __future__ import annotations

from io import BytesIO

from docx import Document
from docx.oxml.ns import qn

from portal.extensions import db
from portal.services.documents import facts as facts_svc
from portal.services.documents import forms
from portal.services.meetings import awards, ballot
from tests import factories
from tests.meeting_helpers import opened, scored

PROVINCE = "tỉnh Đồng Tháp"
TODAY = factories.future_date(0)
NUMBERS = {
    "minutes": "Số: 07/BB-CTĐ",
    "proposal": "Số: 08/TTr-CTĐ",
    "annual": "Số: 09/BC-CTĐ",
}
# head 55 + 35 = 90 (1st), member 45 + 35 = 80 (2nd), deputy 50 + 28 = 78 (3rd)
POINTS = {"head": ("55", "35"), "deputy": ("50", "28"), "member": ("45", "35")}


def award(code):
    return next(a for a in awards.award_types(db.session) if a.code == code)


def voted(world):
    """The meeting with every member present; the flag 3/3 to the head; certificates head 3, deputy 2, member 1."""
    scored(world, POINTS)
    meeting = opened(world)
    ballot.save_tally(
        db.session, meeting, award("co_thi_dua"), ballot.TallyFields(3, 3, 3, 0, {world.head.id: 3}, "Ông A\nBà B")
    )
    votes = {world.head.id: 3, world.deputy.id: 2, world.member.id: 1}
    ballot.save_tally(db.session, meeting, award("bang_khen_toan_dien"), ballot.TallyFields(3, 3, 3, 0, votes, ""))
    db.session.commit()
    return meeting


def settings(**changes):
    values = {"province_name": PROVINCE, "numbers": NUMBERS, "forms": forms.DEFAULT, "today": TODAY} | changes
    return facts_svc.Settings(**values)


def facts(meeting, **changes):
    return facts_svc.read(db.session, meeting, settings(**changes))


def read(data: bytes):
    return Document(BytesIO(data))


def texts(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def rows(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def long_date(day) -> str:
    return f"ngày {day:%d} tháng {day:%m} năm {day.year}"


def all_runs(document):
    for paragraph in document.paragraphs:
        yield from paragraph.runs
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    yield from paragraph.runs


def assert_state_format(document, issuer: list[str], number: str, dateline: str) -> None:
    """NĐ 30/2020: issuer beside the motto, number beside the italic place-and-date, A4, Times New Roman."""
    header = document.tables[0]
    left, motto = header.rows[0].cells
    assert [p.text for p in left.paragraphs if p.text] == [line.upper() for line in issuer]
    assert [p.text for p in motto.paragraphs if p.text] == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
    ]
    assert all(r.bold for p in motto.paragraphs for r in p.runs if r.text)
    assert left.paragraphs[-1]._p.xpath("./w:pPr/w:pBdr/w:top") and motto.paragraphs[-1]._p.xpath("./w:pPr/w:pBdr")
    number_cell, date_cell = header.rows[1].cells
    assert number_cell.text == number
    assert date_cell.text == dateline and date_cell.paragraphs[0].runs[0].italic
    section = document.sections[0]
    sizes = (section.page_width, section.page_height, section.left_margin, section.right_margin)
    assert [round(size.mm) for size in sizes] == [210, 297, 30, 15]
    runs = list(all_runs(document))
    assert runs and all(r.font.name == "Times New Roman" for r in runs)
    assert all(r._r.rPr.rFonts.get(qn("w:eastAsia")) == "Times New Roman" for r in runs)


def title_of(document, text: str):
    """The paragraph of the title: bold capitals, 14 pt, centred."""
    paragraph = next(p for p in document.paragraphs if p.text == text)
    run = paragraph.runs[0]
    assert run.bold and run.font.size.pt == 14 and paragraph.alignment == 1  # CENTER
    return paragraph
