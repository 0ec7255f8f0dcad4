"""Sign-in sessions: stored and revocable; renewed at sign-in; ended by sign-out, a password change, a
reset and a lock; remember-me at most 30 days; the "Phiên đăng nhập" page."""

import re
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEntry, User, UserSession
from portal.models.base import utcnow
from portal.services.platform import accounts
from tests import factories
from tests.conftest import IsolatedClient


@pytest.fixture
def browser(app):
    """A new, independent browser (its own cookie jar) for each call."""
    app.test_client_class = IsolatedClient
    return app.test_client


def _sign_in(client, username: str, password: str = factories.PASSWORD, remember: bool = False):
    data = {"username": username, "password": password} | ({"remember": "y"} if remember else {})
    response = client.post("/login", data=data)
    assert response.status_code == 303, response.text
    return response


def _copy_cookies(source, target) -> None:
    """What an attacker who captured the cookies (or a second tab) holds."""
    for cookie in source._cookies.values():
        target.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def _signed_in(client) -> bool:
    response = client.get("/")
    return response.status_code == 200


def test_cookies_captured_before_sign_out_no_longer_sign_in(world, browser):
    """The issue: after sign-out, the remember-me and session cookies still signed the user in."""
    victim, thief = browser(), browser()
    _sign_in(victim, "head", remember=True)
    _copy_cookies(victim, thief)
    assert _signed_in(thief)
    victim.post("/logout")
    assert not _signed_in(thief)
    assert not _signed_in(victim)


def test_a_password_change_ends_every_other_session(world, browser):
    laptop, phone = browser(), browser()
    _sign_in(laptop, "head", remember=True)
    _sign_in(phone, "head", remember=True)
    changed = laptop.post(
        "/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": "Sen-hồng-2026-moi",
            "confirm": "Sen-hồng-2026-moi",
        },
    )
    assert changed.status_code == 303
    assert _signed_in(laptop)  # the session that changed it goes on
    assert not _signed_in(phone)


def test_a_reset_ends_every_session_of_that_user(world, auth, browser):
    head, admin = browser(), browser()
    _sign_in(head, "head", remember=True)
    _sign_in(admin, "secretariat")
    assert admin.post(f"/accounts/{world.users['head'].id}/reset-password").status_code == 200
    response = head.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_lock_ends_every_session_even_after_unlocking(world, browser):
    head, admin = browser(), browser()
    _sign_in(head, "head", remember=True)
    _sign_in(admin, "secretariat")
    assert admin.post(f"/accounts/{world.users['head'].id}/deactivate").status_code == 303
    assert not _signed_in(head)
    assert admin.post(f"/accounts/{world.users['head'].id}/reactivate").status_code == 303
    assert not _signed_in(head)  # the old cookies stay dead: unlocking does not bring them back


def test_the_session_is_renewed_at_sign_in(world, browser):
    client = browser()
    with client.session_transaction() as session:
        session["planted"] = "by someone before sign-in"
        session["lang"] = "en"
    _sign_in(client, "head")
    with client.session_transaction() as session:
        assert "planted" not in session and session["lang"] == "en"
    first = db.session.scalar(select(UserSession).where(UserSession.revoked_at.is_(None)))
    client.post("/logout")
    _sign_in(client, "head")
    second = db.session.scalars(select(UserSession).where(UserSession.revoked_at.is_(None))).all()
    assert [s.id for s in second] != [first.id] and len(second) == 1  # a new stored session each time
    assert len(first.token_hash) == 64  # only a hash is stored


def test_the_pre_sign_in_csrf_token_is_refused_afterwards(world, app, browser):
    app.config["WTF_CSRF_ENABLED"] = True
    client = browser()
    page = client.get("/login")
    before = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    data = {"username": "head", "password": factories.PASSWORD, "csrf_token": before}
    assert client.post("/login", data=data).status_code == 303
    refused = client.post("/logout", data={"csrf_token": before})
    assert refused.status_code == 400 and _signed_in(client)
    after = re.search(r'"X-CSRFToken": "([^"]+)"', client.get("/").text).group(1)
    assert after != before
    assert client.post("/logout", data={"csrf_token": after}).status_code == 303 and not _signed_in(client)


def _set_cookies(response) -> dict[str, SimpleCookie]:
    cookies = {}
    for header in response.headers.getlist("Set-Cookie"):
        jar = SimpleCookie()
        jar.load(header)
        for key, morsel in jar.items():
            cookies[key] = (morsel, header)
    return cookies


def test_remember_me_lasts_at_most_30_days_lax_and_http_only(world, browser):
    """The issue: remember-me was valid 365 days, without SameSite."""
    from email.utils import parsedate_to_datetime

    response = _sign_in(browser(), "head", remember=True)
    cookies = _set_cookies(response)
    assert cookies, "sign-in sets a cookie"
    persistent = [name for name, (morsel, _h) in cookies.items() if morsel["expires"]]
    assert persistent, "remember-me keeps a persistent cookie"
    for morsel, header in cookies.values():
        assert "HttpOnly" in header and "SameSite=Lax" in header, header
        if morsel["expires"]:
            expires = parsedate_to_datetime(morsel["expires"]).replace(tzinfo=None)
            assert expires <= utcnow() + timedelta(days=30, minutes=1), header
    record = db.session.scalar(select(UserSession))
    assert record.remember and record.expires_at <= utcnow() + timedelta(days=30, minutes=1)


def test_without_remember_me_the_cookie_ends_with_the_browser(world, browser):
    cookies = _set_cookies(_sign_in(browser(), "head"))
    assert all(not morsel["expires"] for morsel, _h in cookies.values())
    record = db.session.scalar(select(UserSession))
    assert not record.remember and record.expires_at <= utcnow() + timedelta(hours=12, minutes=1)


def test_an_expired_session_no_longer_signs_in(world, browser):
    client = browser()
    _sign_in(client, "head", remember=True)
    record = db.session.scalar(select(UserSession))
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert not _signed_in(client)


def test_production_cookies_are_secure(monkeypatch):
    from portal import create_app

    monkeypatch.setenv("FLASK_CONFIG", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-value-from-the-deployment")
    config = create_app().config
    assert config["SESSION_COOKIE_SECURE"] and config["SESSION_COOKIE_HTTPONLY"]
    assert config["SESSION_COOKIE_SAMESITE"] == config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert config["REMEMBER_COOKIE_SECURE"] and config["REMEMBER_COOKIE_HTTPONLY"]
    assert config["REMEMBER_COOKIE_DURATION"] <= timedelta(days=30)
    assert config["PERMANENT_SESSION_LIFETIME"] <= timedelta(days=30)


def test_last_seen_is_written_at_most_every_few_minutes(world, browser, count_queries):
    client = browser()
    _sign_in(client, "head")
    client.get("/")
    with count_queries() as quiet:
        client.get("/")
    record = db.session.scalar(select(UserSession))
    seen = record.last_seen_at
    record.last_seen_at = seen - timedelta(minutes=10)
    db.session.commit()
    with count_queries() as touched:
        client.get("/")
    assert db.session.scalar(select(UserSession.last_seen_at)) > seen - timedelta(minutes=10)
    assert touched() == quiet() + 1  # one UPDATE, only when the hint is stale


# --- the "Phiên đăng nhập" page ---


def test_sessions_page_lists_mine_and_marks_this_one(world, browser):
    laptop, phone, other = browser(), browser(), browser()
    _sign_in(laptop, "head")
    phone.post(
        "/login",
        data={"username": "head", "password": factories.PASSWORD},
        headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"},
        environ_base={"REMOTE_ADDR": "192.0.2.77"},
    )
    _sign_in(other, "member")
    page = laptop.get("/account/sessions")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert len(re.findall(r'id="session-\d+"', page.text)) == 2  # the member's session is not listed
    assert "Chrome · Android" in page.text and "192.0.2.77" in page.text
    assert page.text.count("Phiên này") == 1
    assert "Phiên đăng nhập" in laptop.get("/").text  # in the account menu


def test_ending_one_session_and_all_others(world, browser):
    laptop, phone, tablet, other = browser(), browser(), browser(), browser()
    for client in (laptop, phone, tablet):
        _sign_in(client, "head")
    _sign_in(other, "member")
    head_id = world.users["head"].id
    sessions = db.session.scalars(
        select(UserSession).where(UserSession.user_id == head_id).order_by(UserSession.id)  # as signed in
    ).all()
    phone_session = sessions[1]
    ended = laptop.post(f"/account/sessions/{phone_session.id}/end")
    assert ended.status_code == 303 and ended.headers["Location"] == "/account/sessions"
    assert not _signed_in(phone) and _signed_in(laptop) and _signed_in(tablet)
    members = db.session.scalar(select(UserSession.id).where(UserSession.user_id == world.users["member"].id))
    assert laptop.post(f"/account/sessions/{members}/end").status_code == 404  # someone else's: not found
    assert _signed_in(other)
    assert laptop.post("/account/sessions/end-others").status_code == 303
    assert _signed_in(laptop) and not _signed_in(tablet) and _signed_in(other)
    summaries = db.session.scalars(select(AuditEntry.summary).where(AuditEntry.user_id == head_id)).all()
    assert any("Kết thúc phiên đăng nhập" in s for s in summaries)
    assert any("Kết thúc 1 phiên đăng nhập khác" in s for s in summaries)


def test_ending_this_session_signs_out(world, browser):
    client = browser()
    _sign_in(client, "head")
    mine = db.session.scalar(select(UserSession.id))
    assert client.post(f"/account/sessions/{mine}/end").status_code == 303
    assert not _signed_in(client)


def test_ending_a_session_needs_the_csrf_token(world, app, browser):
    app.config["WTF_CSRF_ENABLED"] = True
    client, phone = browser(), browser()
    page = client.get("/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    client.post("/login", data={"username": "head", "password": factories.PASSWORD, "csrf_token": token})
    _sign_in_with_csrf(phone, "head")
    assert client.post("/account/sessions/end-others").status_code == 400
    assert _signed_in(phone)


def _sign_in_with_csrf(client, username):
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": username, "password": factories.PASSWORD, "csrf_token": token})


def test_sessions_page_queries_do_not_grow_with_sessions(world, browser, count_queries):
    client = browser()
    _sign_in(client, "head")
    client.get("/account/sessions")
    with count_queries() as few:
        client.get("/account/sessions")
    for _ in range(6):
        _sign_in(browser(), "head")
    with count_queries() as many:
        page = client.get("/account/sessions")
    assert len(re.findall(r'id="session-\d+"', page.text)) == 7 and many() == few()


def test_old_ended_sessions_are_cleared_at_sign_in(world, browser):
    _sign_in(browser(), "head")
    old = db.session.scalar(select(UserSession))
    old.revoked_at = utcnow() - timedelta(days=31)
    db.session.commit()
    _sign_in(browser(), "head")
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1


def test_services_revoke_all_keeps_only_the_given_session(world):
    from portal.services.platform import sessions
    from tests.signin import LIFETIMES

    user = db.session.get(User, world.users["head"].id)
    first, _ = sessions.start(db.session, user, remember=False, lifetimes=LIFETIMES)
    second, _ = sessions.start(db.session, user, remember=True, lifetimes=LIFETIMES)
    assert sessions.revoke_all(db.session, user, keep=second) == 1
    db.session.commit()
    assert [s.id for s in sessions.live_sessions(db.session, user)] == [second.id]
    accounts.reset_password(db.session, user, acting_user_id=None)
    db.session.commit()
    assert sessions.live_sessions(db.session, user) == []
