"""The year-end documents built from a real meeting and read back with python-docx: the minutes, the
proposal (Form 01), each nominee's achievement report (Form 02) and the cluster's annual report."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.formatting import vn_date
from portal.models import CouncilDecision
from portal.models.publication import Verdict
from portal.services import DomainError
from portal.services.documents import achievement, annual, forms, minutes, proposal
from portal.services.documents.layout import TEXT_WIDTH_MM, WRITE_IN
from portal.services.meetings import approved, record
from tests import factories
from tests.document_helpers import (
    NUMBERS,
    POINTS,
    TODAY,
    assert_state_format,
    award,
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


# ---------------------------------------------------------------- proposal (Form 01)


def test_proposal_follows_form_01_with_the_list_ranked_table_and_minutes(world):
    meeting = voted(world)
    document = read(proposal.proposal_docx(facts(meeting)))
    found = texts(document)
    assert found[0] == "Mẫu số 01, Phụ lục I, Nghị định số 98/2023/NĐ-CP"
    assert_state_format(document, [world.cluster.name], NUMBERS["proposal"], f"Đồng Tháp, {long_date(TODAY)}")
    title_of(document, "TỜ TRÌNH")
    assert f"Về việc đề nghị khen thưởng thành tích thi đua năm {world.year.year}" in found
    assert "Kính gửi: Hội đồng Thi đua - Khen thưởng tỉnh Đồng Tháp." in found
    assert "Căn cứ Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022;" in found
    assert any("khen thưởng cho 2 tập thể" in t for t in found)
    assert "- Cờ thi đua của Ủy ban nhân dân tỉnh: 1 tập thể." in found
    assert "- Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh (toàn diện): 2 tập thể." in found
    listed = rows(document.tables[1])
    assert listed[0] == ["STT", "Tên tập thể", "Hình thức khen thưởng", "Hạng", "Điểm", "Số phiếu"]
    assert [r[1:] for r in listed[1:]] == [
        [world.head.name, "Cờ thi đua của Ủy ban nhân dân tỉnh", "1/3", "90", "3/3"],
        [world.head.name, "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh (toàn diện)", "1/3", "90", "3/3"],
        [world.deputy.name, "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh (toàn diện)", "3/3", "78", "2/3"],
    ]
    recipients, signature = (cell for cell in document.tables[2].rows[0].cells)
    assert [p.text for p in recipients.paragraphs][:2] == ["Nơi nhận:", "- Như trên;"]
    assert [p.text for p in signature.paragraphs if p.text] == ["TRƯỞNG CỤM", world.head.name.upper(), "Nguyễn Văn An"]
    ranked = rows(document.tables[3])
    assert [r[:3] for r in ranked] == [
        ["Hạng", "Đơn vị", "Điểm thống nhất"],
        ["1", world.head.name, "90"],
        ["2", world.member.name, "80"],
        ["3", world.deputy.name, "78"],
    ]
    assert "PHỤ LỤC I" in found and proposal.PART_TWO in found
    assert found.index(proposal.PART_TWO) < found.index("BIÊN BẢN")  # the minutes follow as part II
    assert rows(document.tables[4])[0][0].strip() == world.cluster.name.upper()  # the minutes' own header


def test_no_proposal_without_anyone_proposed(world):
    scored(world, POINTS)
    meeting = opened(world)
    with pytest.raises(DomainError, match="chưa suy tôn"):
        proposal.proposal_docx(facts(meeting))


def test_the_form_version_is_a_setting(world):
    meeting = voted(world)
    later = replace(forms.ND98_2023, key="later", proposal_form="Mẫu số 01 (nghị định sau)", grounds=("Căn cứ X;",))
    forms.VERSIONS["later"] = later
    try:
        found = texts(read(proposal.proposal_docx(facts(meeting, forms="later"))))
    finally:
        del forms.VERSIONS["later"]
    assert found[0] == "Mẫu số 01 (nghị định sau)" and "Căn cứ X;" in found
    assert "Căn cứ Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022;" not in found
    with pytest.raises(ValueError, match="AWARD_FORMS='nd00'"):
        forms.version("nd00")


# ---------------------------------------------------------------- achievement report (Form 02)


def test_achievement_report_is_prefilled_with_the_nominees_figures(world):
    meeting = voted(world)
    document = read(achievement.achievement_docx(facts(meeting), world.deputy.id))
    found = texts(document)
    assert found[0] == "Mẫu số 02, Phụ lục I, Nghị định số 98/2023/NĐ-CP"
    assert_state_format(document, [world.cluster.name, world.deputy.name], "", f"Đồng Tháp, {long_date(TODAY)}")
    title_of(document, "BÁO CÁO THÀNH TÍCH")
    assert "ĐỀ NGHỊ TẶNG BẰNG KHEN CỦA CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH (TOÀN DIỆN)" in found
    assert f"Tên tập thể đề nghị: {world.deputy.name}." in found
    assert rows(document.tables[1]) == [
        ["Nội dung", "Kết quả"],
        ["Phần I. Nhiệm vụ", "78/100 điểm"],
        ["Tổng điểm thống nhất tại hội nghị", "78 điểm"],
        ["Xếp hạng trong cụm, khối", "3/3"],
        ["Xếp loại", "Hoàn thành nhiệm vụ"],
        ["Số phiếu suy tôn Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh (toàn diện)", "2/3 phiếu (66,67 %)"],
    ]


def test_achievement_report_leaves_the_units_sections_as_headed_blanks(world):
    meeting = voted(world)
    document = read(achievement.achievement_docx(facts(meeting), world.head.id))
    found = texts(document)
    headings = ["I. SƠ LƯỢC ĐẶC ĐIỂM, TÌNH HÌNH", "1. Đặc điểm, tình hình", "2. Chức năng, nhiệm vụ"]
    headings += ["II. THÀNH TÍCH ĐẠT ĐƯỢC", "1. Kết quả thực hiện nhiệm vụ"]
    headings += ["2. Những biện pháp hoặc nguyên nhân đạt được thành tích", "III. CÁC HÌNH THỨC ĐÃ ĐƯỢC KHEN THƯỞNG"]
    positions = [found.index(h) for h in headings]
    assert positions == sorted(positions)
    for h in ("1. Đặc điểm, tình hình", "2. Chức năng, nhiệm vụ"):
        assert found[found.index(h) + 2] == WRITE_IN  # the guidance, then the lines to write on
    assert found.count(WRITE_IN) >= 15
    earlier = [rows(t) for t in document.tables[2:4]]
    assert all(t[0] == list(achievement.EARLIER_HEADER) and t[1:] == [["", "", ""]] * 3 for t in earlier)
    proposed_for = [r[0] for r in rows(document.tables[1]) if r[0].startswith("Số phiếu")]
    assert len(proposed_for) == 2  # the head was proposed for the flag and a certificate
    assert (
        "ĐỀ NGHỊ TẶNG CỜ THI ĐUA CỦA ỦY BAN NHÂN DÂN TỈNH; BẰNG KHEN CỦA CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH (TOÀN DIỆN)"
        in found
    )
    signature_titles = [c.paragraphs[0].text for c in document.tables[-1].rows[0].cells]
    assert signature_titles == ["XÁC NHẬN CỦA CẤP TRÌNH KHEN THƯỞNG", "THỦ TRƯỞNG ĐƠN VỊ"]


def test_no_achievement_report_for_a_unit_not_proposed(world):
    meeting = voted(world)
    with pytest.raises(DomainError, match="không được hội nghị suy tôn"):
        achievement.achievement_docx(facts(meeting), world.member.id)


# ---------------------------------------------------------------- annual report


def test_annual_report_follows_the_outline_with_the_years_figures(world):
    meeting = voted(world)
    document = read(annual.annual_docx(facts(meeting)))
    year = world.year.year
    assert_state_format(document, [world.cluster.name], NUMBERS["annual"], f"Đồng Tháp, {long_date(TODAY)}")
    title_of(document, "BÁO CÁO")
    found = texts(document)
    outline = [
        f"I. KẾT QUẢ THỰC HIỆN NHIỆM VỤ CÔNG TÁC THI ĐUA, KHEN THƯỞNG NĂM {year}",
        *annual.BLANK_BEFORE,
        f"4. Tình hình hoạt động của {world.cluster.name}",
        annual.ROLE_MODELS,
        "6. Công tác khen thưởng",
        annual.APPARATUS,
        "II. ĐÁNH GIÁ CHUNG",
        *annual.ASSESSMENT,
        f"III. PHƯƠNG HƯỚNG, NHIỆM VỤ CÔNG TÁC THI ĐUA, KHEN THƯỞNG NĂM {year + 1}",
    ]
    positions = [found.index(h) for h in outline]
    assert positions == sorted(positions)
    assert f"Năm {year}, {world.cluster.name} có 3 đơn vị thành viên (Trưởng cụm: {world.head.name})." in found
    assert any(t.startswith("Hội nghị tổng kết, bình xét thi đua") and "có mặt 3/3" in t for t in found)
    assert (
        f"Kết quả chấm điểm thống nhất: cao nhất 90 điểm ({world.head.name}), thấp nhất 78 điểm "
        f"({world.deputy.name}), bình quân 82,67 điểm." in found
    )
    assert "Xếp loại: Hoàn thành xuất sắc nhiệm vụ: 1 đơn vị; Hoàn thành nhiệm vụ: 2 đơn vị." in found
    assert [r[1] for r in rows(document.tables[1])[1:]] == [world.head.name, world.member.name, world.deputy.name]
    assert rows(document.tables[2]) == [
        ["Hình thức", "Chỉ tiêu", "Cụm, khối đề nghị", "Được khen thưởng"],
        ["Cờ thi đua của Ủy ban nhân dân tỉnh", "1", f"1: {world.head.name}", f"{world.head.name}: chưa có quyết định"],
        [
            "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh (toàn diện)",
            "2",
            f"2: {world.head.name}; {world.deputy.name}",
            f"{world.head.name}: chưa có quyết định; {world.deputy.name}: chưa có quyết định",
        ],
    ]
    signature = document.tables[-1].rows[0].cells[1]
    assert [p.text for p in signature.paragraphs if p.text][0] == "TRƯỞNG CỤM"


def test_annual_report_says_what_the_council_granted(world):
    meeting = voted(world)
    flag, certificate = award("co_thi_dua"), award("bang_khen_toan_dien")
    decided_on = factories.future_date(3)
    common = {"year_id": world.year.id, "cluster_id": world.cluster.id, "members": 9, "decided_on": decided_on}
    db.session.add_all(
        [
            CouncilDecision(
                **common,
                award_type_id=flag.id,
                unit_id=world.head.id,
                votes_for=8,
                votes_against=1,
                verdict=Verdict.APPROVED,
                decision_number="12/QĐ-UBND",
            ),
            CouncilDecision(
                **common,
                award_type_id=certificate.id,
                unit_id=world.deputy.id,
                votes_for=2,
                votes_against=7,
                verdict=Verdict.NOT_APPROVED,
                reason="Chưa đủ thành tích",
                decision_number="13/QĐ-UBND",
            ),
        ]
    )
    db.session.commit()
    document = read(annual.annual_docx(facts(meeting)))
    day = vn_date(decided_on)
    assert (
        rows(document.tables[2])[1][3] == f"{world.head.name}: được khen thưởng (Quyết định số 12/QĐ-UBND ngày {day})"
    )
    assert rows(document.tables[2])[2][3] == (
        f"{world.head.name}: chưa có quyết định; {world.deputy.name}: không được khen thưởng "
        f"(Quyết định số 13/QĐ-UBND ngày {day}): Chưa đủ thành tích"
    )


def test_annual_report_of_a_year_without_scores_or_votes(world):
    meeting = opened(world)
    document = read(annual.annual_docx(facts(meeting)))
    found = texts(document)
    assert "Cụm, khối chưa có kết quả chấm điểm thi đua." in found
    awards_table = rows(document.tables[1])
    assert awards_table[1] == ["Cờ thi đua của Ủy ban nhân dân tỉnh", "1", "0: không", "—"]
