"""Demo criteria table and pledge for one block: what a head's year looks like in March."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.formatting import vn_end_of_day, vn_today
from portal.models import Assessment, Cluster, CriteriaSet, EmulationYear
from portal.models.criteria import CriterionKind, Method
from portal.services.criteria import sets as criteria
from portal.services.pledges import agreements as pledges
from portal.services.scoring import assessments

# (code, title, method, max points, points each, unit, children)
TABLE = [
    (
        "I",
        "Thực hiện nhiệm vụ chính trị, chuyên môn được giao",
        None,
        None,
        None,
        "",
        [
            (
                "1",
                "Hoàn thành các chỉ tiêu, nhiệm vụ trọng tâm theo kế hoạch năm",
                Method.QUANTITATIVE,
                D(20),
                None,
                "%",
                [],
            ),
            ("2", "Tham mưu ban hành văn bản đúng tiến độ, chất lượng", Method.DIRECT, D(10), None, "", []),
            ("3", "Giải quyết hồ sơ, thủ tục hành chính đúng hạn", Method.QUANTITATIVE, D(10), None, "hồ sơ", []),
        ],
    ),
    (
        "II",
        "Cải cách hành chính, chuyển đổi số",
        None,
        None,
        None,
        "",
        [
            ("1", "Chỉ số cải cách hành chính (PAR Index)", Method.DIRECT, D(10), None, "", []),
            ("2", "Tỷ lệ hồ sơ trực tuyến toàn trình", Method.QUANTITATIVE, D(10), None, "%", []),
        ],
    ),
    ("III", "Xây dựng Đảng, đoàn thể trong sạch, vững mạnh", Method.PASS_FAIL, D(15), None, "", []),
    (
        "IV",
        "Công tác thi đua, khen thưởng",
        None,
        None,
        None,
        "",
        [
            ("1", "Ban hành kế hoạch, phát động phong trào thi đua", Method.PASS_FAIL, D(5), None, "", []),
            ("2", "Phát hiện, nhân rộng điển hình tiên tiến", Method.PER_OCCURRENCE, D(10), D(2), "", []),
            ("3", "Tham gia đầy đủ hoạt động của khối", Method.DIRECT, D(10), None, "", []),
        ],
    ),
]
BONUS = [
    ("1", "Được tặng Cờ thi đua của UBND tỉnh hoặc bộ, ngành", Method.PASS_FAIL, D(10), None),
    ("2", "Có sáng kiến được công nhận cấp tỉnh", Method.PER_OCCURRENCE, D(5), D(1)),
]
DEDUCTION = [
    ("1", "Gửi báo cáo chậm so với thời hạn", Method.PER_OCCURRENCE, D(5), D("0.5")),
    ("2", "Vắng họp khối không có lý do", Method.PER_OCCURRENCE, D(5), D(1)),
]


def _add_rows(session: Session, cset, parent, rows) -> None:
    for code, title, method, max_points, each, unit, children in rows:
        node = criteria.add_criterion(
            session,
            cset,
            parent,
            code=code,
            title=title,
            method=method or Method.DIRECT,
            max_points=max_points,
            points_each=each,
            measure_unit=unit,
            evidence_required=method in (Method.QUANTITATIVE, Method.PER_OCCURRENCE),
            guidance="Chấm theo báo cáo và minh chứng của đơn vị." if max_points else "",
        )
        _add_rows(session, cset, node, children)


def seed_block(session: Session, cluster: Cluster, year: EmulationYear, members: list) -> None:
    """The block's published table, its pledge signed by three members with every member's targets, and scoring."""
    cset = _table(session, cluster, year)
    _pledge(session, cluster, year, cset, members)
    seed_scoring(session, cset, members)


def _table(session: Session, cluster: Cluster, year: EmulationYear) -> CriteriaSet:
    """The year's criteria table with its bonus and deduction sections, published."""
    cset = criteria.create_set(
        session,
        cluster,
        year,
        title=f"Bảng tiêu chí thi đua năm {year.year}",
        target_total=D(100),
        score_step=D("0.25"),
    )
    _add_rows(session, cset, None, TABLE)
    for kind, code, title, rows in (
        (CriterionKind.BONUS, "V", "Điểm thưởng", BONUS),
        (CriterionKind.DEDUCTION, "VI", "Điểm trừ", DEDUCTION),
    ):
        section = criteria.add_criterion(session, cset, None, code=code, title=title, kind=kind)
        for item_code, item_title, method, cap, each in rows:
            criteria.add_criterion(
                session,
                cset,
                section,
                code=item_code,
                title=item_title,
                kind=kind,
                method=method,
                max_points=cap,
                points_each=each,
            )
    criteria.publish(session, cset)
    return cset


def _pledge(session: Session, cluster: Cluster, year: EmulationYear, cset: CriteriaSet, members: list) -> None:
    """The pledge on the table, signed by the first three members, with every member's registered targets."""
    pledge = pledges.create(session, cluster, year)
    text = {key: getattr(pledge, key) for key in pledges.TEXT_FIELDS} | {
        "meeting_place": "Hội trường Sở Nội vụ",
        "place": "Cao Lãnh",
    }
    pledges.update(session, pledge, criteria_set_id=cset.id, meeting_date=date(year.year, 1, 20), **text)
    for unit, (name, position) in zip(
        members[:3],
        [("Trần Văn Minh", "Giám đốc"), ("Lê Thị Hồng", "Phó Giám đốc"), ("Nguyễn Thanh Tùng", "Chánh Văn phòng")],
        strict=False,
    ):
        pledges.sign(
            session,
            pledge,
            unit,
            representative_name=name,
            representative_position=position,
            signed_on=date(year.year, 1, 20),
            user_id=None,
        )
    for item in pledges.quantitative_items(session, cset):
        for i, unit in enumerate(members):
            pledges.register_target(
                session, cset, unit, item, D(95 + i) if item.measure_unit == "%" else D(1200 + 50 * i)
            )


def seed_scoring(session: Session, cset, members: list) -> None:
    """Lock the table and open the self round: two units have handed in, a third is halfway, the rest not started."""
    criteria.lock(session, cset)
    deadline = vn_end_of_day(vn_today() + timedelta(days=14))
    scoring_round = assessments.open_self_round(session, cset, deadline=deadline)
    own = {
        a.subject_unit_id: a for a in session.scalars(select(Assessment).where(Assessment.round_id == scoring_round.id))
    }
    leaves = criteria.load_tree(session, cset).leaves()
    for n, unit in enumerate(members[:3]):
        assessment = own[unit.id]
        for i, leaf in enumerate(leaves if n < 2 else leaves[: len(leaves) // 2]):
            raw = _demo_value(leaf, cset.score_step, n + i)
            assessments.save_score(session, assessment, leaf, raw, "", expected_revision=None, user_id=None)
        if n < 2:
            assessments.submit(session, assessment, None)


def _demo_value(leaf, step, salt: int) -> str:
    if leaf.method == Method.PASS_FAIL:
        return "dat" if salt % 5 else "khong dat"
    if leaf.method == Method.PER_OCCURRENCE:
        return str(salt % 2)
    if leaf.method == Method.QUANTITATIVE:
        return str(1000 + 40 * salt)
    maximum = leaf.max_points or D(0)
    points = maximum - step * (salt % 4)
    return str(max(points, D(0)))
