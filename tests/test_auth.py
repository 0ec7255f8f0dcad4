"""Sign-in, throttling, no user enumeration, safe redirects, forced password change."""

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEntry, User
from portal.services.platform.throttle import DatabaseThrottle, RedisThrottle
from tests import factories, speedups
from tests.conftest import IsolatedClient

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
    # four failures, then the fifth logged once as the lock; the locked attempt adds nothing
    assert len(failures) == 5 and sum("Tạm khóa" in entry.summary for entry in failures) == 1


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


# --- throttling by (username, address) and by username; the client address through trusted proxies ---


def _login_from(client, address: str, username: str, password: str = factories.PASSWORD, **headers):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


def test_made_up_usernames_from_one_address_lock_nobody_else(world, client, app):
    """Behind one NAT or proxy address, someone trying made-up names must not lock out their colleagues."""
    for n in range(app.config["LOGIN_MAX_FAILURES"] + 2):
        assert _login_from(client, "203.0.113.7", f"khong-co-{n}", "whatever-123").status_code == 422
    assert _login_from(client, "203.0.113.7", "member").status_code == 303


def test_a_guess_locks_the_username_only_from_that_address(world, app):
    app.test_client_class = IsolatedClient
    attacker, owner = app.test_client(), app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _login_from(attacker, "198.51.100.9", "member", "wrong-password-1")
    refused = _login_from(attacker, "198.51.100.9", "member")  # even the right password, from there
    assert refused.status_code == 422 and BAD in refused.text
    assert _login_from(owner, "192.0.2.44", "member").status_code == 303  # the owner, from the office


def test_a_guess_spread_over_many_addresses_locks_the_username(world, app, client):
    limit = app.config["LOGIN_MAX_FAILURES_PER_USER"]
    assert app.config["LOGIN_MAX_FAILURES"] < limit <= 20
    for n in range(limit):
        _login_from(client, f"10.1.{n // 200}.{n % 200 + 1}", "member", "wrong-password-1")
    assert _login_from(client, "192.0.2.44", "member").status_code == 422


def test_forwarded_for_is_ignored_without_trusted_proxies(world, app, client):
    """With TRUSTED_PROXIES = 0 (the default), a made-up X-Forwarded-For neither spoofs nor escapes the limit."""
    assert app.config["TRUSTED_PROXIES"] == 0
    for n in range(app.config["LOGIN_MAX_FAILURES"]):
        _login_from(client, "198.51.100.9", "member", "wrong-password-1", **{"X-Forwarded-For": f"10.9.9.{n}"})
    fresh_header = _login_from(client, "198.51.100.9", "member", **{"X-Forwarded-For": "10.9.9.200"})
    assert fresh_header.status_code == 422


def test_forwarded_for_is_the_client_address_behind_a_trusted_proxy(world, app):
    """Behind the README's reverse proxy every request comes from the proxy's address: with
    TRUSTED_PROXIES = 1, ProxyFix gives each client its own address, so one guesser locks only themself."""
    from portal import register_proxies
    from portal.models import UserSession

    app.config["TRUSTED_PROXIES"] = 1
    register_proxies(app)
    app.test_client_class = IsolatedClient
    attacker, owner = app.test_client(), app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _login_from(attacker, "127.0.0.1", "member", "wrong-password-1", **{"X-Forwarded-For": "198.51.100.9"})
    assert _login_from(attacker, "127.0.0.1", "member", **{"X-Forwarded-For": "198.51.100.9"}).status_code == 422
    signed_in = _login_from(owner, "127.0.0.1", "member", **{"X-Forwarded-For": "6.6.6.6, 192.0.2.44"})
    assert signed_in.status_code == 303
    # only the last hop (the one the trusted proxy wrote) counts: a forged first entry is ignored
    assert db.session.scalars(select(UserSession.address)).all() == ["192.0.2.44"]


def test_create_app_puts_proxy_fix_in_front_only_when_told():
    from werkzeug.middleware.proxy_fix import ProxyFix

    from portal import create_app

    direct = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    proxied = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "TRUSTED_PROXIES": 2})
    assert not isinstance(direct.wsgi_app, ProxyFix)
    assert isinstance(proxied.wsgi_app, ProxyFix) and proxied.wsgi_app.x_for == proxied.wsgi_app.x_proto == 2


# --- the same work for an unknown user and a wrong password; none for a locked attempt ---


@pytest.fixture
def scrypt_runs(monkeypatch):
    """Counts the password hash runs (Werkzeug's scrypt), whichever code calls them."""
    import hashlib

    runs = []
    real = hashlib.scrypt

    def spy(*args, **kwargs):
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", spy)
    speedups.check_passwords_for_real(monkeypatch)
    return runs


def test_unknown_user_costs_one_hash_run_like_a_wrong_password(world, auth, scrypt_runs):
    from portal.services.platform import accounts

    accounts.verify_credentials(db.session, "nobody", "warm-up-123")  # the dummy hash is made once per process
    scrypt_runs.clear()
    auth.login("khong-ton-tai", "whatever-123")
    unknown = len(scrypt_runs)
    scrypt_runs.clear()
    auth.login("head", "wrong-password-1")
    assert unknown == len(scrypt_runs) == 1


def test_a_locked_attempt_runs_no_hash_and_writes_no_audit_entry(world, auth, scrypt_runs):
    for _ in range(5):
        auth.login("member", "wrong-password-1")
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    scrypt_runs.clear()
    for _ in range(3):
        assert auth.login("member").status_code == 422
    assert scrypt_runs == []
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries


# --- passwords a person chooses: not common, not guessable ---


def _change_password(client, new_password: str):
    data = {"current_password": factories.PASSWORD, "new_password": new_password, "confirm": new_password}
    return client.post("/password", data=data)


@pytest.mark.parametrize(
    "password, reason",
    [
        ("password12", "quá phổ biến hoặc dễ đoán"),
        ("aaaaaaaaa1", "quá ít ký tự khác nhau"),
        ("1234567890!", "dãy ký tự liền nhau"),
        ("Head-2026-x!", "không được chứa tên đăng nhập"),
        ("HEAD.secure.77", "không được chứa tên đăng nhập"),
        ("AnBinh#2026x", "họ tên của bạn hoặc tên đơn vị"),  # the unit: UBND phường An Bình
        ("ThiDua@2026", "tên cổng thông tin"),  # the demo password
        ("Thi-Đua-so-1!", "tên cổng thông tin"),
        ("iloveyou2026", "quá phổ biến hoặc dễ đoán"),
    ],
)
def test_common_and_guessable_passwords_are_refused_with_the_reason(world, auth, client, password, reason):
    auth.login("head")
    response = _change_password(client, password)
    assert response.status_code == 422 and reason in response.text
    assert 'id="new_password-error"' in response.text  # next to the field
    assert db.session.get(User, world.users["head"].id).check_password(factories.PASSWORD)


def test_a_strong_password_is_accepted(world, auth, client):
    auth.login("head")
    assert _change_password(client, "Sông-Tiền chảy 9 nhánh").status_code == 303
    assert db.session.get(User, world.users["head"].id).check_password("Sông-Tiền chảy 9 nhánh")


def test_password_reasons_speak_english_in_english(world, auth, client):
    auth.login("head")
    client.post("/language/en", data={"next": "/"})
    response = _change_password(client, "password12")
    assert response.status_code == 422 and "too common or too easy to guess" in response.text


def test_password_policy_as_plain_python():
    from portal.services.platform import passwords
    from portal.services.platform.accounts import temporary_password

    assert passwords.problem("Mật khẩu", username="x") == "short"
    assert passwords.problem("nguyenvanan-77", username="an.nv", names=["Nguyễn Văn An"]) == "names"
    assert passwords.problem("x-Dong-Thap-2026", username="abc", names=["tỉnh Đồng Tháp"]) == "names"
    assert passwords.problem("qwertyuiop", username="abc") == "one_kind"
    assert passwords.problem("qwertyuiop1", username="abc") in ("sequence", "common")
    assert all(passwords.problem(temporary_password(), username="syt") is None for _ in range(20))


def test_create_admin_refuses_a_common_password(app, runner):
    result = runner.invoke(args=["create-admin", "--username", "quantri", "--password", "password123"])
    assert result.exit_code != 0 and "quá phổ biến" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    ok = runner.invoke(args=["create-admin", "--username", "quantri", "--password", "Lúa-chín 7 vàng đồng"])
    assert ok.exit_code == 0, ok.output


# --- every `next` through the one validator ---

HOSTILE_NEXT = [
    "https://evil.example/phish",
    "//evil.example/phish",
    "/\\evil.example/phish",
    "/\t/evil.example/phish",
    "javascript:alert(1)",
    "http:/evil.example",
]


def test_delegation_does_not_redirect_off_site(world, auth, client, hx):
    """The issue's finding: POST …/delegation with next=https://evil.example/phish answered 303 to it."""
    auth.login("head")
    url = f"/criteria/{world.cluster.id}/2026/delegation"
    page = client.post(url, data={"deputy_may_lead": "y", "next": "https://evil.example/phish"})
    assert page.status_code == 303 and page.headers["Location"] == f"/criteria/{world.cluster.id}/2026"
    htmx = hx.post(url, data={"next": "https://evil.example/phish"})
    assert htmx.headers["HX-Redirect"] == f"/criteria/{world.cluster.id}/2026"
    local = client.post(url, data={"next": f"/criteria/{world.cluster.id}/2026?tab=1"})
    assert local.headers["Location"] == f"/criteria/{world.cluster.id}/2026?tab=1"


def _next_views(world):
    """Every view that reads `next`: (who signs in first, method, url, where `next` goes, fallback)."""
    delegation = f"/criteria/{world.cluster.id}/2026/delegation"
    return [
        (None, "/login?next={next}", None, "/", {"username": "secretariat", "password": factories.PASSWORD}),
        ("head", "/language/en", "form", "/", {}),
        ("head", delegation, "form", f"/criteria/{world.cluster.id}/2026", {}),
    ]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_no_view_redirects_to_a_hostile_next(world, app, target):
    from urllib.parse import quote

    for who, url, where, fallback, data in _next_views(world):
        app.test_client_class = IsolatedClient
        client = app.test_client()
        if who:
            client.post("/login", data={"username": who, "password": factories.PASSWORD})
        response = client.post(
            url.format(next=quote(target, safe="")), data={**data, **({"next": target} if where else {})}
        )
        assert response.status_code == 303 and response.headers["Location"] == fallback, (url, target)


def test_every_view_that_reads_next_is_in_the_list(world):
    """A new `next` reader must join the parametrised test above (and use portal.redirects.safe_next)."""
    import pathlib
    import re

    readers = set()
    for path in pathlib.Path("portal").rglob("*.py"):
        if re.search(r"request\.(args|form|values)\.get\(\s*[\"']next[\"']", path.read_text()):
            readers.add(str(path))
    assert readers == {"portal/auth/views.py", "portal/criteria/views.py"}
    for path in readers:
        text = pathlib.Path(path).read_text()
        assert text.count('get("next")') == text.count("safe_next(request."), path
