"""Accounts. A user belongs to the secretariat, to a unit, or to a council member;
what a unit's user may do in a cluster comes from the year's memberships and terms."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.models.base import N_, Audited, LabelledEnum, Timestamped, keep_text_keys, one_of
from portal.models.org import CouncilMember, Unit


class UserKind(LabelledEnum):
    SECRETARIAT = "secretariat", N_("Ban Thi đua - Khen thưởng (Sở Nội vụ)")
    COUNCIL = "council", N_("Thành viên Hội đồng TĐ-KT")
    UNIT = "unit", N_("Người dùng đơn vị")


USER_KINDS = UserKind.labels()


class User(UserMixin, Audited, Timestamped, db.Model):
    __tablename__ = "users"
    __audit_exclude__ = frozenset({"password_hash", "last_login_at", "search_key"})
    __table_args__ = (
        CheckConstraint(one_of("kind", UserKind), name="kind"),
        CheckConstraint(f"(kind = '{UserKind.UNIT}') = (unit_id IS NOT NULL)", name="unit_user_has_unit"),
        CheckConstraint(
            f"(kind = '{UserKind.COUNCIL}') = (council_member_id IS NOT NULL)", name="council_user_has_member"
        ),
        CheckConstraint("length(username) >= 3", name="username_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(128), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    council_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("council_members.id", ondelete="CASCADE"), index=True
    )
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    search_key: Mapped[str] = mapped_column(Text, default="")  # username, full name, e-mail (portal.vntext)

    unit: Mapped[Unit | None] = relationship()
    council_member: Mapped[CouncilMember | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def kind_label(self) -> str:
        return USER_KINDS[self.kind]

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)  # scrypt by default

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def audit_label(self) -> str:
        return self.username


keep_text_keys(User, "full_name", search=("username", "full_name", "email"))


class LoginFailure(db.Model):
    """Failed sign-in counter per key (username or address), shared by all workers."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime] = mapped_column(DateTime)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)


class UserSession(db.Model):
    """One sign-in: the browser's session cookie carries a random secret whose SHA-256 is `token_hash`.

    A session is valid until `expires_at` unless revoked (sign-out, "Kết thúc", a password change
    or reset, a locked account), so ending it on the server ends it everywhere the cookie went.
    """

    __tablename__ = "user_sessions"
    __table_args__ = (CheckConstraint("length(token_hash) = 64", name="token_hash_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    address: Mapped[str] = mapped_column(String(64), default="")

    user: Mapped[User] = relationship()
