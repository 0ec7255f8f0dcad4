"""Shared column helpers and the mixin that puts a model under the audit log."""

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.orm import Mapped, mapped_column


def N_(message: str) -> str:
    """Marks a Vietnamese label for the translation catalogue and returns it unchanged.

    Labels stay Vietnamese in the models (services, printouts and Excel files use them as they
    are); templates translate them where they are shown: {{ _(unit.sector_label) }}.
    """
    return message


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
