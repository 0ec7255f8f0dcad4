"""The prefilled offline scoring form: every criterion in tree order, only the cells to fill in unlocked."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy.orm import Session

from portal.formatting import vn_datetime, vn_number
from portal.models import Assessment, CriteriaSet, Criterion, Score
from portal.models.base import utcnow
from portal.models.criteria import Method
from portal.models.scoring import ASSESSMENT_STATUSES, STAGES, Stage
from portal.services.criteria import sets as criteria_svc
from portal.services.criteria.excel.layout import BOX, NUMBER_FORMAT
from portal.services.criteria.tree import Tree
from portal.services.platform.excel import print_setup, put, put_row
from portal.services.pledges import agreements as pledges
from portal.services.scoring import assessments, not_applicable
from portal.services.scoring.excel.form import (
    CODE,
    FAIL,
    FORMAT,
    HEADER_ROW,
    HEADERS,
    MAXIMUM,
    META,
    META_FIRST,
    NOTE,
    PASS,
    POINTS,
    SHEET,
    TARGET,
    TITLE,
    VALUE,
    clean_note,
    shown_value,
)

WIDTHS = (10, 50, 34, 10, 12, 14, 44, 10)
VALUE_FORMAT = "#,##0.00##"  # a result such as 1.234,5678 keeps its decimals; separators follow the reader's Excel
EDITABLE = PatternFill("solid", fgColor="FFF2CC")
HEADING = PatternFill("solid", fgColor="D9E1F2")
SECTION = PatternFill("solid", fgColor="F2F2F2")
UNREGISTERED = "Chưa đăng ký"
NOT_APPLICABLE = "Không áp dụng"


def _labels(stage: str) -> tuple[str, str]:
    """The headers of the two editable columns at this stage."""
    value = "Giá trị tự chấm" if stage == Stage.SELF else "Giá trị chấm"
    return value, {Stage.PEER: "Nhận xét", Stage.VERIFIED: "Lý do", Stage.FINAL: "Lý do"}.get(stage, "Giải trình")


def export_workbook(session: Session, assessment: Assessment, *, now: datetime | None = None) -> bytes:
    """The assessment as a prefilled, protected .xlsx form (any stage, any status). A fixed number of queries."""
    cset = assessment.round.criteria_set
    tree = criteria_svc.load_tree(session, cset)
    scores = assessments.score_maps(session, [assessment.id])[assessment.id]
    quantitative = [n for n in tree.leaves() if n.method == Method.QUANTITATIVE]
    registered = pledges.targets_of(session, [assessment.subject_unit_id], quantitative)
    book = Workbook()
    ws = book.active
    ws.title = SHEET
    _title_block(ws, assessment, cset, now or utcnow())
    meta = _meta_sheet(book, assessment, cset)
    targets = {criterion_id: r.target for (_unit, criterion_id), r in registered.items()}
    excluded = not_applicable.reasons(session, assessment)
    last = _criteria_rows(ws, meta, tree, scores, targets, cset.score_step, excluded)
    _totals_row(ws, last + 2, assessments.totals(session, assessment, excluded))
    _finish(book, ws, meta)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _meta_sheet(book: Workbook, assessment: Assessment, cset: CriteriaSet):
    """The hidden sheet's head: whose form this is and for which criteria version, then its columns' names."""
    meta = book.create_sheet(META)
    head = [("format", FORMAT), ("assessment_id", assessment.id), ("criteria_set_id", cset.id)]
    head += [("criteria_set_version", cset.version), ("row", "criterion_id", "code", "value", "note")]
    for number, values in enumerate(head, 1):
        put_row(meta, number, values)
    return meta


def _criteria_rows(
    ws,
    meta,
    tree: Tree,
    scores: dict[int, Score],
    targets: dict[int, Decimal | None],
    step: Decimal,
    excluded: dict[int, str],
) -> int:
    """One row per criterion in tree order; each leaf's two cells to fill unlocked, and its row, id, code and
    values noted on the hidden sheet. A leaf that does not apply to the unit says so, with the head's reason,
    stays locked and is left out of the hidden sheet and of its parents' maxima. Returns the last row written."""
    points = _subtotals(tree, {cid: s.points for cid, s in scores.items() if cid not in excluded})
    maxima = not_applicable.applicable_maxima(tree, excluded)
    rules: dict[tuple, DataValidation] = {}
    paths = tree.paths()
    row, meta_row = HEADER_ROW, META_FIRST
    for row, (node, depth) in enumerate(tree.walk(), HEADER_ROW + 1):
        leaf, score, target = tree.is_leaf(node), scores.get(node.id), targets.get(node.id)
        if leaf and node.id in excluded:
            cells = [paths[node.id], node.title, NOT_APPLICABLE, None, None, NOT_APPLICABLE, excluded[node.id], None]
            _write_row(ws, row, cells, leaf, depth)
            continue
        note = clean_note(score.note) if leaf and score else ""
        cells = [
            paths[node.id],
            node.title,
            _how(node, tree.maxima[node.id], step) if leaf else None,
            maxima[node.id],
            (UNREGISTERED if target is None else target) if leaf and node.method == Method.QUANTITATIVE else None,
            shown_value(node, score.value) if leaf and score else None,
            note,
            points.get(node.id),
        ]
        _write_row(ws, row, cells, leaf, depth)
        if leaf:
            _unlock(ws, row, node, tree.maxima[node.id], step, rules)
            raw = "" if score is None or score.value is None else str(score.value)
            put_row(meta, meta_row, (row, node.id, paths[node.id], raw, note))
            meta_row += 1
    for rule in rules.values():
        ws.add_data_validation(rule)
    return row


def _title_block(ws, assessment: Assessment, cset: CriteriaSet, now: datetime) -> None:
    year = cset.year.year if cset.year else ""
    stage = STAGES[assessment.stage]
    title = f"BẢNG TỰ CHẤM ĐIỂM THI ĐUA NĂM {year}" if assessment.stage == Stage.SELF else f"BẢNG CHẤM ĐIỂM NĂM {year}"
    unit = f"Đơn vị: {assessment.subject.name}"
    if assessment.author_unit_id != assessment.subject_unit_id:
        unit += f" – Đơn vị chấm: {assessment.author.name}"
    deadline = assessment.effective_deadline
    value, note = _labels(assessment.stage)
    lines = [
        (title, Font(bold=True, size=14)),
        (f"{cset.cluster.name if cset.cluster else ''} – Năm {year}", Font(bold=True)),
        (unit, Font(bold=True)),
        (f"Giai đoạn: {stage} – Trạng thái: {ASSESSMENT_STATUSES[assessment.status]}", Font()),
        (f"Bảng tiêu chí: {cset.title} (phiên bản {cset.version})", Font()),
        (
            f"Hạn chấm: {vn_datetime(deadline)}{' (đã gia hạn)' if deadline != assessment.round.deadline else ''}"
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
    if node.method == Method.PASS_FAIL:
        how = f"{PASS}/{FAIL} ({PASS}: {vn_number(maximum)} điểm; {FAIL}: 0)"
    elif node.method == Method.PER_OCCURRENCE:
        how = f"Số lần × {vn_number(node.points_each)} điểm mỗi lần (tối đa {vn_number(maximum)})"
    elif node.method == Method.QUANTITATIVE:
        unit = f" ({node.measure_unit})" if node.measure_unit else ""
        how = f"Kết quả thực hiện{unit} so với chỉ tiêu đăng ký; điểm tính theo kết quả cả cụm, khối"
    else:
        how = f"Chấm trực tiếp (0 … {vn_number(maximum)}, bước {vn_number(step)})"
    return f"{how}\n{node.guidance.strip()}" if node.guidance.strip() else how


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
    if node.method == Method.PASS_FAIL:
        key = ("list",)
        rule = {"type": "list", "formula1": f'"{PASS},{FAIL}"', "error": f"Chọn {PASS} hoặc {FAIL}."}
    elif node.method == Method.PER_OCCURRENCE:
        value.number_format, key = "0", ("whole",)
        rule = {"type": "whole", "operator": "greaterThanOrEqual", "formula1": "0"}
        rule["error"] = "Số lần là số nguyên không âm."
    elif node.method == Method.QUANTITATIVE:
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


def _totals_row(ws, row: int, totals: assessments.Totals) -> None:
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
    print_setup(ws, HEADER_ROW)
    # protected without a password: it shows what to fill in; columns and rows may still be resized
    ws.protection.sheet = True
    ws.protection.formatColumns = ws.protection.formatRows = False
    meta.protection.sheet = True
    meta.sheet_state = "hidden"
    book.security = WorkbookProtection(lockStructure=True)  # the hidden sheet stays hidden, the names stay
