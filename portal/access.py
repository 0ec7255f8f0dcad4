"""Web-side access helpers: they ask `portal.policy` and turn its answer into 403 or 404."""

from __future__ import annotations

from functools import wraps

from flask import abort, g
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.extensions import db
from portal.models import Cluster, EmulationYear, Term
from portal.policy import ClusterYear, Principal, can, sees
from portal.routing import YEAR_MAX, YEAR_MIN
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
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def authorize_scope(scope: ClusterYear, action: str = "view_cluster", **policy_kw) -> None:
    """Outside the user's scope: 404 (it does not exist for them); inside but not allowed: 403."""
    if not sees(current_principal(), scope):
        abort(404)
    if not can(current_principal(), action, scope, **policy_kw):
        abort(403)


def current_year() -> EmulationYear | None:
    """The year marked current, else the latest one."""
    if "current_year" not in g:
        g.current_year = db.session.scalars(
            select(EmulationYear).order_by(EmulationYear.is_current.desc(), EmulationYear.year.desc()).limit(1)
        ).first()
    return g.current_year


def year_from_args(value) -> EmulationYear:
    """The year named in ?year=YYYY, else the current year; 404 when there is none."""
    if value in (None, ""):
        year = current_year()
    else:
        try:
            number = int(value)
        except (TypeError, ValueError):
            abort(404)
        if not YEAR_MIN <= number <= YEAR_MAX:  # no such year; the database would refuse a number this large
            abort(404)
        year = db.session.scalar(select(EmulationYear).where(EmulationYear.year == number))
    if year is None:
        abort(404)
    return year


def cluster_year_in_scope(cluster_id: int, year) -> tuple[Cluster, EmulationYear, ClusterYear]:
    """The cluster, its year and the scope, for a user who may see that cluster-year (else 404)."""
    cluster = get_or_404(Cluster, cluster_id)
    record = year_from_args(year)
    scope = ClusterYear(record.id, cluster.id)
    if not sees(current_principal(), scope):
        abort(404)
    return cluster, record, scope


def deputy_may_lead(scope: ClusterYear) -> bool:
    """Has the head let its deputies lead with it this year (criteria, pledge, rounds)? Once per request."""
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
    return can(current_principal(), action, scope, deputy_may_lead=deputy_may_lead(scope))
