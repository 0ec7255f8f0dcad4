"""Member units: list, search, edit in place, and reorganisation (rename, merge, retire)."""

from flask import Blueprint, flash, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import vntext
from portal.access import get_or_404, require
from portal.extensions import db
from portal.forms import edit_in_place, saved
from portal.htmx import hx_redirect, render
from portal.models import Cluster, EmulationYear, Membership, Unit, UnitChange, User
from portal.routing import paginate
from portal.services.org import structure as org
from portal.units.forms import MergeForm, RenameForm, RetireForm, UnitFilterForm, UnitForm

bp = Blueprint("units", __name__, url_prefix="/units")


def _filtered(filters: UnitFilterForm):
    query = select(Unit).order_by(Unit.sort_key, Unit.id)
    if filters.q.data:
        query = query.where(Unit.search_key.like(vntext.like_pattern(filters.q.data), escape="\\"))
    if filters.sector.data:
        query = query.where(Unit.sector == filters.sector.data)
    if filters.status.data != "all":
        query = query.where(Unit.active == (filters.status.data != "retired"))
    return paginate(query)


def _index(form: UnitForm, status: int = 200):
    filters = UnitFilterForm(request.args)
    filters.validate()
    block = "create_form" if request.method == "POST" else "results"
    return render("units/index.html", block=block, status=status, form=form, filters=filters, page=_filtered(filters))


@bp.get("/")
@require("manage_units")
def index():
    """List units with search and filters; the results block is the htmx fragment."""
    return _index(UnitForm(formdata=None))


@bp.post("/")
@require("manage_units")
def create():
    """Add a unit; errors come back next to the fields (422)."""
    form = UnitForm()
    if form.validate_on_submit():
        ok, unit = saved(form, lambda: org.save_unit(db.session, None, **_unit_fields(form)))
        if ok:
            flash(_("Đã thêm đơn vị “%(name)s”.", name=unit.name), "success")
            return hx_redirect(url_for("units.index", q=unit.name))
    return _index(form, status=422)


def _unit_fields(form: UnitForm) -> dict:
    return {k: form[k].data for k in ("name", "short_name", "sector", "address")}


@bp.get("/<int:unit_id>")
@require("manage_units")
def show(unit_id: int):
    """A unit's card: details, memberships by year, accounts and reorganisation history."""
    return render_template("units/show.html", **_show_context(get_or_404(Unit, unit_id)))


def _show_context(unit: Unit, **forms) -> dict:
    memberships = db.session.execute(
        select(EmulationYear.year, Cluster)
        .join(Membership.year)
        .join(Membership.cluster)
        .where(Membership.unit_id == unit.id)
        .order_by(EmulationYear.year.desc())
    ).all()
    changes = db.session.scalars(
        select(UnitChange)
        .where((UnitChange.unit_id == unit.id) | (UnitChange.successor_id == unit.id))
        .options(selectinload(UnitChange.unit), selectinload(UnitChange.successor))
        .order_by(UnitChange.effective_on.desc(), UnitChange.id.desc())
    ).all()
    users = db.session.scalars(select(User).where(User.unit_id == unit.id).order_by(User.username)).all()
    return {
        "unit": unit,
        "memberships": memberships,
        "changes": changes,
        "users": users,
        **_change_forms(unit, **forms),
    }


def _change_forms(unit: Unit, **override) -> dict:
    merge = override.get("merge_form") or MergeForm(formdata=None, prefix="merge")
    merge.successor_id.choices = [(0, _("— Chọn đơn vị —"))] + [
        (u.id, u.name)
        for u in db.session.scalars(select(Unit).where(Unit.active, Unit.id != unit.id).order_by(Unit.sort_key))
    ]
    return {
        "rename_form": override.get("rename_form") or RenameForm(formdata=None, prefix="rename"),
        "merge_form": merge,
        "retire_form": override.get("retire_form") or RetireForm(formdata=None, prefix="retire"),
    }


@bp.route("/<int:unit_id>/edit", methods=["GET", "POST"])
@require("manage_units")
def edit(unit_id: int):
    """Edit in place: GET gives the row form (or a page), POST saves and gives the row back."""
    unit = get_or_404(Unit, unit_id)
    form = UnitForm(obj=unit) if request.method == "GET" else UnitForm()
    return edit_in_place(
        form,
        lambda: org.save_unit(db.session, unit, active=unit.active, **_unit_fields(form)),
        row=lambda: render("units/_row.html", unit=unit),
        message=_("Đã lưu đơn vị."),
        card_url=url_for("units.show", unit_id=unit.id),
        fragment="units/_row_form.html",
        page="units/edit.html",
        unit=unit,
    )


@bp.get("/<int:unit_id>/row")
@require("manage_units")
def row(unit_id: int):
    """The read-only row (cancel of an in-place edit)."""
    return render("units/_row.html", unit=get_or_404(Unit, unit_id))


@bp.post("/<int:unit_id>/rename")
@require("manage_units")
def rename(unit_id: int):
    """Rename a unit; the old name stays in its history."""
    unit = get_or_404(Unit, unit_id)
    form = RenameForm(prefix="rename")
    return _reorganise(
        unit,
        form,
        "rename_form",
        lambda: org.rename_unit(
            db.session, unit, form.new_name.data, form.effective_on.data, form.decision_ref.data, form.note.data
        ),
    )


@bp.post("/<int:unit_id>/merge")
@require("manage_units")
def merge(unit_id: int):
    """Merge this unit into a successor; it retires and its past years stay."""
    unit = get_or_404(Unit, unit_id)
    form = MergeForm(prefix="merge")
    _change_forms(unit, merge_form=form)  # fills the choices before validation
    return _reorganise(
        unit,
        form,
        "merge_form",
        lambda: org.merge_units(
            db.session,
            [unit],
            get_or_404(Unit, form.successor_id.data),
            form.effective_on.data,
            form.decision_ref.data,
            form.note.data,
        ),
    )


@bp.post("/<int:unit_id>/retire")
@require("manage_units")
def retire(unit_id: int):
    """Retire (dissolve) a unit, or bring a retired one back."""
    unit = get_or_404(Unit, unit_id)
    form = RetireForm(prefix="retire")
    action = org.retire_unit if unit.active else org.reactivate_unit
    return _reorganise(
        unit,
        form,
        "retire_form",
        lambda: action(db.session, unit, form.effective_on.data, form.decision_ref.data, form.note.data),
    )


def _reorganise(unit: Unit, form, form_name: str, change):
    if form.validate_on_submit() and saved(form, change).ok:
        flash(_("Đã ghi nhận thay đổi tổ chức của đơn vị."), "success")
        return hx_redirect(url_for("units.show", unit_id=unit.id))
    db.session.rollback()
    return render(
        "units/show.html",
        block="reorganise",
        status=422,
        open_form=form_name,
        **_show_context(unit, **{form_name: form}),
    )
