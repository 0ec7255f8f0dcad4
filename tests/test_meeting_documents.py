"""The year-end documents built from a real meeting and read back with python-docx: the minutes, the
proposal (Form 01), each nominee's achievement report (Form 02) and the cluster's annual report."""

from __future__ import annotations

from decimal import Decimal

from portal.extensions import db
from portal.services.documents import minutes
from portal.services.documents.layout import TEXT_WIDTH_MM
from portal.services.meetings import approved, record
from tests.document_helpers import (
    NUMBERS,
    POINTS,
    assert_state_format,
    facts,
    long_date,
    read,
    rows,
    texts,
    title_of,
    voted,
)
from tests.meeting_helpers import opened, scored

BANDS = {1: "Hoàn thành xuất sắc nhiệm vụ", 2: "Hoàn thành nhiệm vụ", 3: "Hoàn thành nhiệm vụ"}


def test_column_widths_fill_the_text_width():
    for widths in (minutes.ATTENDANCE_MM, minutes.TABLE_MM, minutes.VOTES_MM):
        assert sum(widths) == TEXT_WIDTH_MM


# ---------------------------------------------------------------- minutes


def test_minutes_header_title_attendance_and_quorum(world):
    meeting = voted(world)
    record.add_guest(db.session, meeting, "Lê Minh Tuấn", "Ủy viên Hội đồng")
    db.session.commit()
    document = read(minutes.minutes_docx(facts(meeting)))
    dateline = f"Đồng Tháp, {long_date(meeting.held_on)}"
    assert_state_format(document, [world.cluster.name], NUMBERS["minutes"], dateline)
    title_of(document, "BIÊN BẢN")
    found = texts(document)
    assert f"Họp bình xét thi đua năm {world.year.year} của {world.cluster.name}" in found
    assert f"Địa điểm: {meeting.place}." in found
    assert "1. Chủ trì: Nguyễn Văn An. Thư ký: Lê Thị Bình." in found
    assert any(t.startswith("2. Khách mời:") and "Lê Minh Tuấn, Ủy viên Hội đồng" in t for t in found)
    attendance = rows(document.tables[1])
    assert attendance[0] == ["STT", "Đơn vị", "Người dự họp", "Chức vụ", "Có mặt"]
    assert sorted(r[1] for r in attendance[1:]) == sorted(u.name for u in (world.head, world.deputy, world.member))
    assert {tuple(r[2:]) for r in attendance[1:]} == {("Đại diện", "Chủ tịch", "Có mặt")}
    assert document.tables[1].rows[0]._tr.xpath("./w:trPr/w:tblHeader")
    assert (
        "Có mặt 3/3 đơn vị thành viên; cần ít nhất 2 đơn vị (hai phần ba số thành viên): "
        "hội nghị đủ điều kiện biểu quyết." in found
    )


def test_minutes_table_ranking_votes_with_denominators_and_awards(world):
    meeting = voted(world)
    document = read(minutes.minutes_docx(facts(meeting)))
    table = rows(document.tables[2])
    assert table == [
        ["Hạng", "Đơn vị", "Điểm chấm", "Điểm thống nhất", "Xếp loại"],
        *[
            [str(rank), unit.name, points, points, BANDS[rank]]
            for rank, unit, points in ((1, world.head, "90"), (2, world.member, "80"), (3, world.deputy, "78"))
        ],
    ]
    flag, certificates = rows(document.tables[3]), rows(document.tables[4])
    assert flag == [
        ["STT", "Đơn vị", "Hạng", "Số phiếu đồng ý", "Kết quả"],
        ["1", world.head.name, "1", "3/3 phiếu (100 %)", "Được suy tôn"],
    ]
    assert certificates[1:] == [
        ["1", world.head.name, "1", "3/3 phiếu (100 %)", "Được suy tôn"],
        ["2", world.deputy.name, "3", "2/3 phiếu (66,67 %)", "Được suy tôn"],
        ["3", world.member.name, "2", "1/3 phiếu (33,33 %)", "Không đủ số phiếu"],
    ]
    found = texts(document)
    assert (
        "Lần 1 (phiếu giấy): số phiếu phát ra 3, thu về 3, hợp lệ 3, không hợp lệ 0. Ban kiểm phiếu: Ông A; Bà B."
        in found
    )
    assert f"- Cờ thi đua của Ủy ban nhân dân tỉnh: {world.head.name} (3/3 phiếu (100 %))." in found
    assert (
        f"- Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh (toàn diện): {world.deputy.name} (2/3 phiếu (66,67 %))."
        in found
    )
    assert not any(world.member.name in t for t in found if t.startswith("- Bằng khen"))
    signatures = document.tables[-1].rows[0].cells
    assert [p.text for p in signatures[0].paragraphs if p.text] == ["THƯ KÝ", "Lê Thị Bình"]
    assert [p.text for p in signatures[1].paragraphs if p.text] == ["CHỦ TRÌ", "Nguyễn Văn An"]


def test_minutes_of_a_meeting_that_has_not_voted_say_so(world):
    meeting = opened(world, present=[world.head])
    document = read(minutes.minutes_docx(facts(meeting)))
    found = texts(document)
    assert minutes.NO_TABLE in found and found.count(minutes.NO_VOTE) == 2
    assert (
        "Có mặt 1/3 đơn vị thành viên; cần ít nhất 2 đơn vị (hai phần ba số thành viên): "
        "hội nghị không đủ điều kiện biểu quyết." in found
    )
    assert len(document.tables) == 3  # header, attendance, signatures
    assert [r[4] for r in rows(document.tables[1])[1:]].count("Vắng") == 2


def test_minutes_with_the_meetings_changes(world):
    _units, items = scored(world, POINTS)
    meeting = opened(world)
    approved.adjust(db.session, meeting, world.member.id, items["a"].id, Decimal("40"), "Thiếu minh chứng")
    db.session.commit()
    document = read(minutes.minutes_docx(facts(meeting, numbers={})))
    assert document.tables[0].rows[1].cells[0].text == "Số:       "
    table = rows(document.tables[2])
    assert table[3][1:4] == [world.member.name, "80", "75"]
    assert f"- {world.member.name}, tiêu chí 1: từ 45 thành 40 điểm. Lý do: Thiếu minh chứng" in texts(document)
