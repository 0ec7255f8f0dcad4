"""Notices (thông báo): what a user waits on, one row per user, and their e-mail digest preference.

A Notification is written by the service that makes the event, in the same transaction,
for each user who must act (portal/services/notices/). Its link is an endpoint and its
arguments, built with url_for when shown, never stored HTML. Its words are a catalogue entry
(`message`, the Vietnamese msgid) and its values (`params`), put together in the reader's
language when shown or mailed; `text` keeps them put together in Vietnamese, and is all that
notices written before the catalogue entries have. Notifications are not in the
audit log: the event that made them is, and reading one changes nothing but the reader's own list.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import N_, Audited, LabelledEnum, one_of, utcnow


class NoticeKind(LabelledEnum):
    """The events a notice is about."""

    CRITERIA_PUBLISHED = "criteria_published", N_("Bảng tiêu chí được công bố")
    PLEDGE_TO_SIGN = "pledge_to_sign", N_("Giao ước cần ký")
    PLEDGE_TO_RESIGN = "pledge_to_resign", N_("Giao ước cần ký xác nhận lại")
    ROUND_OPENED = "round_opened", N_("Vòng chấm điểm được mở")
    DEADLINE_NEAR = "deadline_near", N_("Sắp đến hạn")
    VERIFICATION_SENT = "verification_sent", N_("Kết quả thẩm định được gửi")
    EXPLANATION_RECEIVED = "explanation_received", N_("Đã nhận giải trình")
    REVIEW_ASSIGNED = "review_assigned", N_("Được phân công chấm chéo")
    VOTE_OPENED = "vote_opened", N_("Mở bỏ phiếu")
    RESULTS_PUBLISHED = "results_published", N_("Kết quả được công bố")
    RESULTS_CORRECTED = "results_corrected", N_("Kết quả được đính chính")
    COUNCIL_DECIDED = "council_decided", N_("Hội đồng đã quyết định")


NOTICE_KINDS = NoticeKind.labels()


class Notification(db.Model):
    """One notice to one user about one event of a cluster-year; unread while `read_at` is empty."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(one_of("kind", NoticeKind), name="kind"),
        UniqueConstraint("user_id", "key"),  # an event that may repeat (a near deadline) is noticed once per user
        Index("ix_notifications_user_unread", "user_id", "read_at"),
        Index("ix_notifications_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(300))  # the Vietnamese text, as it read when written
    message: Mapped[str | None] = mapped_column(String(300))  # its catalogue entry (msgid); None on older rows
    params: Mapped[dict | None] = mapped_column(JSON)  # the values the entry names: %(cluster)s …
    endpoint: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict] = mapped_column(JSON, default=dict)
    key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def kind_label(self) -> str:
        return NOTICE_KINDS[self.kind]


class NoticePreference(Audited, db.Model):
    """A user's choice of a daily e-mail digest (off unless the user turns it on), and when the last one went."""

    __tablename__ = "notice_preferences"
    __audit_exclude__ = frozenset({"last_digest_at"})  # a digest sent is one audit event per run instead

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    last_digest_at: Mapped[datetime | None] = mapped_column(DateTime)  # naive UTC

    def audit_label(self) -> str:
        return f"Nhận thư tổng hợp thông báo (người dùng #{self.user_id})"
