"""Sign-in, throttling, no user enumeration, safe redirects, forced password change."""

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEntry, User
from portal.services.throttle import DatabaseThrottle, RedisThrottle
from tests import factories

BAD = "Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản tạm thời bị khóa."


def test_login_and_logout(world, auth, client):
    response = auth.login("head")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "UBND phường An Bình" in client.get("/").text
    assert client.get("/logout").status_code == 405  # never over GET
    assert auth.logout().status_code == 303
    assert client.get("/").status_code == 302


def test_username_is_case_insensitive(world, auth):
    assert auth.login("  HEAD ").status_code == 303


def test_same_answer_for_unknown_user_and_wrong_password(world, auth):
    unknown = auth.login("nobody", "whatever-123")
    wrong = auth.login("head", "wrong-password-1")
    assert unknown.status_code == wrong.status_code == 422
    assert BAD in unknown.text and BAD in wrong.text


def test_lockout_after_repeated_failures(world, auth, client):
    for _ in range(5):
        auth.login("member", "wrong-password-1")
    locked = auth.login("member")  # right password, but locked now
    assert locked.status_code == 422 and BAD in locked.text
    assert client.get("/").status_code == 302
    failures = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "login_failed")).all()
    assert len(failures) == 6


def test_inactive_user_cannot_sign_in(world, auth):
    db.session.get(User, world.users["member"].id).active = False
    db.session.commit()
    response = auth.login("member")
    assert response.status_code == 422 and BAD in response.text


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/units/", "/units/"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_is_only_a_local_path(world, client, target, expected):
    response = client.post(f"/login?next={target}", data={"username": "secretariat", "password": factories.PASSWORD})
    assert response.headers["Location"] == expected


def test_empty_login_form(client):
    response = client.post("/login", data={"username": "", "password": ""})
    assert response.status_code == 422 and response.text.count("Vui lòng nhập trường này.") == 2


def test_first_login_forces_password_change(world, auth, client):
    user = db.session.get(User, world.users["member"].id)
    user.must_change_password = True
    db.session.commit()
    auth.login("member")
    assert client.get("/").headers["Location"] == "/password"
    assert client.get("/clusters/1").headers["Location"] == "/password"
    short = client.post(
        "/password", data={"current_password": factories.PASSWORD, "new_password": "ngan1", "confirm": "ngan1"}
    )
    assert short.status_code == 422 and "ít nhất 10 ký tự" in short.text
    letters = client.post(
        "/password",
        data={"current_password": factories.PASSWORD, "new_password": "chicochu" * 2, "confirm": "chicochu" * 2},
    )
    assert letters.status_code == 422 and "cả chữ và số" in letters.text
    mismatch = client.post(
        "/password",
        data={"current_password": factories.PASSWORD, "new_password": "Moi-2026-abc", "confirm": "Moi-2026-abd"},
    )
    assert mismatch.status_code == 422 and "không khớp" in mismatch.text
    wrong = client.post(
        "/password",
        data={"current_password": "sai-mat-khau-1", "new_password": "Moi-2026-abc", "confirm": "Moi-2026-abc"},
    )
    assert wrong.status_code == 422 and "Mật khẩu hiện tại không đúng." in wrong.text
    ok = client.post(
        "/password",
        data={"current_password": factories.PASSWORD, "new_password": "Moi-2026-abc", "confirm": "Moi-2026-abc"},
    )
    assert ok.status_code == 303
    assert client.get("/").status_code == 200
    assert not db.session.get(User, user.id).must_change_password
    auth.logout()
    assert auth.login("member", "Moi-2026-abc").status_code == 303


def test_password_hash_is_strong_and_never_audited(world):
    user = db.session.get(User, world.users["head"].id)
    assert user.password_hash.startswith("scrypt:")
    user.set_password("Another-pass-1")
    db.session.commit()
    for entry in db.session.scalars(select(AuditEntry)):
        assert "password_hash" not in entry.changes
        assert "scrypt" not in str(entry.changes)


def test_language_switch(world, auth, client):
    auth.login("head")
    response = client.post("/language/en", data={"next": "/"})
    assert response.status_code == 303
    assert 'lang="en"' in client.get("/").text
    client.post("/language/xx", data={"next": "/"})
    assert 'lang="en"' in client.get("/").text


def test_database_throttle_unlocks_after_the_window(app):
    from datetime import timedelta

    from portal.models import LoginFailure

    throttle = DatabaseThrottle(db.session, max_failures=2, lock_seconds=60)
    throttle.fail("user:x")
    assert not throttle.is_locked("user:x")
    throttle.fail("user:x")
    assert throttle.is_locked("user:x")
    row = db.session.get(LoginFailure, "user:x")
    row.locked_until -= timedelta(seconds=61)
    row.first_failed_at -= timedelta(seconds=61)
    assert not throttle.is_locked("user:x")
    throttle.fail("user:x")  # a new window starts
    assert not throttle.is_locked("user:x")


def test_redis_throttle_shares_state_across_workers():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not reachable at 127.0.0.1:6379: the Redis throttle test did not run")
    worker_a, worker_b = (
        RedisThrottle(client, 3, 30),
        RedisThrottle(redis.Redis.from_url("redis://127.0.0.1:6379/15"), 3, 30),
    )
    worker_a.reset("user:shared")
    worker_a.fail("user:shared")
    worker_b.fail("user:shared")
    assert not worker_a.is_locked("user:shared")
    worker_a.fail("user:shared")
    assert worker_b.is_locked("user:shared")
    assert 0 < client.ttl("portal:login-failures:user:shared") <= 30
    worker_b.reset("user:shared")
    assert not worker_a.is_locked("user:shared")
