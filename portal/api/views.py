"""The JSON API, version 1 (/api/v1): per-user tokens, the pages' permissions, problem+json errors.

Authentication is a bearer token only (`Authorization: Bearer tdk_…`); the session
cookie is not used here, so CSRF does not apply to this blueprint. The token's user
becomes the request's Principal, and `portal.policy` decides exactly as for the
pages: outside the user's scope 404, inside it but not allowed 403.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from sqlalchemy import exists, false, select, tuple_
from sqlalchemy.orm import selectinload

from portal.access import cluster_year_in_scope, current_principal, load_set, set_allows
from portal.api import openapi as spec
from portal.api import params, problems, serialize
from portal.api.problems import ApiProblem
from portal.extensions import csrf, db
from portal.models import Cluster, EmulationYear, Membership, Term, Unit
from portal.models.criteria import CriterionKind
from portal.models.org import CLUSTER_KINDS
from portal.models.users import UserKind
from portal.models.years import PositionRole
from portal.policy import ANONYMOUS, ClusterYear, Principal
from portal.services.criteria import sets
from portal.services.platform import api_tokens
from portal.services.platform.audit import SYSTEM, Actor, set_actor
from portal.services.platform.principals import principal_for

bp = Blueprint("api", __name__, url_prefix="/api/v1")


csrf.exempt(bp)  # no cookie authenticates an API call, so there is no cross-site request to forge
problems.register(bp, db)
PUBLIC_ENDPOINTS = frozenset({"api.openapi"})


@bp.before_request
def authenticate():
    """The bearer token's user, or 401; whatever cookie came along is ignored."""
    g.principal, g.api_token = ANONYMOUS, None
    set_actor(SYSTEM)
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    found = api_tokens.authenticate(db.session, secret.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        raise ApiProblem(401)
    token, user = found
    g.api_token = {"id": token.id, "name": token.name, "prefix": token.prefix, "expires_at": token.expires_at}
    fields = ("id", "username", "full_name", "kind", "unit_id", "council_member_id")
    g.api_user = {name: getattr(user, name) for name in fields}
    g.principal = principal_for(db.session, user)
    set_actor(Actor(user.id, user.username))
    db.session.commit()  # the token's last use (at most once a minute); each view has its own transaction


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API (public)."""
    return jsonify(spec.document())


@bp.get("/me")
def me():
    """Who the token acts for."""
    token = dict(g.api_token, expires_at=serialize.when(g.api_token["expires_at"]))
    return jsonify({"user": g.api_user, "token": token})


@bp.get("/years")
def years():
    """Emulation years, newest first."""
    errors: dict = {}
    page, per_page = params.paging(errors)
    params.check(errors)
    query = select(EmulationYear).order_by(EmulationYear.year.desc())
    return params.paginate_query(query, page, per_page, serialize.year)


# ------------------------------------------------------------------------------- units and clusters


def _membership_in_scope(principal: Principal, year_id: int | None):
    """A condition on Membership: a cluster-year the user sees (and in `year_id` if given)."""
    conditions = []
    if year_id is not None:
        conditions.append(Membership.year_id == year_id)
    if principal.kind == UserKind.UNIT:
        pairs = [tuple(scope) for scope in principal.memberships]
        conditions.append(tuple_(Membership.year_id, Membership.cluster_id).in_(pairs) if pairs else false())
    return conditions


def _visible_units(principal: Principal, year_id: int | None = None):
    """The secretariat sees every unit; others the units of the cluster-years they see."""
    query = select(Unit)
    if principal.is_secretariat and year_id is None:
        return query
    return query.where(exists().where(Membership.unit_id == Unit.id, *_membership_in_scope(principal, year_id)))


def _year_filter(errors: dict) -> int | None:
    """?year=2026: the year's id; a year that does not exist gives an empty list (id -1)."""
    number = params.integer("year", errors, default=None, minimum=2000, maximum=2100)
    if number is None:
        return None
    return db.session.scalar(select(EmulationYear.id).where(EmulationYear.year == number)) or -1


@bp.get("/units")
def units():
    """Member units the user may see; ?year= keeps those that are members of a cluster that year."""
    errors: dict = {}
    page, per_page = params.paging(errors)
    year_id = _year_filter(errors)
    params.check(errors)
    query = _visible_units(current_principal(), year_id).order_by(Unit.sort_key, Unit.id)
    return params.paginate_query(query, page, per_page, serialize.unit)


@bp.get("/units/<id:unit_id>")
def unit(unit_id: int):
    """One unit (404 outside the user's scope)."""
    found = db.session.scalar(_visible_units(current_principal()).where(Unit.id == unit_id))
    if found is None:
        raise ApiProblem(404)
    return jsonify(serialize.unit(found))


def _visible_clusters(principal: Principal):
    query = select(Cluster)
    if principal.kind == UserKind.UNIT:
        ids = sorted({scope.cluster_id for scope in principal.memberships})
        query = query.where(Cluster.id.in_(ids) if ids else false())
    return query


@bp.get("/clusters")
def clusters():
    """Clusters and blocks the user may see; ?kind=cluster|block."""
    errors: dict = {}
    page, per_page = params.paging(errors)
    kind = params.choice("kind", CLUSTER_KINDS, errors)
    params.check(errors)
    query = _visible_clusters(current_principal()).order_by(Cluster.kind, Cluster.code)
    if kind:
        query = query.where(Cluster.kind == kind)
    return params.paginate_query(query, page, per_page, serialize.cluster)


@bp.get("/clusters/<id:cluster_id>")
def cluster(cluster_id: int):
    """One cluster or block (404 outside the user's scope)."""
    found = db.session.scalar(_visible_clusters(current_principal()).where(Cluster.id == cluster_id))
    if found is None:
        raise ApiProblem(404)
    return jsonify(serialize.cluster(found))


@bp.get("/clusters/<id:cluster_id>/years/<year:year>")
def cluster_year(cluster_id: int, year: int):
    """A cluster's year: its members in rotation order and its term (head, deputies, overseer, decision)."""
    found, year, scope = cluster_year_in_scope(cluster_id, year)
    term = db.session.scalar(
        select(Term)
        .where(Term.year_id == year.id, Term.cluster_id == found.id)
        .options(selectinload(Term.positions), selectinload(Term.overseer))
    )
    roles = {p.unit_id: p.role for p in term.positions} if term else {}
    return jsonify(
        {
            "cluster": serialize.cluster(found),
            "year": year.year,
            "term": _term(term, roles),
            "members": _members(scope, roles),
        }
    )


def _members(scope: ClusterYear, roles: dict) -> list[dict]:
    """The cluster-year's members in rotation order, each with its role in the term."""
    members = db.session.scalars(
        select(Membership)
        .where(Membership.year_id == scope.year_id, Membership.cluster_id == scope.cluster_id)
        .options(selectinload(Membership.unit))
        .order_by(Membership.rotation_order, Membership.id)
    ).all()
    return [
        {
            "membership_id": m.id,
            "unit_id": m.unit_id,
            "unit_name": m.unit.name,
            "rotation_order": m.rotation_order,
            "role": roles.get(m.unit_id, "member"),
        }
        for m in members
    ]


def _term(term: Term | None, roles: dict) -> dict | None:
    if term is None:
        return None
    return {
        "decision_number": term.decision_number,
        "decision_date": serialize.day(term.decision_date),
        "decision_issuer": term.decision_issuer,
        "proposed_by_rotation": term.proposed_by_rotation,
        "deputy_may_lead": term.deputy_may_lead,
        "head_unit_id": next((u for u, role in roles.items() if role == PositionRole.HEAD), None),
        "deputy_unit_ids": sorted(u for u, role in roles.items() if role == PositionRole.DEPUTY),
        "overseer": serialize.overseer(term.overseer),
    }


# ------------------------------------------------------------------------------- criteria sets


@bp.get("/clusters/<id:cluster_id>/years/<year:year>/criteria-sets")
def criteria_sets(cluster_id: int, year: int):
    """Every version of the cluster-year's criteria table that the user may read (drafts only for its builders)."""
    errors: dict = {}
    page, per_page = params.paging(errors)
    params.check(errors)
    found, year, scope = cluster_year_in_scope(cluster_id, year)
    visible = [c for c in sets.versions(db.session, found.id, year.id) if set_allows(c, "view")]
    return params.paginate_list(visible, page, per_page, lambda c: serialize.criteria_set(c, year.year))


@bp.get("/criteria-sets/<id:set_id>")
def criteria_set(set_id: int):
    """One criteria table with its tree of sections, criteria and sub-criteria."""
    cset = load_set(set_id)
    tree = sets.load_tree(db.session, cset)
    body = serialize.criteria_set(cset, cset.year.year if cset.year_id else None)
    body |= {
        "base_total": serialize.points(tree.base_total),
        "bonus_cap": serialize.points(tree.total(CriterionKind.BONUS)),
        "deduction_cap": serialize.points(tree.total(CriterionKind.DEDUCTION)),
        "criteria": serialize.criteria_tree(tree),
    }
    return jsonify(body)
