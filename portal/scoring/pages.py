"""What the scoring pages show, gathered in a fixed number of queries (no per-row loading)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from portal.access import assessment_allows, current_principal, may
from portal.extensions import db
from portal.formatting import vn_day_of, vn_number
from portal.forms import EmptyForm
from portal.models import Assessment, Cluster, Criterion, EmulationYear, Evidence, Score, ScoringRound
from portal.models.base import utcnow
from portal.models.criteria import Method
from portal.models.scoring import ASSESSMENT_STATUSES, STAGES, RoundKind, Stage
from portal.policy import ClusterYear
from portal.scoring.forms import DeadlineForm, ExtendForm, ReturnForm
from portal.services.criteria import sets
from portal.services.platform import mail
from portal.services.pledges import agreements
from portal.services.scoring import assessments, evidence, not_applicable, reminders, rounds, verification

STAGE_ORDER = (Stage.SELF, Stage.VERIFIED, Stage.EXPLANATION, Stage.FINAL)
# what the author's inputs are called at each stage
INPUT_LABELS = {
    Stage.SELF: ("Tự chấm", "Giải trình, căn cứ"),
    Stage.PEER: ("Điểm chấm chéo", "Nhận xét"),
    Stage.VERIFIED: ("Điểm thẩm định", "Lý do (khi khác điểm tự chấm)"),
    Stage.EXPLANATION: ("Điểm đề nghị", "Giải trình"),
    Stage.FINAL: ("Điểm thống nhất", "Lý do (khi khác điểm tự chấm)"),
}


def method_hint(criterion: Criterion, maximum: Decimal, step: Decimal) -> str:
    if criterion.method == Method.PASS_FAIL:
        return _("Đạt: %(max)s điểm; không đạt: 0", max=vn_number(maximum))
    if criterion.method == Method.PER_OCCURRENCE:
        return _(
            "Số lần × %(each)s điểm, tối đa %(max)s", each=vn_number(criterion.points_each), max=vn_number(maximum)
        )
    if criterion.method == Method.QUANTITATIVE:
        return _(
            "Nhập kết quả thực hiện%(unit)s; điểm tính theo chỉ tiêu đăng ký và kết quả tốt nhất của cụm",
            unit=f" ({criterion.measure_unit})" if criterion.measure_unit else "",
        )
    return _("Từ 0 đến %(max)s, bước %(step)s", max=vn_number(maximum), step=vn_number(step))


@dataclass
class Row:
    node: Criterion
    depth: int
    code: str
    leaf: bool
    maximum: Decimal
    hint: str = ""
    score: Score | None = None
    refs: list[tuple[Assessment, Score | None, list[Evidence]]] = field(default_factory=list)
    files: list[Evidence] = field(default_factory=list)
    target: Decimal | None = None
    stage: str = Stage.SELF  # of the assessment the row belongs to
    not_applicable: str | None = None  # the head's reason when the leaf does not apply to the unit

    @property
    def differs(self) -> bool:
        """Scored differently from the unit's self-score (shown beside it on a later stage or a peer review)."""
        if self.stage == Stage.SELF or self.score is None:
            return False
        own = [s for a, s, _files in self.refs if a.stage == Stage.SELF]
        return bool(own) and verification.differs(self.score.points, own[0].points if own[0] else None)


def _references(current: Assessment) -> list[Assessment]:
    """The same unit's other stages this user may read: the self score beside a review; every step beside a step."""
    round_ids = rounds.self_and_verification_rounds(current.round.cluster_id, current.round.year_id)
    related = db.session.scalars(
        select(Assessment).where(
            Assessment.subject_unit_id == current.subject_unit_id,
            Assessment.round_id.in_(round_ids),
            Assessment.id != current.id,
        )
    ).all()
    if current.stage == Stage.PEER:
        related = [a for a in related if a.stage == Stage.SELF]
    related = [a for a in related if assessment_allows(a, "view")]
    return sorted(related, key=lambda a: STAGE_ORDER.index(a.stage))


def _rows(current: Assessment, references: list[Assessment], only: Criterion | None = None) -> list[Row]:
    cset = current.round.criteria_set
    tree = sets.load_tree(db.session, cset)
    ids = [current.id] + [a.id for a in references]
    scores = assessments.score_maps(db.session, ids)
    files = evidence.by_criterion(db.session, ids)
    quantitative = [n for n in tree.leaves() if n.method == Method.QUANTITATIVE]
    targets = agreements.targets_of(db.session, [current.subject_unit_id], quantitative)
    excluded = not_applicable.reasons(db.session, current)
    maxima = not_applicable.applicable_maxima(tree, excluded)
    rows, paths = [], tree.paths()
    for node, depth in tree.walk():
        if only is not None and node.id != only.id:
            continue
        leaf = tree.is_leaf(node)
        row = Row(node, depth, paths[node.id], leaf, maxima[node.id], stage=current.stage)
        row.not_applicable = excluded.get(node.id) if leaf else None
        if leaf:
            row.hint = method_hint(node, row.maximum, cset.score_step)
            row.score = scores[current.id].get(node.id)
            row.files = files.get((current.id, node.id), [])
            row.refs = [(a, scores[a.id].get(node.id), files.get((a.id, node.id), [])) for a in references]
            registration = targets.get((current.subject_unit_id, node.id))
            row.target = registration.target if registration else None
        rows.append(row)
    return rows


def _state(current: Assessment) -> dict:
    now = utcnow()
    deadline = rounds.deadline_of(current)
    may_write = assessment_allows(current, "edit")
    late = deadline is not None and now > deadline
    return {
        "may_write": may_write,
        "editable": may_write and current.editable and not late,
        "deadline": deadline,
        "late": late and current.editable,
        "labels": INPUT_LABELS[current.stage],
    }


def assessment_context(
    current: Assessment, scope: ClusterYear, submit_error: str | None = None, import_errors: list[str] | None = None
) -> dict:
    references = _references(current)
    rows = _rows(current, references)
    totals = assessments.totals(db.session, current)
    leaves = [r for r in rows if r.leaf]
    context = {
        "assessment": current,
        "scope": scope,
        "cluster": db.session.get(Cluster, scope.cluster_id),
        "year": db.session.get(EmulationYear, scope.year_id),
        "cset": current.round.criteria_set,
        "stage_label": STAGES[current.stage],
        "stages": STAGES,
        "statuses": ASSESSMENT_STATUSES,
        "references": references,
        "rows": rows,
        "totals": totals,
        "scored": sum(1 for r in leaves if r.score is not None and r.score.value is not None and not r.not_applicable),
        "leaf_count": sum(1 for r in leaves if not r.not_applicable),
        "submit_error": submit_error,
        "import_errors": import_errors or [],
        "may_lead": may(scope, "run_rounds"),
        "is_subject": current_principal().unit_id == current.subject_unit_id,
        "next_stages": _next_stages(current, references),
    }
    context.update(_state(current))
    return context


def _next_stages(current: Assessment, references: list[Assessment]) -> dict[str, Assessment | None]:
    """The other stages of the same unit that exist and that the user may read (for links), by stage."""
    if current.stage == Stage.PEER:
        return {}
    later = {a.stage: a for a in references}
    return {stage: later.get(stage) for stage in STAGE_ORDER}


def row_context(
    current: Assessment,
    scope: ClusterYear,
    criterion: Criterion,
    *,
    score: Score | None = None,
    error: str | None = None,
    mine: dict | None = None,
    theirs: Score | None = None,
    fresh: bool = False,
) -> dict:
    """One criterion's row (and, after a save, the totals it moves)."""
    references = _references(current)
    row = _rows(current, references, only=criterion)[0]
    if score is not None:
        row.score = score
    context = {
        "assessment": current,
        "scope": scope,
        "cset": current.round.criteria_set,
        "row": row,
        "error": error,
        "mine": mine,
        "theirs": theirs,
        "fresh": fresh,
        "totals": assessments.totals(db.session, current),
        "references": references,
        "stages": STAGES,
    }
    context.update(_state(current))
    return context


def submitted_message(current: Assessment) -> str:
    return {
        Stage.SELF: _("Đã nộp bản tự chấm điểm. Bản chấm đã khóa; Trưởng cụm, khối sẽ thẩm định."),
        Stage.PEER: _("Đã nộp bản chấm chéo."),
        Stage.VERIFIED: _("Đã gửi kết quả thẩm định cho đơn vị."),
        Stage.EXPLANATION: _("Đã gửi giải trình cho Trưởng cụm, khối."),
        Stage.FINAL: _("Đã chốt điểm thống nhất."),
    }[current.stage]


# ---------------------------------------------------------------- the cluster-year page


def cluster_context(cluster: Cluster, year: EmulationYear, scope: ClusterYear, failed_id=None, **forms) -> dict:
    principal = current_principal()
    self_round = rounds.find_round(db.session, cluster.id, year.id, RoundKind.SELF)
    verification_round = rounds.find_round(db.session, cluster.id, year.id, RoundKind.VERIFICATION)
    cset = sets.in_force(db.session, cluster.id, year.id)
    follows = may(scope, "view_progress")
    rows = rounds.progress(db.session, cluster.id, year.id) if self_round else []
    own = next((r for r in rows if r.unit.id == principal.unit_id), None)
    tree = sets.load_tree(db.session, self_round.criteria_set) if self_round else None
    leaf_count = len(tree.leaves()) if tree else 0
    ids = [a.id for r in rows for a in r.stages.values()]
    sums = rounds.sums(db.session, ids)
    late = reminders.late_units(rows)
    deadline = self_round.deadline if self_round else None

    def total_of(assessment):
        found = sums.get(assessment.id)
        return found.total(tree, self_round.criteria_set.deduction_capped) if found else Decimal(0)

    return {
        "cluster": cluster,
        "year": year,
        "scope": scope,
        "cset": cset,
        "stages": STAGES,
        "statuses": ASSESSMENT_STATUSES,
        "self_round": self_round,
        "verification": verification_round,
        "may_run": may(scope, "run_rounds"),
        "follows": follows,
        "rows": rows if follows else [],
        "own": own,
        "sums": sums,
        "total_of": total_of,
        "leaf_count": leaf_count,
        "late": late if follows else [],
        "submitted_count": len(rows) - len(late),
        "reminder": reminders.reminder_text(late, cluster.name, year.year, deadline),
        "mail_enabled": mail.configured(current_app.config),
        "now": utcnow(),
        "failed_id": failed_id,
        **_cluster_forms(forms, self_round, verification_round),
    }


def _cluster_forms(forms: dict, self_round: ScoringRound | None, verification_round: ScoringRound | None) -> dict:
    """The head's forms on the cluster-year page: the one that failed as submitted, the others as stored."""
    return {
        "open_form": forms.get("open_form") or DeadlineForm(formdata=None),
        "self_deadline_form": forms.get("self_deadline_form")
        or DeadlineForm(formdata=None, deadline=vn_day_of(self_round.deadline if self_round else None)),
        "verification_deadline_form": forms.get("verification_deadline_form")
        or DeadlineForm(formdata=None, deadline=vn_day_of(verification_round.deadline if verification_round else None)),
        "return_form": forms.get("return_form") or ReturnForm(formdata=None),
        "extend_form": forms.get("extend_form") or ExtendForm(formdata=None),
        "blank_return_form": ReturnForm(formdata=None),
        "blank_extend_form": ExtendForm(formdata=None),
        "close_form": EmptyForm(formdata=None),
    }
