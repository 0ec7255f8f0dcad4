"""The "không áp dụng" page of a cluster-year: which scored criteria do not apply to which member, and why.

Everyone who sees the cluster-year reads it (a member unit only its own marks); the head (its
deputies when the head lets them lead) marks, re-words and removes marks while the service's window
is open (applicability.window_open) and the results are not published. htmx posts get the list
back; plain posts are redirected (303).
"""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from portal.access import (
    cluster_year_in_scope,
    current_principal,
    load_not_applicable,
    may_set_results,
    results_scope,
)
from portal.extensions import db
from portal.forms import EmptyForm, done, saved
from portal.htmx import hx_redirect, is_fragment_request, render
from portal.models import Cluster, Criterion, EmulationYear, Unit
from portal.policy import ClusterYear
from portal.results import bp
from portal.results.forms import NotApplicableForm, NotApplicableReasonForm
from portal.services.results import applicability, scope

ACTION = "mark_not_applicable"


def _closed_because(where: ClusterYear, found: applicability.Matrix | None) -> str | None:
    """Why nothing can be changed now (None: it can)."""
    if found is None:
        return _("Cụm, khối chưa có bảng tiêu chí năm này.")
    if scope.is_locked(db.session, where):
        return _("Kết quả năm này đã công bố; không thay đổi được tiêu chí không áp dụng.")
    if not found.editable:
        return _(
            "Chỉ đánh dấu tiêu chí không áp dụng trước khi mở vòng tự chấm điểm hoặc trong khi thẩm định; "
            "hiện chỉ xem được."
        )
    return None


def _offer(form: NotApplicableForm, found: applicability.Matrix | None) -> None:
    """The members and the scored leaves to choose from."""
    form.unit_id.choices = [(0, _("— Chọn đơn vị —"))] + [(u.id, u.name) for u in (found.units if found else [])]
    leaves = found.leaves if found else []
    form.criterion_id.choices = [(0, _("— Chọn tiêu chí —"))] + [(c.id, f"{path}. {c.title}") for c, path in leaves]


def _page(cluster: Cluster, year: EmulationYear, where: ClusterYear, form=None, status=200, failed=None):
    found = applicability.matrix(db.session, where)
    principal = current_principal()
    units = found.units if found else []
    if principal.role_in(where) == "member":  # a member unit reads the marks that concern it
        units = [u for u in units if u.id == principal.unit_id]
    form = form or NotApplicableForm(formdata=None)
    _offer(form, found)
    closed = _closed_because(where, found)
    return render(
        "results/not_applicable.html",
        block="marks",
        status=status,
        cluster=cluster,
        year=year,
        matrix=found,
        units=units,
        marked={
            u.id: [(c, path, found.mark_of(u.id, c.id)) for c, path in found.leaves if found.mark_of(u.id, c.id)]
            for u in units
        },
        editable=closed is None and may_set_results(where, ACTION),
        closed=closed,
        form=form,
        failed=failed or (None, None),
        reason_form=NotApplicableReasonForm(formdata=None),
        remove_form=EmptyForm(formdata=None),
    )


def _changed(cluster: Cluster, year: EmulationYear, where: ClusterYear, message: str):
    """After a change: the list again for htmx, else back to the page (303)."""
    flash(message, "success")
    if is_fragment_request():
        return _page(cluster, year, where)
    return hx_redirect(url_for("results.not_applicable", cluster_id=cluster.id, year=year.year))


def _of(where: ClusterYear) -> tuple[Cluster, EmulationYear]:
    return db.session.get(Cluster, where.cluster_id), db.session.get(EmulationYear, where.year_id)


@bp.get("/<int:cluster_id>/not-applicable")
@login_required
def not_applicable(cluster_id: int):
    """The criteria that do not apply to the cluster-year's members, with the head's reasons."""
    cluster, year, where = cluster_year_in_scope(cluster_id, request.args.get("year"))
    return _page(cluster, year, where)


@bp.post("/<int:cluster_id>/not-applicable")
@login_required
def mark_not_applicable(cluster_id: int):
    """Mark a criterion "không áp dụng" for a member; a bad value comes back next to its field (422)."""
    cluster, year, where = results_scope(cluster_id, request.args.get("year"), ACTION)
    form = NotApplicableForm()
    _offer(form, applicability.matrix(db.session, where))
    if form.validate_on_submit():
        unit, criterion = db.session.get(Unit, form.unit_id.data), db.session.get(Criterion, form.criterion_id.data)
        user_id = current_principal().user_id
        if saved(
            form, lambda: applicability.mark(db.session, where, unit, criterion, form.reason.data, user_id=user_id)
        ).ok:
            return _changed(cluster, year, where, _("Đã đánh dấu không áp dụng cho %(unit)s.", unit=unit.name))
    return _page(cluster, year, where, form, status=422)


@bp.post("/not-applicable/<int:mark_id>")
@login_required
def edit_not_applicable(mark_id: int):
    """A new reason for a mark; an empty one comes back next to the field (422)."""
    found, where = load_not_applicable(mark_id)
    cluster, year = _of(where)
    form = NotApplicableReasonForm()
    unit, criterion, user_id = found.unit, found.criterion, current_principal().user_id
    if (
        form.validate_on_submit()
        and saved(
            form, lambda: applicability.mark(db.session, where, unit, criterion, form.reason.data, user_id=user_id)
        ).ok
    ):
        return _changed(cluster, year, where, _("Đã lưu lý do không áp dụng của %(unit)s.", unit=unit.name))
    return _page(cluster, year, where, status=422, failed=(mark_id, form))


@bp.post("/not-applicable/<int:mark_id>/delete")
@login_required
def unmark_not_applicable(mark_id: int):
    """The criterion applies to the unit again."""
    found, where = load_not_applicable(mark_id)
    cluster, year = _of(where)
    if not EmptyForm().validate_on_submit():
        abort(400)
    unit_name = found.unit.name
    if done(lambda: applicability.unmark(db.session, where, found)).ok:
        return _changed(cluster, year, where, _("Tiêu chí lại áp dụng cho %(unit)s.", unit=unit_name))
    if is_fragment_request():
        return _page(cluster, year, where, status=422)
    return hx_redirect(url_for("results.not_applicable", cluster_id=cluster.id, year=year.year))
