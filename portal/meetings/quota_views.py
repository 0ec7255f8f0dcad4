"""The secretariat's page of a year's award quotas (one table, every cluster, each row edited in place) and the
year's vote rules (quorum, threshold and what it is counted on)."""

from __future__ import annotations

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.access import get_or_404, require, year_or_404
from portal.extensions import db
from portal.forms import edit_in_place, saved
from portal.htmx import hx_redirect, render
from portal.meetings import bp
from portal.meetings.forms import VoteRulesForm, quota_form
from portal.models import Cluster, EmulationYear
from portal.services.meetings import awards

SOURCES = {"set": _l("Đã đặt"), "previous": _l("Theo năm trước"), "default": _l("Mặc định")}


def _rows(year: EmulationYear, clusters: list[Cluster]) -> tuple[list, dict]:
    kinds = awards.award_types(db.session)
    return kinds, awards.quotas(db.session, year, [c.id for c in clusters], kinds)


def _page(year: EmulationYear, rules_form: VoteRulesForm, status: int = 200):
    clusters = awards.clusters_of(db.session, year)
    kinds, quotas = _rows(year, clusters)
    if status == 200:
        rules = awards.vote_rules(db.session, year.id)
        rules_form.quorum.data, rules_form.threshold.data = rules.quorum, rules.threshold
        rules_form.threshold_base.data = rules.base
    return render(
        "meetings/quotas.html",
        block="vote_rules",
        status=status,
        year=year,
        clusters=clusters,
        awards=kinds,
        quotas=quotas,
        sources=SOURCES,
        rules_form=rules_form,
    )


@bp.get("/quotas/<int:year>")
@require("manage_quotas")
def quotas_page(year: int):
    """Every cluster's quotas of every award this year, and the year's vote rules."""
    return _page(year_or_404(year), VoteRulesForm(formdata=None))


@bp.post("/quotas/<int:year>/rules")
@require("manage_quotas")
def save_rules(year: int):
    found = year_or_404(year)
    form = VoteRulesForm()
    if form.validate_on_submit() and saved(form, lambda: awards.save_vote_rules(db.session, found, form.rules())).ok:
        flash(_("Đã lưu quy tắc biểu quyết năm %(year)s.", year=found.year), "success")
        return hx_redirect(url_for("meetings.quotas_page", year=found.year))
    return _page(found, form, status=422)


def _row(year: EmulationYear, cluster: Cluster):
    kinds, quotas = _rows(year, [cluster])
    return render("meetings/_quota_row.html", year=year, cluster=cluster, awards=kinds, quotas=quotas, sources=SOURCES)


@bp.get("/quotas/<int:year>/<int:cluster_id>/row")
@require("manage_quotas")
def quota_row(year: int, cluster_id: int):
    return _row(year_or_404(year), get_or_404(Cluster, cluster_id))


@bp.route("/quotas/<int:year>/<int:cluster_id>/edit", methods=["GET", "POST"])
@require("manage_quotas")
def edit_quotas(year: int, cluster_id: int):
    """A cluster's quotas edited in place: GET gives the row's form, POST saves and gives the row back."""
    found, cluster = year_or_404(year), get_or_404(Cluster, cluster_id)
    kinds, quotas = _rows(found, [cluster])
    data = {f"award_{a.id}": quotas[(cluster.id, a.id)][0] for a in kinds}
    form = quota_form([a.id for a in kinds], **({"data": data, "formdata": None} if request.method == "GET" else {}))
    return edit_in_place(
        form,
        lambda: awards.save_quotas(db.session, found, cluster, form.counts()),
        row=lambda: _row(found, cluster),
        message=_("Đã lưu chỉ tiêu khen thưởng của %(cluster)s.", cluster=cluster.name),
        card_url=url_for("meetings.quotas_page", year=found.year),
        fragment="meetings/_quota_form.html",
        page="meetings/quota_edit.html",
        year=found,
        cluster=cluster,
        awards=kinds,
    )
