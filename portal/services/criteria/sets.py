"""Criteria sets: build the tree, keep its rules, publish, lock, version, copy.

Editing is allowed while a set is a draft or published; a locked set (scoring
has opened) changes only through `new_version`, which copies the tree into a
new draft with a reason and supersedes the old one, whose criteria the scores
already given keep pointing at.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.formatting import vn_number
from portal.models import (
    Cluster,
    CriteriaSet,
    Criterion,
    EmulationYear,
    TargetRegistration,
)
from portal.models.base import N_, utcnow
from portal.models.criteria import CriterionKind, Method, SetStatus
from portal.models.notices import NoticeKind
from portal.services import DomainError
from portal.services.criteria import tree as treelib
from portal.services.criteria.tree import MAX_DEPTH, Tree
from portal.services.notices import events as notices
from portal.services.org.structure import clean

MAX_POINTS = Decimal(10000)
LEAF_FIELDS = ("method", "max_points", "points_each", "measure_unit", "evidence_required")
COPIED_FIELDS = (
    "code",
    "title",
    "guidance",
    "kind",
    "method",
    "max_points",
    "points_each",
    "measure_unit",
    "evidence_required",
    "position",
)


# --- sets ------------------------------------------------------------------------------


def in_force(session: Session, cluster_id: int, year_id: int) -> CriteriaSet | None:
    return session.scalar(
        select(CriteriaSet).where(
            CriteriaSet.cluster_id == cluster_id,
            CriteriaSet.year_id == year_id,
            CriteriaSet.status != SetStatus.SUPERSEDED,
        )
    )


def versions(session: Session, cluster_id: int, year_id: int) -> list[CriteriaSet]:
    return list(
        session.scalars(
            select(CriteriaSet)
            .where(CriteriaSet.cluster_id == cluster_id, CriteriaSet.year_id == year_id)
            .order_by(CriteriaSet.version.desc())
        )
    )


def _check_set_fields(title: str, target_total, score_step) -> str:
    title = clean(title)
    if not title:
        raise DomainError(N_("Nhập tên bảng tiêu chí."), "title")
    if target_total is None or not Decimal(0) < target_total <= MAX_POINTS:
        raise DomainError(N_("Tổng điểm chuẩn phải lớn hơn 0 và không quá 10.000."), "target_total")
    if score_step is None or not Decimal(0) < score_step <= Decimal(10):
        raise DomainError(N_("Bước điểm phải lớn hơn 0 và không quá 10 (ví dụ 0,25 hoặc 0,5)."), "score_step")
    return title


def create_set(
    session: Session,
    cluster: Cluster | None,
    year: EmulationYear | None,
    *,
    title: str,
    target_total: Decimal,
    score_step: Decimal = Decimal("0.25"),
    source: CriteriaSet | None = None,
    template_kind: str | None = None,
) -> CriteriaSet:
    """A new draft, empty or copied from `source` (last year's, another cluster's, a template)."""
    title = _check_set_fields(title, target_total, score_step)
    if cluster is not None and in_force(session, cluster.id, year.id) is not None:
        raise DomainError(N_("Cụm, khối đã có bảng tiêu chí năm này; hãy sửa bảng đó hoặc tạo phiên bản mới."), "title")
    cset = CriteriaSet(
        cluster=cluster,
        year=year,
        version=1,
        title=title,
        status=SetStatus.DRAFT,
        target_total=target_total,
        score_step=score_step,
        based_on=source,
        template_kind=template_kind,
    )
    session.add(cset)
    session.flush()
    if source is not None:
        copy_tree(session, source, cset)
    return cset


def update_set(
    session: Session,
    cset: CriteriaSet,
    *,
    title: str,
    target_total: Decimal,
    score_step: Decimal,
    deduction_capped: bool = True,
) -> None:
    _editable(cset)
    cset.title = _check_set_fields(title, target_total, score_step)
    cset.target_total, cset.score_step, cset.deduction_capped = target_total, score_step, deduction_capped
    session.flush()


def copy_tree(session: Session, source: CriteriaSet, target: CriteriaSet) -> dict[int, Criterion]:
    """Copy every criterion of `source` into `target`; returns old id → new criterion."""
    nodes = load_nodes(session, source)
    mapping: dict[int, Criterion] = {}
    for node, _ in treelib.build(nodes).walk():  # parents before children
        copy = Criterion(criteria_set=target, **{f: getattr(node, f) for f in COPIED_FIELDS})
        if node.parent_id is not None:
            copy.parent_id = mapping[node.parent_id].id
        session.add(copy)
        session.flush()
        mapping[node.id] = copy
    return mapping


def publish(session: Session, cset: CriteriaSet) -> list[str]:
    """Members see the set from now on. Returns the warnings (the set is published anyway)."""
    if cset.status != SetStatus.DRAFT:
        raise DomainError(N_("Chỉ công bố được bảng tiêu chí đang là bản nháp."))
    tree = load_tree(session, cset)
    if not tree.roots:
        raise DomainError(N_("Bảng tiêu chí chưa có tiêu chí nào."))
    cset.status, cset.published_at = SetStatus.PUBLISHED, utcnow()
    session.flush()
    if not cset.is_template:
        _notify_published(session, cset)
    return warnings(cset, tree)


def _notify_published(session: Session, cset: CriteriaSet) -> None:
    """The members (and the overseer) may read the table now: each gets a notice."""
    cluster_id, year_id = cset.cluster_id, cset.year_id
    recipients = notices.unit_users(session, cluster_id, year_id) + notices.overseer_users(session, cluster_id, year_id)
    notices.notify(
        session,
        recipients,
        NoticeKind.CRITERIA_PUBLISHED,
        cluster_id=cluster_id,
        year_id=year_id,
        message=N_("%(cluster)s: bảng tiêu chí năm %(year)s (phiên bản %(version)s) đã được công bố."),
        params={"cluster": cset.cluster.name, "year": cset.year.year, "version": cset.version},
        endpoint="criteria.show",
        args={"set_id": cset.id},
    )


def unpublish(session: Session, cset: CriteriaSet) -> None:
    if cset.status != SetStatus.PUBLISHED:
        raise DomainError(N_("Chỉ bảng tiêu chí đã công bố mới trở lại bản nháp được."))
    cset.status, cset.published_at = SetStatus.DRAFT, None
    session.flush()


def lock(session: Session, cset: CriteriaSet) -> None:
    """Scoring opens: the set is frozen."""
    if cset.status != SetStatus.PUBLISHED:
        raise DomainError(N_("Phải công bố bảng tiêu chí trước khi khóa để chấm điểm."))
    cset.status, cset.locked_at = SetStatus.LOCKED, utcnow()
    session.flush()


def new_version(session: Session, cset: CriteriaSet, reason: str) -> CriteriaSet:
    """Change a locked set: a new draft copied from it, with the reason; the old one is superseded."""
    reason = (reason or "").strip()
    if cset.status != SetStatus.LOCKED:
        raise DomainError(N_("Chỉ tạo phiên bản mới cho bảng tiêu chí đã khóa; bảng này vẫn sửa trực tiếp được."))
    if len(reason) < 10:
        raise DomainError(N_("Nêu rõ lý do điều chỉnh (ít nhất 10 ký tự)."), "reason")
    cset.status = SetStatus.SUPERSEDED
    session.flush()  # frees the one-set-in-force slot
    successor = CriteriaSet(
        cluster_id=cset.cluster_id,
        year_id=cset.year_id,
        version=cset.version + 1,
        title=cset.title,
        status=SetStatus.DRAFT,
        target_total=cset.target_total,
        score_step=cset.score_step,
        deduction_capped=cset.deduction_capped,
        based_on=cset,
        version_reason=reason,
    )
    session.add(successor)
    session.flush()
    mapping = copy_tree(session, cset, successor)
    _carry_targets(session, mapping)
    return successor


def _carry_targets(session: Session, mapping: dict[int, Criterion]) -> None:
    for old in session.scalars(select(TargetRegistration).where(TargetRegistration.criterion_id.in_(list(mapping)))):
        session.add(
            TargetRegistration(
                cluster_id=old.cluster_id,
                year_id=old.year_id,
                unit_id=old.unit_id,
                criterion_id=mapping[old.criterion_id].id,
                target=old.target,
                note=old.note,
            )
        )
    session.flush()


def delete_set(session: Session, cset: CriteriaSet) -> None:
    if cset.status != SetStatus.DRAFT:
        raise DomainError(N_("Chỉ xóa được bảng tiêu chí đang là bản nháp."))
    if cset.version > 1:
        raise DomainError(N_("Không xóa phiên bản điều chỉnh; hãy sửa bản nháp này."))
    session.delete(cset)
    session.flush()


# --- the tree --------------------------------------------------------------------------


def load_nodes(session: Session, cset: CriteriaSet) -> list[Criterion]:
    return list(session.scalars(select(Criterion).where(Criterion.set_id == cset.id)))


def load_tree(session: Session, cset: CriteriaSet) -> Tree:
    """The whole tree in one query."""
    return treelib.build(load_nodes(session, cset))


def warnings(cset: CriteriaSet, tree: Tree) -> list[str]:
    found = []
    if tree.base_total != cset.target_total:
        found.append(
            f"Tổng điểm chuẩn các tiêu chí chấm điểm là {vn_number(tree.base_total)}, "
            f"khác tổng điểm đã khai báo ({vn_number(cset.target_total)})."
        )
    paths = tree.paths()
    found += [
        f"Tiêu chí {paths[leaf.id]} chưa có điểm chuẩn."
        for leaf in tree.leaves()
        if leaf.max_points in (None, Decimal(0))
    ]
    off_step = [
        leaf
        for leaf in tree.leaves()
        if leaf.method == Method.DIRECT and not multiple_of(leaf.max_points, cset.score_step)
    ]
    if off_step:
        shown = ", ".join(f"{paths[leaf.id]} ({vn_number(leaf.max_points)})" for leaf in off_step[:5])
        found.append(
            f"Điểm chuẩn của {len(off_step)} tiêu chí không phải bội số của bước điểm {vn_number(cset.score_step)} "
            f"nên không chấm đủ điểm được: {shown}{'…' if len(off_step) > 5 else ''}. Hãy đổi bước điểm, "
            f"ví dụ {vn_number(finest_step([leaf.max_points for leaf in off_step]))}."
        )
    return found


def multiple_of(value: Decimal | None, step: Decimal) -> bool:
    return value is None or not step or (value / step) == (value / step).to_integral_value()


def finest_step(values) -> Decimal:
    """The step a table's points need: 1, 0,1 or 0,01 after its finest decimal (3,48 → 0,01; 2,5 → 0,1)."""
    places = max((max(0, -v.normalize().as_tuple().exponent) for v in values if v is not None), default=0)
    return Decimal(1).scaleb(-min(places, 2))


def step_for(values, current: Decimal) -> Decimal:
    """The scoring step after an import: the current one if every value is a multiple of it, else the finest needed."""
    values = [v for v in values if v is not None]
    return current if all(multiple_of(v, current) for v in values) else finest_step(values)


def _editable(cset: CriteriaSet) -> None:
    if not cset.editable:
        raise DomainError(N_("Bảng tiêu chí đã khóa để chấm điểm; muốn thay đổi, hãy tạo phiên bản mới có nêu lý do."))


def _check_criterion(
    session: Session, cset: CriteriaSet, parent: Criterion | None, criterion: Criterion | None, fields: dict
) -> dict:
    code, title = clean(fields.get("code")), (fields.get("title") or "").strip()
    if not code:
        raise DomainError(N_("Nhập số thứ tự (mã) của tiêu chí, ví dụ I, 1 hoặc a."), "code")
    if len(code) > 16:
        raise DomainError(N_("Mã tiêu chí tối đa 16 ký tự."), "code")
    if not title:
        raise DomainError(N_("Nhập nội dung tiêu chí."), "title")
    siblings = select(Criterion.id).where(
        Criterion.set_id == cset.id,
        func.lower(Criterion.code) == code.lower(),
        Criterion.parent_id.is_(None) if parent is None else Criterion.parent_id == parent.id,
    )
    if criterion is not None:
        siblings = siblings.where(Criterion.id != criterion.id)
    if session.scalar(siblings.limit(1)) is not None:
        raise DomainError(N_("Đã có tiêu chí mã “%(code)s” cùng cấp."), "code", code=code)
    kind = fields.get("kind") or (parent.kind if parent else CriterionKind.SCORED)
    if parent is not None and kind != parent.kind:
        raise DomainError(
            N_("Tiêu chí con phải cùng loại với tiêu chí cha (%(kind)s)."), "kind", kind=parent.kind_label.lower()
        )
    method = fields.get("method") or Method.DIRECT
    if kind != CriterionKind.SCORED and method == Method.QUANTITATIVE:
        raise DomainError(N_("Điểm thưởng, điểm trừ không chấm theo phương pháp định lượng."), "method")
    max_points, points_each = fields.get("max_points"), fields.get("points_each")
    if max_points is not None and not Decimal(0) <= max_points <= MAX_POINTS:
        raise DomainError(N_("Điểm chuẩn phải từ 0 đến 10.000."), "max_points")
    if method == Method.PER_OCCURRENCE and (points_each is None or points_each <= 0):
        raise DomainError(N_("Nhập số điểm cho mỗi lần (lớn hơn 0)."), "points_each")
    return {
        "code": code,
        "title": title,
        "guidance": (fields.get("guidance") or "").strip(),
        "kind": kind,
        "method": method,
        "max_points": max_points,
        "points_each": points_each if method == Method.PER_OCCURRENCE else None,
        "measure_unit": clean(fields.get("measure_unit")) if method == Method.QUANTITATIVE else "",
        "evidence_required": bool(fields.get("evidence_required")),
    }


def add_criterion(session: Session, cset: CriteriaSet, parent: Criterion | None, **fields) -> Criterion:
    """Add a criterion at the end of `parent`'s children (or as a new section)."""
    _editable(cset)
    if parent is not None:
        if parent.set_id != cset.id:
            raise DomainError(N_("Tiêu chí cha không thuộc bảng tiêu chí này."))
        if _depth(session, parent) >= MAX_DEPTH:
            raise DomainError(N_("Bảng tiêu chí có tối đa %(depth)s cấp."), depth=MAX_DEPTH)
        if session.scalar(select(TargetRegistration.id).where(TargetRegistration.criterion_id == parent.id).limit(1)):
            raise DomainError(
                N_("Tiêu chí %(code)s đã có chỉ tiêu đăng ký; không thêm tiêu chí con được."), code=parent.code
            )
    values = _check_criterion(session, cset, parent, None, fields)
    last = session.scalar(
        select(func.max(Criterion.position)).where(
            Criterion.set_id == cset.id,
            Criterion.parent_id.is_(None) if parent is None else Criterion.parent_id == parent.id,
        )
    )
    criterion = Criterion(
        criteria_set=cset, parent_id=parent.id if parent else None, position=(last or 0) + 1, **values
    )
    session.add(criterion)
    if parent is not None:  # a parent's maximum is the sum of its children
        parent.max_points, parent.points_each, parent.method = None, None, Method.DIRECT
    session.flush()
    return criterion


def _depth(session: Session, criterion: Criterion) -> int:
    """1 for a section; follows parent links (from the identity map, so no reload of the tree)."""
    depth, node = 1, criterion
    while node.parent_id is not None and depth <= MAX_DEPTH:
        node = session.get(Criterion, node.parent_id)
        depth += 1
    return depth


def has_children(session: Session, criterion: Criterion) -> bool:
    return session.scalar(select(Criterion.id).where(Criterion.parent_id == criterion.id).limit(1)) is not None


def update_criterion(session: Session, criterion: Criterion, **fields) -> Criterion:
    cset = criterion.criteria_set
    _editable(cset)
    parent = session.get(Criterion, criterion.parent_id) if criterion.parent_id else None
    values = _check_criterion(session, cset, parent, criterion, fields)
    if has_children(session, criterion):
        if values["kind"] != criterion.kind:
            raise DomainError(N_("Không đổi loại của tiêu chí đang có tiêu chí con."), "kind")
        for key in LEAF_FIELDS:
            values.pop(key)
    for key, value in values.items():
        setattr(criterion, key, value)
    session.flush()
    return criterion


def delete_criterion(session: Session, criterion: Criterion) -> None:
    """Delete a criterion and everything under it."""
    _editable(criterion.criteria_set)
    session.delete(criterion)
    session.flush()


def move_criterion(session: Session, criterion: Criterion, step: int) -> None:
    """Move among its siblings by `step` places (−1 up, +1 down)."""
    _editable(criterion.criteria_set)
    siblings = list(
        session.scalars(
            select(Criterion)
            .where(
                Criterion.set_id == criterion.set_id,
                Criterion.parent_id.is_(None)
                if criterion.parent_id is None
                else Criterion.parent_id == criterion.parent_id,
            )
            .order_by(Criterion.position, Criterion.id)
        )
    )
    for position, node in enumerate(treelib.moved(siblings, criterion, step), start=1):
        node.position = position
    session.flush()
