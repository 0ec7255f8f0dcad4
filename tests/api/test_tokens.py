"""API tokens: created by their user and shown once, stored hashed, revoked by their user only, expiring."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import ApiToken, AuditEntry, Score
from portal.models.base import utcnow
from portal.services import DomainError
from portal.services.platform import api_tokens
from tests import factories
from tests.api.conftest import assert_problem
from tests.factories import PASSWORD

SECRET = re.compile(r"tdk_[A-Za-z0-9_-]{43}")


def _bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def test_the_secret_is_shown_once_and_stored_hashed(client, auth, world):
    auth.login("member")
    page = client.get("/account/tokens/")
    assert page.status_code == 200 and "Chưa có khóa API nào." in page.text
    response = client.post("/account/tokens/", data={"name": "Hệ thống một cửa"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    [secret] = SECRET.findall(response.text)
    token = db.session.scalar(select(ApiToken))
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest() != secret
    assert token.prefix == secret[:8] and token.user_id == world.users["member"].id and token.expires_at is None
    listing = client.get("/account/tokens/").text
    assert secret not in listing and f"{token.prefix}…" in listing and "Hệ thống một cửa" in listing
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "ApiToken")).all()
    assert [e.action for e in entries] == ["create"] and entries[0].username == "member"
    logged = json.dumps([e.changes for e in entries])
    assert "token_hash" not in logged and secret not in logged and token.token_hash not in logged
    assert client.get("/api/v1/me", headers=_bearer(secret)).get_json()["user"]["username"] == "member"


def test_each_use_marks_the_token_without_filling_the_audit_log(client, world):
    token, secret = api_tokens.create(db.session, world.users["head"], "Bảng tính")
    db.session.commit()
    before = db.session.query(AuditEntry).count()
    for _ in range(3):
        assert client.get("/api/v1/years", headers=_bearer(secret)).status_code == 200
    assert db.session.get(ApiToken, token.id).last_used_at is not None
    assert db.session.query(AuditEntry).count() == before


@pytest.mark.parametrize(
    "data, field_message",
    [
        ({"name": ""}, "Vui lòng nhập trường này."),
        ({"name": "   "}, "Vui lòng nhập trường này."),
        ({"name": "x" * 101}, "Tối đa 100 ký tự."),
        ({"name": "Một cửa", "expires_on": "31/02/2025"}, "Ngày không hợp lệ"),
        ({"name": "Một cửa", "expires_on": "01/01/2020"}, "Ngày hết hạn phải sau hôm nay."),
    ],
)
def test_bad_input_is_shown_next_to_the_field(client, auth, world, data, field_message):
    auth.login("member")
    response = client.post("/account/tokens/", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 422 and field_message in response.text
    assert db.session.query(ApiToken).count() == 0


def test_expiry_is_the_end_of_the_day_in_vietnam(world):
    today = factories.future_date(20)
    now = factories.vn_moment(today, 3)  # 03:00 in Vietnam, 20:00 UTC the day before: "today" is the Vietnam day
    assert now.date() == today - timedelta(days=1)
    with pytest.raises(DomainError, match="sau hôm nay"):
        api_tokens.create(db.session, world.users["member"], "Một cửa", today, now=now)
    tomorrow = today + timedelta(days=1)
    token, secret = api_tokens.create(db.session, world.users["member"], "Một cửa", tomorrow, now=now)
    last_second = factories.vn_moment(tomorrow, 23, 59, 59)
    assert token.expires_at == last_second == datetime.combine(tomorrow, time(16, 59, 59))  # 23:59:59 in Vietnam
    assert api_tokens.authenticate(db.session, secret, now=last_second) is not None
    assert api_tokens.authenticate(db.session, secret, now=last_second + timedelta(seconds=1)) is None


def test_expired_token_gets_401(client, world):
    token, secret = api_tokens.create(db.session, world.users["member"], "Một cửa", factories.future_date(2))
    db.session.commit()
    assert client.get("/api/v1/me", headers=_bearer(secret)).status_code == 200
    token.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert_problem(client.get("/api/v1/me", headers=_bearer(secret)), 401)


def test_revoke_own_token_with_htmx(client, auth, world):
    token, secret = api_tokens.create(db.session, world.users["member"], "Một cửa")
    db.session.commit()
    auth.login("member")
    response = client.post(f"/account/tokens/{token.id}/revoke", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Đã thu hồi" in response.text and "<html" not in response.text
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    assert_problem(client.get("/api/v1/me", headers=_bearer(secret)), 401)
    assert [
        e.action
        for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "ApiToken").order_by(AuditEntry.id)
        )
    ] == [
        "create",
        "update",
    ]
    again = client.post(f"/account/tokens/{token.id}/revoke")  # without htmx: back to the page, 303
    assert again.status_code == 303 and again.headers["Location"].endswith("/account/tokens/")


def test_another_users_token_cannot_be_revoked(client, auth, world):
    token, secret = api_tokens.create(db.session, world.users["head"], "Của đơn vị trưởng")
    db.session.commit()
    auth.login("member")
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 404
    assert client.post("/account/tokens/999999/revoke").status_code == 404
    assert db.session.get(ApiToken, token.id).revoked_at is None
    assert "Của đơn vị trưởng" not in client.get("/account/tokens/").text
    assert client.get("/api/v1/me", headers=_bearer(secret)).status_code == 200


def test_signed_out_users_are_sent_to_sign_in(client):
    for response in (client.get("/account/tokens/"), client.post("/account/tokens/", data={"name": "x"})):
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_at_most_twenty_live_tokens(world):
    user = world.users["member"]
    for n in range(api_tokens.MAX_ACTIVE_TOKENS):
        api_tokens.create(db.session, user, f"Khóa {n}")
    with pytest.raises(DomainError, match="tối đa 20"):
        api_tokens.create(db.session, user, "Một khóa nữa")
    api_tokens.revoke(db.session, api_tokens.tokens_of(db.session, user)[0])
    api_tokens.create(db.session, user, "Thay cho khóa đã thu hồi")


def test_secrets_are_unique_and_well_formed():
    secrets = {api_tokens.new_secret() for _ in range(200)}
    assert len(secrets) == 200 and all(SECRET.fullmatch(s) for s in secrets)


def test_with_csrf_on_the_api_needs_no_csrf_token_but_the_page_does(app, client, world, tokens):
    """The API is authenticated by the bearer token alone, so CSRF does not apply; the token page keeps it."""
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.put("/api/v1/assessments/1/scores/1", json={"value": "1"}, headers=_bearer(tokens["member"]))
    assert_problem(response, 404)  # reached the view (there is no such assessment), not refused by CSRF
    assert_problem(client.post("/api/v1/years", headers=_bearer(tokens["member"])), 405)  # not CSRF's 400
    login = client.get("/login").text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    client.post("/login", data={"username": "member", "password": PASSWORD, "csrf_token": csrf})
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == world.users["member"].id))
    page = client.get("/account/tokens/").text
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 400
    assert db.session.get(ApiToken, token.id).revoked_at is None
    header = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    revoked = client.post(f"/account/tokens/{token.id}/revoke", headers={"HX-Request": "true", "X-CSRFToken": header})
    assert revoked.status_code == 200 and db.session.get(ApiToken, token.id).revoked_at is not None
    assert db.session.scalars(select(Score)).all() == []
