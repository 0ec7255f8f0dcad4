"""Criteria sets on the service: tree rules, totals, lifecycle, versions, copies."""

from decimal import Decimal as D

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import CriteriaSet, Criterion, TargetRegistration
from portal.services import DomainError
from portal.services.criteria import sets as svc


@pytest.fixture
def cset(world):
    s = svc.create_set(db.session, world.cluster, world.year, title="Bảng tiêu chí 2026", target_total=D(100))
    db.session.commit()
    return s


def _build_small(cset):
    sec1 = svc.add_criterion(db.session, cset, None, code="I", title="Thực hiện nhiệm vụ chính trị")
    c1 = svc.add_criterion(
        db.session, cset, sec1, code="1", title="Thu ngân sách", method="quantitative", max_points=D(30)
    )
    svc.add_criterion(db.session, cset, sec1, code="2", title="Cải cách hành chính", max_points=D(30))
    sec2 = svc.add_criterion(db.session, cset, None, code="II", title="Xây dựng Đảng, đoàn thể", max_points=D(30))
    bonus = svc.add_criterion(db.session, cset, None, code="III", title="Điểm thưởng", kind="bonus")
    svc.add_criterion(
        db.session, cset, bonus, code="1", title="Được tặng Cờ thi đua", method="pass_fail", max_points=D(10)
    )
    ded = svc.add_criterion(db.session, cset, None, code="IV", title="Điểm trừ", kind="deduction")
    svc.add_criterion(
        db.session,
        cset,
        ded,
        code="1",
        title="Nộp báo cáo trễ hạn",
        method="per_occurrence",
        points_each=D("0.5"),
        max_points=D(5),
    )
    return sec1, c1, sec2


def test_totals_and_warning_when_short_of_target(cset):
    _build_small(cset)
    tree = svc.load_tree(db.session, cset)
    assert (tree.base_total, tree.total("bonus"), tree.total("deduction")) == (D(90), D(10), D(5))
    assert svc.warnings(cset, tree) == [
        "Tổng điểm chuẩn các tiêu chí chấm điểm là 90, khác tổng điểm đã khai báo (100)."
    ]


def test_a_section_that_gets_children_loses_its_own_maximum(cset):
    _, _, sec2 = _build_small(cset)
    svc.add_criterion(db.session, cset, sec2, code="1", title="Công tác Đảng", max_points=D(20))
    assert svc.load_tree(db.session, cset).maxima[sec2.id] == D(20)
    assert db.session.get(Criterion, sec2.id).max_points is None


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"code": "", "title": "X"}, "code", "Nhập số thứ tự"),
        ({"code": "1", "title": " "}, "title", "Nhập nội dung"),
        ({"code": "i", "title": "Trùng mã"}, "code", "Đã có tiêu chí mã “i” cùng cấp."),
        ({"code": "V", "title": "X", "max_points": D("-1")}, "max_points", "Điểm chuẩn phải từ 0"),
        ({"code": "V", "title": "X", "method": "per_occurrence", "max_points": D(5)}, "points_each", "mỗi lần"),
        (
            {"code": "V", "title": "X", "kind": "bonus", "method": "quantitative", "max_points": D(5)},
            "method",
            "định lượng",
        ),
    ],
)
def test_bad_criteria_are_refused(cset, fields, field, message):
    _build_small(cset)
    with pytest.raises(DomainError, match=message) as error:
        svc.add_criterion(db.session, cset, None, **fields)
    assert error.value.field == field


def test_child_kind_follows_the_parent(cset):
    sec1, _, _ = _build_small(cset)
    with pytest.raises(DomainError, match="cùng loại"):
        svc.add_criterion(db.session, cset, sec1, code="3", title="X", kind="bonus", max_points=D(1))


def test_depth_is_limited(cset):
    node = None
    for level in range(svc.MAX_DEPTH):
        node = svc.add_criterion(db.session, cset, node, code=f"L{level}", title=f"Cấp {level}")
    assert svc.MAX_DEPTH == 5  # I → 1 → 1.1 → a → a1, as in a real 1,000-point table
    with pytest.raises(DomainError, match="tối đa 5 cấp"):
        svc.add_criterion(db.session, cset, node, code="x", title="Quá sâu")


def test_move_and_delete(cset):
    sec1, c1, _ = _build_small(cset)
    c1_id = c1.id
    svc.move_criterion(db.session, c1, +1)
    tree = svc.load_tree(db.session, cset)
    assert [k.code for k in tree.kids(sec1)] == ["2", "1"]
    svc.delete_criterion(db.session, sec1)
    db.session.commit()
    assert [n.code for n in svc.load_tree(db.session, cset).roots] == ["II", "III", "IV"]
    assert db.session.scalar(select(Criterion).where(Criterion.id == c1_id)) is None


def test_lifecycle_and_new_version(cset, world):
    _, c1, _ = _build_small(cset)
    db.session.add(
        TargetRegistration(
            cluster_id=world.cluster.id,
            year_id=world.year.id,
            unit_id=world.member.id,
            criterion_id=c1.id,
            target=D(1200),
        )
    )
    with pytest.raises(DomainError, match="Phải công bố"):
        svc.lock(db.session, cset)
    assert svc.publish(db.session, cset)  # published with the warning about the total
    svc.lock(db.session, cset)
    with pytest.raises(DomainError, match="đã khóa"):
        svc.add_criterion(db.session, cset, None, code="V", title="Muộn")
    with pytest.raises(DomainError, match="lý do"):
        svc.new_version(db.session, cset, "ngắn")
    v2 = svc.new_version(db.session, cset, "Bổ sung tiêu chí chuyển đổi số theo chỉ đạo của tỉnh")
    db.session.commit()
    assert (cset.status, v2.status, v2.version, v2.based_on_id) == ("superseded", "draft", 2, cset.id)
    assert svc.in_force(db.session, world.cluster.id, world.year.id).id == v2.id
    old, new = svc.load_tree(db.session, cset), svc.load_tree(db.session, v2)
    assert [(n.code, d) for n, d in old.walk()] == [(n.code, d) for n, d in new.walk()]
    assert {n.id for n in old.leaves()}.isdisjoint({n.id for n in new.leaves()})  # scores keep the old ids
    targets = db.session.scalars(select(TargetRegistration).where(TargetRegistration.unit_id == world.member.id)).all()
    assert sorted(t.target for t in targets) == [D(1200), D(1200)] and len({t.criterion_id for t in targets}) == 2


def test_copy_from_another_set(cset, world):
    _build_small(cset)
    db.session.commit()
    copy = svc.create_set(
        db.session, world.other_cluster, world.year, title="Bảng của khối", target_total=D(100), source=cset
    )
    a, b = svc.load_tree(db.session, cset), svc.load_tree(db.session, copy)
    assert [(n.code, n.title, n.max_points, n.kind, n.method, d) for n, d in a.walk()] == [
        (n.code, n.title, n.max_points, n.kind, n.method, d) for n, d in b.walk()
    ]
    with pytest.raises(DomainError, match="đã có bảng tiêu chí"):
        svc.create_set(db.session, world.other_cluster, world.year, title="Lần hai", target_total=D(100))


def test_only_one_set_in_force_per_cluster_year_in_the_database(cset, world):
    from sqlalchemy.exc import IntegrityError

    db.session.add(
        CriteriaSet(
            cluster_id=world.cluster.id,
            year_id=world.year.id,
            version=2,
            title="Chen ngang",
            status="draft",
            target_total=D(100),
            score_step=D("0.25"),
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
