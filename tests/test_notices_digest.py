"""The daily e-mail digest: only to those who asked, once a Vietnam day, only what is new and unread, with a
working unsubscribe link; `flask notices digest` is safe to run as often as cron likes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEntry, NoticePreference, Notification
from portal.models.base import utcnow
from portal.models.notices import NoticeKind
from portal.services.notices import digest, events
from portal.services.platform import mail
from tests import factories

PORTAL = "https://thidua.example.gov.vn"


@pytest.fixture
def sent(monkeypatch):
    """The messages `mail.send` was asked to send, as (recipients, subject, body) — as in test_reminders."""
    messages = []
    monkeypatch.setattr(
        mail, "send", lambda config, recipients, subject, body: messages.append((recipients, subject, body))
    )
    return messages


@pytest.fixture
def mailing(app):
    app.config.update(MAIL_SERVER="smtp.example.vn", MAIL_SENDER="thiduacum@example.vn", PORTAL_URL=PORTAL)
    return app


def _subscribe(user, email: str) -> None:
    user.email = email
    digest.set_digest(db.session, user, True)
    db.session.commit()


def _notice(world, name: str, text: str, at: datetime | None = None) -> None:
    events.notify(
        db.session,
        [world.users[name].id],
        NoticeKind.VERIFICATION_SENT,
        cluster_id=world.cluster.id,
        year_id=world.year.id,
        message=text,
        params={},
        endpoint="scoring.for_cluster",
        args={"cluster_id": world.cluster.id, "year": world.year.year},
        now=at,
    )
    db.session.commit()


def _last_sent(user):
    return db.session.get(NoticePreference, user.id).last_digest_at


def test_one_digest_to_the_subscriber_with_links_and_an_unsubscribe_link(world, mailing, runner, client, sent):
    _subscribe(world.users["member"], "vanthu@tanhong.gov.vn")
    world.users["head"].email = "head@anbinh.gov.vn"  # an address, but no digest asked for
    db.session.commit()
    for name in ("member", "head"):
        _notice(world, name, "Trưởng cụm đã gửi kết quả thẩm định.")
    result = runner.invoke(args=["notices", "digest"])
    assert result.exit_code == 0 and "Đã gửi 1 thư" in result.output
    [(recipients, subject, body)] = sent
    assert recipients == ["vanthu@tanhong.gov.vn"]
    assert subject.startswith("Thông báo thi đua chưa đọc ngày ") and subject.endswith("(1)")
    assert f"{PORTAL}/scoring/{world.cluster.id}/{world.year.year}" in body
    assert "Trưởng cụm đã gửi kết quả thẩm định." in body
    unsubscribe = next(line for line in body.splitlines() if line.startswith("Thôi nhận thư tổng hợp: "))
    url = unsubscribe.split(": ", 1)[1]
    assert url.startswith(f"{PORTAL}/notices/unsubscribe/")
    assert client.post(urlsplit(url).path).status_code == 200
    assert db.session.get(NoticePreference, world.users["member"].id).digest is False
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "digest_sent")).changes == {
        "sent": 1,
        "failed": 0,
    }


def test_at_most_one_digest_a_day_and_only_what_is_new(world, mailing, runner, sent):
    _subscribe(world.users["member"], "vanthu@tanhong.gov.vn")
    _notice(world, "member", "Thông báo thứ nhất")
    runner.invoke(args=["notices", "digest"])
    _notice(world, "member", "Thông báo thứ hai")
    again = runner.invoke(args=["notices", "digest"])
    assert again.exit_code == 0 and "Đã gửi 0 thư" in again.output and len(sent) == 1
    with time_machine.travel(datetime.now(UTC) + timedelta(days=1), tick=True):
        runner.invoke(args=["notices", "digest"])
    assert len(sent) == 2
    assert "Thông báo thứ hai" in sent[1][2] and "Thông báo thứ nhất" not in sent[1][2]


def test_nothing_unread_nothing_sent(world, mailing, runner, sent):
    _subscribe(world.users["member"], "vanthu@tanhong.gov.vn")
    _notice(world, "member", "Đã đọc rồi")
    db.session.execute(Notification.__table__.update().values(read_at=utcnow()))
    db.session.commit()
    assert "Đã gửi 0 thư" in runner.invoke(args=["notices", "digest"]).output
    assert sent == [] and _last_sent(world.users["member"]) is None


def test_without_mail_set_up_the_command_sends_nothing(world, runner, sent):
    _subscribe(world.users["member"], "vanthu@tanhong.gov.vn")
    _notice(world, "member", "Một thông báo")
    result = runner.invoke(args=["notices", "digest"])
    assert result.exit_code == 0 and "Chưa cấu hình MAIL_SERVER" in result.output and sent == []


def test_without_the_portal_address_the_command_stops(world, mailing, runner, sent):
    mailing.config["PORTAL_URL"] = ""
    result = runner.invoke(args=["notices", "digest"])
    assert result.exit_code != 0 and "PORTAL_URL" in result.output


def test_a_refusing_mail_server_records_nothing_and_fails(world, mailing, runner, monkeypatch):
    def refuse(*args):
        raise mail.MailError("connection refused")

    monkeypatch.setattr(mail, "send", refuse)
    _subscribe(world.users["member"], "vanthu@tanhong.gov.vn")
    _notice(world, "member", "Một thông báo")
    result = runner.invoke(args=["notices", "digest"])
    assert result.exit_code == 1 and "Đã gửi 0 thư" in result.output
    assert _last_sent(world.users["member"]) is None  # tried again on the next run


def test_the_day_is_the_vietnam_day(world):
    """Sent at 23:00 in Vietnam; at 01:30 the next Vietnam day (still the same UTC day) the next one is due."""
    user = world.users["member"]
    _subscribe(user, "vanthu@tanhong.gov.vn")
    day = factories.past_date(5)
    evening = factories.vn_moment(day, 23, 0)
    after_midnight = factories.vn_moment(day + timedelta(days=1), 1, 30)
    assert evening.date() == after_midnight.date()  # the same UTC day
    _notice(world, "member", "Trước", at=evening - timedelta(hours=1))
    [pending] = digest.due(db.session, evening)
    pending.preference.last_digest_at = evening  # as digest.send records it
    db.session.commit()
    assert digest.due(db.session, evening + timedelta(minutes=30)) == []
    _notice(world, "member", "Sau", at=evening + timedelta(minutes=45))
    [pending] = digest.due(db.session, after_midnight)
    assert [n.text for n in pending.notices] == ["Sau"]


def test_inactive_users_and_users_without_an_address_get_no_digest(world):
    _subscribe(world.users["member"], "vanthu@tanhong.gov.vn")
    _subscribe(world.users["head"], "head@anbinh.gov.vn")
    world.users["head"].active = False
    db.session.commit()
    for name in ("member", "head"):
        _notice(world, name, "Một thông báo")
    world.users["member"].email = ""
    db.session.commit()
    assert digest.due(db.session, utcnow()) == []


def test_a_long_digest_lists_the_newest_and_counts_the_rest(world):
    _subscribe(world.users["member"], "vanthu@tanhong.gov.vn")
    start = utcnow() - timedelta(hours=2)
    for minute in range(digest.MOST + 3):
        _notice(world, "member", f"Thông báo {minute}", at=start + timedelta(minutes=minute))
    [pending] = digest.due(db.session, utcnow())
    subject, body = digest.compose(pending, lambda n: f"{PORTAL}/x", f"{PORTAL}/u", utcnow())
    assert subject.endswith(f"({digest.MOST + 3})")
    assert f"Thông báo {digest.MOST + 2}" in body and "Thông báo 2 (" not in body
    assert "… và 3 thông báo khác trên cổng." in body


def test_finding_the_due_digests_takes_two_queries_whatever_the_number_of_users(world, count_queries):
    _subscribe(world.users["member"], "vanthu@tanhong.gov.vn")
    _notice(world, "member", "Một thông báo")
    with count_queries() as few:
        assert len(digest.due(db.session, utcnow())) == 1
    for name in ("head", "deputy", "overseer", "council"):
        _subscribe(world.users[name], f"{name}@example.gov.vn")
        _notice(world, name, "Một thông báo")
    db.session.expire_all()
    with count_queries() as many:
        assert len(digest.due(db.session, utcnow())) == 5
    assert many() == few() == 2


def test_the_digest_speaks_the_language_the_reader_chose(world, mailing, runner, sent):
    from tests.publication_helpers import published

    member = world.users["member"]
    _subscribe(member, "vanthu@tanhong.gov.vn")
    member.locale = "en"  # as set by the language button while signed in
    db.session.commit()
    published(world)
    assert runner.invoke(args=["notices", "digest"]).exit_code == 0
    [(_recipients, subject, body)] = sent
    assert subject.startswith("Unread emulation notices on ") and body.startswith("Dear ")
    assert f"[Results published] {world.cluster.name}: the {world.year.year} emulation results have been" in body
    assert "Stop receiving the digest: " in body
