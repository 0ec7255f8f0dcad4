"""Results of a cluster-year: the ranked table, explanations, Excel and print (views), and the pages that set
how they are computed — settings, bands, eligibility (setup_views)."""

from flask import Blueprint

bp = Blueprint("results", __name__, url_prefix="/results")

from portal.results import applicability_views, setup_views, views  # noqa: E402,F401  (register the routes on bp)
