"""Results of a cluster-year: the pages that set how they are computed (setup_views)."""

from flask import Blueprint

bp = Blueprint("results", __name__)

from portal.results import setup_views  # noqa: E402,F401  (registers the routes on bp)
