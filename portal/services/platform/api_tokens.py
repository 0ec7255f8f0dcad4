"""API tokens: create (the secret is returned once), revoke, and authenticate a bearer secret.

Only the SHA-256 of a secret is stored. A secret is `tdk_` and 43 URL-safe characters
(32 random bytes), so the hash alone identifies it; the stored hash is still compared
in constant time before the token is trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from portal.formatting import vn_day_of, vn_end_of_day
from portal.models import ApiToken, User
from portal.models.base import N_, utcnow
from portal.services import DomainError

SECRET_PREFIX = "tdk_"
SECRET_PATTERN = re.compile(r"^tdk_[A-Za-z0-9_-]{43}$")
PREFIX_LENGTH = 8
MAX_ACTIVE_TOKENS = 20
NAME_MAX = 100
# last use is a hint for the user, not an audit trail: write it at most once a minute per token
LAST_USED_RESOLUTION = timedelta(minutes=1)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def create(
    session: Session, user: User, name: str | None, expires_on: date | None = None, now: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for `user`, valid through `expires_on` (Vietnam time) if given. Returns it and its secret."""
    now = now or utcnow()
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(N_("Nhập tên khóa API (ví dụ: Hệ thống một cửa)."), "name")
    if len(name) > NAME_MAX:
        raise DomainError(N_("Tên khóa API tối đa %(length)s ký tự."), "name", length=NAME_MAX)
    if expires_on is not None and expires_on <= vn_day_of(now):
        raise DomainError(N_("Ngày hết hạn phải sau hôm nay."), "expires_on")
    active = session.scalar(
        select(func.count())
        .select_from(ApiToken)
        .where(
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
            (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now),
        )
    )
    if active >= MAX_ACTIVE_TOKENS:
        raise DomainError(
            N_("Mỗi tài khoản có tối đa %(count)s khóa API còn hiệu lực; hãy thu hồi bớt."),
            "name",
            count=MAX_ACTIVE_TOKENS,
        )
    secret = new_secret()
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        token_hash=hash_secret(secret),
        expires_at=vn_end_of_day(expires_on) if expires_on else None,
        created_at=now,
    )
    session.add(token)
    session.flush()
    return token, secret


def revoke(session: Session, token: ApiToken, now: datetime | None = None) -> None:
    """Stop a token for good; revoking it twice changes nothing."""
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        session.flush()


def authenticate(session: Session, secret: str, now: datetime | None = None) -> tuple[ApiToken, User] | None:
    """The token and its user for a bearer secret, or None (unknown, revoked, expired, or user locked).

    One query; when the token was last marked used more than a minute ago its
    `last_used_at` is updated (the caller commits).
    """
    if not SECRET_PATTERN.match(secret or ""):
        return None
    digest = hash_secret(secret)
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest).options(joinedload(ApiToken.user)))
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    now = now or utcnow()
    if token.status(now) != "active" or not token.user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        session.flush()
    return token, token.user
