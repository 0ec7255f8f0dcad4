"""Peer review (chấm chéo): the head assigns reviewers and runs the round; reviewers score their peers.

One page per cluster-year. The head (or a deputy the head lets lead) creates the
round, adjusts the assignments while it is a draft, opens, moves the deadline and
closes it; leaders, the overseer and the secretariat follow the progress; each
member unit sees the reviews it has to do, with links to the assessment page.
Members see counts and statuses only, never another reviewer's points.
"""

from __future__ import annotations

from functools import partial

from flask import Blueprint, abort, flash, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.routing import BuildError

from portal import fragments, live
from portal.access import cluster_year_in_scope, current_principal, get_or_404, load_round, may
from portal.extensions import db
from portal.forms import EmptyForm, saved
from portal.htmx import hx_redirect, is_fragment_request, render
from portal.models import Cluster, EmulationYear, ReviewAssignment, ScoringRound
from portal.models.scoring import ASSESSMENT_STATUSES, ASSIGNMENT_MODES, ROUND_STATUSES, RoundStatus
from portal.models.users import UserKind
from portal.policy import ClusterYear
from portal.reviews.forms import DeadlineForm, PairForm, PlanForm, RoundForm
from portal.services.criteria import sets
from portal.services.platform.live import data_version
from portal.services.scoring import reviews

bp = Blueprint("reviews", __name__, url_prefix="/reviews")


PLACEHOLDER = 987654321  # an id no row has: replaced by each row's id in the page's one built URL


def assessment_urls():
    """The generic assessment page's URL (scoring.assessment) for any id, with one url_for per page:
    a function of the id, returning None for no id or while that page does not exist."""
    try:
        head, _, tail = url_for("scoring.assessment", assessment_id=PLACEHOLDER).partition(str(PLACEHOLDER))
    except BuildError:
        return lambda _assessment_id: None
    return lambda assessment_id: None if assessment_id is None else f"{head}{int(assessment_id)}{tail}"


def _status_labels() -> dict[str, str]:
    """Each review status translated once per page, not once per row."""
    return {code: _(label) for code, label in ASSESSMENT_STATUSES.items()}


def _unit_choices(units) -> list[tuple[int, str]]:
    return [(u.id, u.name) for u in units]


def _page_url(cluster: Cluster, year: EmulationYear) -> str:
    return url_for("reviews.for_cluster", cluster_id=cluster.id, year=year.year)


def _context(
    cluster: Cluster, year: EmulationYear, scope: ClusterYear, scoring_round: ScoringRound | None, tag=None, **forms
):
    """What the page shows; `tag`, the ETag of its live progress (made here after a change)."""
    principal = current_principal()
    manage = may(scope, "run_rounds")
    follow = manage or may(scope, "view_progress")
    tag = tag or live.etag(data_version(db.session), _page_url(cluster, year))
    progress = progress_html = None
    if scoring_round and follow and scoring_round.status != RoundStatus.DRAFT and not forms:
        progress_html = _progress_html(cluster, year, scope, scoring_round, manage, tag)
    elif scoring_round and follow:
        progress = reviews.progress(db.session, scoring_round)
    units = progress.members if progress else (reviews.members(db.session, cluster.id, year.id) if manage else [])
    own_unit = principal.unit_id if principal.kind == UserKind.UNIT and scope in principal.memberships else None
    mine = None
    if scoring_round and scoring_round.status != RoundStatus.DRAFT and own_unit:
        mine = reviews.reviews_of(db.session, own_unit, cluster.id, year.id)
    plan_form = forms.get("plan_form") or (RoundForm if scoring_round is None else PlanForm)(
        formdata=None, **_plan_defaults(scoring_round)
    )
    plan_form.team.choices = _unit_choices(units)
    pair_form = forms.get("pair_form") or PairForm(formdata=None)
    pair_form.reviewer_unit_id.choices = pair_form.subject_unit_id.choices = _unit_choices(units)
    return {
        "cluster": cluster,
        "year": year,
        "scope": scope,
        "round": scoring_round,
        "cset": sets.in_force(db.session, cluster.id, year.id) if scoring_round is None and manage else None,
        "manage": manage,
        "progress": progress,
        "progress_html": progress_html,
        "mine": mine,
        "not_submitted": reviews.self_not_submitted(db.session, cluster.id, year.id, units)
        if scoring_round is not None and scoring_round.status == RoundStatus.DRAFT and manage
        else [],
        "own_unit": own_unit,
        "plan_form": plan_form,
        "pair_form": pair_form,
        "deadline_form": forms.get("deadline_form")
        or DeadlineForm(formdata=None, deadline=scoring_round.deadline if scoring_round else None),
        "action_form": forms.get("action_form") or EmptyForm(formdata=None),
        "modes": ASSIGNMENT_MODES,
        "round_statuses": ROUND_STATUSES,
        **_progress_labels(),
        "etag": tag,
        "live": live.streaming(),
    }


def _progress_labels() -> dict:
    """What the progress's lines need, worked out once per page: the status labels, the assessment URL."""
    return {
        "review_statuses": _status_labels(),
        "no_review": _("chưa có bản chấm"),
        "assessment_url": assessment_urls(),
    }


ETAG_MARK = fragments.mark("reviews-etag")


def _progress_html(cluster: Cluster, year: EmulationYear, scope: ClusterYear, scoring_round, manage: bool, tag: str):
    """The open or closed round's progress (one line per review: 600 in a cluster of 25 with all pairs),
    kept per worker (`portal.fragments`) until a write touches the cluster-year; its ETag filled in per
    request. What it shows depends on the reader only through `manage` (the deadline and close forms)."""

    def produce() -> str:
        context = {
            "cluster": cluster,
            "year": year,
            "round": scoring_round,
            "manage": manage,
            "progress": reviews.progress(db.session, scoring_round),
            "deadline_form": DeadlineForm(formdata=None, deadline=scoring_round.deadline),
            "etag": ETAG_MARK,
            "live": live.streaming(),
            **_progress_labels(),
        }
        return render_template("reviews/_progress.html", **context)

    variant = (scoring_round.id, manage, live.streaming())
    return fragments.cached(scope, "reviews-progress", variant, data_version(db.session), produce, {ETAG_MARK: tag})


def _plan_defaults(scoring_round: ScoringRound | None) -> dict:
    if scoring_round is None or scoring_round.assignment_mode is None:
        return {}
    return {"mode": scoring_round.assignment_mode, "k": scoring_round.reviews_per_unit or 2}


def _page(scoring_round: ScoringRound, scope: ClusterYear, status: int = 200, **forms):
    """After a change: the round's block for htmx (or the form again with 422), else back to the page (303)."""
    if status == 200 and not is_fragment_request():
        year = db.session.get(EmulationYear, scope.year_id)
        return hx_redirect(url_for("reviews.for_cluster", cluster_id=scope.cluster_id, year=year.year))
    cluster, year = db.session.get(Cluster, scope.cluster_id), db.session.get(EmulationYear, scope.year_id)
    context = _context(cluster, year, scope, scoring_round, **forms)
    return render("reviews/show.html", block="round", status=status, **context)


def _change(scoring_round: ScoringRound, scope: ClusterYear, form, call, message: str, form_name: str):
    """A change to the round from a form: its message and the round again, or the form again (422) under
    `form_name`, the name the round's page gives it."""
    if form.validate_on_submit() and saved(form, call).ok:
        flash(message, "success")
        return _page(scoring_round, scope)
    return _page(scoring_round, scope, 422, **{form_name: form})


@bp.get("/<int:cluster_id>/<int:year>")
@login_required
def for_cluster(cluster_id: int, year: int):
    """The cluster-year's peer round: set-up and progress for leaders, one's own reviews for members.

    Live: the progress polls this URL (304 while nothing changed) and, with Redis, refreshes on the stream."""
    cluster, year, scope = cluster_year_in_scope(cluster_id, year)
    tag = live.etag(data_version(db.session), _page_url(cluster, year))

    def page():
        context = _context(cluster, year, scope, reviews.find_round(db.session, cluster.id, year.id), tag)
        return render("reviews/show.html", block="round" if is_fragment_request() else None, **context)

    return live.answer(tag, page)


@bp.get("/<int:cluster_id>/<int:year>/live")
@login_required
def stream(cluster_id: int, year: int):
    """The progress page's event stream (Redis only, else 404), for whoever may read the page."""
    cluster_year_in_scope(cluster_id, year)
    return live.stream()


@bp.post("/<int:cluster_id>/<int:year>")
@login_required
def create(cluster_id: int, year: int):
    """Create the year's peer round (a draft) with assignments from the chosen mode."""
    cluster, year, scope = cluster_year_in_scope(cluster_id, year)
    if not may(scope, "run_rounds"):
        abort(403)
    form = RoundForm()
    if form.validate_on_submit():
        cset = sets.in_force(db.session, cluster.id, year.id)
        if cset is None:
            form.form_errors.append(_("Chưa có bảng tiêu chí năm nay."))
        elif saved(
            form,
            lambda: reviews.create_round(
                db.session, cset, form.mode.data, form.k.data, form.team.data, deadline=form.deadline.data
            ),
        ).ok:
            flash(_("Đã lập vòng chấm chéo (đang chuẩn bị). Kiểm tra phân công rồi mở vòng."), "success")
            return hx_redirect(url_for("reviews.for_cluster", cluster_id=cluster.id, year=year.year))
    context = _context(cluster, year, scope, None, plan_form=form)
    return render("reviews/show.html", block="round", status=422, **context)


@bp.post("/rounds/<int:round_id>/reassign")
@login_required
def reassign(round_id: int):
    """Replace the draft round's assignments by a new plan ("Lập lại phân công")."""
    scoring_round, scope = load_round(round_id)
    form = PlanForm()
    call = partial(reviews.reassign, db.session, scoring_round, form.mode.data, form.k.data, form.team.data)
    return _change(scoring_round, scope, form, call, _("Đã lập lại phân công chấm chéo."), "plan_form")


@bp.post("/rounds/<int:round_id>/assignments")
@login_required
def add_assignment(round_id: int):
    """Add one reviewer → subject pair by hand (draft only)."""
    scoring_round, scope = load_round(round_id)
    form = PairForm()
    call = partial(
        reviews.add_assignment, db.session, scoring_round, form.reviewer_unit_id.data, form.subject_unit_id.data
    )
    return _change(scoring_round, scope, form, call, _("Đã thêm phân công."), "pair_form")


@bp.post("/assignments/<int:assignment_id>/delete")
@login_required
def remove_assignment(assignment_id: int):
    """Remove one pair by hand (draft only)."""
    assignment = get_or_404(ReviewAssignment, assignment_id)
    scoring_round, scope = load_round(assignment.round_id)
    form = EmptyForm()
    call = partial(reviews.remove_assignment, db.session, scoring_round, assignment)
    return _change(scoring_round, scope, form, call, _("Đã bỏ phân công."), "action_form")


@bp.post("/rounds/<int:round_id>/open")
@login_required
def open_round(round_id: int):
    """Open the round: every assignment gets its draft review."""
    scoring_round, scope = load_round(round_id)
    form = EmptyForm()
    outcome = saved(form, partial(reviews.open_round, db.session, scoring_round)) if form.validate_on_submit() else None
    if outcome and outcome.ok:
        flash(_("Đã mở vòng chấm chéo: %(count)s bản chấm được giao.", count=outcome.result), "success")
        return _page(scoring_round, scope)
    return _page(scoring_round, scope, 422, action_form=form)


@bp.post("/rounds/<int:round_id>/deadline")
@login_required
def deadline(round_id: int):
    """Set, move or clear the round's deadline."""
    scoring_round, scope = load_round(round_id)
    form = DeadlineForm()
    call = partial(reviews.set_deadline, db.session, scoring_round, form.deadline.data)
    return _change(scoring_round, scope, form, call, _("Đã lưu hạn chấm chéo."), "deadline_form")


@bp.post("/rounds/<int:round_id>/close")
@login_required
def close_round(round_id: int):
    """Close the round: reviews become readable in the cluster; unsubmitted ones are listed as missing."""
    scoring_round, scope = load_round(round_id)
    call = partial(reviews.close_round, db.session, scoring_round)
    return _change(scoring_round, scope, EmptyForm(), call, _("Đã đóng vòng chấm chéo."), "action_form")
