"""Shared column helpers and the mixin that puts a model under the audit log."""

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    """Naive UTC timestamp: both SQLite and PostgreSQL store it the same way."""
    return datetime.now(UTC).replace(tzinfo=None)


class Audited:
    """Models whose every insert, update and delete is written to the audit log."""

    __audit_exclude__: frozenset[str] = frozenset()

    def audit_label(self) -> str:
        return getattr(self, "name", None) or f"#{getattr(self, 'id', '?')}"


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
