"""Web-side access: the signed-in user's principal and every scoped loader of the portal.

Each loader asks `portal.policy` and turns its answer into an HTTP one, the same for the pages
and the JSON API: outside the user's scope the object does not exist for them (404); inside it
but not allowed, 403. Templates ask the same `can()`, so a hidden button is never the guard.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, g
from flask_login import current_user, login_required
from sqlalchemy import select, true
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import (
    Assessment,
    Cluster,
    CriteriaSet,
    Criterion,
    EmulationYear,
    NotApplicable,
    Notification,
    Pledge,
    ScoringRound,
    Term,
)
from portal.models.scoring import AssessmentStatus, RoundKind, RoundStatus
from portal.models.years import PositionRole
from portal.policy import (
    HEAD_ACTIONS,
    AssessmentFacts,
    ClusterYear,
    Principal,
    assessment_permission,
    can,
    criteria_permission,
    results_permission,
    sees,
)
from portal.routing import YEAR_MAX, YEAR_MIN
from portal.services.platform import live
from portal.services.platform.principals import principal_for


def current_principal() -> Principal:
    """The signed-in user's Principal, loaded once per request (see services.principals)."""
    if "principal" not in g:
        user = current_user if current_user.is_authenticated else None
        g.principal = principal_for(db.session, user)
    return g.principal


def require(action: str):
    """Sign-in required, then the action (not tied to one object) must be allowed."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not can(current_principal(), action):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def get_or_404(model, ident):
    """The row with this primary key, else 404 (no scope: for rows whose loader checks it, or the secretariat's)."""
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


# ------------------------------------------------------------------------------- cluster-years


def deputy_may_lead(scope: ClusterYear) -> bool:
    """Has the head let its deputies lead with it this year (criteria, pledge, rounds)? Once per request, and
    asked of the database only when the signed-in user is a deputy there: for anyone else the answer changes
    no permission (`policy.can` reads it only for a deputy's office), so it is False without a query."""
    if current_principal().office_in(scope) != PositionRole.DEPUTY:
        return False
    cache = g.setdefault("deputy_may_lead", {})
    if scope not in cache:
        cache[scope] = bool(
            db.session.scalar(
                select(Term.deputy_may_lead).where(Term.year_id == scope.year_id, Term.cluster_id == scope.cluster_id)
            )
        )
    return cache[scope]


def may(scope: ClusterYear, action: str) -> bool:
    """`can()` for the signed-in user on a cluster-year, with the head's delegation to deputies."""
    lead = action in (*HEAD_ACTIONS, "correct_results") and deputy_may_lead(
        scope
    )  # only the head's actions can be delegated
    return can(current_principal(), action, scope, deputy_may_lead=lead)


def authorize_scope(scope: ClusterYear, action: str = "view_cluster") -> None:
    """Outside the user's scope: 404 (it does not exist for them); inside but not allowed: 403."""
    if not sees(current_principal(), scope):
        abort(404)
    if not may(scope, action):
        abort(403)


def current_year() -> EmulationYear | None:
    """The year marked current, else the latest one."""
    if "current_year" not in g:
        g.current_year = db.session.scalars(
            select(EmulationYear).order_by(EmulationYear.is_current.desc(), EmulationYear.year.desc()).limit(1)
        ).first()
    return g.current_year


def year_or_404(number: int) -> EmulationYear:
    """The emulation year numbered `number` (e.g. 2026), else 404."""
    if not YEAR_MIN <= number <= YEAR_MAX:  # no such year; the database would refuse a number this large
        abort(404)
    year = db.session.scalar(select(EmulationYear).where(EmulationYear.year == number))
    if year is None:
        abort(404)
    return year


def year_from_args(value) -> EmulationYear:
    """The year named in ?year=YYYY, else the current year; 404 when there is none."""
    if value in (None, ""):
        year = current_year()
        if year is None:
            abort(404)
        return year
    try:
        number = int(value)
    except (TypeError, ValueError):
        abort(404)
    return year_or_404(number)


def may_set_results(scope: ClusterYear | None, action: str) -> bool:
    """`results_permission()` for the signed-in user, with the head's delegation to deputies."""
    lead = scope is not None and deputy_may_lead(scope)
    return results_permission(current_principal(), action, scope, deputy_may_lead=lead)


def results_scope(cluster_id: int, year, action: str) -> tuple[Cluster, EmulationYear, ClusterYear]:
    """A cluster-year whose results inputs the user changes: outside their scope 404, not allowed 403."""
    cluster, found, scope = cluster_year_in_scope(cluster_id, year)
    if not may_set_results(scope, action):
        abort(403)
    return cluster, found, scope


def load_not_applicable(mark_id: int) -> tuple[NotApplicable, ClusterYear]:
    """A "không áp dụng" mark to change: outside the user's scope 404, not its cluster-year's head 403."""
    mark = get_or_404(NotApplicable, mark_id)
    cset = db.session.get(CriteriaSet, mark.criteria_set_id)
    scope = ClusterYear(cset.year_id, cset.cluster_id)
    if cset.cluster_id is None or not sees(current_principal(), scope):
        abort(404)
    if not may_set_results(scope, "mark_not_applicable"):
        abort(403)
    return mark, scope


def cluster_year_in_scope(cluster_id: int, year) -> tuple[Cluster, EmulationYear, ClusterYear]:
    """The cluster, its year and the scope, for a user who may see that cluster-year (else 404)."""
    if isinstance(year, int) and YEAR_MIN <= year <= YEAR_MAX:  # the pages' URLs: both in one statement,
        # with the data version that most of these pages read next (their caches, their ETag)
        row = db.session.execute(
            select(Cluster, EmulationYear, *live.version_columns())
            .join(EmulationYear, true())  # one row each: a product of two lookups by key
            .where(Cluster.id == cluster_id, EmulationYear.year == year)
        ).first()
        if row is None:
            abort(404)
        cluster, found, *versions = row
        live.adopt_version(db.session, *versions)
    else:
        cluster = get_or_404(Cluster, cluster_id)
        found = year_from_args(year)
    scope = ClusterYear(found.id, cluster.id)
    if not sees(current_principal(), scope):
        abort(404)
    return cluster, found, scope


# ------------------------------------------------------------------------------- criteria sets


def set_allows(cset: CriteriaSet, action: str, term: Term | None = None) -> bool:
    """May the signed-in user 'view' or 'edit' the criteria set? `term`, when given, is its cluster-year's term
    as it stands now (after a change of delegation in this request)."""
    if cset.is_template:
        scope, lead = None, False
    else:
        scope = ClusterYear(cset.year_id, cset.cluster_id)
        lead = term.deputy_may_lead if term is not None else deputy_may_lead(scope)
    return criteria_permission(current_principal(), action, scope=scope, status=cset.status, deputy_may_lead=lead)


def load_set(set_id: int, action: str = "view") -> CriteriaSet:
    """Unseen (including a draft one may not read): 404; seen but not editable by this user: 403."""
    cset = get_or_404(CriteriaSet, set_id)
    if not set_allows(cset, "view"):
        abort(404)
    if action == "edit" and not set_allows(cset, "edit"):
        abort(403)
    return cset


# ------------------------------------------------------------------------------- pledge agreements


def pledge_visible(pledge: Pledge, scope: ClusterYear) -> bool:
    """Members see the agreement once it binds published criteria (signing is open); before, it is a draft."""
    return sees(current_principal(), scope) and (pledge.criteria_set_id is not None or may(scope, "view_drafts"))


def load_pledge(pledge_id: int, action: str | None = None) -> tuple[Pledge, ClusterYear]:
    """The agreement if the user sees it (else 404) and, with `action`, may do it (else 403)."""
    pledge = get_or_404(Pledge, pledge_id)
    scope = ClusterYear(pledge.year_id, pledge.cluster_id)
    if not pledge_visible(pledge, scope):
        abort(404)
    if action and not may(scope, action):
        abort(403)
    return pledge, scope


# ------------------------------------------------------------------------------- rounds and assessments


def load_round(round_id: int, action: str = "run_rounds") -> tuple[ScoringRound, ClusterYear]:
    """A peer round the user may `action`: outside the scope 404, inside but not allowed 403."""
    scoring_round = get_or_404(ScoringRound, round_id)
    if scoring_round.kind != RoundKind.PEER:
        abort(404)
    scope = ClusterYear(scoring_round.year_id, scoring_round.cluster_id)
    authorize_scope(scope, action)
    return scoring_round, scope


def facts_of(assessment: Assessment) -> AssessmentFacts:
    """What `policy.assessment_permission` needs to know of the assessment."""
    scoring_round = assessment.round
    return AssessmentFacts(
        scope=ClusterYear(scoring_round.year_id, scoring_round.cluster_id),
        stage=assessment.stage,
        author_unit_id=assessment.author_unit_id,
        subject_unit_id=assessment.subject_unit_id,
        submitted=assessment.status == AssessmentStatus.SUBMITTED,
        round_closed=scoring_round.status == RoundStatus.CLOSED,
    )


def facts_allow(facts: AssessmentFacts, action: str) -> bool:
    """May the signed-in user 'view' or 'edit' the assessment these facts describe (e.g. a row of totals)?"""
    return assessment_permission(current_principal(), action, facts, deputy_may_lead=deputy_may_lead(facts.scope))


def assessment_allows(assessment: Assessment, action: str) -> bool:
    """May the signed-in user 'view' or 'edit' the assessment?"""
    return facts_allow(facts_of(assessment), action)


def load_assessment(assessment_id: int, action: str = "view") -> tuple[Assessment, ClusterYear]:
    """The assessment if the user may `action` it, with its cluster-year.

    'view' and 'edit' follow `policy.assessment_permission`: a draft of another unit does not
    exist (404), a readable one the user may not write is 403. 'lead' is the head's acts on any
    assessment of its cluster-year (return, extend, verify, finalise): 404 outside it, 403 for
    whoever does not run its rounds.
    """
    # its round and the round's table in the same query: every page and save of it reads both
    assessment = db.session.get(
        Assessment, assessment_id, options=[joinedload(Assessment.round).joinedload(ScoringRound.criteria_set)]
    )
    if assessment is None:
        abort(404)
    scope = facts_of(assessment).scope
    if action == "lead":
        authorize_scope(scope, "run_rounds")
        return assessment, scope
    if not assessment_allows(assessment, "view"):
        abort(404)
    if action == "edit" and not assessment_allows(assessment, "edit"):
        abort(403)
    return assessment, scope


def criterion_of(assessment: Assessment, criterion_id: int | None) -> Criterion:
    """A criterion of the assessment's table, else 404."""
    criterion = db.session.get(Criterion, criterion_id) if criterion_id else None
    if criterion is None or criterion.set_id != assessment.criteria_set_id:
        abort(404)
    return criterion


def own_notice(notice_id: int) -> Notification:
    """One of the signed-in user's own notices; anyone else's does not exist for them (404)."""
    notice = db.session.get(Notification, notice_id)
    if notice is None or notice.user_id != current_user.id:
        abort(404)
    return notice
