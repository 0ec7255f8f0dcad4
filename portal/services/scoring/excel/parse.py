"""Reading an uploaded offline scoring form: whose form it is, then every row checked; nothing is written.

A file that cannot be taken as a whole raises DomainError; a wrong cell is an error of the report,
with its row and code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import IO, NamedTuple

from sqlalchemy.orm import Session

from portal.formatting import vn_number
from portal.models import Assessment, CriteriaSet, Criterion, Score
from portal.models.base import N_
from portal.models.criteria import Method
from portal.services import DomainError
from portal.services.criteria import sets as criteria_svc
from portal.services.criteria.excel.parse import MAX_UNPACKED_BYTES, NOT_XLSX
from portal.services.criteria.methods import ScoreError
from portal.services.criteria.tree import MAX_DEPTH
from portal.services.platform.excel import XLS, UploadMessages, open_uploaded_workbook
from portal.services.scoring import assessments, not_applicable
from portal.services.scoring.excel.form import (
    CODE,
    FORMAT,
    HEADER_ROW,
    HEADERS,
    META,
    META_FIRST,
    NOTE,
    SHEET,
    VALUE,
    clean_note,
    shown_value,
)

MAX_BYTES = 10 * 1024 * 1024
MAX_NOTE = 4000
NOT_OURS = N_(
    "Tệp này không phải mẫu chấm điểm tải từ cổng (thiếu hoặc hỏng trang ẩn “_meta”). Hãy bấm “Tải Excel” ở "
    "bản chấm này, điền vào tệp vừa tải rồi tải lên lại."
)
UPLOAD = UploadMessages(
    not_xlsx=NOT_XLSX,
    unpacked="Nội dung tệp sau khi giải nén quá lớn so với một bảng chấm điểm.",
    too_big=f"Tệp lớn hơn {MAX_BYTES // (1024 * 1024)} MB; đây không phải mẫu chấm điểm của cổng.",
    xls=XLS,
)


@dataclass
class ImportReport:
    saved: int = 0  # rows saved
    unchanged: int = 0  # rows left as they are: the same as on the portal, or untouched since the download
    errors: list[str] = field(default_factory=list)  # "Dòng 14 (I.2.1): …"; when there are any, nothing was saved
    # rows of criteria that do not apply to the unit (marked after the download) whose value was changed: not saved
    skipped: list[str] = field(default_factory=list)


class FormRow(NamedTuple):
    """One criterion row of the form, as "_meta" records it at the download."""

    number: int  # the Excel row on the form
    criterion_id: int
    code: str
    value: Decimal | None  # as downloaded
    note: str


class Change(NamedTuple):
    """A checked row whose value or explanation differs from the portal's: to be saved."""

    row: FormRow
    criterion: Criterion
    raw: str | Decimal | None
    note: str


def read_form(
    session: Session, assessment: Assessment, stream: IO[bytes] | bytes, *, max_rows: int
) -> tuple[ImportReport, list[Change]]:
    """The uploaded form read and every row checked against the portal: the report (its errors) and the
    changes to save. Raises DomainError when the file cannot be taken at all."""
    data = _read(stream)
    cset = assessment.round.criteria_set
    book = _open(data)
    try:
        rows = _meta(book, assessment, cset, max_rows)
        cells = _cells(book, rows)
    finally:
        book.close()
    return _check(session, assessment, cset, rows, cells)


def _read(stream: IO[bytes] | bytes) -> bytes:
    return stream if isinstance(stream, bytes) else stream.read(MAX_BYTES + 1)  # one byte more tells "too large"


def _open(data: bytes):
    return open_uploaded_workbook(data, MAX_BYTES, max_unpacked=MAX_UNPACKED_BYTES, messages=UPLOAD)


def _meta(book, assessment: Assessment, cset: CriteriaSet, max_rows: int) -> list[FormRow]:
    """The hidden sheet: whose form this is, for which criteria version, and what each row was."""
    if META not in book.sheetnames or SHEET not in book.sheetnames:
        raise DomainError(NOT_OURS)
    ws = book[META]
    ws.reset_dimensions()  # a writer may record a wrong size; read what is really there
    head: dict[str, object] = {}
    rows: list[FormRow] = []
    for number, found in enumerate(ws.iter_rows(max_col=5, values_only=True), 1):
        values = (tuple(found) + (None,) * 5)[:5]
        if number < META_FIRST:
            head[str(values[0])] = values[1]
        elif any(v is not None for v in values):
            if len(rows) >= max_rows:
                raise DomainError(
                    N_("Tệp có hơn %(rows)s dòng tiêu chí; đây không phải mẫu chấm điểm của cổng."),
                    rows=vn_number(max_rows),
                )
            rows.append(_form_row(values))
    _check_head(head, assessment, cset)
    return rows


def _form_row(values: tuple) -> FormRow:
    """One criterion row of the hidden sheet, as it was written; a value it could not have written refuses the file."""
    try:
        row, criterion_id, code, value, note = values
        downloaded = Decimal(str(value)) if value not in (None, "") else None
        return FormRow(_int(row), _int(criterion_id), str(code or ""), downloaded, clean_note(note))
    except (ValueError, InvalidOperation):
        raise DomainError(NOT_OURS) from None


def _check_head(head: dict[str, object], assessment: Assessment, cset: CriteriaSet) -> None:
    """The file is a form of this portal, for this assessment, at the criteria version it is scored by."""
    if head.get("format") != FORMAT:
        raise DomainError(NOT_OURS)
    try:
        assessment_id, set_id = _int(head.get("assessment_id")), _int(head.get("criteria_set_id"))
        version = _int(head.get("criteria_set_version"))
    except ValueError:
        raise DomainError(NOT_OURS) from None
    if assessment_id != assessment.id:
        raise DomainError(
            N_(
                "Tệp Excel này là mẫu của một bản chấm điểm khác, không phải của bản chấm này. Hãy tải mẫu Excel "
                "của bản chấm này, điền vào rồi tải lên."
            )
        )
    if set_id != assessment.criteria_set_id or set_id != cset.id or version != cset.version:
        raise DomainError(
            N_(
                "Tệp Excel được tải theo phiên bản %(version)s của bảng tiêu chí; bản chấm này đang chấm theo phiên "
                "bản %(current)s. Hãy tải lại mẫu Excel mới rồi điền lại."
            ),
            version=version,
            current=cset.version,
        )


def _int(value) -> int:
    if isinstance(value, bool) or value is None:
        raise ValueError(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        return int(value)
    return int(str(value).strip())


def _cells(book, rows: list[FormRow]) -> dict[int, tuple]:
    """The form's rows named in "_meta": code, value and explanation by Excel row."""
    ws = book[SHEET]
    header = next(ws.iter_rows(min_row=HEADER_ROW, max_row=HEADER_ROW, max_col=2, values_only=True), ())
    if tuple(header) != HEADERS[:2]:
        raise DomainError(N_("Các cột của mẫu chấm điểm đã bị thay đổi; hãy tải lại mẫu Excel rồi điền lại."))
    if not rows:
        return {}
    first, last = min(r.number for r in rows), max(r.number for r in rows)
    if first <= HEADER_ROW or last > HEADER_ROW + MAX_DEPTH * len(rows):  # at most MAX_DEPTH rows per leaf
        raise DomainError(NOT_OURS)
    found = ws.iter_rows(min_row=first, max_row=last, max_col=len(HEADERS), values_only=True)
    padded = ((tuple(v) + (None,) * len(HEADERS)) for v in found)
    return {number: (v[CODE - 1], v[VALUE - 1], v[NOTE - 1]) for number, v in enumerate(padded, first)}


def _check(
    session: Session, assessment: Assessment, cset: CriteriaSet, rows: list[FormRow], cells: dict[int, tuple]
) -> tuple[ImportReport, list[Change]]:
    """Every row read and checked; nothing written. Returns the report (its errors) and the changes to save."""
    check = _RowCheck(session, assessment, cset)
    for row in rows:
        check.row(row, *cells.get(row.number, (None, None, None)))
    return check.report, check.changes


class _RowCheck:
    """Checks the form's rows one by one against the criteria and the portal's scores; collects the report
    (its errors and the rows left unchanged) and the changes to save."""

    def __init__(self, session: Session, assessment: Assessment, cset: CriteriaSet):
        self.leaves = {n.id: n for n in criteria_svc.load_tree(session, cset).leaves()}
        self.scores: dict[int, Score] = assessments.score_maps(session, [assessment.id])[assessment.id]
        self.excluded = not_applicable.reasons(session, assessment)
        self.step = cset.score_step
        self.report, self.changes, self.seen = ImportReport(), [], set()

    def row(self, row: FormRow, code, value, note) -> None:
        """One row: in its place, readable, then compared with the portal."""
        where = f"Dòng {row.number} ({row.code})"
        criterion = self.leaves.get(row.criterion_id)
        if criterion is None or row.criterion_id in self.seen:
            self.report.errors.append(f"{where}: không khớp với bảng tiêu chí của bản chấm này; hãy tải lại mẫu Excel.")
            return
        self.seen.add(row.criterion_id)
        if str(code or "").strip() != row.code:
            self.report.errors.append(
                f"{where}: ô mã ghi “{code or ''}”, khác mẫu đã tải; đừng chèn, xóa hay sắp xếp lại các dòng."
            )
            return
        note = clean_note(note)
        try:
            raw = _raw(criterion, value)
            parsed = assessments.parse_value(criterion, raw, self.step)
            if len(note) > MAX_NOTE:
                raise ScoreError(f"Giải trình tối đa {vn_number(MAX_NOTE)} ký tự (đang có {vn_number(len(note))}).")
        except ScoreError as error:
            self.report.errors.append(f"{where}: {error}")
            return
        self._compare(where, Change(row, criterion, raw, note), parsed)

    def _compare(self, where: str, change: Change, parsed: Decimal | None) -> None:
        """A row is saved only where the portal still holds what was downloaded; one changed on both sides is an
        error, one changed on neither (or only on the portal) is left as it is."""
        score = self.scores.get(change.criterion.id)
        now_value, now_note = (score.value, clean_note(score.note)) if score else (None, "")
        mine, theirs = (_q(parsed), change.note), (_q(now_value), now_note)
        before = (_q(change.row.value), change.row.note)
        if mine in (theirs, before):  # nothing new, or untouched here while changed on the portal
            self.report.unchanged += 1
        elif change.criterion.id in self.excluded:  # marked "không áp dụng" after the download: left out, said so
            reason = self.excluded[change.criterion.id]
            self.report.skipped.append(f"{where}: tiêu chí không áp dụng cho đơn vị (lý do: {reason}); bỏ qua.")
        elif theirs != before:
            shown = shown_value(change.criterion, now_value)
            self.report.errors.append(
                f"{where}: đã được sửa trên cổng sau khi tải tệp (giá trị hiện tại: "
                f"{vn_number(shown) if isinstance(shown, Decimal | int) else shown or 'trống'}); hãy tải lại mẫu "
                f"Excel hoặc sửa dòng này trên cổng."
            )
        else:
            self.changes.append(change)


def _q(value: Decimal | None) -> Decimal | None:
    """A value as the database keeps it (4 decimals), to compare."""
    return None if value is None else value.quantize(Decimal("0.0001"))


def _raw(criterion: Criterion, value) -> str | Decimal | None:
    """A cell as `parse_value` takes it: text as typed; a number exactly as the cell holds it."""
    if isinstance(value, (datetime, date, time)):
        raise ScoreError("Excel đã tự đổi giá trị thành ngày tháng; hãy gõ lại dạng số (ví dụ 12,5).")
    if isinstance(value, bool):
        if criterion.method != Method.PASS_FAIL:
            raise ScoreError("Giá trị phải là một số (ví dụ 12,5).")
        return "1" if value else "0"
    if isinstance(value, int):
        return Decimal(value) if criterion.method != Method.PASS_FAIL else str(value)
    if isinstance(value, float):
        number = Decimal(repr(value))
        if number.is_finite() and abs(number.adjusted()) <= 12:  # drop what binary floating point left behind
            close = number.quantize(Decimal("0.0001"))
            number = close if abs(number - close) < Decimal("1e-9") else number
        if criterion.method == Method.PASS_FAIL:
            return str(int(number)) if number == number.to_integral_value() else str(number)
        return number
    return None if value is None else str(value)
