"""Pages that set how results are computed: the head's settings of a cluster-year, the secretariat's bands,
units not eligible for awards.

The services (portal/services/results/) check every value and refuse changes once published
results depend on them; the views load, authorise, call one service and commit once.
"""

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from portal.access import current_principal, get_or_404, may_set_results, results_scope, year_or_404
from portal.extensions import db
from portal.forms import done, saved
from portal.htmx import hx_redirect, render
from portal.models import Cluster, EmulationYear, Ineligibility, Unit
from portal.policy import ClusterYear
from portal.results import bp
from portal.results.forms import (
    KIND_CHOICES,
    BandsForm,
    BandsResetForm,
    EndIneligibilityForm,
    IneligibilityForm,
    SettingsForm,
)
from portal.services.results import bands, eligibility, scope, settings

KINDS = [code for code, _label in KIND_CHOICES]


def _settings_page(cluster: Cluster, year: EmulationYear, where: ClusterYear, form: SettingsForm, status: int = 200):
    if status == 200:
        form.fill(settings.as_settings(settings.find(db.session, where)))
    return render(
        "results/settings/settings.html",
        block="settings_form",
        status=status,
        cluster=cluster,
        year=year,
        form=form,
        locked=scope.is_locked(db.session, where),
    )


def _settings_form(where: ClusterYear, **kwargs) -> SettingsForm:
    form = SettingsForm(**kwargs)
    form.offer_sections(settings.sections(db.session, where))
    return form


@bp.get("/<int:cluster_id>/settings")
@login_required
def settings_page(cluster_id: int):
    """How the cluster-year's results are computed, for its head (and deputies the head lets lead)."""
    cluster, year, where = results_scope(cluster_id, request.args.get("year"), "edit_result_settings")
    return _settings_page(cluster, year, where, _settings_form(where, formdata=None))


@bp.post("/<int:cluster_id>/settings")
@login_required
def save_settings(cluster_id: int):
    """Store the settings; a bad value comes back next to its field (422), nothing saved."""
    cluster, year, where = results_scope(cluster_id, request.args.get("year"), "edit_result_settings")
    form = _settings_form(where)
    if form.validate_on_submit():
        ok, _row = saved(form, lambda: settings.save(db.session, where, form.settings()))
        if ok:
            flash(_("Đã lưu cách tính kết quả năm %(year)s.", year=year.year), "success")
            return hx_redirect(url_for("results.settings_page", cluster_id=cluster.id, year=year.year))
    return _settings_page(cluster, year, where, form, status=422)


def _bands_year(number: int) -> EmulationYear:
    """The year whose bands are set: the secretariat's alone (403 for everyone else)."""
    if not may_set_results(None, "edit_bands"):
        abort(403)
    return year_or_404(number)


def _kind_rows(year: EmulationYear) -> list[dict]:
    """Each kind (every kind, then cụm, khối) with the bands in force and where they come from: four queries."""
    stored = {rule.cluster_kind for rule in bands.rules(db.session, year.id)}
    rows = []
    for code, label in KIND_CHOICES:
        kind = code or None
        if kind in stored:
            source = _("Đặt riêng")
        elif kind is not None and None in stored:
            source = _("Theo mức của mọi cụm, khối")
        else:
            source = _("Mặc định")
        in_force = bands.for_kind(db.session, year.id, kind)
        rows.append({"code": code, "label": label, "bands": in_force, "source": source, "own": kind in stored})
    return rows


def _bands_page(year: EmulationYear, form: BandsForm, status: int = 200):
    rows = _kind_rows(year)
    chosen = next((row for row in rows if row["code"] == form.cluster_kind.data), rows[0])  # a bad kind: every kind
    if status == 200:
        form.fill(chosen["bands"])
    return render(
        "results/settings/bands.html",
        block="bands",
        status=status,
        year=year,
        form=form,
        rows=rows,
        chosen=chosen,
        reset_form=BandsResetForm(formdata=None),
    )


@bp.get("/bands/<int:year>")
@login_required
def bands_page(year: int):
    """The three bands of a year for every kind of cluster, and the form for the chosen kind (?kind=)."""
    year = _bands_year(year)
    kind = request.args.get("kind", "")
    if kind not in KINDS:
        abort(404)
    return _bands_page(year, BandsForm(formdata=None, cluster_kind=kind))


@bp.post("/bands/<int:year>")
@login_required
def save_bands(year: int):
    """Store the three bands of the chosen kind; a bad value comes back next to its field (422)."""
    year = _bands_year(year)
    form = BandsForm()
    if form.validate_on_submit():
        ok, _rows = saved(form, lambda: bands.save(db.session, year.id, form.kind(), form.shares()))
        if ok:
            flash(_("Đã lưu các mức xếp loại năm %(year)s.", year=year.year), "success")
            return hx_redirect(url_for("results.bands_page", year=year.year, kind=form.cluster_kind.data))
    return _bands_page(year, form, status=422)


@bp.post("/bands/<int:year>/reset")
@login_required
def reset_bands(year: int):
    """Drop the chosen kind's own bands: it follows the bands for every kind (or the defaults) again."""
    year = _bands_year(year)
    form = BandsResetForm()
    if not form.validate_on_submit():
        abort(400)
    kind = form.cluster_kind.data or None
    ok, _result = done(lambda: bands.reset(db.session, year.id, kind))
    if ok:
        flash(_("Đã trả các mức xếp loại về mặc định."), "success")
    return hx_redirect(url_for("results.bands_page", year=year.year, kind=form.cluster_kind.data))


def _eligibility_year(number: int) -> tuple[EmulationYear, list[int] | None]:
    """The year, and the clusters whose members the user marks (None: every unit, for the secretariat); else 403."""
    year = year_or_404(number)
    if may_set_results(None, "mark_ineligible"):
        return year, None
    led = [
        where.cluster_id
        for where in current_principal().memberships
        if where.year_id == year.id and may_set_results(where, "mark_ineligible")
    ]
    if not led:
        abort(403)
    return year, led


def _eligibility_page(year: EmulationYear, clusters: list[int] | None, form: IneligibilityForm, status: int = 200):
    units = eligibility.member_units(db.session, year.id, clusters)
    form.unit_id.choices = [(0, _("— Chọn đơn vị —"))] + [(u.id, u.name) for u in units]
    marked = eligibility.of_year(db.session, year.year, [u.id for u in units])
    return render(
        "results/settings/eligibility.html",
        block="eligibility",
        status=status,
        year=year,
        form=form,
        rows=[(unit, row) for unit in units for row in marked.get(unit.id, ())],
        end_form=EndIneligibilityForm(formdata=None),
    )


@bp.get("/eligibility/<int:year>")
@login_required
def eligibility_page(year: int):
    """Units not eligible for awards in the year: every unit for the secretariat, its members for a head."""
    year, clusters = _eligibility_year(year)
    return _eligibility_page(year, clusters, IneligibilityForm(formdata=None))


@bp.post("/eligibility/<int:year>")
@login_required
def mark_ineligible(year: int):
    """Mark a unit not eligible; a bad value comes back next to its field (422), nothing saved."""
    year, clusters = _eligibility_year(year)
    form = IneligibilityForm()
    form.unit_id.choices = [(u.id, u.name) for u in eligibility.member_units(db.session, year.id, clusters)]
    if form.validate_on_submit():
        unit = db.session.get(Unit, form.unit_id.data)
        ok, _row = saved(
            form,
            lambda: eligibility.mark(
                db.session,
                year,
                unit,
                kind=form.kind.data,
                reason=form.reason.data,
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
                user_id=current_principal().user_id,
            ),
        )
        if ok:
            flash(_("Đã ghi nhận %(unit)s không đủ điều kiện khen thưởng.", unit=unit.name), "success")
            return hx_redirect(url_for("results.eligibility_page", year=year.year))
    return _eligibility_page(year, clusters, form, status=422)


@bp.post("/eligibility/cases/<int:case_id>/end")
@login_required
def end_ineligibility(case_id: int):
    """The reason is over: the case ends on the date given (the row stays)."""
    case = get_or_404(Ineligibility, case_id)
    year, clusters = _eligibility_year(case.year.year)
    if clusters is not None and case.unit_id not in {
        u.id for u in eligibility.member_units(db.session, year.id, clusters)
    }:
        abort(404)
    form = EndIneligibilityForm()
    if not form.validate_on_submit():
        flash(" ".join(str(error) for error in form.ends_on.errors), "danger")
    else:
        ok, _result = done(lambda: eligibility.end(db.session, case, form.ends_on.data))
        if ok:
            flash(_("Đã kết thúc trường hợp của %(unit)s.", unit=case.unit.name), "success")
    return hx_redirect(url_for("results.eligibility_page", year=year.year))
