"""`accounts.authenticate`, without the web: the throttle, the password check, the audit entries, the answer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEntry
from portal.services.platform import accounts
from portal.services.platform.throttle import sign_in_throttle
from tests import factories

ADDRESS = "198.51.100.9"


@pytest.fixture
def throttle(app):
    return sign_in_throttle(db.session, None, per_address=2, per_user=3, lock_seconds=60)


def _attempt(throttle, username: str, password: str = factories.PASSWORD, address: str = ADDRESS):
    attempt = accounts.authenticate(db.session, username, password, throttle=throttle, address=address)
    db.session.commit()
    return attempt


def _failures() -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.summary).where(AuditEntry.action == "login_failed").order_by(AuditEntry.id)
        )
    )


def test_the_right_password_gives_the_user_whatever_the_case_and_spaces(world, throttle):
    assert _attempt(throttle, "  HEAD ") == accounts.SignInAttempt(world.users["head"])
    assert _failures() == []


def test_a_wrong_password_an_unknown_name_and_an_inactive_account_get_the_same_answer(world, throttle):
    world.users["member"].active = False
    db.session.commit()
    for username, password in (("head", "wrong-password-1"), ("khong-ton-tai", "x"), ("member", factories.PASSWORD)):
        assert _attempt(throttle, username, password) == accounts.SignInAttempt(None), username
    assert _failures() == [
        "Đăng nhập thất bại: head",
        "Đăng nhập thất bại: khong-ton-tai",
        "Đăng nhập thất bại: member",
    ]


def test_the_failure_that_locks_is_audited_as_the_lock_and_the_locked_attempt_not_at_all(world, throttle):
    _attempt(throttle, "head", "wrong-password-1")
    _attempt(throttle, "head", "wrong-password-1")
    assert _failures()[-1] == "Tạm khóa đăng nhập “head” sau nhiều lần sai"
    assert _attempt(throttle, "head") == accounts.SignInAttempt(None, locked=True)  # even the right password
    assert len(_failures()) == 2
    assert _attempt(throttle, "head", address="192.0.2.44").user == world.users["head"]  # from elsewhere


def test_success_clears_the_address_counter_only(world, throttle):
    _attempt(throttle, "head", "wrong-password-1")
    assert _attempt(throttle, "head").user is not None
    _attempt(throttle, "head", "wrong-password-1")
    assert not _attempt(throttle, "head").locked  # one failure since the success, from this address
    _attempt(throttle, "head", "wrong-password-1", address="192.0.2.44")  # the third for the username
    assert _attempt(throttle, "head").locked
