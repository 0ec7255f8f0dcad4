"""Clusters and their year: members, rotation, leadership; bad input; scope; query counts."""

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Cluster, Membership, Term, TermPosition
from portal.services.org import cluster_year, years
from tests import factories


def _term(world):
    return db.session.scalar(select(Term).where(Term.cluster_id == world.cluster.id, Term.year_id == world.year.id))


def test_create_cluster_and_refuse_duplicates(world, auth, client):
    auth.login("secretariat")
    ok = client.post("/clusters/", data={"kind": "block", "code": "k09", "name": "Khối doanh nghiệp", "active": "y"})
    assert ok.status_code == 303
    created = db.session.scalar(select(Cluster).where(Cluster.code == "K09"))
    assert created and created.kind == "block"
    same_code = client.post("/clusters/", data={"kind": "cluster", "code": "K09", "name": "Cụm mới"})
    assert same_code.status_code == 422 and "Mã “K09” đã được dùng." in same_code.text
    same_name = client.post("/clusters/", data={"kind": "block", "code": "K10", "name": "khối DOANH nghiệp"})
    assert same_name.status_code == 422 and "Đã có khối thi đua tên" in same_name.text
    # the same name is fine for the other kind
    other_kind = client.post("/clusters/", data={"kind": "cluster", "code": "C10", "name": "Khối doanh nghiệp"})
    assert other_kind.status_code == 303
    empty = client.post("/clusters/", data={"kind": "cluster", "code": "", "name": ""})
    assert empty.status_code == 422 and empty.text.count("Vui lòng nhập trường này.") == 2
    assert db.session.scalar(select(func.count()).select_from(Cluster)) == 4


def test_cluster_page_three_ways(world, auth, client, hx):
    auth.login("secretariat")
    url = f"/clusters/{world.cluster.id}?year=2026"
    page = client.get(url)
    assert page.status_code == 200 and "<html" in page.text
    assert "UBND phường An Bình" in page.text and "Trưởng cụm" in page.text and "12/QĐ-HĐTĐKT" in page.text
    fragment = hx.get(url)
    assert "<html" not in fragment.text and "Thành viên năm 2026" in fragment.text
    assert "<html" in hx.history_restore(url).text


def test_add_member_and_refuse_second_cluster(world, auth, client, hx):
    auth.login("secretariat")
    newcomer = factories.unit("UBND xã Mỹ Quí")
    db.session.commit()
    added = hx.post(f"/clusters/{world.cluster.id}/members?year=2026", data={"unit_id": newcomer.id})
    assert added.status_code == 200 and "UBND xã Mỹ Quí" in added.text
    twice = client.post(f"/clusters/{world.other_cluster.id}/members?year=2026", data={"unit_id": newcomer.id})
    assert twice.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Membership).where(Membership.unit_id == newcomer.id)) == 1


def test_the_service_refuses_a_unit_in_two_clusters(world):
    from portal.services import DomainError

    with pytest.raises(DomainError, match="đã thuộc “Cụm thi đua số 1” trong năm 2026"):
        cluster_year.add_membership(db.session, world.year, world.other_cluster, world.member)


def test_database_refuses_a_unit_in_two_clusters(world):
    from sqlalchemy.exc import IntegrityError

    db.session.add(Membership(year_id=world.year.id, cluster_id=world.other_cluster.id, unit_id=world.member.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_head_equal_to_deputy_is_refused(world, auth, client):
    auth.login("secretariat")
    response = client.post(
        f"/clusters/{world.cluster.id}/term?year=2026",
        data={"head_id": world.member.id, "deputy_ids": [world.member.id], "overseer_id": 0},
    )
    assert response.status_code == 422 and "phải là hai đơn vị khác nhau" in response.text
    term = _term(world)
    db.session.refresh(term)
    assert term.head_unit.id == world.head.id  # unchanged


def test_head_must_be_a_member(world, auth, client):
    auth.login("secretariat")
    response = client.post(
        f"/clusters/{world.cluster.id}/term?year=2026", data={"head_id": world.outsider.id, "overseer_id": 0}
    )
    # the outsider is not even offered: WTForms refuses the choice before the service does
    assert response.status_code == 422
    assert _term(world).head_unit.id == world.head.id


def test_service_refuses_head_not_member_and_database_too(world):
    from sqlalchemy.exc import IntegrityError

    from portal.services import DomainError

    term = _term(world)
    with pytest.raises(DomainError, match="phải là thành viên"):
        cluster_year.assign_term(db.session, term, head_id=world.outsider.id, deputy_ids=[], overseer_id=None)
    db.session.rollback()
    db.session.add(
        TermPosition(
            term_id=term.id, year_id=term.year_id, cluster_id=term.cluster_id, unit_id=world.outsider.id, role="deputy"
        )
    )
    with pytest.raises(IntegrityError):  # composite key onto memberships
        db.session.flush()
    db.session.rollback()


def test_database_refuses_head_as_deputy_and_two_heads(world):
    from sqlalchemy.exc import IntegrityError

    term = _term(world)
    for unit_id, role in ((world.head.id, "deputy"), (world.member.id, "head")):
        db.session.add(
            TermPosition(term_id=term.id, year_id=term.year_id, cluster_id=term.cluster_id, unit_id=unit_id, role=role)
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_reassign_swaps_head_and_deputy(world, auth, client):
    decided = date(world.year.year, 1, 20)
    auth.login("secretariat")
    response = client.post(
        f"/clusters/{world.cluster.id}/term?year=2026",
        data={
            "head_id": world.deputy.id,
            "deputy_ids": [world.head.id, world.member.id],
            "overseer_id": world.overseer.id,
            "decision_number": "15/QĐ-HĐTĐKT",
            "decision_date": factories.vn_format(decided),
            "decision_issuer": "Hội đồng TĐ-KT tỉnh",
        },
    )
    assert response.status_code == 303
    term = _term(world)
    db.session.refresh(term)
    assert term.head_unit.id == world.deputy.id
    assert {u.id for u in term.deputies} == {world.head.id, world.member.id}
    assert term.decision_date == decided


def test_decision_needs_a_date(world, auth, client):
    auth.login("secretariat")
    response = client.post(
        f"/clusters/{world.cluster.id}/term?year=2026",
        data={"head_id": world.head.id, "overseer_id": 0, "decision_number": "1/QĐ", "decision_date": ""},
    )
    assert response.status_code == 422 and "Nhập ngày ban hành quyết định." in response.text


def test_remove_member_holding_a_position_is_refused(world, auth, client):
    auth.login("secretariat")
    membership = db.session.scalar(select(Membership).where(Membership.unit_id == world.head.id))
    response = client.post(f"/clusters/memberships/{membership.id}/delete", follow_redirects=True)
    assert "đang là Trưởng cụm năm 2026" in response.text
    assert db.session.get(Membership, membership.id) is not None
    plain = db.session.scalar(select(Membership).where(Membership.unit_id == world.member.id))
    plain_id = plain.id
    assert client.post(f"/clusters/memberships/{plain_id}/delete").status_code == 303
    assert db.session.scalar(select(Membership.id).where(Membership.id == plain_id)) is None


def test_move_in_rotation(world, auth, client):
    auth.login("secretariat")
    member = db.session.scalar(select(Membership).where(Membership.unit_id == world.member.id))
    assert client.post(f"/clusters/memberships/{member.id}/move", data={"step": "-1"}).status_code == 303
    assert cluster_year.member_ids(db.session, world.year.id, world.cluster.id) == [
        world.head.id,
        world.member.id,
        world.deputy.id,
    ]
    assert client.post(f"/clusters/memberships/{member.id}/move", data={"step": "7"}).status_code == 400


@pytest.mark.parametrize(
    "username, status",
    [
        ("secretariat", 200),
        ("overseer", 200),
        ("council", 200),
        ("head", 200),
        ("deputy", 200),
        ("member", 200),
        ("outsider", 404),
    ],
)
def test_who_sees_the_cluster(world, auth, client, username, status):
    auth.login(username)
    assert client.get(f"/clusters/{world.cluster.id}").status_code == status


def test_member_cannot_see_a_year_it_was_not_in(world, auth, client):
    years.create_year(db.session, 2025)
    db.session.commit()
    auth.login("member")
    assert client.get(f"/clusters/{world.cluster.id}?year=2025").status_code == 404
    assert client.get(f"/clusters/{world.cluster.id}?year=abc").status_code == 404


@pytest.mark.parametrize("username", ["head", "deputy", "member", "overseer", "council"])
def test_only_the_secretariat_changes_structure(world, auth, client, username):
    auth.login(username)
    membership = db.session.scalar(select(Membership).where(Membership.unit_id == world.member.id))
    for url, data in [
        ("/clusters/", {"kind": "cluster", "code": "X1", "name": "X"}),
        (f"/clusters/{world.cluster.id}/edit", {"kind": "cluster", "code": "X1", "name": "X"}),
        (f"/clusters/{world.cluster.id}/members?year=2026", {"unit_id": world.outsider.id}),
        (f"/clusters/memberships/{membership.id}/delete", {}),
        (f"/clusters/memberships/{membership.id}/move", {"step": "1"}),
        (f"/clusters/{world.cluster.id}/term?year=2026", {"head_id": world.member.id}),
    ]:
        assert client.post(url, data=data).status_code == 403, url
    assert client.get(f"/clusters/{world.cluster.id}/term").status_code == 403


def _grow(world, clusters: int, units_per_cluster: int):
    for _ in range(clusters):
        cluster = factories.cluster()
        units = [factories.unit() for _ in range(units_per_cluster)]
        for unit in units:
            cluster_year.add_membership(db.session, world.year, cluster, unit)
        term = cluster_year.ensure_term(db.session, world.year, cluster)
        cluster_year.assign_term(
            db.session, term, head_id=units[0].id, deputy_ids=[units[1].id, units[2].id], overseer_id=world.overseer.id
        )
    for unit in [factories.unit() for _ in range(units_per_cluster)]:
        cluster_year.add_membership(db.session, world.year, world.cluster, unit)
    db.session.commit()


@pytest.mark.parametrize("path", ["/clusters/", "/clusters/{id}", "/", "/clusters/{id}/term"])
def test_query_count_is_flat(world, auth, client, count_queries, path):
    auth.login("secretariat")
    url = path.format(id=world.cluster.id)
    client.get(url)  # warm-up: the first request after sign-in loads a little more
    with count_queries() as small:
        assert client.get(url).status_code == 200
    _grow(world, clusters=6, units_per_cluster=8)
    with count_queries() as big:
        assert client.get(url).status_code == 200
    assert big() == small(), f"{url}: {small()} queries with little data, {big()} with more"
    assert big() <= 20
