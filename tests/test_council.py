"""Council members: list, search, in-place edit, detail, deactivation; bad input; who may."""

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEntry, CouncilMember
from portal.services.org import cluster_year
from tests import factories


def _member(name: str) -> CouncilMember | None:
    return db.session.scalar(select(CouncilMember).where(CouncilMember.full_name == name))


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(CouncilMember))


GOOD = {
    "full_name": "Nguyễn Văn Bình",
    "position": "Phó Giám đốc Sở Nội vụ",
    "organisation": "Sở Nội vụ",
    "council_role": "standing",
    "phone": "+84 277 385 1234",
    "email": " binh@snv.dongthap.gov.vn ",
}


def test_list_three_ways(world, auth, client, hx):
    auth.login("secretariat")
    page = client.get("/council/")
    assert page.status_code == 200 and "<html" in page.text and "HX-Request" in page.headers["Vary"]
    assert "Thành viên Hội đồng Thi đua - Khen thưởng" in page.text
    assert "Lê Minh Tuấn" in page.text and "Trần Thu Hà" in page.text
    fragment = hx.get("/council/?q=tuấn")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "Lê Minh Tuấn" in fragment.text and "Trần Thu Hà" not in fragment.text
    for full in (hx.history_restore("/council/?q=tuấn"), hx.boosted("/council/?q=tuấn")):
        assert "<html" in full.text


def test_search_by_position_and_organisation_and_filters(world, auth, hx):
    factories.council_member("Phạm Thị Cúc")
    chair = factories.council_member("Võ Văn Chánh")
    chair.council_role, chair.organisation, chair.position = "chairman", "UBND tỉnh", "Chủ tịch UBND tỉnh"
    gone = factories.council_member("Đỗ Văn Cũ")
    gone.active = False
    db.session.commit()
    auth.login("secretariat")
    by_org = hx.get("/council/?q=ubnd tỉnh").text
    assert "Võ Văn Chánh" in by_org and "Phạm Thị Cúc" not in by_org
    by_position = hx.get("/council/?q=chủ tịch").text
    assert "Võ Văn Chánh" in by_position and "Lê Minh Tuấn" not in by_position
    by_role = hx.get("/council/?council_role=chairman").text
    assert "Võ Văn Chánh" in by_role and "Lê Minh Tuấn" not in by_role
    everyone = hx.get("/council/").text
    assert "Đỗ Văn Cũ" not in everyone and everyone.index("Võ Văn Chánh") < everyone.index("Lê Minh Tuấn")
    inactive = hx.get("/council/?status=inactive").text
    assert "Đỗ Văn Cũ" in inactive and "Lê Minh Tuấn" not in inactive
    assert "Đỗ Văn Cũ" in hx.get("/council/?status=all").text


def test_list_shows_clusters_overseen_this_year(world, auth, client):
    auth.login("secretariat")
    row = client.get("/council/").text.split(f'id="council-member-{world.overseer.id}"')[1].split("</tr>")[0]
    assert "<td>1</td>" in row and "Phụ trách năm 2026" in client.get("/council/").text


def test_create_member_and_audit(world, auth, client):
    auth.login("secretariat")
    response = client.post("/council/", data=GOOD)
    assert response.status_code == 303
    member = _member("Nguyễn Văn Bình")
    assert member is not None and member.email == "binh@snv.dongthap.gov.vn" and member.council_role == "standing"
    assert member.active and member.phone == "+84 277 385 1234"
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.object_type == "CouncilMember", AuditEntry.object_id == str(member.id))
    )
    assert entry.action == "create" and entry.username == "secretariat"
    assert entry.changes["full_name"] == [None, "Nguyễn Văn Bình"]


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("full_name", "   ", "Vui lòng nhập trường này."),
        ("full_name", "X" * 129, "Tối đa 128 ký tự."),
        ("position", "X" * 256, "Tối đa 255 ký tự."),
        ("organisation", "X" * 256, "Tối đa 255 ký tự."),
        ("phone", "1" * 33, "Tối đa 32 ký tự."),
        ("phone", "0277-385.1234", "Số điện thoại chỉ gồm chữ số, dấu cách và dấu +."),
        ("email", "binh.snv.gov.vn", "Địa chỉ e-mail không hợp lệ"),
        ("email", "binh @snv.gov.vn", "Địa chỉ e-mail không hợp lệ"),
        ("email", "a@" + "b" * 251 + ".vn", "Tối đa 255 ký tự."),
        ("council_role", "king", "Not a valid choice"),
    ],
)
def test_bad_input_is_explained_and_nothing_saved(world, auth, client, hx, field, value, message):
    auth.login("secretariat")
    before = _count()
    data = {**GOOD, field: value}
    for response in (client.post("/council/", data=data), hx.post("/council/", data=data)):
        assert response.status_code == 422, response.text
        if field != "council_role":  # WTForms' own message for a forged option is not shown to users
            assert message in response.text
    assert "<html" not in response.text and 'id="council-create"' not in response.text
    assert _count() == before


def test_edit_in_place_returns_the_row(world, auth, hx):
    auth.login("secretariat")
    url = f"/council/{world.other_council.id}/edit"
    form = hx.get(url)
    assert form.status_code == 200 and "<tr" in form.text and "<html" not in form.text
    assert 'value="Trần Thu Hà"' in form.text
    saved = hx.post(url, data={**GOOD, "full_name": "Trần Thu Hà (mới)"})
    assert saved.status_code == 200 and "Trần Thu Hà (mới)" in saved.text and "Sửa" in saved.text
    assert "<html" not in saved.text and 'id="council-member-' in saved.text
    bad = hx.post(url, data={**GOOD, "full_name": "", "email": "khong-hop-le"})
    assert bad.status_code == 422 and "<tr" in bad.text
    assert "Vui lòng nhập trường này." in bad.text and "Địa chỉ e-mail không hợp lệ" in bad.text
    member = db.session.get(CouncilMember, world.other_council.id)
    assert member.full_name == "Trần Thu Hà (mới)" and member.active
    cancel = hx.get(f"/council/{member.id}/row")
    assert cancel.status_code == 200 and "Trần Thu Hà (mới)" in cancel.text and "<input" not in cancel.text
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.object_type == "CouncilMember", AuditEntry.action == "update")
    )
    assert entry.changes["full_name"] == ["Trần Thu Hà", "Trần Thu Hà (mới)"]


def test_edit_without_javascript(world, auth, client):
    auth.login("secretariat")
    page = client.get(f"/council/{world.other_council.id}/edit")
    assert page.status_code == 200 and "<html" in page.text
    response = client.post(f"/council/{world.other_council.id}/edit", data={**GOOD, "full_name": "Trần Thu Hà"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/council/{world.other_council.id}")
    bad = client.post(f"/council/{world.other_council.id}/edit", data={**GOOD, "phone": "số máy"})
    assert bad.status_code == 422 and "<html" in bad.text and "dấu cách và dấu +" in bad.text


def test_detail_shows_clusters_by_year_and_accounts(world, auth, client):
    y2027 = factories.year(2027, current=False)
    cluster_year.add_membership(db.session, y2027, world.other_cluster, world.outsider)
    term = cluster_year.ensure_term(db.session, y2027, world.other_cluster)
    cluster_year.assign_term(db.session, term, head_id=world.outsider.id, deputy_ids=[], overseer_id=world.overseer.id)
    db.session.commit()
    auth.login("secretariat")
    page = client.get(f"/council/{world.overseer.id}")
    assert page.status_code == 200 and "Lê Minh Tuấn" in page.text
    table = page.text.split("Cụm, khối phụ trách theo năm")[1]
    assert table.index("2027") < table.index("Khối các sở") < table.index("2026") < table.index("Cụm thi đua số 1")
    assert "12/QĐ-HĐTĐKT" in table
    assert f'href="/clusters/{world.cluster.id}?year=2026"' in table
    assert "overseer" in page.text.split("Tài khoản đăng nhập")[1]
    assert client.get("/council/999").status_code == 404


def test_detail_queries_stay_flat(world, auth, client, count_queries):
    auth.login("secretariat")
    with count_queries() as n:
        client.get(f"/council/{world.overseer.id}")
    small = n()
    for i in range(8):
        cluster = factories.cluster(f"Cụm phụ trách {i}")
        cluster_year.add_membership(db.session, world.year, cluster, factories.unit(f"Đơn vị phụ trách {i}"))
        cluster_year.ensure_term(db.session, world.year, cluster).overseer_id = world.overseer.id
        factories.user(f"overseer{i}", kind="council", council_member=world.overseer)
    db.session.commit()
    with count_queries() as n:
        page = client.get(f"/council/{world.overseer.id}")
    assert "Cụm phụ trách 7" in page.text and "overseer7" in page.text
    assert n() == small


def test_cannot_deactivate_while_overseeing_this_year(world, auth, client, hx):
    auth.login("secretariat")
    refused = hx.post(f"/council/{world.overseer.id}/active")
    assert refused.status_code == 422 and "<html" not in refused.text
    assert "Lê Minh Tuấn đang phụ trách Cụm thi đua số 1 (năm 2026)" in refused.text
    assert "Hãy phân công thành viên Hội đồng khác phụ trách" in refused.text
    plain = client.post(f"/council/{world.overseer.id}/active")
    assert plain.status_code == 422 and "<html" in plain.text
    assert db.session.get(CouncilMember, world.overseer.id).active


def test_cannot_deactivate_while_overseeing_a_started_next_year(world, auth, client):
    auth.login("secretariat")
    client.post("/years/2026/next", data={})  # the overseer of 2026 is carried into 2027
    cluster_year.ensure_term(db.session, world.year, world.cluster).overseer_id = None  # and replaced in 2026
    db.session.commit()
    refused = client.post(f"/council/{world.overseer.id}/active")
    assert refused.status_code == 422 and "Cụm thi đua số 1 (năm 2027)" in refused.text


def test_deactivate_and_reactivate(world, auth, client):
    auth.login("secretariat")
    url = f"/council/{world.other_council.id}/active"
    response = client.post(url)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/council/{world.other_council.id}")
    assert not db.session.get(CouncilMember, world.other_council.id).active
    assert "Trần Thu Hà: đã ngừng hoạt động." in client.get(response.headers["Location"]).text
    assert "Trần Thu Hà" not in client.get("/council/").text  # the list shows active members by default
    assert "Hoạt động trở lại" in client.get(f"/council/{world.other_council.id}").text
    assert client.post(url).status_code == 303
    assert db.session.get(CouncilMember, world.other_council.id).active
    changes = [
        e.changes["active"]
        for e in db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "CouncilMember", AuditEntry.action == "update")
            .order_by(AuditEntry.id)
        )
    ]
    assert changes == [[True, False], [False, True]]


def test_list_queries_stay_flat(world, auth, client, count_queries):
    auth.login("secretariat")
    with count_queries() as n:
        client.get("/council/")
    small = n()
    for i in range(30):
        member = factories.council_member(f"Ủy viên số {i:02d}")
        cluster = factories.cluster(f"Cụm số {i:02d}")
        cluster_year.add_membership(db.session, world.year, cluster, factories.unit(f"Đơn vị số {i:02d}"))
        cluster_year.ensure_term(db.session, world.year, cluster).overseer_id = member.id
    db.session.commit()
    with count_queries() as n:
        page = client.get("/council/")
    assert "Ủy viên số 29" in page.text
    assert n() == small


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", "/council/"),
        ("post", "/council/"),
        ("get", "/council/{id}"),
        ("get", "/council/{id}/edit"),
        ("post", "/council/{id}/edit"),
        ("get", "/council/{id}/row"),
        ("post", "/council/{id}/active"),
    ],
)
def test_only_the_secretariat_manages_the_council(world, auth, client, method, url):
    url = url.format(id=world.other_council.id)
    for username in ("head", "member", "overseer", "council"):
        auth.login(username)
        assert getattr(client, method)(url, data=GOOD).status_code == 403, (username, url)
        auth.logout()
    response = getattr(client, method)(url, data=GOOD)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _member("Nguyễn Văn Bình") is None and db.session.get(CouncilMember, world.other_council.id).active
