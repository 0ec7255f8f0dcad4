"""Saving a parsed criteria table: every criterion of the draft replaced, in one transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.formatting import vn_number
from portal.models import CriteriaSet, Criterion, TargetRegistration
from portal.models.base import N_
from portal.models.criteria import Method
from portal.services import DomainError
from portal.services.criteria import tree as treelib
from portal.services.criteria.excel.layout import ParsedTable
from portal.services.criteria.sets import add_criterion, load_nodes, step_for
from portal.services.platform.audit import record_event


def replace_tree(session: Session, cset: CriteriaSet, parsed: ParsedTable) -> int:
    """Swap every criterion of the set for the parsed ones; returns how many were created. The caller commits.

    The scoring step follows the table: kept if every directly scored maximum is a multiple
    of it, else the finest the table needs (3,48 → 0,01), so each leaf can be given full points.
    """
    if not cset.editable:
        raise DomainError(N_("Bảng tiêu chí đã khóa để chấm điểm; muốn thay đổi, hãy tạo phiên bản mới có nêu lý do."))
    if not parsed.ok:
        raise DomainError(N_("Tệp Excel còn lỗi hoặc không có tiêu chí nào; chưa lưu gì."))
    registered = select(TargetRegistration.id).join(Criterion).where(Criterion.set_id == cset.id).limit(1)
    if session.scalar(registered) is not None:
        raise DomainError(
            N_("Đã có đơn vị đăng ký chỉ tiêu theo bảng tiêu chí này; không thay toàn bộ bảng từ Excel được.")
        )
    _delete_all(session, cset)
    stack: list[Criterion] = []
    for row in parsed.rows:
        del stack[row.depth - 1 :]
        try:
            stack.append(
                add_criterion(
                    session,
                    cset,
                    stack[-1] if stack else None,
                    code=row.code,
                    title=row.title,
                    guidance=row.guidance,
                    kind=row.kind,
                    method=row.method,
                    max_points=None if row.has_children else row.max_points,
                    points_each=row.points_each,
                    measure_unit=row.measure_unit,
                    evidence_required=row.evidence_required,
                )
            )
        except DomainError as error:
            raise DomainError(N_("Dòng %(row)s: %(error)s"), error.field, row=row.excel_row, error=error) from error
    step = step_for(
        [r.max_points for r in parsed.rows if not r.has_children and r.method == Method.DIRECT], cset.score_step
    )
    summary = f"Nhập bảng tiêu chí từ Excel: {len(parsed.rows)} tiêu chí."
    if step != cset.score_step:
        summary += f" Bước điểm đổi từ {vn_number(cset.score_step)} thành {vn_number(step)} theo điểm chuẩn trong tệp."
        cset.score_step = step
        session.flush()
    record_event(session, "import", summary, cset)
    return len(parsed.rows)


def _delete_all(session: Session, cset: CriteriaSet) -> None:
    """Deepest first, one flush per level, so every deletion is a row of the audit log and no
    database cascade removes a row the session still means to delete."""
    levels: dict[int, list[Criterion]] = {}
    for node, depth in treelib.build(load_nodes(session, cset)).walk():
        levels.setdefault(depth, []).append(node)
    for depth in sorted(levels, reverse=True):
        for node in levels[depth]:
            session.delete(node)
        session.flush()
    session.expire(cset, ["criteria"])
