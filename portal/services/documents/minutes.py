"""The minutes of the year-end meeting (biên bản họp bình xét thi đua) as a Word document.

The state format (layout): the cluster beside the motto, the number and symbol of the setting
DOCUMENT_NUMBERS["minutes"], the place and date of the meeting in italics. Then who attended and the
quorum, the approved score table with the meeting's changes and settled ties, each vote's ballots
and every candidate's votes against its denominator, the awards proposed, and the signatures of the
secretary and the chair. A meeting that has not voted yet still gets its minutes, saying so.

`write` fills a document so the proposal can carry the minutes as its second part.
"""

from __future__ import annotations

from portal.formatting import long_vn_date, vn_number
from portal.models.meetings import Outcome, QuorumRule, VoteSource
from portal.services.documents import facts as f
from portal.services.documents.layout import (
    CENTER,
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
)

ATTENDANCE_MM = (12, 63, 40, 30, 20)
TABLE_MM = (14, 71, 28, 28, 24)
VOTES_MM = (12, 65, 14, 48, 26)
NO_TABLE = "Cụm, khối chưa có bảng tiêu chí được khóa: hội nghị chưa có bảng điểm để thống nhất."
NO_VOTE = "Hội nghị chưa bỏ phiếu bình xét, suy tôn."
NOTHING_PROPOSED = "Hội nghị không đề nghị đơn vị nào được khen thưởng."


def minutes_docx(facts: f.Facts) -> bytes:
    document = new_document()
    write(document, facts)
    return to_bytes(document, subject(facts))


def subject(facts: f.Facts) -> str:
    return f"Họp bình xét thi đua năm {facts.year} của {facts.cluster.name}"


def write(document, facts: f.Facts) -> None:
    meeting = facts.meeting
    place = province_place(facts.settings.province_name)
    state_header(document, [facts.cluster.name], facts.number("minutes"), place_date(place, meeting.held_on))
    title(document, "BIÊN BẢN", subject(facts))
    body(document, f"Thời gian: {long_vn_date(meeting.held_on)}.")
    body(document, f"Địa điểm: {meeting.place}.")
    _attendance(document, facts)
    heading(document, "II. NỘI DUNG")
    _table(document, facts)
    _votes(document, facts)
    heading(document, "III. KẾT QUẢ BÌNH XÉT, ĐỀ NGHỊ KHEN THƯỞNG")
    _proposed(document, facts)
    body(document, "Hội nghị kết thúc vào lúc ..... giờ ..... cùng ngày; biên bản đã được thông qua tại hội nghị.")
    signatures(document, [("THƯ KÝ", meeting.secretary), ("CHỦ TRÌ", meeting.chair)])


def quorum_sentence(quorum) -> str:
    rule = "hai phần ba" if quorum.rule == QuorumRule.TWO_THIRDS else "quá nửa"
    verdict = "đủ" if quorum.met else "không đủ"
    return (
        f"Có mặt {quorum.present}/{quorum.members} đơn vị thành viên; cần ít nhất {quorum.needed} đơn vị "
        f"({rule} số thành viên): hội nghị {verdict} điều kiện biểu quyết."
    )


def _attendance(document, facts: f.Facts) -> None:
    meeting = facts.meeting
    heading(document, "I. THÀNH PHẦN THAM DỰ")
    body(document, f"1. Chủ trì: {meeting.chair}. Thư ký: {meeting.secretary}.")
    guests = "; ".join(f"{g.name}, {g.position}" if g.position else g.name for g in facts.guests)
    body(document, f"2. Khách mời: {guests or 'không có'}.")
    body(document, "3. Các đơn vị thành viên:")
    rows = [
        (str(i), unit.name, row.representative if row else "", row.position if row else "", _presence(row))
        for i, (unit, row) in enumerate(facts.attendance, 1)
    ]
    data_table(document, ("STT", "Đơn vị", "Người dự họp", "Chức vụ", "Có mặt"), rows, ATTENDANCE_MM)
    body(document, quorum_sentence(facts.quorum))


def _presence(row) -> str:
    return "Có mặt" if row is not None and row.present else "Vắng"


def _table(document, facts: f.Facts) -> None:
    heading(document, "1. Bảng điểm thống nhất và xếp hạng")
    if facts.table is None:
        body(document, NO_TABLE)
        return
    count = len(facts.table.rows)
    body(document, f"Hội nghị thống nhất bảng điểm và xếp hạng của {count} đơn vị thành viên như sau:")
    rows = [
        (str(r.rank), r.approved.name, vn_number(r.engine.compared_total), f.points(r), f.band(r))
        for r in facts.table.rows
    ]
    data_table(document, ("Hạng", "Đơn vị", "Điểm chấm", "Điểm thống nhất", "Xếp loại"), rows, TABLE_MM)
    for r in facts.table.rows:
        for change in r.adjustments:
            body(
                document,
                f"- {r.approved.name}, tiêu chí {change.criterion.code}: từ {vn_number(change.engine_points)} "
                f"thành {vn_number(change.points)} điểm. Lý do: {change.reason}",
            )
        if r.place is not None:
            votes = f" với {r.votes} phiếu" if r.votes is not None else ""
            body(document, f"- {r.approved.name}: đồng hạng, hội nghị phân định xếp thứ {r.rank}{votes}.")


def _votes(document, facts: f.Facts) -> None:
    heading(document, "2. Kết quả bỏ phiếu kín bình xét, suy tôn")
    if not facts.tallies:
        body(document, NO_VOTE)
        return
    for award in facts.awards:
        tallies = [t for t in facts.tallies if t.award_type_id == award.id]
        if not tallies:
            continue
        para(document, f"{award.name} (chỉ tiêu: {facts.quotas.get(award.id, 0)})", bold=True, italic=True, after=3)
        for tally in tallies:
            body(document, ballots_sentence(tally))
        nominations = [n for n in facts.nominations if n.award_type_id == award.id]
        rows = [
            (str(i), n.unit.name, str(n.rank), f.share(n.votes, n.denominator), Outcome(n.outcome).label)
            for i, n in enumerate(nominations, 1)
        ]
        data_table(document, ("STT", "Đơn vị", "Hạng", "Số phiếu đồng ý", "Kết quả"), rows, VOTES_MM)
        para(document, after=6)


def ballots_sentence(tally) -> str:
    source = "phiếu giấy" if tally.source == VoteSource.PAPER else "trực tuyến"
    committee = "; ".join(line.strip() for line in tally.committee.splitlines() if line.strip())
    text = (
        f"Lần {tally.round} ({source}): số phiếu phát ra {tally.issued}, thu về {tally.returned}, "
        f"hợp lệ {tally.valid}, không hợp lệ {tally.invalid}."
    )
    return f"{text} Ban kiểm phiếu: {committee}." if committee else text


def _proposed(document, facts: f.Facts) -> None:
    elected = facts.elected
    if not elected:
        body(document, NO_VOTE if not facts.tallies else NOTHING_PROPOSED)
        return
    body(document, "Hội nghị thống nhất đề nghị khen thưởng:")
    for n in elected:
        body(document, f"- {n.award_type.name}: {n.unit.name} ({f.share(n.votes, n.denominator)}).")
    para(
        document,
        "(Kết quả bình xét của cụm, khối là cơ sở để Hội đồng Thi đua - Khen thưởng xem xét.)",
        size=12,
        italic=True,
        align=CENTER,
    )
