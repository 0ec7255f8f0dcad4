"""Reminders to the units that have not submitted their self-assessment: who is late, what is sent, what is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assessment, AuditEntry
from portal.services.platform import mail
from portal.services.scoring import assessments, reminders
from tests import factories

MAIL = {"MAIL_SERVER": "smtp.example.vn", "MAIL_SENDER": "thiduacum@example.vn"}


@pytest.fixture
def opened(world):
    cset, items = factories.scoring_table(world)
    due = factories.future_date(20)
    assessments.open_self_round(db.session, cset, deadline=factories.vn_moment(due, 23, 59, 59))
    db.session.commit()
    return items, due


def _submit(unit, items) -> None:
    own = db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == unit.id))
    for key, raw in (("quant", "60"), ("direct", "25,5"), ("pass", "dat"), ("bonus", "1"), ("minus", "0")):
        assessments.save_score(db.session, own, items[key], raw, "căn cứ", expected_revision=None, user_id=None)
    assessments.submit(db.session, own, None)
    db.session.commit()


@pytest.fixture
def sent(monkeypatch):
    """The messages `mail.send` was asked to send, as (recipients, subject, body)."""
    messages = []
    monkeypatch.setattr(
        mail, "send", lambda config, recipients, subject, body: messages.append((recipients, subject, body))
    )
    return messages


def test_nobody_is_late_before_the_round_opens(world):
    found = reminders.for_cluster_year(db.session, world.cluster, world.year)
    assert found.late == [] and found.recipients == []


def test_the_late_units_are_those_that_have_not_submitted(world, opened):
    items, due = opened
    _submit(world.head, items)
    found = reminders.for_cluster_year(db.session, world.cluster, world.year)
    assert {row.unit.id for row in found.late} == {world.deputy.id, world.member.id}
    assert world.head.name not in found.body
    assert world.member.name in found.body and world.deputy.name in found.body
    assert f"trước {factories.vn_format(due)} 23:59" in found.body  # the deadline in Vietnam time
    assert found.subject == f"Nhắc nộp bản tự chấm điểm thi đua năm {world.year.year}"


def test_every_address_of_the_late_units_once_in_order(world, opened):
    factories.user("member2", unit=world.member).email = "vanthu@tanhong.gov.vn"
    factories.user("member3", unit=world.member).email = "a@tanhong.gov.vn"
    factories.user("deputy2", unit=world.deputy).email = "vanthu@tanhong.gov.vn"  # shared by two units
    factories.user("head2", unit=world.head).email = "head@anbinh.gov.vn"
    locked = factories.user("member4", unit=world.member)
    locked.email, locked.active = "cu@tanhong.gov.vn", False
    db.session.commit()
    _submit(world.head, opened[0])
    found = reminders.for_cluster_year(db.session, world.cluster, world.year)
    assert found.recipients == ["a@tanhong.gov.vn", "vanthu@tanhong.gov.vn"]


def test_the_text_without_a_deadline_names_none():
    assert reminders.reminder_text([], "Cụm thi đua số 1", 2026, None) == (
        "Cụm thi đua số 1 — năm 2026\n"
        "Đề nghị các đơn vị sau hoàn thành và nộp bản tự chấm điểm thi đua trên cổng thông tin:\n"
    )


def test_sending_mails_the_late_units_and_audits_it(world, opened, sent):
    factories.user("member2", unit=world.member).email = "vanthu@tanhong.gov.vn"
    db.session.commit()
    found = reminders.send(db.session, MAIL, world.cluster, world.year)
    assert sent == [(["vanthu@tanhong.gov.vn"], found.subject, found.body)]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reminder_sent"))
    assert entry.summary == f"Nhắc nộp bản tự chấm: {world.cluster.name} {world.year.year}"
    assert entry.changes["recipients"] == 1
    assert sorted(entry.changes["units"]) == sorted(u.id for u in (world.head, world.deputy, world.member))


def test_no_address_means_nothing_sent_nor_audited(world, opened, sent):
    found = reminders.send(db.session, MAIL, world.cluster, world.year)
    assert len(found.late) == 3 and found.recipients == [] and sent == []
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reminder_sent")) is None


def test_a_refusing_mail_server_leaves_no_audit_entry(world, opened, monkeypatch):
    def refuse(*args):
        raise mail.MailError("connection refused")

    monkeypatch.setattr(mail, "send", refuse)
    factories.user("member2", unit=world.member).email = "vanthu@tanhong.gov.vn"
    db.session.commit()
    with pytest.raises(mail.MailError):
        reminders.send(db.session, MAIL, world.cluster, world.year)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reminder_sent")) is None
