"""API tokens (khóa API): a user's keys for the JSON API, stored only as a SHA-256 hash.

The secret is shown once, when it is created; the portal keeps its first characters
(`prefix`, to tell keys apart in a list) and its hash. A token acts as its user,
with exactly that user's permissions, until it is revoked or expires or the user
is deactivated.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import Audited, Timestamped
from portal.models.users import User


class ApiToken(Audited, Timestamped, db.Model):
    __tablename__ = "api_tokens"
    # the hash never goes to the log; last use changes on every call and is not an event
    __audit_exclude__ = frozenset({"token_hash", "last_used_at"})
    __table_args__ = (
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        CheckConstraint("length(token_hash) = 64", name="token_hash_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # the secret's first characters, shown in lists
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the whole secret
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)  # last valid second, naive UTC

    user: Mapped[User] = relationship()

    def status(self, now: datetime) -> str:
        """active, revoked or expired."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now > self.expires_at:
            return "expired"
        return "active"

    def audit_label(self) -> str:
        return f"Khóa API {self.prefix}… ({self.name})"
