"""User accounts: who may have one, what a username looks like, signing in, temporary passwords.

A temporary password is generated here, returned once to the caller to show, and
kept nowhere but as a hash: the audit log leaves `password_hash` out of every
diff (see `User.__audit_exclude__`), and the events written here never name it.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from portal.models import CouncilMember, Unit, User
from portal.models.base import N_
from portal.models.users import USER_KINDS, UserKind
from portal.services import DomainError
from portal.services.platform import sessions
from portal.services.platform.audit import record_event
from portal.services.platform.throttle import SignInThrottle

USERNAME_PATTERN = re.compile(r"[a-z0-9._-]{3,64}")
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# No look-alikes (0/O, 1/l/I) so a password read aloud or copied from paper survives.
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
BULK_LIMIT = 50  # each password hash takes tens of milliseconds; keep one request short


def temporary_password() -> str:
    """Four groups of four random characters, e.g. 'k7Pm-x3Qa-Zt9c-Hw4e' (about 92 bits)."""
    groups = ("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)


def clean_username(raw: str | None) -> str:
    """Lowercase the username; refuse spaces, diacritics and other characters with a reason."""
    username = (raw or "").strip().lower()
    if not username:
        raise DomainError(N_("Vui lòng nhập tên đăng nhập."), "username")
    if any(ch.isspace() for ch in username):
        raise DomainError(N_("Tên đăng nhập không được có khoảng trắng."), "username")
    if any(unicodedata.combining(ch) or (ch.isalpha() and not ch.isascii()) for ch in username):
        raise DomainError(N_("Tên đăng nhập phải viết không dấu (a–z), ví dụ “nguyen.van.an”."), "username")
    if not 3 <= len(username) <= 64:
        raise DomainError(N_("Tên đăng nhập dài từ 3 đến 64 ký tự."), "username")
    if not USERNAME_PATTERN.fullmatch(username):
        raise DomainError(
            N_("Tên đăng nhập chỉ gồm chữ thường không dấu, chữ số, dấu chấm, gạch ngang, gạch dưới."), "username"
        )
    return username


def _clean_contact(full_name: str | None, email: str | None) -> tuple[str, str]:
    full_name = re.sub(r"\s+", " ", full_name or "").strip()
    email = (email or "").strip()
    if not full_name:
        raise DomainError(N_("Vui lòng nhập họ và tên."), "full_name")
    if email and not EMAIL_PATTERN.fullmatch(email):
        raise DomainError(N_("Địa chỉ e-mail không hợp lệ."), "email")
    return full_name, email


@cache
def _dummy_hash() -> str:
    """A hash of a random password with the real method and cost, made once per process."""
    return generate_password_hash(secrets.token_urlsafe(16))


def verify_credentials(session: Session, username: str, password: str) -> User | None:
    """The active user whose password this is, else None, after the same work either way:
    an unknown username is checked against a dummy hash of the same cost, so the time taken
    does not tell which usernames exist."""
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    matches = check_password_hash(user.password_hash if user is not None else _dummy_hash(), password)
    return user if user is not None and matches and user.active else None


@dataclass(frozen=True)
class SignInAttempt:
    """The answer to a sign-in: the user to sign in, else None. An unknown user, a wrong password, an
    inactive account and a lock get the same answer on the page; `locked` tells the last one apart."""

    user: User | None
    locked: bool = False


def authenticate(
    session: Session, username: str, password: str, *, throttle: SignInThrottle, address: str | None
) -> SignInAttempt:
    """A sign-in attempt from `address`, counted by the throttle and audited when it fails.

    A locked attempt runs no hash and writes no audit entry (the lock itself was logged once);
    a right password from this address clears its own counter."""
    username = username.strip().lower()
    if throttle.is_locked(username, address):
        return SignInAttempt(None, locked=True)
    user = verify_credentials(session, username, password)
    if user is not None:
        throttle.succeed(username, address)
        return SignInAttempt(user)
    if throttle.fail(username, address):
        record_event(session, "login_failed", f"Tạm khóa đăng nhập “{username[:64]}” sau nhiều lần sai")
    else:
        record_event(session, "login_failed", f"Đăng nhập thất bại: {username[:64]}")
    return SignInAttempt(None)


def _username_taken(session: Session, username: str) -> bool:
    return session.scalar(select(User.id).where(func.lower(User.username) == username).limit(1)) is not None


def create_user(
    session: Session,
    *,
    kind: str,
    username: str,
    full_name: str,
    email: str = "",
    unit_id: int | None = None,
    council_member_id: int | None = None,
) -> tuple[User, str]:
    """A new account that must change its password at first sign-in; returns it and the temporary password."""
    if kind not in USER_KINDS:
        raise DomainError(N_("Chọn loại tài khoản."), "kind")
    username = clean_username(username)
    full_name, email = _clean_contact(full_name, email)
    if _username_taken(session, username):
        raise DomainError(N_("Tên đăng nhập “%(username)s” đã được dùng."), "username", username=username)
    user = User(kind=kind, username=username, full_name=full_name, email=email, must_change_password=True)
    if kind == UserKind.UNIT:
        unit = session.get(Unit, unit_id) if unit_id else None
        if unit is None or not unit.active:
            raise DomainError(N_("Chọn đơn vị (đang hoạt động) cho tài khoản đơn vị."), "unit_id")
        user.unit = unit
    elif kind == UserKind.COUNCIL:
        member = session.get(CouncilMember, council_member_id) if council_member_id else None
        if member is None or not member.active:
            raise DomainError(N_("Chọn thành viên Hội đồng cho tài khoản Hội đồng."), "council_member_id")
        user.council_member = member
    password = temporary_password()
    user.set_password(password)
    session.add(user)
    session.flush()
    return user, password


def update_user(
    session: Session, user: User, *, full_name: str, email: str, active: bool, acting_user_id: int | None
) -> User:
    """Change the contact details and the active flag; nobody locks themself out."""
    full_name, email = _clean_contact(full_name, email)
    set_active(session, user, active, acting_user_id)
    user.full_name, user.email = full_name, email
    session.flush()
    return user


def set_active(session: Session, user: User, active: bool, acting_user_id: int | None) -> User:
    """Deactivate (the account can no longer sign in) or reactivate an account."""
    if not active and user.id == acting_user_id:
        raise DomainError(N_("Bạn không thể khóa tài khoản của chính mình."), "active")
    if user.active and not active:
        sessions.revoke_all(session, user)  # a locked account is signed out everywhere, now
    user.active = active
    session.flush()
    return user


def change_password(session: Session, user: User, new_password: str, *, keep=None) -> None:
    """The user sets their own password (already checked by services.passwords): every other
    session of theirs ends; `keep` (the one they are using) goes on."""
    user.set_password(new_password)
    user.must_change_password = False
    sessions.revoke_all(session, user, keep=keep)
    record_event(session, "password", "Đổi mật khẩu", user)
    session.flush()


def reset_password(session: Session, user: User, acting_user_id: int | None) -> str:
    """A new temporary password, to be changed at the next sign-in; returns it to show once."""
    if user.id == acting_user_id:
        raise DomainError(N_("Để đổi mật khẩu của chính mình, dùng trang “Đổi mật khẩu”."), "password")
    password = temporary_password()
    user.set_password(password)
    user.must_change_password = True
    sessions.revoke_all(session, user)  # whoever knew the old password is signed out
    record_event(session, "password", f"Cấp lại mật khẩu tạm thời cho tài khoản “{user.username}”", user)
    session.flush()
    return password


def _units_without_account():
    """Active units that have no account at all (a deliberately locked account still counts)."""
    has_account = select(User.id).where(User.unit_id == Unit.id).exists()
    return select(Unit).where(Unit.active, ~has_account)


def count_units_without_account(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(_units_without_account().subquery()))


def units_without_account(session: Session, limit: int = BULK_LIMIT) -> list[Unit]:
    return list(session.scalars(_units_without_account().order_by(Unit.sort_key).limit(limit)))


def username_for(unit: Unit, taken: set[str]) -> str:
    """'Sở Y tế' (SYT) -> 'syt'; 'UBND phường An Bình' -> 'ubnd-phuong-an-binh'; '-2', '-3' when taken."""
    text = (unit.short_name or unit.name).replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFD", text).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:56] or "donvi"
    if len(base) < 3:
        base = f"{base}-{unit.id}"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


def create_unit_accounts(session: Session, limit: int = BULK_LIMIT) -> list[tuple[User, str]]:
    """One account for each active unit without one (at most `limit`); returns (account, password) pairs."""
    units = units_without_account(session, limit)
    if not units:
        raise DomainError(N_("Mọi đơn vị đang hoạt động đều đã có tài khoản."))
    taken = set(session.scalars(select(func.lower(User.username))))
    created = []
    for unit in units:
        full_name = f"Cán bộ thi đua {unit.display_name}"[:128]
        user, password = create_user(
            session, kind=UserKind.UNIT, username=username_for(unit, taken), full_name=full_name, unit_id=unit.id
        )
        created.append((user, password))
    record_event(session, "event", f"Tạo {len(created)} tài khoản cho các đơn vị chưa có tài khoản")
    session.flush()
    return created
