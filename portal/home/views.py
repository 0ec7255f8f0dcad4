"""The home page: what the signed-in user is responsible for this year."""

from flask import Blueprint, render_template
from flask_login import login_required
from sqlalchemy import func, select

from portal.access import current_principal, current_year
from portal.extensions import db
from portal.models import Membership, Unit
from portal.services.org.overview import cluster_summaries, unassigned_units
from portal.services.publication import council
from portal.services.scoring import rounds

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    """Home page for the user's role: all clusters, the overseen ones, or one's own cluster."""
    year = current_year()
    principal = current_principal()
    context = {"year": year, "summaries": [], "own": None}
    if year is None:
        return render_template("home/index.html", **context)
    if principal.is_secretariat:
        context["summaries"] = cluster_summaries(db.session, year, active_only=True)
        context["unassigned"] = unassigned_units(db.session, year)
        context["unit_count"] = db.session.scalar(select(func.count()).select_from(Unit).where(Unit.active))
    elif principal.is_council:
        overseen = {s.cluster_id for s in principal.oversees if s.year_id == year.id}
        context["summaries"] = cluster_summaries(db.session, year, cluster_ids=overseen, with_members=True)
    else:
        cluster_id = db.session.scalar(
            select(Membership.cluster_id).where(Membership.year_id == year.id, Membership.unit_id == principal.unit_id)
        )
        if cluster_id is not None:
            summaries = cluster_summaries(db.session, year, cluster_ids=[cluster_id], with_members=True)
            context["own"] = summaries[0] if summaries else None
            context["work"] = rounds.unit_work(db.session, principal.unit_id, cluster_id, year.id)
            context["decisions"] = council.decisions_for_unit(db.session, principal.unit_id, year.id)
    return render_template("home/index.html", **context)
