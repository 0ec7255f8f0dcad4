"""Reminders to the member units that have not submitted their self-assessment: who is late, what to send.

The head copies the reminder from the cluster-year page, or (when the portal has mail set up) has it
e-mailed to every active account of the late units that gave an address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from portal.formatting import vn_datetime
from portal.models import Cluster, EmulationYear
from portal.services.platform import mail
from portal.services.platform.audit import record_event
from portal.services.scoring.rounds import UnitProgress, find_round, progress


@dataclass(frozen=True)
class Reminder:
    """What goes to the late units of a cluster-year: the units, their addresses, the message."""

    late: list[UnitProgress]
    recipients: list[str]
    subject: str
    body: str


def late_units(rows: list[UnitProgress]) -> list[UnitProgress]:
    """The units of the progress list that have not submitted their self-assessment, in its order."""
    return [row for row in rows if not row.submitted]


def reminder_text(late: list[UnitProgress], cluster_name: str, year: int, deadline: datetime | None) -> str:
    """The reminder the head copies into a message or an e-mail (Vietnamese, as it is sent to units)."""
    names = "\n".join(f"- {row.unit.name}" for row in late)
    due = f" trước {vn_datetime(deadline)}" if deadline else ""
    return (
        f"{cluster_name} — năm {year}\n"
        f"Đề nghị các đơn vị sau hoàn thành và nộp bản tự chấm điểm thi đua trên cổng thông tin{due}:\n{names}"
    )


def reminder(late: list[UnitProgress], cluster_name: str, year: int, deadline: datetime | None) -> Reminder:
    """The reminder to these late units: every address once, in order, and the text."""
    recipients = sorted({email for row in late for email in row.emails})
    subject = f"Nhắc nộp bản tự chấm điểm thi đua năm {year}"
    return Reminder(late, recipients, subject, reminder_text(late, cluster_name, year, deadline))


def for_cluster_year(session: Session, cluster: Cluster, year: EmulationYear) -> Reminder:
    """The reminder of the cluster-year's self round as it stands now (nobody is late before the round opens)."""
    self_round = find_round(session, cluster.id, year.id, "self")
    rows = progress(session, cluster.id, year.id) if self_round else []
    return reminder(late_units(rows), cluster.name, year.year, self_round.deadline if self_round else None)


def send(session: Session, config: Mapping, cluster: Cluster, year: EmulationYear) -> Reminder:
    """E-mail the reminder to the late units' addresses and audit it; nothing is sent to nobody.

    Raises `mail.MailError` when the mail server refuses (nothing is audited then)."""
    found = for_cluster_year(session, cluster, year)
    if not found.recipients:
        return found
    mail.send(config, found.recipients, found.subject, found.body)
    changes = {"recipients": len(found.recipients), "units": [row.unit.id for row in found.late]}
    record_event(session, "reminder_sent", f"Nhắc nộp bản tự chấm: {cluster.name} {year.year}", cluster, changes)
    session.flush()
    return found
