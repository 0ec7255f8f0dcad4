"""The e-mail digest: at most one message a day per user who asked for it, listing the notices not yet read.

Off unless the user turns it on (a `NoticePreference` row). `flask notices digest` (daily, when
MAIL_SERVER is set) sends it; `last_digest_at` records the moment, so a second run on the same
Vietnam day sends nothing, and the next digest lists only what came after. Every digest carries an
unsubscribe link: a token signed with the portal's SECRET_KEY (itsdangerous), which works without
signing in and turns the digest off.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.formatting import vn_date, vn_datetime, vn_day_of
from portal.models import NoticePreference, Notification, User
from portal.models.base import N_
from portal.models.notices import NOTICE_KINDS
from portal.services import DomainError
from portal.services.notices import inbox
from portal.services.platform import mail

SALT = "notices-digest-unsubscribe"
MOST = 50  # notices listed in one digest; the rest are on the notices page


def preference(session: Session, user_id: int) -> NoticePreference | None:
    return session.get(NoticePreference, user_id)


def set_digest(session: Session, user: User, on: bool) -> NoticePreference:
    """Turn the user's daily digest on or off (audited: NoticePreference is in the audit log)."""
    if on and not (user.email or "").strip():
        raise DomainError(
            N_("Tài khoản chưa có địa chỉ e-mail; đề nghị Ban TĐ-KT bổ sung trước khi đăng ký."), "digest"
        )
    found = preference(session, user.id)
    if found is None:
        found = NoticePreference(user_id=user.id, digest=on)
        session.add(found)
    found.digest = on
    session.flush()
    return found


def unsubscribe_token(secret: str, user_id: int) -> str:
    return URLSafeSerializer(secret, salt=SALT).dumps(user_id)


def user_for_token(session: Session, secret: str, token: str) -> User | None:
    """The user an unsubscribe token was made for; None for a tampered or foreign token."""
    try:
        user_id = URLSafeSerializer(secret, salt=SALT).loads(token)
    except BadSignature:
        return None
    return session.get(User, user_id) if isinstance(user_id, int) else None


@dataclass
class Pending:
    user: User
    preference: NoticePreference
    notices: list[Notification]


def due(session: Session, now: datetime) -> list[Pending]:
    """Users to mail today: digest on, active, with an address, none sent yet this Vietnam day, something unread
    since the last one. Two queries whatever the number of users."""
    today = vn_day_of(now)
    rows = session.execute(
        select(User, NoticePreference)
        .join(NoticePreference, NoticePreference.user_id == User.id)
        .where(NoticePreference.digest.is_(True), User.active.is_(True), User.email != "")
        .order_by(User.id)
    ).all()
    waiting = {user.id: (user, pref) for user, pref in rows if vn_day_of(pref.last_digest_at) != today}
    if not waiting:
        return []
    unread = session.scalars(
        select(Notification)
        .where(Notification.user_id.in_(list(waiting)), Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    found: dict[int, list[Notification]] = {}
    for notice in unread:
        last = waiting[notice.user_id][1].last_digest_at
        if last is None or notice.created_at > last:
            found.setdefault(notice.user_id, []).append(notice)
    return [Pending(*waiting[user_id], notices) for user_id, notices in found.items()]


def compose(
    pending: Pending,
    link: Callable[[Notification], str],
    unsubscribe_url: str,
    now: datetime,
    translate: Callable[[str], str] = str,
):
    """Subject and plain-text body, in the language of `translate` (gettext under the reader's locale;
    Vietnamese as written without it)."""
    notices = pending.notices[:MOST]
    lines = [
        f"- [{translate(NOTICE_KINDS[n.kind])}] {inbox.words(n, translate)} ({vn_datetime(n.created_at)})\n  {link(n)}"
        for n in notices
    ]
    more = len(pending.notices) - len(notices)
    if more:
        lines.append(translate(N_("… và %(more)s thông báo khác trên cổng.")) % {"more": more})
    subject = translate(N_("Thông báo thi đua chưa đọc ngày %(day)s (%(count)s)")) % {
        "day": vn_date(vn_day_of(now)),
        "count": len(pending.notices),
    }
    body = (
        translate(N_("Kính gửi %(name)s,")) % {"name": pending.user.full_name or pending.user.username}
        + "\n\n"
        + translate(N_("Các thông báo mới trên cổng thi đua Cụm, Khối mà anh/chị chưa đọc:"))
        + "\n\n"
        + "\n".join(lines)
        + "\n\n"
        + translate(N_("Thư này được gửi mỗi ngày một lần khi có thông báo mới."))
        + "\n"
        + translate(N_("Thôi nhận thư tổng hợp: %(url)s")) % {"url": unsubscribe_url}
        + "\n"
    )
    return subject, body


def send(session: Session, config: Mapping, pending: Pending, subject: str, body: str, now: datetime) -> None:
    """Mail one user's digest and record the moment (raises `mail.MailError`; nothing is recorded then)."""
    mail.send(config, [pending.user.email], subject, body)
    pending.preference.last_digest_at = now
    session.flush()
