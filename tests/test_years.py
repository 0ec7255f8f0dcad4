"""Emulation years: the list, a year's overview, starting the next year by rotation; bad input; who may."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEntry, EmulationYear, Membership, Term, TermPosition
from portal.services import DomainError
from portal.services.org import cluster_year, next_year, years
from portal.services.org import structure as org
from tests import factories


def _year(number: int) -> EmulationYear | None:
    return db.session.scalar(select(EmulationYear).where(EmulationYear.year == number))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _term(year: EmulationYear, cluster) -> Term:
    return db.session.scalar(select(Term).where(Term.year_id == year.id, Term.cluster_id == cluster.id))


# --- the list of years ---------------------------------------------------------------


def test_index_three_ways(world, auth, client, hx):
    auth.login("secretariat")
    page = client.get("/years/")
    assert page.status_code == 200 and "<html" in page.text and "HX-Request" in page.headers["Vary"]
    assert "Năm thi đua" in page.text and "hiện hành" in page.text and "Bắt đầu năm 2027" in page.text
    fragment = hx.get("/years/")
    assert fragment.status_code == 200 and "<html" not in fragment.text and 'id="year-2026"' in fragment.text
    for full in (hx.history_restore("/years/"), hx.boosted("/years/")):
        assert "<html" in full.text


def test_index_counts_each_year(world, auth, client):
    unplaced = factories.unit("UBND xã Chưa Xếp")
    db.session.commit()
    auth.login("secretariat")
    page = client.get("/years/")
    row = page.text.split('id="year-2026"')[1].split("</tr>")[0]
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    # 2 clusters with members, 4 memberships, 1 term decided, 0 proposed, 1 active unit unplaced
    assert cells[:5] == ["2", "4", "1", "0", "1"], cells
    assert unplaced.active


def test_create_year_and_audit(world, auth, client):
    auth.login("secretariat")
    response = client.post("/years/", data={"year": " 2027 ", "note": "Năm sau sáp nhập"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/years/2027")
    record = _year(2027)
    assert record is not None and not record.is_current and record.note == "Năm sau sáp nhập"
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.object_type == "EmulationYear", AuditEntry.object_id == str(record.id))
    )
    assert entry.action == "create" and entry.username == "secretariat" and entry.changes["year"] == [None, 2027]


@pytest.mark.parametrize(
    "value, message",
    [
        ("2026", "Năm thi đua 2026 đã có."),
        ("1999", "Năm phải nằm trong khoảng 2000–2100."),
        ("2101", "Năm phải nằm trong khoảng 2000–2100."),
        ("hai nghìn", "Năm phải là một số, ví dụ 2027."),
        ("2027.5", "Năm phải là một số, ví dụ 2027."),
        ("", "Vui lòng nhập trường này."),
    ],
)
def test_bad_year_is_explained_and_nothing_saved(world, auth, client, hx, value, message):
    auth.login("secretariat")
    before = _count(EmulationYear)
    for response in (client.post("/years/", data={"year": value}), hx.post("/years/", data={"year": value})):
        assert response.status_code == 422 and message in response.text
    assert "<html" not in response.text and 'name="year"' in response.text  # the form block only, for htmx
    assert _count(EmulationYear) == before


def test_overlong_note_is_refused(world, auth, client):
    auth.login("secretariat")
    response = client.post("/years/", data={"year": "2027", "note": "x" * 2001})
    assert response.status_code == 422 and "Tối đa 2000 ký tự." in response.text
    assert _year(2027) is None


def test_set_current_leaves_exactly_one_current_year(world, auth, client, hx):
    factories.year(2027, current=False)
    db.session.commit()
    auth.login("secretariat")
    response = client.post("/years/2027/current")
    assert response.status_code == 303 and response.headers["Location"].endswith("/years/2027")
    assert [y.year for y in db.session.scalars(select(EmulationYear).where(EmulationYear.is_current))] == [2027]
    fragment = hx.post("/years/2026/current")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "Năm 2026 là năm thi đua hiện hành." in fragment.text
    db.session.expire_all()
    assert [y.year for y in db.session.scalars(select(EmulationYear).where(EmulationYear.is_current))] == [2026]
    updates = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "EmulationYear", AuditEntry.action == "update")
    ).all()
    assert {tuple(e.changes["is_current"]) for e in updates} == {(True, False), (False, True)}


def test_unknown_year_is_404(world, auth, client):
    auth.login("secretariat")
    assert client.get("/years/1990").status_code == 404
    assert client.post("/years/1990/current").status_code == 404
    assert client.get("/years/1990/next").status_code == 404


# --- a year's overview -----------------------------------------------------------------


def test_overview_three_ways(world, auth, client, hx):
    auth.login("secretariat")
    page = client.get("/years/2026")
    assert page.status_code == 200 and "<html" in page.text
    assert "Cụm thi đua số 1" in page.text and "Khối các sở" in page.text
    assert "12/QĐ-HĐTĐKT" in page.text and "Lê Minh Tuấn" in page.text
    fragment = hx.get("/years/2026?kind=block")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "Khối các sở" in fragment.text and "Cụm thi đua số 1" not in fragment.text
    for full in (hx.history_restore("/years/2026?kind=block"), hx.boosted("/years/2026?kind=block")):
        assert "<html" in full.text and "HX-Request" in full.headers["Vary"]


def test_overview_lists_unassigned_units_with_where_they_were(world, auth, client):
    factories.year(2027, current=False)
    db.session.commit()  # before any request: an open audited write holds the audit log's lock
    auth.login("secretariat")
    page = client.get("/years/2027")
    assert "4 đơn vị đang hoạt động chưa thuộc cụm, khối nào năm 2027" in page.text
    assert f'href="/clusters/{world.cluster.id}?year=2027"' in page.text  # the member's cluster of 2026
    assert "năm 2026 thuộc" in page.text


def test_rotation_at_a_glance(world, auth, client):
    auth.login("secretariat")
    client.post("/years/2026/next", data={})
    page = client.get("/years/2027")
    table = page.text.split("rotation-strip")[1]
    row = table.split("Cụm thi đua số 1")[1].split("</tr>")[0]
    # 2026: the head by decision; 2027: the next member by rotation, only proposed
    assert "UBND phường An Bình" in row and "UBND phường Mỹ Trà" in row and "đề xuất" in row


def test_overview_queries_stay_flat(world, auth, client, count_queries):
    factories.unit("Chưa xếp đầu tiên")  # so that the small page already asks where unplaced units were
    db.session.commit()
    auth.login("secretariat")
    client.get("/years/2026")
    with count_queries() as n:
        client.get("/years/2026")
    small = n()
    for i in range(12):
        cluster = factories.cluster(f"Cụm mới {i}", kind="cluster" if i % 2 else "block")
        units = [factories.unit(f"Đơn vị {i}-{j}", short_name=f"ĐV{i}{j}") for j in range(4)]
        for u in units:
            cluster_year.add_membership(db.session, world.year, cluster, u)
        cluster_year.assign_term(
            db.session,
            cluster_year.ensure_term(db.session, world.year, cluster),
            head_id=units[0].id,
            deputy_ids=[units[1].id],
            overseer_id=world.other_council.id,
        )
        factories.unit(f"Chưa xếp {i}")
    factories.year(2027, current=False)
    db.session.commit()
    with count_queries() as n:
        page = client.get("/years/2026")
    assert page.status_code == 200 and "Cụm mới 11" in page.text
    assert n() == small


# --- starting the next year ------------------------------------------------------------


def test_next_year_preview_writes_nothing(world, auth, client):
    auth.login("secretariat")
    before = (_count(EmulationYear), _count(Membership), _count(Term), _count(AuditEntry))
    page = client.get("/years/2026/next")
    assert page.status_code == 200 and "Bắt đầu năm thi đua 2027 từ năm 2026" in page.text
    assert "Đề xuất theo luân phiên" in page.text and "Xác nhận bắt đầu năm 2027" in page.text
    preview = page.text.split("Cụm thi đua số 1")[1]
    assert "Trưởng cụm đề xuất" in preview and "<strong>UBND phường Mỹ Trà</strong>" in preview
    assert (_count(EmulationYear), _count(Membership), _count(Term), _count(AuditEntry)) == before


def test_start_next_year_proposes_rotation_through_the_web(world, auth, client):
    # Reform: the member merges into a new ward, a unit of the block retires.
    successor = factories.unit("UBND phường Tân Hồng mới")
    org.merge_units(db.session, [world.member], successor, date(world.year.year, 7, 1))
    second = factories.unit("Sở Tài chính")
    cluster_year.add_membership(db.session, world.year, world.other_cluster, second)
    org.retire_unit(db.session, world.outsider, date(world.year.year, 7, 1))
    db.session.commit()
    auth.login("secretariat")
    preview = client.get("/years/2026/next")
    assert "UBND phường Tân Hồng mới" in preview.text and "sáp nhập" in preview.text
    assert "Đã ngừng hoạt động; không chuyển sang năm mới" in preview.text

    response = client.post("/years/2026/next", data={})
    assert response.status_code == 303 and response.headers["Location"].endswith("/years/2027")
    y2027 = _year(2027)
    assert y2027 is not None and not y2027.is_current
    order = cluster_year.member_ids(db.session, y2027.id, world.cluster.id)
    assert order == [world.head.id, world.deputy.id, successor.id]
    term = _term(y2027, world.cluster)
    assert term.proposed_by_rotation and not term.decision_number
    assert term.head.unit_id == world.deputy.id  # the member after 2026's head
    assert [u.id for u in term.deputies] == [successor.id]  # one deputy, as in 2026
    assert term.overseer_id == world.overseer.id
    block = _term(y2027, world.other_cluster)
    assert cluster_year.member_ids(db.session, y2027.id, world.other_cluster.id) == [second.id]
    assert block.head.unit_id == second.id

    page = client.get("/years/2027")
    assert "Đề xuất theo luân phiên" in page.text and "Nhập quyết định" in page.text
    event = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "event", AuditEntry.object_type == "EmulationYear")
    )
    assert "Bắt đầu năm thi đua 2027 từ năm 2026" in event.summary and event.username == "secretariat"
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.object_type == "Membership", AuditEntry.action == "create")
        )
        >= 4 + 3 + 1
    )


def test_start_next_year_can_make_it_current(world, auth, client):
    auth.login("secretariat")
    assert client.post("/years/2026/next", data={"make_current": "y"}).status_code == 303
    assert [y.year for y in db.session.scalars(select(EmulationYear).where(EmulationYear.is_current))] == [2027]


def test_start_next_year_refuses_when_it_exists(world, auth, client):
    factories.year(2027, current=False)
    db.session.commit()
    auth.login("secretariat")
    before = (_count(Membership), _count(Term))
    page = client.get("/years/2026/next")
    assert page.status_code == 200 and "Năm thi đua 2027 đã được tạo nên không thể bắt đầu lại." in page.text
    assert "Xác nhận bắt đầu" not in page.text and 'href="/years/2027"' in page.text
    response = client.post("/years/2026/next", data={})
    assert response.status_code == 422 and "không thể bắt đầu lại" in response.text
    assert (_count(Membership), _count(Term)) == before
    assert "Bắt đầu năm 2027" not in client.get("/years/2026").text


def test_preview_matches_what_is_created(world):
    """plan_next_year and start_next_year apply the same rules: merges, retirements, rotation."""
    a, b, c = (factories.unit(f"UBND xã Mẫu {i}") for i in range(3))
    cluster = factories.cluster("Cụm mẫu")
    for u in (a, b, c):
        cluster_year.add_membership(db.session, world.year, cluster, u)
    term = cluster_year.ensure_term(db.session, world.year, cluster)
    cluster_year.assign_term(db.session, term, head_id=c.id, deputy_ids=[a.id, b.id], overseer_id=world.overseer.id)
    successor = factories.unit("UBND phường Hợp Nhất")
    org.merge_units(db.session, [world.deputy, a], successor, date(world.year.year, 7, 1))  # from two clusters into one
    org.retire_unit(db.session, b, date(world.year.year, 7, 1))
    closed = factories.cluster("Cụm đã giải thể")
    cluster_year.add_membership(db.session, world.year, closed, factories.unit("Đơn vị cụm cũ"))
    closed.active = False
    db.session.flush()

    plan = next_year.plan_next_year(db.session, world.year)
    target = next_year.start_next_year(db.session, world.year)
    planned = {
        p.cluster.id: ([u.id for u in p.members], p.head.id if p.head else None, [u.id for u in p.deputies])
        for p in plan.clusters
        if p.members
    }
    created = {}
    for t in db.session.scalars(select(Term).where(Term.year_id == target.id)):
        created[t.cluster_id] = (
            cluster_year.member_ids(db.session, target.id, t.cluster_id),
            t.head.unit_id if t.head else None,
            [u.id for u in t.deputies],
        )
    assert planned == created
    assert [c.id for c in plan.inactive_clusters] == [closed.id]
    fates = {m.previous.id: m.fate for p in plan.clusters for m in p.carried}
    assert fates[a.id] == "already_placed" and fates[b.id] == "retired" and fates[world.deputy.id] == "merged"
    assert planned[world.cluster.id][0] == [world.head.id, successor.id, world.member.id]
    assert planned[cluster.id] == ([c.id], c.id, [])


# --- deleting a year started by mistake --------------------------------------------------


def test_delete_a_year_started_by_mistake(world, auth, client):
    auth.login("secretariat")
    client.post("/years/2026/next", data={})
    assert _year(2027) is not None
    response = client.post("/years/2027/delete")
    assert response.status_code == 303 and response.headers["Location"].endswith("/years/")
    assert _year(2027) is None
    for model in (Membership, Term, TermPosition):
        assert db.session.scalar(select(func.count()).select_from(model).where(model.year_id != world.year.id)) == 0
    deleted = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "delete")).all()
    assert {"EmulationYear", "Membership", "Term", "TermPosition"} <= {e.object_type for e in deleted}


def test_delete_refuses_the_current_year_and_decided_years(world, auth, client):
    auth.login("secretariat")
    response = client.post("/years/2026/delete")
    assert response.status_code == 303
    assert "Không thể xóa năm hiện hành" in client.get(response.headers["Location"]).text
    client.post("/years/2026/next", data={"make_current": "y"})
    response = client.post("/years/2026/delete")
    assert "đã có quyết định phân công của 1 cụm, khối" in client.get(response.headers["Location"]).text
    assert _year(2026) is not None and _count(Term) == 4


def test_delete_year_service_refuses_other_records(world, monkeypatch):
    y = factories.year(2027, current=False)
    monkeypatch.setattr(years, "_work_referencing_year", lambda session, year: True)
    with pytest.raises(DomainError, match="đã có dữ liệu thi đua"):
        years.delete_year(db.session, y)


# --- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", "/years/"),
        ("post", "/years/"),
        ("get", "/years/2026"),
        ("post", "/years/2026/current"),
        ("get", "/years/2026/next"),
        ("post", "/years/2026/next"),
        ("post", "/years/2026/delete"),
    ],
)
def test_only_the_secretariat_manages_years(world, auth, client, method, url):
    for username in ("head", "deputy", "member", "overseer", "council"):
        auth.login(username)
        assert getattr(client, method)(url, data={"year": "2030"}).status_code == 403, (username, url)
        auth.logout()
    response = getattr(client, method)(url, data={"year": "2030"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _year(2030) is None and _year(2027) is None


def test_a_year_with_published_results_is_refused_up_front_and_nothing_is_deleted(world, auth, client):
    """Refused by the service with its reason (on PostgreSQL the snapshot's guard would answer with an error page)."""
    from portal.models import ResultSnapshot
    from tests.publication_helpers import published

    published(world)
    other = factories.year(world.year.year + 1, current=False)
    other.is_current, world.year.is_current = True, False  # not the current year: only the results stop it
    db.session.commit()
    terms, members = _count(Term), _count(Membership)
    auth.login("secretariat")
    response = client.post(f"/years/{world.year.year}/delete")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/years/{world.year.year}")
    page = client.get(response.headers["Location"]).text
    assert (
        f"Không thể xóa: 1 cụm, khối đã công bố kết quả năm {world.year.year}; "
        "kết quả đã công bố là hồ sơ không sửa, không xóa."
    ) in page
    db.session.expire_all()
    assert _year(world.year.year) is not None and _count(ResultSnapshot) == 1
    assert (_count(Term), _count(Membership)) == (terms, members)
    with pytest.raises(DomainError, match="đã công bố kết quả năm"):
        years.delete_year(db.session, _year(world.year.year))
