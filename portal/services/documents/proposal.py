"""The head's proposal to the council (tờ trình đề nghị khen thưởng) as a Word document.

It follows Form 01 of Appendix I of the decree in force (documents.forms, the setting AWARD_FORMS):
the form's mark, the cluster beside the motto, the number DOCUMENT_NUMBERS["proposal"], "Kính gửi"
the provincial council, the legal grounds and the meeting, the list of the units proposed with
their rank, points and votes, the files attached, "Nơi nhận" beside the head's signature. The ranked
table follows as Appendix I and the minutes of the meeting as the second part of the same file,
so the council receives one document. A meeting that proposed nobody has no proposal: refused.
"""

from __future__ import annotations

from portal.formatting import vn_date
from portal.models.base import N_
from portal.services import DomainError
from portal.services.documents import facts as f
from portal.services.documents import forms, minutes
from portal.services.documents.layout import (
    CENTER,
    body,
    data_table,
    form_mark,
    new_document,
    page_break,
    para,
    place_date,
    province_place,
    signatures,
    state_header,
    title,
    to_bytes,
)

LIST_MM = (12, 55, 50, 14, 14, 20)
RANKED_MM = (14, 81, 35, 35)
NOTHING_TO_PROPOSE = N_("Hội nghị chưa suy tôn đơn vị nào: chưa lập được tờ trình đề nghị khen thưởng.")
PART_TWO = "Phần II. Biên bản họp bình xét thi đua (kèm theo tờ trình)"
RECIPIENTS = ("Như trên;", "Các đơn vị thành viên;", "Lưu: VT.")


def proposal_docx(facts: f.Facts) -> bytes:
    """The proposal with its ranked table and the minutes; DomainError when nobody was proposed."""
    if not facts.elected:
        raise DomainError(NOTHING_TO_PROPOSE)
    version = forms.version(facts.settings.forms)
    document = new_document()
    form_mark(document, version.proposal_form)
    place = province_place(facts.settings.province_name)
    state_header(document, [facts.cluster.name], facts.number("proposal"), place_date(place, facts.settings.today))
    title(document, "TỜ TRÌNH", f"Về việc đề nghị khen thưởng thành tích thi đua năm {facts.year}")
    council = f"Hội đồng Thi đua - Khen thưởng {facts.settings.province_name}"
    para(document, f"Kính gửi: {council}.", align=CENTER, after=12)
    _grounds(document, facts, version)
    _proposed(document, facts, council)
    signatures(document, [head_block(facts)], RECIPIENTS)
    _ranked(document, facts)
    page_break(document)
    para(document, PART_TWO, size=12, italic=True, align=CENTER, after=6)
    minutes.write(document, facts)
    return to_bytes(document, f"Tờ trình đề nghị khen thưởng năm {facts.year} của {facts.cluster.name}")


def head_block(facts: f.Facts) -> tuple[str, ...]:
    """The head's signature: the head's title, the head unit, then the name (the meeting's chair)."""
    unit = facts.head_unit.name.upper() if facts.head_unit is not None else facts.cluster.name.upper()
    return (facts.cluster.head_title.upper(), unit, facts.meeting.chair)


def _grounds(document, facts: f.Facts, version: forms.FormVersion) -> None:
    for line in version.grounds:
        body(document, line, italic=True)
    body(
        document,
        f"Căn cứ kết quả hội nghị tổng kết, bình xét thi đua năm {facts.year} của {facts.cluster.name} "
        f"ngày {vn_date(facts.meeting.held_on)};",
        italic=True,
    )


def _proposed(document, facts: f.Facts, council: str) -> None:
    elected = facts.elected
    body(
        document,
        f"{facts.cluster.head_title} {facts.cluster.name} kính trình {council} xem xét, trình Chủ tịch "
        f"Ủy ban nhân dân {facts.settings.province_name} khen thưởng cho {len({n.unit_id for n in elected})} tập thể "
        f"có thành tích xuất sắc trong phong trào thi đua năm {facts.year}, cụ thể:",
    )
    for award in facts.awards:
        count = sum(1 for n in elected if n.award_type_id == award.id)
        if count:
            body(document, f"- {award.name}: {count} tập thể.")
    para(document, "DANH SÁCH ĐỀ NGHỊ KHEN THƯỞNG", bold=True, align=CENTER, after=6)
    count = len(facts.table.rows) if facts.table else 0
    rows = [
        (
            str(i),
            n.unit.name,
            n.award_type.name,
            f"{n.rank}/{count}" if count else str(n.rank),
            f.points(facts.row(n.unit_id)) if facts.row(n.unit_id) else "",
            f"{n.votes}/{n.denominator}",
        )
        for i, n in enumerate(elected, 1)
    ]
    data_table(document, ("STT", "Tên tập thể", "Hình thức khen thưởng", "Hạng", "Điểm", "Số phiếu"), rows, LIST_MM)
    para(document, after=6)
    body(
        document,
        "Hồ sơ kèm theo: bảng điểm, xếp hạng thi đua (Phụ lục I); biên bản họp bình xét thi đua (Phần II "
        "của tờ trình này); báo cáo thành tích của các tập thể được đề nghị.",
    )
    body(document, f"Kính trình {council} xem xét, quyết định./.")


def _ranked(document, facts: f.Facts) -> None:
    page_break(document)
    para(document, "PHỤ LỤC I", size=14, bold=True, align=CENTER)
    para(document, f"BẢNG ĐIỂM, XẾP HẠNG THI ĐUA NĂM {facts.year}", size=14, bold=True, align=CENTER)
    para(document, f"(Kèm theo Tờ trình đề nghị khen thưởng của {facts.cluster.name})", italic=True, align=CENTER)
    para(document, after=6)
    if facts.table is None:
        body(document, minutes.NO_TABLE)
        return
    rows = [(str(r.rank), r.approved.name, f.points(r), f.band(r)) for r in facts.table.rows]
    data_table(document, ("Hạng", "Đơn vị", "Điểm thống nhất", "Xếp loại"), rows, RANKED_MM)
