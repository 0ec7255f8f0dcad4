"""Clusters and blocks: the list, and each cluster's year (members, rotation, leadership)."""

from functools import partial

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.access import cluster_year_in_scope, current_principal, get_or_404, require, year_from_args
from portal.clusters.forms import AddMemberForm, ClusterFilterForm, ClusterForm, MoveForm, TermForm
from portal.extensions import db
from portal.forms import done, form_status, saved
from portal.htmx import hx_redirect, is_fragment_request, render
from portal.models import Cluster, CouncilMember, EmulationYear, Membership, Term, TermPosition, Unit
from portal.policy import ClusterYear, can
from portal.services.org import cluster_year
from portal.services.org import structure as org
from portal.services.org.overview import cluster_summaries

bp = Blueprint("clusters", __name__, url_prefix="/clusters")
CLUSTER_FIELDS = ("kind", "code", "name", "description", "active")


def _index(form: ClusterForm, status: int = 200):
    filters = ClusterFilterForm(request.args)
    filters.validate()
    year = year_from_args(request.args.get("year"))
    summaries = cluster_summaries(db.session, year, kind=filters.kind.data or None, q=org.clean(filters.q.data))
    all_years = db.session.scalars(select(EmulationYear).order_by(EmulationYear.year.desc())).all()
    block = "create_form" if request.method == "POST" else "results"
    return render(
        "clusters/index.html",
        block=block,
        status=status,
        form=form,
        filters=filters,
        summaries=summaries,
        year=year,
        all_years=all_years,
    )


@bp.get("/")
@require("view_clusters")
def index():
    """Every cluster and block in a year, with leadership; search and filter by kind."""
    return _index(ClusterForm(formdata=None))


@bp.post("/")
@require("manage_clusters")
def create():
    """Create a cluster or block."""
    form = ClusterForm()
    if form.validate_on_submit():
        ok, cluster = saved(
            form, lambda: org.save_cluster(db.session, None, **{k: form[k].data for k in CLUSTER_FIELDS})
        )
        if ok:
            flash(_("Đã tạo “%(name)s”.", name=cluster.name), "success")
            return hx_redirect(url_for("clusters.show", cluster_id=cluster.id))
    return _index(form, status=422)


@bp.route("/<int:cluster_id>/edit", methods=["GET", "POST"])
@require("manage_clusters")
def edit(cluster_id: int):
    """Edit a cluster's code, name, kind and description."""
    cluster = get_or_404(Cluster, cluster_id)
    form = ClusterForm(obj=cluster) if request.method == "GET" else ClusterForm()
    if (
        request.method == "POST"
        and form.validate_on_submit()
        and saved(form, lambda: org.save_cluster(db.session, cluster, **{k: form[k].data for k in CLUSTER_FIELDS})).ok
    ):
        flash(_("Đã lưu."), "success")
        return hx_redirect(url_for("clusters.show", cluster_id=cluster.id))
    return render("clusters/edit.html", block="form", status=form_status(form), cluster=cluster, form=form)


@bp.get("/<int:cluster_id>")
@login_required
def show(cluster_id: int):
    """A cluster's year: leadership, members in rotation order, and the rotation history."""
    cluster, year, _scope = cluster_year_in_scope(cluster_id, request.args.get("year"))
    return render(
        "clusters/show.html", block="members" if is_fragment_request() else None, **_show_context(cluster, year)
    )


def _show_context(cluster: Cluster, year: EmulationYear, **forms) -> dict:
    summary = cluster_summaries(db.session, year, cluster_ids=[cluster.id], with_members=True)[0]
    history = db.session.scalars(
        select(Term)
        .where(Term.cluster_id == cluster.id)
        .join(Term.year)
        .order_by(EmulationYear.year.desc())
        .options(selectinload(Term.year), selectinload(Term.positions).selectinload(TermPosition.unit))
    ).all()
    context = {
        "cluster": cluster,
        "year": year,
        "summary": summary,
        "history": history,
        "scope": ClusterYear(year.id, cluster.id),
        **forms,
    }
    if can(current_principal(), "manage_memberships"):
        add_form = forms.get("add_form") or AddMemberForm(formdata=None)
        add_form.unit_id.choices = _free_units(year)
        context["add_form"] = add_form
    return context


def _free_units(year: EmulationYear) -> list[tuple[int, str]]:
    taken = select(Membership.unit_id).where(Membership.year_id == year.id)
    units = db.session.execute(
        select(Unit.id, Unit.name).where(Unit.active, Unit.id.not_in(taken)).order_by(Unit.sort_key)
    ).all()
    return [(0, _("— Chọn đơn vị chưa thuộc cụm, khối nào —"))] + [tuple(u) for u in units]


@bp.post("/<int:cluster_id>/members")
@require("manage_memberships")
def add_member(cluster_id: int):
    """Add a unit to the cluster for the year."""
    cluster, year, _scope = cluster_year_in_scope(cluster_id, request.args.get("year"))
    form = AddMemberForm()
    form.unit_id.choices = _free_units(year)
    if form.validate_on_submit():
        ok, membership = saved(
            form, lambda: cluster_year.add_membership(db.session, year, cluster, get_or_404(Unit, form.unit_id.data))
        )
        if ok:
            flash(
                _(
                    "Đã thêm “%(unit)s” vào %(cluster)s năm %(year)s.",
                    unit=membership.unit.name,
                    cluster=cluster.name,
                    year=year.year,
                ),
                "success",
            )
            return _members_response(cluster, year)
    return render("clusters/show.html", block="members", status=422, **_show_context(cluster, year, add_form=form))


def _members_response(cluster: Cluster, year: EmulationYear):
    if is_fragment_request():
        return render("clusters/show.html", block="members", **_show_context(cluster, year))
    return hx_redirect(url_for("clusters.show", cluster_id=cluster.id, year=year.year))


@bp.post("/memberships/<int:membership_id>/delete")
@require("manage_memberships")
def remove_member(membership_id: int):
    """Remove a unit from the cluster for that year (not if it holds a position)."""
    membership = get_or_404(Membership, membership_id)
    cluster, year = membership.cluster, membership.year
    if not done(lambda: cluster_year.remove_membership(db.session, membership)).ok:
        if is_fragment_request():
            return render("clusters/show.html", block="members", status=422, **_show_context(cluster, year))
        return hx_redirect(url_for("clusters.show", cluster_id=cluster.id, year=year.year))
    flash(_("Đã bỏ đơn vị khỏi danh sách thành viên."), "success")
    return _members_response(cluster, year)


@bp.post("/memberships/<int:membership_id>/move")
@require("manage_memberships")
def move_member(membership_id: int):
    """Move a member up or down the rotation order."""
    membership = get_or_404(Membership, membership_id)
    form = MoveForm()
    if not form.validate_on_submit() or form.step.data not in (-1, 1):
        abort(400)
    cluster_year.move_in_rotation(db.session, membership, form.step.data)
    db.session.commit()
    return _members_response(membership.cluster, membership.year)


@bp.route("/<int:cluster_id>/term", methods=["GET", "POST"])
@require("manage_terms")
def edit_term(cluster_id: int):
    """Assign head, deputies, overseer and the decision for the year."""
    cluster, year, _scope = cluster_year_in_scope(cluster_id, request.args.get("year"))
    term = cluster_year.ensure_term(db.session, year, cluster)
    form = TermForm(obj=_term_data(term)) if request.method == "GET" else TermForm()
    _term_choices(form, term)
    if request.method == "POST" and form.validate_on_submit():
        assign = partial(
            cluster_year.assign_term,
            db.session,
            term,
            head_id=form.head_id.data or None,
            deputy_ids=form.deputy_ids.data,
            overseer_id=form.overseer_id.data or None,
            decision_number=form.decision_number.data,
            decision_date=form.decision_date.data,
            decision_issuer=form.decision_issuer.data,
            note=form.note.data,
        )
        if saved(form, assign).ok:
            flash(_("Đã lưu phân công năm %(year)s.", year=year.year), "success")
            return hx_redirect(url_for("clusters.show", cluster_id=cluster.id, year=year.year))
    return render("clusters/term.html", block="form", status=form_status(form), cluster=cluster, year=year, form=form)


def _term_data(term: Term):
    head = term.head
    return type(
        "TermData",
        (),
        {
            "head_id": head.unit_id if head else 0,
            "deputy_ids": [u.id for u in term.deputies],
            "overseer_id": term.overseer_id or 0,
            "decision_number": term.decision_number,
            "decision_date": term.decision_date,
            "decision_issuer": term.decision_issuer,
            "note": term.note,
        },
    )()


def _term_choices(form: TermForm, term: Term) -> None:
    members = db.session.execute(
        select(Unit.id, Unit.name)
        .join(Membership, Membership.unit_id == Unit.id)
        .where(Membership.year_id == term.year_id, Membership.cluster_id == term.cluster_id)
        .order_by(Membership.rotation_order, Membership.id)
    ).all()
    form.head_id.label.text = _(term.cluster.head_title)
    form.deputy_ids.label.text = _(term.cluster.deputy_title)
    form.head_id.choices = [(0, _("— Chưa phân công —"))] + [tuple(m) for m in members]
    form.deputy_ids.choices = [tuple(m) for m in members]
    overseers = db.session.execute(
        select(CouncilMember.id, CouncilMember.full_name, CouncilMember.position)
        .where(CouncilMember.active)
        .order_by(CouncilMember.sort_key)
    ).all()
    form.overseer_id.choices = [(0, _("— Chưa phân công —"))] + [(i, f"{n} ({p})" if p else n) for i, n, p in overseers]
