"""Importing an offline scoring form: the whole file checked, then every changed row saved, or nothing."""

from __future__ import annotations

from datetime import datetime
from typing import IO

from sqlalchemy.orm import Session

from portal.models import Assessment
from portal.models.base import N_, utcnow
from portal.services import DomainError
from portal.services.scoring import assessments
from portal.services.scoring.excel.parse import ImportReport, read_form


def import_workbook(
    session: Session,
    assessment: Assessment,
    stream: IO[bytes] | bytes,
    *,
    user_id: int | None,
    now: datetime | None = None,
    max_rows: int = 2000,
) -> ImportReport:
    """Check the whole uploaded form, then save every changed row; with any error, save nothing.

    Raises DomainError when the assessment is closed (submitted, or past its deadline) or the file
    cannot be taken at all. Returns the report otherwise; when `errors` is not empty nothing was
    written. The caller commits once.
    """
    now = now or utcnow()
    assessments.lock_assessment(session, assessment)  # portal saves wait until the file is compared and saved
    assessments.check_open(assessment, now)
    report, changes = read_form(session, assessment, stream, max_rows=max_rows)
    if report.errors:
        return report
    for change in changes:
        try:
            assessments.save_score(
                session,
                assessment,
                change.criterion,
                change.raw,
                change.note,
                expected_revision=None,
                user_id=user_id,
                now=now,
            )
        except DomainError as error:  # checked above; only a change made meanwhile gets here
            raise DomainError(
                N_("Dòng %(row)s (%(code)s): %(error)s"), row=change.row.number, code=change.row.code, error=error
            ) from error
        report.saved += 1
    return report
