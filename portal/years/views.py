"""Emulation years: the list, each year's overview, starting the next year by rotation."""

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from portal.access import require, year_or_404
from portal.extensions import db
from portal.forms import domain_message, done, saved
from portal.htmx import hx_redirect, is_fragment_request, render
from portal.models import EmulationYear
from portal.services import DomainError
from portal.services.meetings import awards
from portal.services.org import next_year, years
from portal.services.org.overview import cluster_summaries, unassigned_units
from portal.services.platform.audit import record_event
from portal.years.forms import ConfirmForm, NextYearForm, OverviewFilterForm, YearForm

bp = Blueprint("years", __name__, url_prefix="/years")


def _find(number: int) -> EmulationYear | None:
    return db.session.scalar(select(EmulationYear).where(EmulationYear.year == number))


def _index(form: YearForm, block: str, status: int = 200):
    return render(
        "years/index.html",
        block=block,
        status=status,
        form=form,
        rows=years.year_rows(db.session),
        action_form=ConfirmForm(),
    )


@bp.get("/")
@require("manage_years")
def index():
    """Every year with its completeness; the table is the htmx fragment."""
    return _index(YearForm(formdata=None), block="years_table")


@bp.post("/")
@require("manage_years")
def create():
    """Create an emulation year; errors come back next to the field (422)."""
    form = YearForm()
    if form.validate_on_submit():
        ok, year = saved(form, lambda: years.create_year(db.session, form.year.data, form.note.data or ""))
        if ok:
            flash(_("Đã tạo năm thi đua %(year)s.", year=year.year), "success")
            return hx_redirect(url_for("years.show", year=year.year))
    return _index(form, block="create_form", status=422)


@bp.post("/<int:year>/current")
@require("manage_years")
def make_current(year: int):
    """Mark the year as the current one; the previous current year stops being current."""
    year = year_or_404(year)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    years.set_current(db.session, year)
    db.session.commit()
    flash(_("Năm %(year)s là năm thi đua hiện hành.", year=year.year), "success")
    if is_fragment_request():
        return _index(YearForm(formdata=None), block="years_table")
    return hx_redirect(url_for("years.show", year=year.year))


@bp.get("/<int:year>")
@require("manage_years")
def show(year: int):
    """A year's overview: clusters with leadership, unassigned units, rotation at a glance."""
    year = year_or_404(year)
    filters = OverviewFilterForm(request.args)
    filters.validate()
    return render("years/show.html", block="overview", **_overview(year, filters))


def _overview(year: EmulationYear, filters: OverviewFilterForm) -> dict:
    summaries = [
        s
        for s in cluster_summaries(db.session, year, kind=filters.kind.data or None)
        if s.cluster.active or s.member_count or s.term is not None  # a stopped cluster shows in its own years
    ]
    unassigned = unassigned_units(db.session, year)
    all_years = db.session.scalars(select(EmulationYear).order_by(EmulationYear.year)).all()
    return {
        "year": year,
        "filters": filters,
        "summaries": summaries,
        "all_years": all_years,
        "unassigned": unassigned,
        "previous": years.previous_clusters(db.session, year, [u.id for u in unassigned]),
        "heads": years.head_rotation(db.session),
        "action_form": ConfirmForm(),
        "next_exists": any(y.year == year.year + 1 for y in all_years),
    }


@bp.route("/<int:year>/next", methods=["GET", "POST"])
@require("manage_years")
def start_next(year: int):
    """Preview, then start the next year: members copied, head and deputies proposed by rotation."""
    source = year_or_404(year)
    form = NextYearForm()
    try:
        plan = next_year.plan_next_year(db.session, source)
        if request.method == "POST" and form.validate_on_submit():
            target = _start(source, plan, form.make_current.data)
            db.session.commit()
            flash(
                _(
                    "Đã bắt đầu năm thi đua %(year)s: %(count)s thành viên được chuyển sang, "
                    "Trưởng, Phó đề xuất theo luân phiên chờ quyết định phân công.",
                    year=target.year,
                    count=plan.member_count,
                ),
                "success",
            )
            return hx_redirect(url_for("years.show", year=target.year))
    except DomainError as error:
        db.session.rollback()
        return _next_refused(source, form, domain_message(error))
    return render("years/next.html", source=source, plan=plan, form=form, refusal=None)


def _next_refused(source: EmulationYear, form: NextYearForm, refusal: str):
    """The next-year page without a plan: why the year cannot start (and the next year, if it exists)."""
    status = 422 if request.method == "POST" else 200
    return render(
        "years/next.html",
        status=status,
        source=source,
        plan=None,
        form=form,
        refusal=refusal,
        next_year=_find(source.year + 1),
    )


def _start(source: EmulationYear, plan: next_year.NextYearPlan, make_current: bool) -> EmulationYear:
    target = next_year.apply_plan(db.session, plan)  # the carry-over the preview showed
    awards.carry_over(db.session, source, target)  # quotas and vote rules in force, as rows of the new year
    if make_current:
        years.set_current(db.session, target)
    summary = (
        f"Bắt đầu năm thi đua {target.year} từ năm {source.year}: {plan.member_count} thành viên, "
        f"{len(plan.clusters)} cụm, khối; Trưởng, Phó đề xuất theo luân phiên."
    )
    record_event(db.session, "event", summary, obj=target)
    return target


@bp.post("/<int:year>/delete")
@require("manage_years")
def delete(year: int):
    """Delete a year created by mistake, while it holds only memberships and proposed terms."""
    number = year  # the number outlives the row it names
    year = year_or_404(number)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not done(lambda: years.delete_year(db.session, year)).ok:
        return hx_redirect(url_for("years.show", year=number))
    flash(_("Đã xóa năm thi đua %(year)s.", year=number), "success")
    return hx_redirect(url_for("years.index"))
