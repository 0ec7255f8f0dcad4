"""The offline route of an assessment: a prefilled Excel form to download, fill in and upload back.

The form (sheet "Tự chấm điểm") has a title block, then one row per criterion in
tree order: Mã | Nội dung tiêu chí | Cách chấm | Điểm tối đa | Chỉ tiêu đăng ký |
Giá trị tự chấm | Giải trình | Điểm. Only the value and explanation cells of the
leaves are unlocked; the sheet is protected without a password, to show what to
fill in, not to secure anything. A hidden sheet "_meta" names the assessment and
the criteria version and, for each row, the criterion id, its full code and the
value and explanation as they were downloaded: rows are matched by id, never by
position or text.

Import is all or nothing. A file that cannot be taken as a whole (not an .xlsx,
another assessment's or another version's form, a closed assessment) raises
DomainError. Otherwise every cell is checked with `assessments.parse_value`; if
any is wrong, the report lists every error with its row and code and nothing has
been written, not even flushed. Only then is each changed row saved through
`assessments.save_score`; the caller commits once, or rolls back on an error.

A row is applied as a change against the download: a row left as it was
downloaded never overwrites what was saved on the portal since, and a row changed
both in the file and on the portal meanwhile is an error, never a silent overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import IO, NamedTuple

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.page import PageMargins
from sqlalchemy.orm import Session

from portal.formatting import vn_datetime, vn_number
from portal.models import Assessment, CriteriaSet, Criterion, Score
from portal.models.base import utcnow
from portal.models.scoring import ASSESSMENT_STATUSES, STAGES
from portal.services import DomainError
from portal.services.criteria import sets as criteria_svc
from portal.services.criteria.excel import BOX, MAX_UNPACKED_BYTES, NOT_XLSX, NUMBER_FORMAT
from portal.services.criteria.methods import ScoreError
from portal.services.criteria.tree import MAX_DEPTH, Tree
from portal.services.platform.excel import (
    XLS,
    UploadMessages,
    open_uploaded_workbook,
    put,
    put_row,
)
from portal.services.pledges import agreements as pledges
from portal.services.scoring import assessments as svc

SHEET, META = "Tự chấm điểm", "_meta"
FORMAT = "cong-thi-dua/cham-diem/1"
HEADER_ROW = 10
CODE, TITLE, HOW, MAXIMUM, TARGET, VALUE, NOTE, POINTS = range(1, 9)  # columns, as Excel numbers them
HEADERS = ("Mã", "Nội dung tiêu chí", "Cách chấm", "Điểm tối đa", "Chỉ tiêu đăng ký", None, None, "Điểm")
WIDTHS = (10, 50, 34, 10, 12, 14, 44, 10)
META_FIRST = 6  # the first criterion row of "_meta"; rows 1-4 name the file, row 5 is a header
MAX_BYTES = 10 * 1024 * 1024
MAX_NOTE = 4000
VALUE_FORMAT = "#,##0.00##"  # a result such as 1.234,5678 keeps its decimals; separators follow the reader's Excel
EDITABLE = PatternFill("solid", fgColor="FFF2CC")
HEADING = PatternFill("solid", fgColor="D9E1F2")
SECTION = PatternFill("solid", fgColor="F2F2F2")
PASS, FAIL = "Đạt", "Không đạt"
NOT_OURS = (
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


def _labels(stage: str) -> tuple[str, str]:
    """The headers of the two editable columns at this stage."""
    value = "Giá trị tự chấm" if stage == "self" else "Giá trị chấm"
    return value, {"peer": "Nhận xét", "verified": "Lý do", "final": "Lý do"}.get(stage, "Giải trình")


# --- export -----------------------------------------------------------------------------


def export_workbook(session: Session, assessment: Assessment, *, now: datetime | None = None) -> bytes:
    """The assessment as a prefilled, protected .xlsx form (any stage, any status). A fixed number of queries."""
    cset = assessment.round.criteria_set
    tree = criteria_svc.load_tree(session, cset)
    scores = svc.score_maps(session, [assessment.id])[assessment.id]
    quantitative = [n for n in tree.leaves() if n.method == "quantitative"]
    targets = pledges.targets_of(session, [assessment.subject_unit_id], quantitative)
    book = Workbook()
    ws = book.active
    ws.title = SHEET
    _title_block(ws, assessment, cset, now or utcnow())
    meta = book.create_sheet(META)
    head = [("format", FORMAT), ("assessment_id", assessment.id), ("criteria_set_id", cset.id)]
    head += [("criteria_set_version", cset.version), ("row", "criterion_id", "code", "value", "note")]
    for number, values in enumerate(head, 1):
        put_row(meta, number, values)
    points = _subtotals(tree, {cid: s.points for cid, s in scores.items()})
    rules: dict[tuple, DataValidation] = {}
    paths = tree.paths()
    row, meta_row = HEADER_ROW, META_FIRST
    for row, (node, depth) in enumerate(tree.walk(), HEADER_ROW + 1):
        leaf, score = tree.is_leaf(node), scores.get(node.id)
        registration = targets.get((assessment.subject_unit_id, node.id))
        target = registration.target if registration and registration.target is not None else "Chưa đăng ký"
        note = _clean(score.note) if leaf and score else ""
        cells = [
            paths[node.id],
            node.title,
            _how(node, tree.maxima[node.id], cset.score_step) if leaf else None,
            tree.maxima[node.id],
            target if leaf and node.method == "quantitative" else None,
            _shown(node, score.value) if leaf and score else None,
            note,
            points.get(node.id),
        ]
        _write_row(ws, row, cells, leaf, depth)
        if leaf:
            _unlock(ws, row, node, tree.maxima[node.id], cset.score_step, rules)
            raw = "" if score is None or score.value is None else str(score.value)
            put_row(meta, meta_row, (row, node.id, paths[node.id], raw, note))
            meta_row += 1
    for rule in rules.values():
        ws.add_data_validation(rule)
    _totals_row(ws, row + 2, svc.totals(session, assessment))
    _finish(book, ws, meta)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _title_block(ws, assessment: Assessment, cset: CriteriaSet, now: datetime) -> None:
    year = cset.year.year if cset.year else ""
    stage = STAGES[assessment.stage]
    title = f"BẢNG TỰ CHẤM ĐIỂM THI ĐUA NĂM {year}" if assessment.stage == "self" else f"BẢNG CHẤM ĐIỂM NĂM {year}"
    unit = f"Đơn vị: {assessment.subject.name}"
    if assessment.author_unit_id != assessment.subject_unit_id:
        unit += f" – Đơn vị chấm: {assessment.author.name}"
    deadline = assessment.extended_until or assessment.round.deadline
    value, note = _labels(assessment.stage)
    lines = [
        (title, Font(bold=True, size=14)),
        (f"{cset.cluster.name if cset.cluster else ''} – Năm {year}", Font(bold=True)),
        (unit, Font(bold=True)),
        (f"Giai đoạn: {stage} – Trạng thái: {ASSESSMENT_STATUSES[assessment.status]}", Font()),
        (f"Bảng tiêu chí: {cset.title} (phiên bản {cset.version})", Font()),
        (
            f"Hạn chấm: {vn_datetime(deadline)}{' (đã gia hạn)' if assessment.extended_until else ''}"
            if deadline
            else "Hạn chấm: chưa đặt hạn",
            Font(),
        ),
        (f"Tải lúc {vn_datetime(now)}", Font(italic=True)),
        (
            f"Chỉ điền hai cột “{value}” và “{note}” (ô nền vàng); các cột khác bị khóa. Số viết kiểu Việt Nam "
            f"(12,5; 1.000). Không chèn, xóa hay sắp xếp lại các dòng. Tải tệp lên ở bản chấm này trên cổng.",
            Font(italic=True),
        ),
    ]
    for row, (text, font) in enumerate(lines, 1):
        put(ws.cell(row, 1), text).font = font
        ws.cell(row, 1).alignment = Alignment(wrap_text=row == len(lines), vertical="top")
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(HEADERS))
    ws.row_dimensions[len(lines)].height = 30
    for column, header in enumerate(HEADERS, 1):
        cell = put(ws.cell(HEADER_ROW, column), header or (value if column == VALUE else note))
        cell.font, cell.border, cell.fill = Font(bold=True), BOX, HEADING
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _how(node: Criterion, maximum: Decimal, step: Decimal) -> str:
    """How this criterion is filled in, in words."""
    if node.method == "pass_fail":
        how = f"{PASS}/{FAIL} ({PASS}: {vn_number(maximum)} điểm; {FAIL}: 0)"
    elif node.method == "per_occurrence":
        how = f"Số lần × {vn_number(node.points_each)} điểm mỗi lần (tối đa {vn_number(maximum)})"
    elif node.method == "quantitative":
        unit = f" ({node.measure_unit})" if node.measure_unit else ""
        how = f"Kết quả thực hiện{unit} so với chỉ tiêu đăng ký; điểm tính theo kết quả cả cụm, khối"
    else:
        how = f"Chấm trực tiếp (0 … {vn_number(maximum)}, bước {vn_number(step)})"
    return f"{how}\n{node.guidance.strip()}" if node.guidance.strip() else how


def _shown(node: Criterion, value: Decimal | None):
    """A stored value as the form shows it: Đạt/Không đạt, a whole count, or the number."""
    if value is None:
        return None
    if node.method == "pass_fail":
        return PASS if value == 1 else FAIL
    if node.method == "per_occurrence":
        return int(value)
    return int(value) if value == value.to_integral_value() else value.normalize()


def _write_row(ws, row: int, cells: list, leaf: bool, depth: int) -> None:
    for column, content in enumerate(cells, 1):
        cell = put(ws.cell(row, column), content)
        cell.border, cell.font = BOX, Font(bold=not leaf)
        cell.alignment = Alignment(vertical="top", wrap_text=True, indent=depth - 1 if column == TITLE else 0)
        if not leaf:
            cell.fill = SECTION
    for column in (MAXIMUM, POINTS):
        ws.cell(row, column).number_format = NUMBER_FORMAT
    ws.cell(row, TARGET).number_format = VALUE_FORMAT
    ws.cell(row, CODE).number_format = "@"


def _unlock(ws, row: int, node: Criterion, maximum: Decimal, step: Decimal, rules: dict) -> None:
    """The two cells to fill in, with a check on the value where Excel can help (a warning, never a block)."""
    for column in (VALUE, NOTE):
        cell = ws.cell(row, column)
        cell.protection, cell.fill = Protection(locked=False), EDITABLE
    value = ws.cell(row, VALUE)
    if node.method == "pass_fail":
        key = ("list",)
        rule = {"type": "list", "formula1": f'"{PASS},{FAIL}"', "error": f"Chọn {PASS} hoặc {FAIL}."}
    elif node.method == "per_occurrence":
        value.number_format, key = "0", ("whole",)
        rule = {"type": "whole", "operator": "greaterThanOrEqual", "formula1": "0"}
        rule["error"] = "Số lần là số nguyên không âm."
    elif node.method == "quantitative":
        value.number_format, key = VALUE_FORMAT, ("decimal",)
        rule = {"type": "decimal", "operator": "greaterThanOrEqual", "formula1": "0"}
        rule["error"] = "Kết quả thực hiện không được âm."
    else:
        value.number_format, key = NUMBER_FORMAT, ("between", maximum)
        rule = {"type": "decimal", "operator": "between", "formula1": "0", "formula2": str(maximum)}
        rule["error"] = f"Điểm từ 0 đến {vn_number(maximum)}, bội số của {vn_number(step)}."
    if key not in rules:
        rules[key] = DataValidation(
            **rule, allow_blank=True, showErrorMessage=True, errorStyle="warning", errorTitle="Giá trị chưa hợp lệ"
        )
    rules[key].add(value.coordinate)


def _subtotals(tree: Tree, leaf_points: dict[int, Decimal | None]) -> dict[int, Decimal]:
    """Each leaf's points, and each parent's sum of what is scored below it (nothing while nothing is)."""
    points: dict[int, Decimal] = {}
    for node, _depth in reversed(list(tree.walk())):
        kids = tree.kids(node)
        if not kids and leaf_points.get(node.id) is not None:
            points[node.id] = leaf_points[node.id]
        elif kids and any(k.id in points for k in kids):
            points[node.id] = sum((points[k.id] for k in kids if k.id in points), Decimal(0))
    return points


def _totals_row(ws, row: int, totals: svc.Totals) -> None:
    text = (
        f"Tổng điểm tạm tính: {vn_number(totals.base)} điểm chấm + {vn_number(totals.bonus)} điểm thưởng − "
        f"{vn_number(totals.deduction)} điểm trừ"
    )
    put(ws.cell(row, TITLE), text).font = Font(bold=True)
    cell = ws.cell(row, POINTS, totals.total)
    cell.font, cell.number_format, cell.border = Font(bold=True), NUMBER_FORMAT, BOX


def _finish(book: Workbook, ws, meta) -> None:
    for column, width in enumerate(WIDTHS, 1):
        ws.column_dimensions[ws.cell(HEADER_ROW, column).column_letter].width = width
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1)
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    # protected without a password: it shows what to fill in; columns and rows may still be resized
    ws.protection.sheet = True
    ws.protection.formatColumns = ws.protection.formatRows = False
    meta.protection.sheet = True
    meta.sheet_state = "hidden"
    book.security = WorkbookProtection(lockStructure=True)  # the hidden sheet stays hidden, the names stay


def _clean(note: str | None) -> str:
    """An explanation as the file can hold it (and as it comes back)."""
    text = ILLEGAL_CHARACTERS_RE.sub("", str(note or "").replace("\r\n", "\n").replace("\r", "\n"))
    return text.strip()


# --- import -----------------------------------------------------------------------------


class _Row(NamedTuple):
    """One criterion row of the form, as "_meta" records it at the download."""

    number: int  # the Excel row on the form
    criterion_id: int
    code: str
    value: Decimal | None  # as downloaded
    note: str


class _Change(NamedTuple):
    row: _Row
    criterion: Criterion
    raw: str | Decimal | None
    note: str


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
    svc.lock_assessment(session, assessment)  # portal saves wait until the file is compared and saved
    svc.check_open(assessment, now)
    data = _read(stream)
    cset = assessment.round.criteria_set
    book = _open(data)
    try:
        rows = _meta(book, assessment, cset, max_rows)
        cells = _cells(book, rows)
    finally:
        book.close()
    report, changes = _check(session, assessment, cset, rows, cells)
    if report.errors:
        return report
    for change in changes:
        try:
            svc.save_score(
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
            raise DomainError(f"Dòng {change.row.number} ({change.row.code}): {error.message}") from error
        report.saved += 1
    return report


def _read(stream: IO[bytes] | bytes) -> bytes:
    return stream if isinstance(stream, bytes) else stream.read(MAX_BYTES + 1)  # one byte more tells "too large"


def _open(data: bytes):
    return open_uploaded_workbook(data, MAX_BYTES, max_unpacked=MAX_UNPACKED_BYTES, messages=UPLOAD)


def _meta(book, assessment: Assessment, cset: CriteriaSet, max_rows: int) -> list[_Row]:
    """The hidden sheet: whose form this is, for which criteria version, and what each row was."""
    if META not in book.sheetnames or SHEET not in book.sheetnames:
        raise DomainError(NOT_OURS)
    ws = book[META]
    ws.reset_dimensions()  # a writer may record a wrong size; read what is really there
    head: dict[str, object] = {}
    rows: list[_Row] = []
    for number, found in enumerate(ws.iter_rows(max_col=5, values_only=True), 1):
        values = (tuple(found) + (None,) * 5)[:5]
        if number < META_FIRST:
            head[str(values[0])] = values[1]
            continue
        if all(v is None for v in values):
            continue
        if len(rows) >= max_rows:
            raise DomainError(f"Tệp có hơn {vn_number(max_rows)} dòng tiêu chí; đây không phải mẫu chấm điểm của cổng.")
        try:
            row, criterion_id, code, value, note = values
            downloaded = Decimal(str(value)) if value not in (None, "") else None
            rows.append(_Row(_int(row), _int(criterion_id), str(code or ""), downloaded, _clean(note)))
        except (ValueError, InvalidOperation):
            raise DomainError(NOT_OURS) from None
    if head.get("format") != FORMAT:
        raise DomainError(NOT_OURS)
    try:
        assessment_id, set_id = _int(head.get("assessment_id")), _int(head.get("criteria_set_id"))
        version = _int(head.get("criteria_set_version"))
    except ValueError:
        raise DomainError(NOT_OURS) from None
    if assessment_id != assessment.id:
        raise DomainError(
            "Tệp Excel này là mẫu của một bản chấm điểm khác, không phải của bản chấm này. Hãy tải mẫu Excel "
            "của bản chấm này, điền vào rồi tải lên."
        )
    if set_id != assessment.criteria_set_id or set_id != cset.id or version != cset.version:
        raise DomainError(
            f"Tệp Excel được tải theo phiên bản {version} của bảng tiêu chí; bản chấm này đang chấm theo phiên "
            f"bản {cset.version}. Hãy tải lại mẫu Excel mới rồi điền lại."
        )
    return rows


def _int(value) -> int:
    if isinstance(value, bool) or value is None:
        raise ValueError(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        return int(value)
    return int(str(value).strip())


def _cells(book, rows: list[_Row]) -> dict[int, tuple]:
    """The form's rows named in "_meta": code, value and explanation by Excel row."""
    ws = book[SHEET]
    header = next(ws.iter_rows(min_row=HEADER_ROW, max_row=HEADER_ROW, max_col=2, values_only=True), ())
    if tuple(header) != HEADERS[:2]:
        raise DomainError("Các cột của mẫu chấm điểm đã bị thay đổi; hãy tải lại mẫu Excel rồi điền lại.")
    if not rows:
        return {}
    first, last = min(r.number for r in rows), max(r.number for r in rows)
    if first <= HEADER_ROW or last > HEADER_ROW + MAX_DEPTH * len(rows):  # at most MAX_DEPTH rows per leaf
        raise DomainError(NOT_OURS)
    found = ws.iter_rows(min_row=first, max_row=last, max_col=len(HEADERS), values_only=True)
    padded = ((tuple(v) + (None,) * len(HEADERS)) for v in found)
    return {number: (v[CODE - 1], v[VALUE - 1], v[NOTE - 1]) for number, v in enumerate(padded, first)}


def _check(
    session: Session, assessment: Assessment, cset: CriteriaSet, rows: list[_Row], cells: dict[int, tuple]
) -> tuple[ImportReport, list[_Change]]:
    """Every row read and checked; nothing written. Returns the report (its errors) and the changes to save."""
    tree = criteria_svc.load_tree(session, cset)
    leaves = {n.id: n for n in tree.leaves()}
    scores: dict[int, Score] = svc.score_maps(session, [assessment.id])[assessment.id]
    report, changes, seen = ImportReport(), [], set()
    for row in rows:
        where = f"Dòng {row.number} ({row.code})"
        criterion = leaves.get(row.criterion_id)
        code, value, note = cells.get(row.number, (None, None, None))
        if criterion is None or row.criterion_id in seen:
            report.errors.append(f"{where}: không khớp với bảng tiêu chí của bản chấm này; hãy tải lại mẫu Excel.")
            continue
        seen.add(row.criterion_id)
        if str(code or "").strip() != row.code:
            report.errors.append(
                f"{where}: ô mã ghi “{code or ''}”, khác mẫu đã tải; đừng chèn, xóa hay sắp xếp lại các dòng."
            )
            continue
        note = _clean(note)
        try:
            raw = _raw(criterion, value)
            parsed = svc.parse_value(criterion, raw, cset.score_step)
            if len(note) > MAX_NOTE:
                raise ScoreError(f"Giải trình tối đa {vn_number(MAX_NOTE)} ký tự (đang có {vn_number(len(note))}).")
        except ScoreError as error:
            report.errors.append(f"{where}: {error}")
            continue
        score = scores.get(criterion.id)
        now_value, now_note = (score.value, _clean(score.note)) if score else (None, "")
        mine, theirs, before = (_q(parsed), note), (_q(now_value), now_note), (_q(row.value), row.note)
        if mine in (theirs, before):  # nothing new, or untouched here while changed on the portal
            report.unchanged += 1
        elif theirs != before:
            shown = _shown(criterion, now_value)
            report.errors.append(
                f"{where}: đã được sửa trên cổng sau khi tải tệp (giá trị hiện tại: "
                f"{vn_number(shown) if isinstance(shown, Decimal | int) else shown or 'trống'}); hãy tải lại mẫu "
                f"Excel hoặc sửa dòng này trên cổng."
            )
        else:
            changes.append(_Change(row, criterion, raw, note))
    return report, changes


def _q(value: Decimal | None) -> Decimal | None:
    """A value as the database keeps it (4 decimals), to compare."""
    return None if value is None else value.quantize(Decimal("0.0001"))


def _raw(criterion: Criterion, value) -> str | Decimal | None:
    """A cell as `parse_value` takes it: text as typed; a number exactly as the cell holds it."""
    if isinstance(value, (datetime, date, time)):
        raise ScoreError("Excel đã tự đổi giá trị thành ngày tháng; hãy gõ lại dạng số (ví dụ 12,5).")
    if isinstance(value, bool):
        if criterion.method != "pass_fail":
            raise ScoreError("Giá trị phải là một số (ví dụ 12,5).")
        return "1" if value else "0"
    if isinstance(value, int):
        return Decimal(value) if criterion.method != "pass_fail" else str(value)
    if isinstance(value, float):
        number = Decimal(repr(value))
        if number.is_finite() and abs(number.adjusted()) <= 12:  # drop what binary floating point left behind
            close = number.quantize(Decimal("0.0001"))
            number = close if abs(number - close) < Decimal("1e-9") else number
        if criterion.method == "pass_fail":
            return str(int(number)) if number == number.to_integral_value() else str(number)
        return number
    return None if value is None else str(value)
