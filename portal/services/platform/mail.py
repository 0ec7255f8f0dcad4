"""Outgoing e-mail (reminders), only when the portal is configured with an SMTP server (MAIL_SERVER)."""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from email.message import EmailMessage


class MailError(Exception):
    pass


def configured(config: Mapping) -> bool:
    return bool(config.get("MAIL_SERVER")) and bool(config.get("MAIL_SENDER"))


def send(config: Mapping, recipients: list[str], subject: str, body: str) -> None:
    """One message to every recipient (in Bcc, so units do not see each other's addresses)."""
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = config["MAIL_SENDER"]
    message["Bcc"] = ", ".join(recipients)
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25), timeout=15) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(str(error)) from error
