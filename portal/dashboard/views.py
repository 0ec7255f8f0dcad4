"""The council's dashboard pages: every cluster of a year, a cluster's drill-down, a unit year over year, Excel.

Who sees them: council members and the secretariat (`policy.can(…, "view_dashboard")`, else 403).
The table is a block of the page: the filter form, the sort links and the poll swap it. Its ETag
(`portal/live.py`, shared with the progress pages) is made from the data version (the newest audit
entry), the minute (deadlines pass), the user and the URL, so a poll that finds nothing new is
answered 304 after one query. The rendered board is kept per worker (`portal/fragments.py`).
"""

from __future__ import annotations

from io import BytesIO
from types import SimpleNamespace

from flask import abort, current_app, make_response, render_template, request, send_file
from flask_babel import gettext as _
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from sqlalchemy import select

from portal import fragments, live
from portal.access import cluster_year_in_scope, current_principal, get_or_404, require, year_from_args
from portal.charts import value_chart
from portal.dashboard import bp
from portal.dashboard.forms import DashboardFilterForm
from portal.extensions import db
from portal.formatting import vn_today
from portal.htmx import is_fragment_request, render
from portal.models import EmulationYear, Unit
from portal.models.base import utcnow
from portal.models.org import CLUSTER_KINDS
from portal.models.publication import VERDICTS
from portal.policy import ClusterYear
from portal.services.monitoring import export, figures, history
from portal.services.monitoring.board import Board, read_board
from portal.services.monitoring.filters import apply
from portal.services.monitoring.stages import LATE_LABELS, Stage
from portal.services.monitoring.standings import StandingCache
from portal.services.platform.live import data_version
from portal.services.results.report import band_label

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ETAG_MARK = fragments.mark("etag")


def standing_cache() -> StandingCache:
    """The app's cache of computed rankings (one per app, checked against the data version)."""
    return current_app.extensions.setdefault("standings", StandingCache())


def _board(year: EmulationYear, version: int) -> Board:
    return read_board(db.session, year, standing_cache(), version, utcnow(), vn_today())


def _filtered(year: EmulationYear, board: Board):
    form = DashboardFilterForm(request.args)
    overseers = {r.overseer.id: r.overseer for r in board.rows if r.overseer is not None}
    ordered = sorted(overseers.values(), key=lambda m: (m.sort_key, m.id))
    years = db.session.scalars(select(EmulationYear.year).order_by(EmulationYear.year.desc())).all()
    principal = current_principal()
    form.set_choices(years, [(m.id, m.full_name) for m in ordered], principal.council_member_id)
    form.year.data = str(year.year)
    filters = form.filters()
    form.sort.data, form.dir.data = filters.sort, "desc" if filters.descending else "asc"  # what the table shows
    return form, filters, apply(board.rows, filters, principal.council_member_id)


def _charts(rows) -> dict:
    stages = [(_(stage.label), count) for stage, count in figures.stage_counts(rows)]
    charts = {
        "stages": (
            stages,
            value_chart(
                stages,
                ident="chart-stages",
                title=_("Số cụm, khối ở từng giai đoạn"),
                description=_("Mỗi thanh là số cụm, khối đang ở giai đoạn đó; số liệu trong bảng bên cạnh."),
            ),
        ),
    }
    for kind, counts in figures.distribution(rows).items():
        charts[kind] = (
            counts,
            value_chart(
                counts,
                ident=f"chart-{kind}",
                title=_("Phân bố điểm các đơn vị (%(kind)s)", kind=_(CLUSTER_KINDS[kind])),
                description=_("Số đơn vị theo tỷ lệ tổng điểm quy đổi so với tổng điểm chuẩn."),
            ),
        )
    return charts


def _labels() -> SimpleNamespace:
    """The table's coded labels, translated once per request rather than once per row."""
    return SimpleNamespace(
        kinds={code: _(label) for code, label in CLUSTER_KINDS.items()},
        stages={stage: _(stage.label) for stage in Stage},
        lates={code: _(label) for code, label in LATE_LABELS.items()},
        verdicts={code: _(label) for code, label in VERDICTS.items()},
    )


def _board_html(year: EmulationYear, version: int, tag: str, table_only: bool) -> Markup:
    """The page under its title (or its table block alone), kept per worker: the version and the minute
    are in its key, so any write or a deadline passing makes a new one; the viewer counts only through
    their council member (what "mine" means), the ETag is filled in per request."""
    minute = f"{utcnow():%Y%m%d%H%M}"
    member = current_principal().council_member_id
    variant = ("table" if table_only else "page", version, minute, member, request.full_path)

    def produce() -> str:
        board = _board(year, version)
        form, filters, rows = _filtered(year, board)
        context = {
            "year": year,
            "form": form,
            "filters": filters,
            "rows": rows,
            "total": len(board.rows),
            "charts": _charts(rows),
            "etag": ETAG_MARK,
            "band_label": band_label,
            "live": live.streaming(),
            "kind_labels": CLUSTER_KINDS,
            "labels": _labels(),
        }
        if table_only:
            return render_block("dashboard/_board.html", "table", **context)
        return render_template("dashboard/_board.html", **context)

    # every cluster of the year: no one cluster-year to hang it on, the version in the key does the work
    return fragments.cached(ClusterYear(year.id, None), "dashboard", variant, version, produce, {ETAG_MARK: tag})


@bp.get("/")
@require("view_dashboard")
def index():
    """Every cluster and block of the year: stage, lateness, completion, leader; filters and sort in the URL."""
    year = year_from_args(request.args.get("year"))
    version = data_version(db.session)
    tag = live.etag(version)

    def page():
        if is_fragment_request():
            response = make_response(_board_html(year, version, tag, table_only=True))
            response.vary.add("HX-Request")
            return response
        board_html = _board_html(year, version, tag, table_only=False)
        return render("dashboard/index.html", year=year, live=live.streaming(), board_html=board_html)

    return live.answer(tag, page)


@bp.get("/export.xlsx")
@require("view_dashboard")
def excel():
    """The table as shown (same filters and order) as .xlsx."""
    year = year_from_args(request.args.get("year"))
    board = _board(year, data_version(db.session))
    _form, filters, rows = _filtered(year, board)
    line = _("Bộ lọc: %(query)s", query=request.query_string.decode() or _("không"))
    content = export.workbook(rows, _("Tổng hợp cụm, khối thi đua năm %(year)s", year=year.year), line)
    name = f"tong-hop-cum-khoi-{year.year}.xlsx"
    return send_file(BytesIO(content), mimetype=XLSX, as_attachment=True, download_name=name)


@bp.get("/clusters/<int:cluster_id>/<int:year>")
@require("view_dashboard")
def cluster(cluster_id: int, year: int):
    """One cluster-year: its progress, what is late and its ranking as bars, with links; live like the table."""
    found_cluster, found_year, _scope = cluster_year_in_scope(cluster_id, year)
    version = data_version(db.session)
    tag = live.etag(version)

    def page():
        board = _board(found_year, version)
        row = next((r for r in board.rows if r.cluster.id == found_cluster.id), None)
        if row is None:
            abort(404)
        ranking = [(f"{u.rank}. {u.name}", u.score) for u in row.standing.units] if row.standing else []
        chart = value_chart(
            ranking,
            ident="chart-ranking",
            title=_("Xếp hạng %(cluster)s năm %(year)s", cluster=found_cluster.name, year=found_year.year),
            description=_("Mỗi thanh là tổng điểm quy đổi của một đơn vị, theo thứ hạng."),
        )
        return render(
            "dashboard/cluster.html",
            block="live",
            row=row,
            year=found_year,
            chart=chart,
            band_label=band_label,
            etag=tag,
            live=live.streaming(),
        )

    return live.answer(tag, page)


@bp.get("/units/<int:unit_id>")
@require("view_dashboard")
def unit(unit_id: int):
    """A unit year over year: rank, score and band in each year it (or a unit merged into it) was a member."""
    shown = get_or_404(Unit, unit_id)
    before = history.predecessors(db.session, shown)
    rows = history.years(db.session, shown, before, standing_cache(), data_version(db.session))
    return render(
        "dashboard/unit.html",
        unit=shown,
        before=before,
        after=history.successors(shown),
        rows=rows,
        band_label=band_label,
    )
