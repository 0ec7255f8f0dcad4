"""What the scoring pages show, gathered in a fixed number of queries (no per-row loading)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app, render_template
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from portal import fragments
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
from portal.services.platform.live import data_version
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
    version = data_version(db.session)  # before anything the kept rows show is read
    references = _references(current)
    context = {
        "assessment": current,
        "scope": scope,
        "cluster": db.session.get(Cluster, scope.cluster_id),
        "year": db.session.get(EmulationYear, scope.year_id),
        "stage_label": STAGES[current.stage],
        "stages": STAGES,
        "statuses": ASSESSMENT_STATUSES,
        "references": references,
        "submit_error": submit_error,
        "import_errors": import_errors or [],
        "may_lead": may(scope, "run_rounds"),
        "is_subject": current_principal().unit_id == current.subject_unit_id,
        "next_stages": _next_stages(current, references),
    }
    context.update(_state(current))
    context["rows_html"], context["totals_html"] = _kept_rows(context, version)
    return context


def _kept_rows(context: dict, version: int) -> tuple[str, str]:
    """The table's rows and the running totals beside them, kept per worker (`portal.fragments`) for this
    assessment, whether the reader edits it, and the earlier stages the reader may see."""
    current, references = context["assessment"], context["references"]

    def produce() -> tuple[str, str]:
        parts = {**context, "rows": _rows(current, references), "totals": assessments.totals(db.session, current)}
        return render_template("scoring/_rows.html", **parts), render_template("scoring/_totals.html", **parts)

    variant = (current.id, context["editable"], tuple(a.id for a in references))
    return fragments.cached(context["scope"], "assessment-rows", variant, version, produce)


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


def saved_context(
    current: Assessment, scope: ClusterYear, criterion: Criterion, score: Score, sheet: assessments.Sheet
) -> dict:
    """The answer to an accepted autosave, gathered inside the save's transaction after its flush (so its
    numbers are the ones the commit makes lasting) from what the save has loaded: the row's revision and
    points come from the saved `score`, the totals from `sheet` and one query of the assessment's points.
    Only a later stage (or a peer review) reads the self score beside it, for the "khác điểm tự chấm" mark."""
    row = Row(
        criterion,
        0,
        "",
        True,
        not_applicable.applicable_maxima(sheet.tree, sheet.excluded)[criterion.id],
        score=score,
        stage=current.stage,
    )
    if current.stage != Stage.SELF:
        references = _references(current)
        scores = assessments.score_maps(db.session, [a.id for a in references])
        row.refs = [(a, scores[a.id].get(criterion.id), []) for a in references]
    return {
        "assessment": current,
        "scope": scope,
        "row": row,
        "error": None,
        "mine": None,
        "theirs": None,
        "fresh": True,
        "totals": assessments.totals(db.session, current, sheet.excluded, sheet.tree),
    }


def submitted_message(current: Assessment) -> str:
    return {
        Stage.SELF: _("Đã nộp bản tự chấm điểm. Bản chấm đã khóa; Trưởng cụm, khối sẽ thẩm định."),
        Stage.PEER: _("Đã nộp bản chấm chéo."),
        Stage.VERIFIED: _("Đã gửi kết quả thẩm định cho đơn vị."),
        Stage.EXPLANATION: _("Đã gửi giải trình cho Trưởng cụm, khối."),
        Stage.FINAL: _("Đã chốt điểm thống nhất."),
    }[current.stage]


# ---------------------------------------------------------------- the cluster-year page


OWN_MARK = fragments.mark("own")


def cluster_context(cluster: Cluster, year: EmulationYear, scope: ClusterYear, failed_id=None, **forms) -> dict:
    """The cluster-year page: its body kept per worker (`portal.fragments`) for what the reader may do,
    unless a form of it comes back with errors (then rendered for this request alone); the reader's own
    unit's card filled in per request."""
    version = data_version(db.session)  # before anything the kept body shows is read
    variant = (may(scope, "view_progress"), may(scope, "run_rounds"), mail.configured(current_app.config))

    def produce() -> str:
        body = _body_context(cluster, year, scope, *variant, failed_id=failed_id, forms=forms)
        return render_template("scoring/_cluster_body.html", own_html=OWN_MARK, **body)

    own_html = _own_card(current_principal().unit_id, cluster, year, scope, version)
    if failed_id is not None or any(form.errors for form in forms.values()):
        body_html = Markup(produce().replace(OWN_MARK, own_html))
    else:
        body_html = fragments.cached(scope, "scoring-cluster", variant, version, produce, {OWN_MARK: own_html})
    return {"cluster": cluster, "year": year, "scope": scope, "body_html": body_html}


def _own_card(unit_id: int | None, cluster: Cluster, year: EmulationYear, scope: ClusterYear, version: int) -> str:
    """The reader's own unit's card, kept per worker for that unit (`fragments.card_cache`): it shows the
    unit's stages in this cluster-year, so any write touching the cluster-year drops it with the body."""
    if unit_id is None:
        return ""

    def produce() -> str:
        return render_template("scoring/_own.html", **_own(unit_id, cluster, year))

    return str(fragments.cached(scope, "scoring-own", (unit_id,), version, produce, kept_in=fragments.card_cache()))


def _own(unit_id: int | None, cluster: Cluster, year: EmulationYear) -> dict:
    """The signed-in unit's own stages when it is a member (its draft's count of scored leaves)."""
    own = next(iter(rounds.progress(db.session, cluster.id, year.id, unit_id)), None) if unit_id else None
    context = {"own": own, "own_scored": 0, "leaf_count": 0, "stages": STAGES, "statuses": ASSESSMENT_STATUSES}
    draft = own.self_assessment if own else None
    if draft is not None and draft.editable:
        found = rounds.sums(db.session, [draft.id]).get(draft.id)
        context["own_scored"] = found.scored if found else 0
        context["leaf_count"] = len(sets.load_tree(db.session, draft.round.criteria_set).leaves())
    return context


def _body_context(
    cluster: Cluster,
    year: EmulationYear,
    scope: ClusterYear,
    follows: bool,
    may_run: bool,
    mail_enabled: bool,
    *,
    failed_id: int | None,
    forms: dict,
) -> dict:
    self_round = rounds.find_round(db.session, cluster.id, year.id, RoundKind.SELF)
    verification_round = rounds.find_round(db.session, cluster.id, year.id, RoundKind.VERIFICATION)
    context = {
        "cluster": cluster,
        "year": year,
        "scope": scope,
        "cset": sets.in_force(db.session, cluster.id, year.id),
        "stages": STAGES,
        "statuses": ASSESSMENT_STATUSES,
        "self_round": self_round,
        "verification": verification_round,
        "may_run": may_run,
        "follows": follows,
        "mail_enabled": mail_enabled,
        "failed_id": failed_id,
        **_cluster_forms(forms, self_round, verification_round),
    }
    if follows and self_round:
        context.update(_progress(cluster, year, self_round))
    return context


def _progress(cluster: Cluster, year: EmulationYear, self_round: ScoringRound) -> dict:
    """The units' progress table and the reminder beside it, for who follows the cluster-year."""
    rows = rounds.progress(db.session, cluster.id, year.id)
    tree = sets.load_tree(db.session, self_round.criteria_set)
    sums = rounds.sums(db.session, [a.id for r in rows for a in r.stages.values()])
    late = reminders.late_units(rows)

    def total_of(assessment):
        found = sums.get(assessment.id)
        return found.total(tree, self_round.criteria_set.deduction_capped) if found else Decimal(0)

    return {
        "rows": rows,
        "sums": sums,
        "total_of": total_of,
        "leaf_count": len(tree.leaves()),
        "late": late,
        "submitted_count": len(rows) - len(late),
        "reminder": reminders.reminder_text(late, cluster.name, year.year, self_round.deadline),
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
