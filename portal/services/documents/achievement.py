"""A nominee's achievement report (báo cáo thành tích, Form 02 of the decree in force) as a Word document.

Prefilled with what the portal knows: the unit, the awards the meeting proposed it for, its points
by section and in total, its rank among the members, its band, and its votes over their denominator.
What only the unit can write — its profile, the measures behind its results, its earlier titles and
awards — stays as the form's headings with the form's guidance and dotted lines to complete. Only a
unit the meeting proposed gets one (`NotNominated` otherwise).
"""

from __future__ import annotations

from portal.formatting import vn_date, vn_number
from portal.models.base import N_
from portal.services import DomainError
from portal.services.documents import facts as f
from portal.services.documents import forms
from portal.services.documents.layout import (
    LEFT,
    body,
    data_table,
    form_mark,
    heading,
    new_document,
    para,
    place_date,
    province_place,
    signatures,
    state_header,
    title,
    to_bytes,
    write_in,
)

FIGURES_MM = (95, 70)
EARLIER_MM = (20, 60, 85)
EARLIER_HEADER = ("Năm", "Danh hiệu, hình thức", "Số, ngày, tháng, năm của quyết định; cơ quan ban hành")
NOT_NOMINATED = N_("Đơn vị không được hội nghị suy tôn đề nghị khen thưởng: không có báo cáo thành tích để lập.")


def achievement_docx(facts: f.Facts, unit_id: int) -> bytes:
    proposed = facts.nominated(unit_id)
    if not proposed:
        raise DomainError(NOT_NOMINATED)
    unit = proposed[0].unit
    version = forms.version(facts.settings.forms)
    document = new_document()
    form_mark(document, version.achievement_form)
    place = province_place(facts.settings.province_name)
    state_header(document, [facts.cluster.name, unit.name], "", place_date(place, facts.settings.today))
    names = "; ".join(n.award_type.name for n in proposed)
    title(document, "BÁO CÁO THÀNH TÍCH", f"ĐỀ NGHỊ TẶNG {names.upper()}")
    para(document, f"(Thành tích thi đua năm {facts.year} trong {facts.cluster.name})", italic=True, after=6)
    body(document, f"Tên tập thể đề nghị: {unit.name}.")
    heading(document, "I. SƠ LƯỢC ĐẶC ĐIỂM, TÌNH HÌNH")
    for part in version.profile:
        para(document, part.text, bold=True, after=3)
        write_in(document, part.guidance)
    heading(document, "II. THÀNH TÍCH ĐẠT ĐƯỢC")
    para(document, "1. Kết quả thực hiện nhiệm vụ", bold=True, after=3)
    _figures(document, facts, unit_id, proposed)
    write_in(document, "(Đơn vị bổ sung kết quả thực hiện các chỉ tiêu, nhiệm vụ được giao.)")
    for part in version.achievements:
        para(document, part.text, bold=True, after=3)
        write_in(document, part.guidance)
    _earlier(document, version)
    signatures(document, [("XÁC NHẬN CỦA CẤP TRÌNH KHEN THƯỞNG", ""), ("THỦ TRƯỞNG ĐƠN VỊ", "")])
    return to_bytes(document, f"Báo cáo thành tích {unit.name} năm {facts.year}")


def _earlier(document, version: forms.FormVersion) -> None:
    heading(document, "III. CÁC HÌNH THỨC ĐÃ ĐƯỢC KHEN THƯỞNG")
    for name in version.earlier_awards:
        para(document, name, bold=True, after=3)
        data_table(document, EARLIER_HEADER, [("", "", "")] * 3, EARLIER_MM)
        para(document, after=6)


def figures(facts: f.Facts, unit_id: int, proposed: list) -> list[tuple[str, str]]:
    """(what, value) lines of the prefilled table: sections, total, rank, band, then the votes per award."""
    found: list[tuple[str, str]] = []
    row = facts.row(unit_id)
    if row is not None:
        titles = facts.table.report.titles
        for section in row.approved.sections:
            label = f"Phần {section.code}. {titles.get(section.section_id, '')}".strip()
            found.append((label, f"{vn_number(section.points)}/{vn_number(section.maximum)} điểm"))
        found.append(("Tổng điểm thống nhất tại hội nghị", f"{f.points(row)} điểm"))
        found.append(("Xếp hạng trong cụm, khối", f.rank(row, len(facts.table.rows))))
        found.append(("Xếp loại", f.band(row)))
    found.extend((f"Số phiếu suy tôn {n.award_type.name}", f.share(n.votes, n.denominator)) for n in proposed)
    return found


def _figures(document, facts: f.Facts, unit_id: int, proposed: list) -> None:
    body(
        document,
        f"Kết quả chấm điểm, xếp hạng thi đua năm {facts.year} của {facts.cluster.name} "
        f"({len(facts.attendance)} đơn vị thành viên), được hội nghị bình xét ngày "
        f"{vn_date(facts.meeting.held_on)} thống nhất:",
    )
    table = data_table(document, ("Nội dung", "Kết quả"), figures(facts, unit_id, proposed), FIGURES_MM)
    for row in table.rows[1:]:
        row.cells[0].paragraphs[0].alignment = LEFT
    para(document, after=6)
