"""The pledge agreement as a .docx: built from a real pledge, then read back with python-docx."""

import shutil
import subprocess
from datetime import timedelta
from io import BytesIO

import pytest
from docx import Document
from docx.oxml.ns import qn

from portal.extensions import db
from portal.formatting import vn_number
from portal.services.criteria import sets as criteria_svc
from portal.services.documents import pledge as documents
from portal.services.pledges import agreements as svc
from tests import factories

PROVINCE = "tỉnh Đồng Tháp"
TODAY = factories.future_date(0)  # passed to the document as "today"
MEETING = factories.past_date(20)  # the signing meeting; members signed the text a few days before it
SIGNED = MEETING - timedelta(days=5)
COMMITMENTS = [
    "Hoàn thành vượt mức các chỉ tiêu kinh tế - xã hội năm 2026.",
    "Đẩy mạnh cải cách hành chính, chuyển đổi số.",
    "Tham gia đầy đủ các hoạt động của cụm.",
]
RECIPIENTS = ["Hội đồng Thi đua - Khen thưởng tỉnh;", "Các đơn vị thành viên;", "Lưu: VT."]


@pytest.fixture
def cset(world):
    return factories.criteria_set(world, section_title="Thực hiện nhiệm vụ chính trị", points=("60.5", "39.5"))


def _long(day) -> str:
    """The date as the place-and-date line writes it: 'ngày 05 tháng 01 năm 2027'."""
    return f"ngày {day:%d} tháng {day:%m} năm {day.year}"


def _fields(pledge, **changes):
    return {key: getattr(pledge, key) for key in svc.TEXT_FIELDS} | changes


@pytest.fixture
def pledge(world, cset):
    pledge = svc.create(db.session, world.cluster, world.year)
    svc.update(
        db.session,
        pledge,
        criteria_set_id=cset.id,
        meeting_date=MEETING,
        **_fields(
            pledge,
            number_symbol="Số: 01/GƯTĐ-K01",
            commitments="\n".join(COMMITMENTS),
            recipients="\n".join(RECIPIENTS),
            meeting_place="Hội trường UBND phường An Bình",
            legal_grounds="Luật Thi đua, khen thưởng năm 2022;\n"
            "Căn cứ Hướng dẫn số 05/HD-HĐTĐKT của Hội đồng Thi đua - Khen thưởng tỉnh;",
        ),
    )
    for unit, name in ((world.head, "Nguyễn Văn An"), (world.deputy, "Trần Thị Bình")):
        svc.sign(
            db.session,
            pledge,
            unit,
            representative_name=name,
            representative_position="Chủ tịch UBND",
            signed_on=SIGNED,
            user_id=None,
        )
    db.session.commit()
    return pledge


def _rows(cset):
    tree = criteria_svc.load_tree(db.session, cset)
    return [(depth, n.code, n.title, vn_number(tree.maxima[n.id])) for n, depth in tree.walk()]


def _statuses(pledge):
    return svc.statuses(db.session, pledge, svc.current_charter(db.session, pledge).hash)


def _read(pledge, criteria_rows=None):
    data = documents.pledge_docx(
        pledge, _statuses(pledge), province_name=PROVINCE, criteria_rows=criteria_rows, today=TODAY
    )
    return data, Document(BytesIO(data))


def _texts(document):
    return [p.text for p in document.paragraphs]


def _cell_lines(cell):
    return [p.text for p in cell.paragraphs if p.text]


def _all_runs(document):
    for paragraph in document.paragraphs:
        yield from paragraph.runs
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    yield from paragraph.runs


def test_header_number_place_and_date(pledge, cset):
    _, document = _read(pledge, _rows(cset))
    header = document.tables[0]
    (issuer, motto), (number, dateline) = header.rows[0].cells, header.rows[1].cells
    assert _cell_lines(issuer) == ["CỤM THI ĐUA SỐ 1"] and issuer.paragraphs[0].runs[0].bold
    assert _cell_lines(motto) == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    assert all(p.runs[0].bold for p in motto.paragraphs if p.text)
    assert _cell_lines(number) == ["Số: 01/GƯTĐ-K01"]
    assert _cell_lines(dateline) == [f"Đồng Tháp, {_long(MEETING)}"]
    assert dateline.paragraphs[0].runs[0].italic
    assert header._tbl.xpath(".//w:pBdr/w:top")  # the short rules under the issuer and the motto


def test_title_grounds_commitments_and_meeting(pledge, cset):
    _, document = _read(pledge, _rows(cset))
    texts = _texts(document)
    title = texts.index("GIAO ƯỚC THI ĐUA")
    assert texts[title + 1] == "NĂM 2026" and document.paragraphs[title].runs[0].bold
    grounds = [p for p in document.paragraphs if p.text.startswith("Căn cứ")]
    assert [p.text for p in grounds] == [
        "Căn cứ Luật Thi đua, khen thưởng năm 2022;",
        "Căn cứ Hướng dẫn số 05/HD-HĐTĐKT của Hội đồng Thi đua - Khen thưởng tỉnh;",
    ]
    assert all(p.runs[0].italic for p in grounds)
    intro = texts.index(documents.INTRO)
    assert texts[intro + 1 : intro + 4] == [f"{i}. {c}" for i, c in enumerate(COMMITMENTS, start=1)]
    first = document.paragraphs[intro + 1].paragraph_format
    assert (round(first.first_line_indent.cm, 2), first.space_after.pt, first.alignment) == (1, 6, documents.JUSTIFY)
    assert f"Giao ước được ký kết tại Hội trường UBND phường An Bình {_long(MEETING)}." in texts


def test_a_signature_block_for_every_member(pledge, world, cset):
    _, document = _read(pledge, _rows(cset))
    table = document.tables[1]
    head, deputy = (_cell_lines(c) for c in table.rows[0].cells)
    member = _cell_lines(table.rows[1].cells[0])
    signed = f"Đã ký ngày {factories.vn_format(SIGNED)}"
    assert head == ["ĐẠI DIỆN UBND PHƯỜNG AN BÌNH", "CHỦ TỊCH UBND", "Nguyễn Văn An", signed]
    assert deputy == ["ĐẠI DIỆN UBND PHƯỜNG MỸ TRÀ", "CHỦ TỊCH UBND", "Trần Thị Bình", signed]
    assert member == ["ĐẠI DIỆN UBND XÃ TÂN HỒNG", documents.DOTS, documents.DOTS]
    assert table.rows[1].cells[0]._tc is table.rows[1].cells[1]._tc  # the odd last block spans the row
    signed_on = table.rows[0].cells[0].paragraphs[-2]
    assert signed_on.text.startswith("Đã ký") and signed_on.runs[0].italic
    assert not table._tbl.xpath(".//w:tblBorders/w:top[@w:val='single']")
    assert len(table._tbl.xpath("./w:tr/w:trPr/w:cantSplit")) == 2  # a block never breaks across pages


def test_recipients_fonts_page_and_appendix(pledge, cset):
    _, document = _read(pledge, _rows(cset))
    texts = _texts(document)
    start = texts.index("Nơi nhận:")
    label = document.paragraphs[start].runs[0]
    assert label.bold and label.italic and label.font.size.pt == 12
    assert texts[start + 1 : start + 4] == [f"- {r}" for r in RECIPIENTS]
    assert document.paragraphs[start + 1].runs[0].font.size.pt == 11
    runs = list(_all_runs(document))
    assert runs and all(r.font.name == "Times New Roman" for r in runs)
    assert all(
        r._r.rPr.rFonts.get(qn("w:eastAsia")) == "Times New Roman" == r._r.rPr.rFonts.get(qn("w:cs")) for r in runs
    )
    body = document.paragraphs[texts.index(documents.INTRO)].runs[0]
    assert body.font.size.pt == 13
    section = document.sections[0]
    sizes = (
        section.page_width,
        section.page_height,
        section.top_margin,
        section.bottom_margin,
        section.left_margin,
        section.right_margin,
    )
    assert [round(size.mm) for size in sizes] == [210, 297, 20, 20, 30, 15]  # Word keeps twips
    assert "PHỤ LỤC: BẢNG TIÊU CHÍ, THANG ĐIỂM" in texts
    appendix = document.tables[2]
    rows = [[c.text for c in row.cells] for row in appendix.rows]
    assert rows == [
        ["STT", "Nội dung tiêu chí", "Điểm chuẩn"],
        ["I", "Thực hiện nhiệm vụ chính trị", "100"],
        ["1", "Thu ngân sách", "60,5"],
        ["2", "Cải cách hành chính", "39,5"],
    ]
    assert appendix.rows[0]._tr.xpath("./w:trPr/w:tblHeader")  # the column titles repeat on each page
    assert appendix.rows[1].cells[1].paragraphs[0].runs[0].bold
    assert not appendix.rows[2].cells[1].paragraphs[0].runs[0].bold


def test_no_signatures_no_criteria_no_meeting(world):
    pledge = svc.create(db.session, world.cluster, world.year)
    pledge.recipients = ""
    db.session.commit()
    data, document = _read(pledge)
    assert data[:2] == b"PK"
    assert len(document.tables) == 2  # header and signatures: no appendix
    assert _cell_lines(document.tables[0].rows[1].cells[1]) == [f"Đồng Tháp, {_long(TODAY)}"]
    blocks = [_cell_lines(c) for row in document.tables[1].rows for c in row.cells]
    assert blocks[:3] == [
        [f"ĐẠI DIỆN {u.name.upper()}", documents.DOTS, documents.DOTS] for u in (world.head, world.deputy, world.member)
    ]
    texts = _texts(document)
    assert "PHỤ LỤC: BẢNG TIÊU CHÍ, THANG ĐIỂM" not in texts and not any("ký kết tại" in t for t in texts)
    assert texts[-1] == "Nơi nhận:"
    assert "Thực hiện thắng lợi" in "\n".join(texts)  # the default commitments


def test_a_signature_of_an_earlier_text_is_not_printed_as_signed(pledge, world):
    svc.update(
        db.session,
        pledge,
        criteria_set_id=pledge.criteria_set_id,
        meeting_date=pledge.meeting_date,
        **_fields(pledge, commitments=pledge.commitments + "\nCam kết bổ sung."),
    )
    db.session.commit()
    _, document = _read(pledge)
    head = _cell_lines(document.tables[1].rows[0].cells[0])
    assert "Nguyễn Văn An" not in head and head[1:3] == [documents.DOTS, documents.DOTS]
    assert head[-1] == f"Đã ký bản trước ngày {factories.vn_format(SIGNED)}; cần ký xác nhận lại"


def test_text_helpers(pledge):
    assert documents.number_line("01/GƯTĐ-K01") == "Số: 01/GƯTĐ-K01"
    assert documents.number_line("") == "Số:       /GƯTĐ"
    assert documents.place_of(pledge, "thành phố Hải Phòng") == "Hải Phòng"
    pledge.place = "Sa Đéc"
    assert documents.place_date_line(pledge, PROVINCE, TODAY) == f"Sa Đéc, {_long(MEETING)}"
    pledge.title = "Giao ước thi đua giai đoạn 2026 - 2030"
    assert documents.subtitle(pledge) == "GIAI ĐOẠN 2026 - 2030"
    pledge.title = "Giao ước thi đua"
    assert documents.subtitle(pledge) == "NĂM 2026"
    assert documents.ground("căn cứ Luật") == "căn cứ Luật" and documents.ground("Luật") == "Căn cứ Luật"


def test_converts_to_pdf_with_vietnamese_intact(pledge, cset, tmp_path):
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        pytest.skip("LibreOffice is not installed: the PDF conversion check needs `libreoffice --headless`.")
    source = tmp_path / "giao-uoc.docx"
    source.write_bytes(_read(pledge, _rows(cset))[0])
    subprocess.run(
        [
            office,
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = tmp_path / "giao-uoc.pdf"
    assert pdf.read_bytes()[:4] == b"%PDF"
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: the PDF was made but its text is not checked.")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, timeout=60
    ).stdout.decode("utf-8")
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "GIAO ƯỚC THI ĐUA",
        f"Đồng Tháp, {_long(MEETING)}",
        "Nguyễn Văn An",
        "Nơi nhận:",
        "Cải cách hành chính",
    ):
        assert expected in text
