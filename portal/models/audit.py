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
    # the hash chain (services/platform/audit_chain.py): tamper-evident, checked by `flask audit verify`
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)


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
