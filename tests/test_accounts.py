"""Accounts: list and search, create with a temporary password, first sign-in, edit, lock, reset; who may."""

import json
import re

import pytest
from sqlalchemy import func, select

from portal.auth.forms import strong_password
from portal.extensions import db
from portal.models import AuditEntry, Unit, User
from portal.services import DomainError
from portal.services.org import structure as org
from portal.services.platform import accounts
from tests import factories

TEMPORARY = re.compile(r'id="temporary-password"[^>]*>([^<]+)<')


def _password(response) -> str:
    match = TEMPORARY.search(response.text)
    assert match, "the temporary password is shown"
    return match.group(1)


def _create(client, **data):
    fields = {"kind": "unit", "username": "can.bo", "full_name": "Nguyễn Thị Mai", "email": "", **data}
    return client.post("/accounts/", data=fields)


def _count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_list_three_ways(world, auth, client, hx):
    auth.login("secretariat")
    page = client.get("/accounts/")
    assert page.status_code == 200 and "Tài khoản người dùng" in page.text and "<html" in page.text
    assert "HX-Request" in page.headers["Vary"]
    fragment = hx.get("/accounts/?q=tân hồng")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert ">member<" in fragment.text and ">outsider<" not in fragment.text  # found by the unit's name
    for full in (hx.history_restore("/accounts/?q=tân hồng"), hx.boosted("/accounts/?q=tân hồng")):
        assert "<html" in full.text


def test_search_and_filters(world, auth, hx):
    auth.login("secretariat")
    by_member = hx.get("/accounts/?q=lê minh")  # the council member's name
    assert ">overseer<" in by_member.text and ">council<" not in by_member.text
    councils = hx.get("/accounts/?kind=council")
    assert ">overseer<" in councils.text and ">council<" in councils.text and ">head<" not in councils.text
    world.users["outsider"].active = False
    db.session.commit()
    locked = hx.get("/accounts/?status=inactive")
    assert ">outsider<" in locked.text and ">member<" not in locked.text and "Đã khóa" in locked.text
    assert ">outsider<" not in hx.get("/accounts/?status=active").text


@pytest.mark.parametrize("kind", ["unit", "council", "secretariat"])
def test_create_shows_the_password_once_and_forces_a_change(world, auth, client, kind):
    auth.login("secretariat")
    links = {"unit": {"unit_id": world.member.id}, "council": {"council_member_id": world.other_council.id}}.get(
        kind, {}
    )
    response = _create(client, kind=kind, username="  Nguyen.Van-An_2 ", email="an@sonoivu.gov.vn", **links)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "người dùng phải đổi khi đăng nhập lần đầu" in response.text
    password = _password(response)
    user = db.session.scalar(select(User).where(User.username == "nguyen.van-an_2"))
    assert user.kind == kind and user.must_change_password and user.check_password(password)
    assert user.unit_id == links.get("unit_id") and user.council_member_id == links.get("council_member_id")
    assert password not in client.get("/accounts/").text
    assert password not in client.get(f"/accounts/{user.id}").text

    auth.logout()
    assert auth.login("nguyen.van-an_2", password).status_code == 303
    forced = client.get("/")
    assert forced.status_code == 302 and forced.headers["Location"].endswith("/password")
    changed = client.post(
        "/password",
        data={"current_password": password, "new_password": "Sen-hồng-2026-moi", "confirm": "Sen-hồng-2026-moi"},
    )
    assert changed.status_code == 303
    assert client.get("/").status_code == 200
    assert not db.session.get(User, user.id).must_change_password


def test_create_with_htmx_swaps_the_form_and_refreshes_the_list(world, auth, hx):
    auth.login("secretariat")
    response = hx.post(
        "/accounts/",
        data={"kind": "unit", "unit_id": str(world.head.id), "username": "an.binh2", "full_name": "Trần Văn Bình"},
    )
    assert response.status_code == 200 and "<html" not in response.text
    assert _password(response) and 'hx-history="false"' in response.text  # kept out of htmx's history cache
    assert "accounts-changed" in response.headers["HX-Trigger"]
    bad = hx.post("/accounts/", data={"kind": "unit", "unit_id": "0", "username": "an.binh3", "full_name": "X"})
    assert bad.status_code == 422 and "<html" not in bad.text and "Chọn đơn vị" in bad.text


def test_duplicate_username_is_refused_case_insensitively(world, auth, client):
    auth.login("secretariat")
    before = _count_users()
    response = _create(client, username="MEMBER", unit_id=world.member.id)
    assert response.status_code == 422 and "Tên đăng nhập “member” đã được dùng." in response.text
    assert _count_users() == before


@pytest.mark.parametrize(
    "username, message",
    [
        ("nguyễn.an", "Tên đăng nhập phải viết không dấu"),
        ("đoàn", "Tên đăng nhập phải viết không dấu"),
        ("van an", "Tên đăng nhập không được có khoảng trắng."),
        ("ab", "Tên đăng nhập dài từ 3 đến 64 ký tự."),
        ("an/binh", "chỉ gồm chữ thường không dấu, chữ số, dấu chấm, gạch ngang, gạch dưới"),
        ("   ", "Vui lòng nhập trường này."),
        ("x" * 65, "Tối đa 64 ký tự."),
    ],
)
def test_username_rules(world, auth, client, username, message):
    auth.login("secretariat")
    before = _count_users()
    response = _create(client, username=username, unit_id=world.member.id)
    assert response.status_code == 422 and message in response.text
    assert _count_users() == before


def test_links_and_contact_are_checked(world, auth, client):
    auth.login("secretariat")
    before = _count_users()
    no_unit = _create(client, kind="unit", unit_id="0")
    assert no_unit.status_code == 422 and "Chọn đơn vị (đang hoạt động) cho tài khoản đơn vị." in no_unit.text
    no_member = _create(client, kind="council", council_member_id="abc")
    assert no_member.status_code == 422 and "Chọn thành viên Hội đồng cho tài khoản Hội đồng." in no_member.text
    bad_kind = _create(client, kind="admin")
    assert bad_kind.status_code == 422 and "Chọn loại tài khoản." in bad_kind.text
    bad_email = _create(client, unit_id=world.member.id, email="not-an-email")
    assert bad_email.status_code == 422 and "Địa chỉ e-mail không hợp lệ." in bad_email.text
    no_name = _create(client, unit_id=world.member.id, full_name="  ")
    assert no_name.status_code == 422 and "Vui lòng nhập trường này." in no_name.text
    org.retire_unit(db.session, world.member, __import__("datetime").date(2025, 7, 1))
    db.session.commit()
    retired = _create(client, unit_id=world.member.id)
    assert retired.status_code == 422 and "đang hoạt động" in retired.text
    assert _count_users() == before


def test_only_active_units_are_offered(world, auth, client):
    org.retire_unit(db.session, world.outsider, __import__("datetime").date(2025, 7, 1))
    db.session.commit()
    auth.login("secretariat")
    page = client.get("/accounts/")
    assert f'<option value="{world.member.id}">UBND xã Tân Hồng</option>' in page.text
    assert f'<option value="{world.outsider.id}">' not in page.text


def test_edit_in_place_returns_the_row(world, auth, hx):
    auth.login("secretariat")
    member = world.users["member"]
    form = hx.get(f"/accounts/{member.id}/edit")
    assert form.status_code == 200 and "<tr" in form.text and "<html" not in form.text
    saved = hx.post(
        f"/accounts/{member.id}/edit", data={"full_name": "Lê Thị Hoa", "email": "hoa@xa.vn", "active": "y"}
    )
    assert saved.status_code == 200 and "Lê Thị Hoa" in saved.text and "Sửa" in saved.text
    bad = hx.post(f"/accounts/{member.id}/edit", data={"full_name": "Lê Thị Hoa", "email": "hoa@", "active": "y"})
    assert bad.status_code == 422 and "Địa chỉ e-mail không hợp lệ." in bad.text
    cancel = hx.get(f"/accounts/{member.id}/row")
    assert cancel.status_code == 200 and "hoa@xa.vn" in cancel.text
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.object_type == "User", AuditEntry.object_id == str(member.id), AuditEntry.action == "update"
        )
    )
    assert entry.changes["full_name"] == ["member", "Lê Thị Hoa"] and entry.username == "secretariat"


def test_deactivating_blocks_sign_in(world, auth, client):
    auth.login("secretariat")
    member = world.users["member"]
    locked = client.post(f"/accounts/{member.id}/edit", data={"full_name": "member"})  # checkbox left unticked
    assert locked.status_code == 303 and not db.session.get(User, member.id).active
    auth.logout()
    refused = auth.login("member")
    assert refused.status_code == 422 and "không đúng" in refused.text

    auth.login("secretariat")
    assert client.post(f"/accounts/{member.id}/reactivate").status_code == 303
    auth.logout()
    assert auth.login("member").status_code == 303
    auth.logout()

    auth.login("secretariat")
    assert client.post(f"/accounts/{member.id}/deactivate").status_code == 303
    assert "Đã khóa tài khoản" in client.get(f"/accounts/{member.id}").text
    auth.logout()
    assert auth.login("member").status_code == 422


def test_deactivating_ends_a_session_under_way(world, auth, client):
    auth.login("member")
    assert client.get("/").status_code == 200
    accounts.set_active(db.session, world.users["member"], False, world.users["secretariat"].id)
    db.session.commit()
    response = client.get("/")  # Flask-Login's UserMixin counts an inactive user as signed out
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_nobody_locks_themself_out(world, auth, client, hx):
    auth.login("secretariat")
    me = world.users["secretariat"]
    by_row = hx.post(f"/accounts/{me.id}/edit", data={"full_name": "Ban TĐ-KT"})
    assert by_row.status_code == 422 and "Bạn không thể khóa tài khoản của chính mình." in by_row.text
    by_button = client.post(f"/accounts/{me.id}/deactivate")
    assert by_button.status_code == 422 and "Bạn không thể khóa tài khoản của chính mình." in by_button.text
    assert db.session.get(User, me.id).active and db.session.get(User, me.id).full_name == "secretariat"


def test_reset_password(world, auth, client, hx):
    auth.login("secretariat")
    head = world.users["head"]
    response = hx.post(f"/accounts/{head.id}/reset-password")
    assert response.status_code == 200 and "<html" not in response.text
    assert response.headers["Cache-Control"] == "no-store" and 'hx-history="false"' in response.text
    password = _password(response)
    assert password not in client.get(f"/accounts/{head.id}").text  # shown once
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "password", AuditEntry.object_id == str(head.id))
    )
    assert entry.username == "secretariat" and entry.summary.startswith("Cấp lại mật khẩu")
    own = client.post(f"/accounts/{world.users['secretariat'].id}/reset-password")
    assert own.status_code == 422 and "Đổi mật khẩu" in own.text

    auth.logout()
    assert auth.login("head").status_code == 422  # the old password no longer works
    assert auth.login("head", password).status_code == 303
    assert client.get("/").headers["Location"].endswith("/password")


def test_unit_accounts_for_units_without_one(world, auth, client):
    factories.unit("Sở Y tế", short_name="SYT", sector="department")
    factories.unit("UBND phường Đông Thành", sector="ward")
    db.session.commit()
    auth.login("secretariat")
    assert "2 đơn vị đang hoạt động chưa có tài khoản" in client.get("/accounts/").text
    confirm = client.get("/accounts/unit-accounts")
    assert confirm.status_code == 200 and "Sở Y tế (SYT)" in confirm.text and "Tạo 2 tài khoản" in confirm.text
    response = client.post("/accounts/unit-accounts")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    rows = re.findall(r"<tr><td>([^<]+)</td><td><code>([^<]+)</code></td><td><code[^>]*>([^<]+)</code>", response.text)
    assert sorted((name, username) for name, username, _ in rows) == [
        ("Sở Y tế", "syt"),
        ("UBND phường Đông Thành", "ubnd-phuong-dong-thanh"),
    ]
    for _, username, password in rows:
        user = db.session.scalar(select(User).where(User.username == username))
        assert user.kind == "unit" and user.must_change_password and user.check_password(password)
    again = client.post("/accounts/unit-accounts")
    assert again.status_code == 303
    assert "Mọi đơn vị đang hoạt động đều đã có tài khoản." in client.get("/accounts/").text


def test_temporary_passwords_never_reach_the_audit_log(world, auth, client):
    factories.unit("Sở Tư pháp", short_name="STP")
    db.session.commit()
    auth.login("secretariat")
    passwords = [_password(_create(client, username="tu.phap", unit_id=world.member.id))]
    passwords.append(_password(client.post(f"/accounts/{world.users['head'].id}/reset-password")))
    bulk = client.post("/accounts/unit-accounts")
    passwords += re.findall(r'<code class="user-select-all">([^<]+)</code>', bulk.text)
    assert len(passwords) == 3
    hashes = list(db.session.scalars(select(User.password_hash)))
    entries = db.session.scalars(select(AuditEntry)).all()
    assert any(e.object_type == "User" and e.action == "create" for e in entries)
    for entry in entries:
        text = json.dumps(entry.changes, ensure_ascii=False) + entry.summary + entry.object_label
        assert "password_hash" not in text
        assert not any(secret in text for secret in passwords + hashes)


def test_list_queries_do_not_grow_with_users(world, auth, client, count_queries):
    auth.login("secretariat")
    client.get("/accounts/")  # warm up
    with count_queries() as few:
        assert client.get("/accounts/").status_code == 200
    units = [factories.unit() for _ in range(20)]
    members = [factories.council_member() for _ in range(10)]
    for n in range(200):  # a fixed hash: two hundred real ones would only slow the test
        links = {"unit": units[n % 20]} if n % 2 else {"council_member": members[n % 10]}
        db.session.add(
            User(
                username=f"nguoi.dung{n:03d}",
                full_name=f"Người dùng {n}",
                password_hash="x",
                kind="unit" if n % 2 else "council",
                **links,
            )
        )
    db.session.commit()
    with count_queries() as many:
        page = client.get("/accounts/")
        assert page.status_code == 200 and "nguoi.dung" in page.text
    assert many() == few(), (few(), many())


@pytest.mark.parametrize("username", ["head", "member", "council", "overseer"])
def test_only_the_secretariat_manages_accounts(world, auth, client, username):
    auth.login(username)
    target = world.users["member"].id
    assert client.get("/accounts/").status_code == 403
    assert _create(client, unit_id=world.member.id).status_code == 403
    assert client.get(f"/accounts/{target}").status_code == 403
    assert client.post(f"/accounts/{target}/reset-password").status_code == 403
    assert client.post(f"/accounts/{target}/deactivate").status_code == 403
    assert client.post("/accounts/unit-accounts").status_code == 403


def test_anonymous_is_sent_to_sign_in(world, client):
    for url in ("/accounts/", f"/accounts/{world.users['member'].id}"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_state_changes_need_the_csrf_token(world, auth, app, client):
    auth.login("secretariat")
    app.config["WTF_CSRF_ENABLED"] = True
    head = world.users["head"]
    assert client.post(f"/accounts/{head.id}/reset-password").status_code == 400
    page = client.get(f"/accounts/{head.id}")
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page.text).group(1)  # what htmx sends from <body hx-headers>
    response = client.post(f"/accounts/{head.id}/reset-password", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200 and _password(response)


def test_temporary_password_meets_the_password_rules():
    seen = {accounts.temporary_password() for _ in range(50)}
    assert len(seen) == 50
    for password in seen:
        assert len(password) == 19
        strong_password(None, type("F", (), {"data": password})())  # raises if too weak


def test_username_for_a_unit(app):
    taken = {"syt"}
    assert accounts.username_for(Unit(id=7, name="Sở Y tế", short_name="SYT"), taken) == "syt-2"
    assert accounts.username_for(Unit(id=8, name="Đài Phát thanh", short_name="Đài PT-TH"), taken) == "dai-pt-th"
    assert accounts.username_for(Unit(id=9, name="Tỉnh Đoàn", short_name="TĐ"), taken) == "td-9"
    with pytest.raises(DomainError) as error:
        accounts.clean_username("Hồng")
    assert error.value.field == "username"
