"""The cluster's annual report (báo cáo tổng kết công tác thi đua, khen thưởng) as a Word document.

It follows the outline the provincial department of home affairs asks for (seed 001): I. results of
the year — 1. direction and instructions, 2. the province's movements, 3. the units' own movements,
4. the cluster's activity, 5. role models, 6. awards, 7. the emulation apparatus —, II. general
assessment (strengths, difficulties, proposals), III. direction for next year. Parts 4 and 6 are
prefilled with the year's figures: members, the meeting, the scores (highest, lowest, average, the
ranked table, units per band), the awards proposed against the quotas and — once the council has
decided — granted (the council's decision, "chưa có quyết định" until it is recorded). Every other part is a
headed blank for the head to write.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from portal.formatting import vn_date, vn_number
from portal.services.documents import facts as f
from portal.services.documents.layout import (
    body,
    data_table,
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
from portal.services.documents.proposal import RECIPIENTS, head_block

RANKED_MM = (14, 81, 35, 35)
AWARDS_MM = (60, 20, 50, 35)
BLANK_BEFORE = (
    "1. Công tác tham mưu, chỉ đạo; ban hành văn bản hướng dẫn công tác thi đua, khen thưởng",
    "2. Kết quả tổ chức thực hiện các phong trào thi đua do Ủy ban nhân dân tỉnh phát động",
    "3. Kết quả thực hiện các phong trào thi đua do các đơn vị thành viên phát động",
)
ROLE_MODELS = "5. Công tác tuyên truyền, phát hiện, bồi dưỡng, nhân rộng gương điển hình tiên tiến"
APPARATUS = "7. Tình hình tổ chức bộ máy làm công tác thi đua, khen thưởng"
ASSESSMENT = ("1. Thuận lợi, ưu điểm", "2. Khó khăn, hạn chế", "3. Đề xuất, kiến nghị")
SHARES = (
    "(Số lượng đề nghị và số lượng được khen thưởng; số lượng, tỷ lệ tập thể, cá nhân giữ chức vụ lãnh đạo, "
    "quản lý và công chức, người lao động trực tiếp được khen thưởng.)"
)


def annual_docx(facts: f.Facts) -> bytes:
    year = facts.year
    document = new_document()
    place = province_place(facts.settings.province_name)
    state_header(document, [facts.cluster.name], facts.number("annual"), place_date(place, facts.settings.today))
    title(
        document,
        "BÁO CÁO",
        f"Tổng kết công tác thi đua, khen thưởng năm {year} và phương hướng, nhiệm vụ năm {year + 1}",
    )
    heading(document, f"I. KẾT QUẢ THỰC HIỆN NHIỆM VỤ CÔNG TÁC THI ĐUA, KHEN THƯỞNG NĂM {year}")
    for text in BLANK_BEFORE:
        para(document, text, bold=True, after=3)
        write_in(document)
    _activity(document, facts)
    para(document, ROLE_MODELS, bold=True, after=3)
    write_in(document)
    _awards(document, facts)
    para(document, APPARATUS, bold=True, after=3)
    write_in(document)
    heading(document, "II. ĐÁNH GIÁ CHUNG")
    for text in ASSESSMENT:
        para(document, text, bold=True, after=3)
        write_in(document)
    heading(document, f"III. PHƯƠNG HƯỚNG, NHIỆM VỤ CÔNG TÁC THI ĐUA, KHEN THƯỞNG NĂM {year + 1}")
    write_in(document, count=5)
    signatures(document, [head_block(facts)], RECIPIENTS)
    return to_bytes(document, f"Báo cáo tổng kết năm {year} của {facts.cluster.name}")


def _activity(document, facts: f.Facts) -> None:
    meeting, quorum = facts.meeting, facts.quorum
    para(document, f"4. Tình hình hoạt động của {facts.cluster.name}", bold=True, after=3)
    head = f" ({facts.cluster.head_title}: {facts.head_unit.name})" if facts.head_unit is not None else ""
    body(document, f"Năm {facts.year}, {facts.cluster.name} có {quorum.members} đơn vị thành viên{head}.")
    body(
        document,
        f"Hội nghị tổng kết, bình xét thi đua tổ chức ngày {vn_date(meeting.held_on)} tại {meeting.place}, "
        f"có mặt {quorum.present}/{quorum.members} đơn vị thành viên.",
    )
    if facts.table is None or not facts.table.rows:
        body(document, "Cụm, khối chưa có kết quả chấm điểm thi đua.")
        return
    body(document, score_sentence(facts))
    rows = [(str(r.rank), r.approved.name, f.points(r), f.band(r)) for r in facts.table.rows]
    data_table(document, ("Hạng", "Đơn vị", "Điểm thống nhất", "Xếp loại"), rows, RANKED_MM)
    para(document, after=6)
    bands = Counter(f.band(r) for r in facts.table.rows)
    body(document, "Xếp loại: " + "; ".join(f"{label}: {count} đơn vị" for label, count in bands.items()) + ".")
    write_in(document, "(Các hoạt động khác của cụm, khối trong năm.)", count=2)


def score_sentence(facts: f.Facts) -> str:
    rows = facts.table.rows
    totals = [r.approved.compared_total for r in rows]
    best = max(rows, key=lambda r: r.approved.compared_total)
    worst = min(rows, key=lambda r: r.approved.compared_total)
    average = (sum(totals, Decimal(0)) / len(totals)).quantize(Decimal("0.01"))
    return (
        f"Kết quả chấm điểm thống nhất: cao nhất {f.points(best)} điểm ({best.approved.name}), thấp nhất "
        f"{f.points(worst)} điểm ({worst.approved.name}), bình quân {vn_number(average.normalize())} điểm."
    )


def _awards(document, facts: f.Facts) -> None:
    para(document, "6. Công tác khen thưởng", bold=True, after=3)
    elected = facts.elected
    rows = []
    for award in facts.awards:
        mine = [n for n in elected if n.award_type_id == award.id]
        if not mine and not facts.quotas.get(award.id):
            continue
        names = "; ".join(n.unit.name for n in mine) or "không"
        granted = "; ".join(f"{n.unit.name}: {facts.granted(n)}" for n in mine) or "—"
        rows.append((award.name, str(facts.quotas.get(award.id, 0)), f"{len(mine)}: {names}", granted))
    data_table(document, ("Hình thức", "Chỉ tiêu", "Cụm, khối đề nghị", "Được khen thưởng"), rows, AWARDS_MM)
    para(document, after=6)
    write_in(document, SHARES, count=2)
