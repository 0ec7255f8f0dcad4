"""Published results of a cluster-year (publish, recompute, corrections and their diff) and the council's
decision on every cluster's proposals of a year, with the Government flag shortlist (council_views)."""

from flask import Blueprint

bp = Blueprint("publication", __name__, url_prefix="/publication")

from portal.publication import council_views, views  # noqa: E402,F401  (register the routes on bp)
