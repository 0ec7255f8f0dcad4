"""Importing the organisation workbook: the whole file read and planned, then every change applied."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.services import DomainError
from portal.services.org.transfer.layout import SHEETS
from portal.services.org.transfer.plan import plan_import
from portal.services.org.transfer.read import read_workbook
from portal.services.org.transfer.report import ImportReport, RowError, file_error
from portal.services.platform.audit import record_event


def import_workbook(
    session: Session, data: bytes, *, apply: bool, max_rows: int, max_bytes: int, filename: str = ""
) -> ImportReport:
    """Validate the whole file; when it is clean and `apply` is set, make every change (flushed, not committed).

    A report with errors means nothing should be kept: the caller rolls back."""
    sheets, errors = read_workbook(data, max_rows=max_rows, max_bytes=max_bytes)
    if errors:
        return ImportReport(errors=errors)
    if not any(sheet.rows for sheet in sheets.values()):
        return ImportReport(errors=file_error("Tệp không có dòng dữ liệu nào (dữ liệu bắt đầu từ dòng 2)."))
    report = plan_import(session, sheets)
    if report.errors or not apply:
        return report
    for change in report.edits:
        try:
            change.apply(session)
        except DomainError as error:  # a rule the plan could not foresee; later rows may depend on this one
            key = {"unit_id": "unit"}.get(error.field, error.field)
            header = next((c.header for c in SHEETS[change.sheet] if c.key == key), "")
            report.errors.append(RowError(change.sheet, change.row, header, error.message))
            return report
    report.applied = True
    record_event(session, "import", f"Nhập tệp Excel “{filename}”. {report.summary()}", changes=report.counts)
    session.flush()
    return report
