"""The results of a cluster-year: the ranked table, a unit's explanation, the Excel file and the print page.

Who reads them is `policy.sees_results` (else 404): the cluster's leaders, the council and the
secretariat always; a member unit once every round feeding the score basis is closed. The pages
only read; the settings they are computed with are changed elsewhere.
"""

from __future__ import annotations

from io import BytesIO

from flask import abort, current_app, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required

from portal import fragments
from portal.access import cluster_year_in_scope, current_principal, deputy_may_lead
from portal.charts import Bar, profile_chart
from portal.extensions import db
from portal.htmx import render
from portal.models import Cluster, EmulationYear
from portal.models.results import BASES
from portal.policy import ClusterYear, results_permission, sees_results
from portal.results import bp
from portal.services.platform.live import data_version
from portal.services.results import report as report_svc
from portal.services.results.cache import VersionedCache
from portal.services.results.inputs import Basis

# Per worker, least recently read first out: ~2.7 MB each at 25 units × 60 leaves (bench/README.md),
# so at most about 32 MB, inside the 150 MiB a worker may take.
REPORTS_KEPT = 12
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.app_template_global()
def results_visible(cluster_id: int, year_id: int) -> bool:
    """May the signed-in user read this cluster-year's results? For the links to them (two queries for a
    member unit, none for the others)."""
    scope = ClusterYear(year_id, cluster_id)
    principal = current_principal()
    role = principal.role_in(scope)
    if role is None:
        return False
    if role != "member":  # only a member unit's answer depends on the basis and the rounds: not read for others
        return sees_results(principal, scope, basis=Basis.AGREED, rounds={})
    basis = report_svc.basis_of(db.session, scope)
    return sees_results(principal, scope, basis=basis, rounds=report_svc.rounds_of(db.session, scope))


def _report(scope: ClusterYear, version: int | None = None) -> report_svc.Report | None:
    """The cluster-year's report with detail, from this worker's cache unless a write has touched it since."""
    cache = current_app.extensions.setdefault("results_reports", VersionedCache(REPORTS_KEPT))
    version = data_version(db.session) if version is None else version
    return report_svc.cached_report(db.session, scope, cache, version, detail=True)


def _readable(cluster_id: int, year) -> tuple[Cluster, EmulationYear, ClusterYear]:
    """The cluster-year, for a user who may read its results (else 404)."""
    cluster, found, scope = cluster_year_in_scope(cluster_id, year)
    if not results_visible(cluster.id, found.id):
        abort(404)
    return cluster, found, scope


def _settings_link(cluster: Cluster, year: EmulationYear, scope: ClusterYear) -> str | None:
    """The settings page, for the head (its deputies when let lead), once that page exists."""
    if "results.settings" not in current_app.view_functions:
        return None
    lead = deputy_may_lead(scope)
    if not results_permission(current_principal(), "edit_result_settings", scope, deputy_may_lead=lead):
        return None
    return url_for("results.settings", cluster_id=cluster.id, year=year.year)


def _sort_args() -> tuple[str, bool]:
    sort = request.args.get("sort", "rank")
    valid = sort in report_svc.SORTS or (sort.startswith("s") and sort[1:].isdigit() and len(sort) < 12)
    return (sort if valid else "rank"), request.args.get("dir") == "desc"


@bp.get("/<int:cluster_id>/<int:year>")
@login_required
def show(cluster_id: int, year: int):
    """The ranked table of a cluster-year, sortable by any column (the sort lives in the URL)."""
    cluster, found, scope = _readable(cluster_id, year)
    version = data_version(db.session)
    report = _report(scope, version)
    sort, descending = _sort_args()

    def table() -> str:
        units = report_svc.sorted_units(report, sort, descending)
        return render_template(
            "results/_table.html",
            cluster=cluster,
            year=found,
            report=report,
            units=units,
            flag_counts=report.flag_counts(),
            sort=sort,
            descending=descending,
            band_label=report_svc.band_label,
        )

    # the table shows the report alone (the same to every reader): one kept per sort, like the report itself
    table_html = fragments.cached(scope, "results-table", (sort, descending), version, table) if report else ""
    return render(
        "results/show.html",
        block="table",
        cluster=cluster,
        year=found,
        report=report,
        table_html=table_html,
        bases=BASES,
        settings_link=_settings_link(cluster, found, scope),
    )


@bp.get("/<int:cluster_id>/<int:year>/print")
@login_required
def print_view(cluster_id: int, year: int):
    """The ranked table on A4, with a button to print it."""
    cluster, found, scope = _readable(cluster_id, year)
    report = _report(scope)
    return render(
        "results/print.html",
        cluster=cluster,
        year=found,
        report=report,
        units=list(report.result.units) if report else [],
        bases=BASES,
        band_label=report_svc.band_label,
    )


@bp.get("/<int:cluster_id>/<int:year>/units/<int:unit_id>")
@login_required
def unit(cluster_id: int, year: int, unit_id: int):
    """One unit's explanation: its sections against their maximum and the cluster's average, each criterion."""
    cluster, found, scope = _readable(cluster_id, year)
    report = _report(scope)
    shown = report.unit(unit_id) if report else None
    if shown is None:
        abort(404)
    bars = [
        Bar(f"{s.code}. {report.titles.get(s.section_id, '')}", s.points, s.maximum, s.average)
        for s in shown.sections
        if s.kind == "scored"
    ]
    chart = profile_chart(
        bars,
        title=_("Điểm từng phần của %(unit)s", unit=shown.name),
        description=_("Thanh đậm: điểm của đơn vị; nền nhạt: điểm tối đa; vạch: điểm trung bình của cụm, khối."),
    )
    flags = report.flags_of(shown.unit_id)
    names = {u.unit_id: u.name for u in report.result.units}
    return render(
        "results/unit.html",
        block="explanation",
        cluster=cluster,
        year=found,
        report=report,
        shown=shown,
        chart=chart,
        flags=flags,
        names=names,
        band_label=report_svc.band_label,
    )


@bp.get("/<int:cluster_id>/<int:year>.xlsx")
@login_required
def excel(cluster_id: int, year: int):
    """The ranked table as .xlsx with every input column."""
    cluster, found, scope = _readable(cluster_id, year)
    report = _report(scope)
    if report is None:
        abort(404)
    content = report_svc.workbook(
        report, _("Kết quả thi đua năm %(year)s — %(cluster)s", year=found.year, cluster=cluster.name)
    )
    return send_file(
        BytesIO(content), mimetype=XLSX, as_attachment=True, download_name=f"ket-qua-{cluster.id}-{found.year}.xlsx"
    )
