"""The audit log viewer: newest first, filters, Vietnamese labels and times, read-only; who may."""

import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEntry
from portal.services.org import structure as org
from portal.services.platform import audit
from portal.services.platform.audit import Actor, acting_as

ROW = re.compile(r'<tr id="audit-(\d+)">')


def _ids(response) -> list[int]:
    return [int(i) for i in ROW.findall(response.text)]


def _row(at: datetime, **fields) -> dict:
    row = {
        "at": at,
        "user_id": None,
        "username": "secretariat",
        "action": "update",
        "object_type": "",
        "object_id": "",
        "object_label": "",
        "changes": {},
        "summary": "",
    }
    return row | fields


def _entry(at: datetime, **fields) -> AuditEntry:
    """An entry appended to the log's hash chain, as the portal writes them."""
    audit.append(db.session, [_row(at, **fields)])
    db.session.commit()
    return db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))


def _expected(*where) -> list[int]:
    query = select(AuditEntry.id).where(*where).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    return list(db.session.scalars(query))


def test_three_ways(world, auth, client, hx):
    auth.login("secretariat")
    page = client.get("/audit-log/")
    assert page.status_code == 200 and "Nhật ký thay đổi" in page.text and "<html" in page.text
    assert "HX-Request" in page.headers["Vary"]
    fragment = hx.get("/audit-log/?object_type=Unit")
    assert fragment.status_code == 200 and "<html" not in fragment.text and _ids(fragment)
    for full in (hx.history_restore("/audit-log/?object_type=Unit"), hx.boosted("/audit-log/?object_type=Unit")):
        assert "<html" in full.text and "Nhật ký thay đổi" in full.text


def test_newest_first(world, auth, client):
    auth.login("secretariat")
    old = _entry(datetime(2020, 1, 1, 3, 0), object_type="Unit", object_id="1", summary="Cũ")
    ids = _ids(client.get("/audit-log/"))
    assert len(ids) < 50 and ids == _expected() and ids[-1] == old.id


def test_filter_by_object_type_with_vietnamese_choices(world, auth, client, hx):
    auth.login("secretariat")
    page = client.get("/audit-log/")
    for value, label in (
        ("Unit", "Đơn vị"),
        ("Cluster", "Cụm, khối"),
        ("Membership", "Thành viên cụm"),
        ("Term", "Nhiệm kỳ/phân công"),
        ("TermPosition", "Trưởng/Phó"),
        ("EmulationYear", "Năm thi đua"),
        ("CouncilMember", "Thành viên Hội đồng"),
        ("User", "Tài khoản"),
    ):
        assert f'<option value="{value}">{label}</option>' in page.text
    assert 'value="UnitChange"' not in page.text  # only the types present in the log
    response = hx.get("/audit-log/?object_type=CouncilMember")
    assert _ids(response) == _expected(AuditEntry.object_type == "CouncilMember") and len(_ids(response)) == 2
    assert "Thành viên Hội đồng #" in response.text and "Đơn vị #" not in response.text


def test_filter_by_object_gives_its_history(world, auth, client, hx):
    auth.login("secretariat")
    client.post(
        f"/units/{world.member.id}/rename",
        data={"rename-new_name": "UBND xã Tân Hồng mới", "rename-effective_on": "01/07/2025"},
    )
    response = hx.get(f"/audit-log/?object_type=Unit&object_id={world.member.id}")
    ids = _ids(response)
    assert ids == _expected(AuditEntry.object_type == "Unit", AuditEntry.object_id == str(world.member.id))
    assert len(ids) == 2  # created, then renamed
    assert "Tên:</span> UBND xã Tân Hồng → UBND xã Tân Hồng mới" in response.text
    assert "Lịch sử của đối tượng này" in response.text


def test_filter_by_user_and_action(world, auth, client, hx):
    auth.login("secretariat")
    client.post("/units/", data={"name": "Sở Y tế", "sector": "department"})
    mine = hx.get("/audit-log/?user=SECRETARIAT")
    assert _ids(mine) == _expected(AuditEntry.username == "secretariat") and len(_ids(mine)) >= 2  # login, create
    created = hx.get("/audit-log/?user=secretariat&action=create")
    assert _ids(created) == _expected(AuditEntry.username == "secretariat", AuditEntry.action == "create")
    assert "Sở Y tế" in created.text and "Loại hình:</span> — → Sở, ban, ngành tỉnh" in created.text
    assert _ids(hx.get("/audit-log/?user=nobody")) == []


def test_filter_by_date_range_in_vietnam_time(world, auth, hx):
    auth.login("secretariat")
    # 17:30 UTC on 1 March is 00:30 on 2 March in Vietnam
    late = _entry(
        datetime(2024, 3, 1, 17, 30),
        object_type="Unit",
        object_id="99",
        object_label="Đơn vị cũ",
        changes={"retired_on": [None, "2024-03-01"], "active": [True, False]},
    )
    early = _entry(datetime(2024, 3, 1, 16, 59), object_type="Unit", object_id="98", summary="Trước nửa đêm")
    on_2nd = hx.get("/audit-log/?date_from=02/03/2024&date_to=02/03/2024")
    assert _ids(on_2nd) == [late.id]
    assert "02/03/2024 00:30" in on_2nd.text
    assert "Ngày ngừng hoạt động:</span> — → 01/03/2024" in on_2nd.text
    assert "Đang hoạt động:</span> Có → Không" in on_2nd.text
    assert _ids(hx.get("/audit-log/?date_from=01/03/2024&date_to=01/03/2024")) == [early.id]
    assert _ids(hx.get("/audit-log/?date_to=29/02/2024")) == []
    assert late.id not in _ids(hx.get("/audit-log/?date_from=03/03/2024"))


def test_bad_dates_are_explained_and_left_out(world, auth, client, hx):
    auth.login("secretariat")
    bad = hx.get("/audit-log/?date_from=31/02/2024&object_type=CouncilMember")
    assert bad.status_code == 422 and "<html" not in bad.text
    assert "Ngày không hợp lệ; nhập theo dạng dd/mm/yyyy" in bad.text and "Bộ lọc này chưa được áp dụng." in bad.text
    assert _ids(bad) == _expected(AuditEntry.object_type == "CouncilMember")  # the other filters still apply
    page = client.get("/audit-log/?date_from=hôm qua")
    assert page.status_code == 422 and "is-invalid" in page.text
    reversed_range = hx.get("/audit-log/?date_from=10/03/2024&date_to=01/03/2024")
    assert reversed_range.status_code == 422 and "“Đến ngày” phải sau hoặc trùng “Từ ngày”." in reversed_range.text


def test_entry_page_shows_every_change(world, auth, client):
    auth.login("secretariat")
    with acting_as(Actor(world.users["secretariat"].id, "secretariat")):
        org.save_council_member(
            db.session,
            world.other_council,
            full_name="Trần Thu Hà",
            position="Phó Giám đốc Sở",
            organisation="Sở Nội vụ",
            phone="0277 3851 234",
            email="ha@snv.gov.vn",
            council_role="standing",
        )
    db.session.commit()
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.object_type == "CouncilMember", AuditEntry.action == "update")
    )
    listing = client.get("/audit-log/?object_type=CouncilMember&action=update")
    assert "… và 1 thay đổi khác" not in listing.text  # five changes fit in the row
    page = client.get(f"/audit-log/{entry.id}")
    assert page.status_code == 200
    for label, before, after in (
        ("Chức vụ", "Ủy viên Hội đồng", "Phó Giám đốc Sở"),
        ("Cơ quan", "—", "Sở Nội vụ"),
        ("Vai trò trong Hội đồng", "Ủy viên", "Ủy viên thường trực"),
    ):
        assert f'<th scope="row" class="fw-normal">{label}</th><td>{before}</td><td>{after}</td>' in page.text
    assert "Lịch sử của đối tượng này" in page.text and "Thành viên Hội đồng" in page.text
    assert client.get("/audit-log/999999").status_code == 404


def test_long_changes_are_cut_in_the_list(world, auth, client):
    auth.login("secretariat")
    changes = {f"field_{n}": [None, str(n)] for n in range(9)}
    entry = _entry(datetime(2025, 5, 1, 2, 0), action="create", object_type="Cluster", object_id="5", changes=changes)
    listing = client.get("/audit-log/?object_type=Cluster&object_id=5")
    assert "… và 3 thay đổi khác" in listing.text
    assert "field_8" not in listing.text and "field_8" in client.get(f"/audit-log/{entry.id}").text


def test_events_show_their_summary(world, auth, client):
    auth.login("secretariat")
    response = client.get("/audit-log/?action=login")
    assert "Đăng nhập" in response.text and _ids(response) == _expected(AuditEntry.action == "login")


def test_the_log_is_read_only(world, auth, client, app):
    auth.login("secretariat")
    entry_id = _expected()[0]
    assert client.post("/audit-log/").status_code == 405
    assert client.post(f"/audit-log/{entry_id}").status_code == 405
    assert client.delete(f"/audit-log/{entry_id}").status_code == 405
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("audit_log."):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}


def test_list_queries_do_not_grow_with_entries(world, auth, client, count_queries):
    auth.login("secretariat")
    client.get("/audit-log/")
    with count_queries() as few:
        assert client.get("/audit-log/").status_code == 200
    audit.append(
        db.session,
        [
            _row(
                datetime(2025, 1, 1, n % 24, n % 60),
                username=f"user{n % 7}",
                object_type=("Unit", "Cluster", "User", "Term")[n % 4],
                object_id=str(n),
                object_label=f"Mục {n}",
                changes={"name": [f"Cũ {n}", f"Mới {n}"]},
            )
            for n in range(500)
        ],
    )
    db.session.commit()
    with count_queries() as many:
        page = client.get("/audit-log/?page=2")
        assert page.status_code == 200 and len(_ids(page)) == 50
    assert many() == few()


@pytest.mark.parametrize("username", ["head", "member", "council", "overseer"])
def test_only_the_secretariat_reads_the_log(world, auth, client, username):
    auth.login(username)
    assert client.get("/audit-log/").status_code == 403
    assert client.get(f"/audit-log/{_expected()[0]}").status_code == 403


def test_anonymous_is_sent_to_sign_in(world, client):
    response = client.get("/audit-log/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_dates_of_the_filter_accept_other_spellings(world, auth, hx):
    auth.login("secretariat")
    entry = _entry(datetime(2024, 6, 10, 3, 0), object_type="Unit", object_id="7")
    assert _ids(hx.get("/audit-log/?date_from=10-06-2024&date_to=2024-06-10")) == [entry.id]
    assert date(2024, 6, 10).strftime("%d/%m/%Y") in hx.get(f"/audit-log/{entry.id}").text
