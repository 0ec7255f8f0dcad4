"""The audit log: who changed what, when, from what to what."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import N_, rewrite_guard, utcnow

ACTIONS = {
    "create": N_("Tạo mới"),
    "update": N_("Cập nhật"),
    "delete": N_("Xóa"),
    "login": N_("Đăng nhập"),
    "login_failed": N_("Đăng nhập thất bại"),
    "logout": N_("Đăng xuất"),
    "password": N_("Đổi mật khẩu"),
    "import": N_("Nhập Excel"),
    "event": N_("Sự kiện"),
}


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_object", "object_type", "object_id"),
        Index("ix_audit_entries_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # No foreign key: the log outlives the accounts and objects it names.
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(16))
    object_type: Mapped[str] = mapped_column(String(64), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    object_label: Mapped[str] = mapped_column(String(255), default="")
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    summary: Mapped[str] = mapped_column(Text, default="")
    # the hash chain of the entries written before the sealer (migration 3c9e…): kept as they were; an entry
    # written since has none here, its link is its row in `audit_seals`
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)


class AuditSeal(db.Model):
    """One link of the hash chain (services/platform/audit_seal.py): the entry sealed at `position`, the hash of
    the link before and its own hash over the entry's content and that previous hash. Written by the sealer
    only, insert-only like the entries, checked by `flask audit verify` in position order."""

    __tablename__ = "audit_seals"

    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # no foreign key, like the entries' own columns: a deleted entry must leave its seal for verify to find
    entry_id: Mapped[int] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


# On PostgreSQL the database itself keeps the log append-only: UPDATE and DELETE of an entry
# raise, unless the transaction says `SET LOCAL portal.audit_rewrite = 'on'` (only `flask restore`
# does, to replace the whole database). The hash chain still detects what a database owner could do.
APPEND_ONLY = rewrite_guard("audit_entries", "audit_entries_append_only", "audit_entries is append-only")
APPEND_ONLY_FUNCTION, APPEND_ONLY_TRIGGER, DROP_APPEND_ONLY = (
    APPEND_ONLY.function,
    APPEND_ONLY.trigger,
    APPEND_ONLY.drop,
)
APPEND_ONLY.attach(AuditEntry.__table__)

SEALS_APPEND_ONLY = rewrite_guard("audit_seals", "audit_seals_append_only", "audit_seals is append-only")
SEALS_APPEND_ONLY.attach(AuditSeal.__table__)
