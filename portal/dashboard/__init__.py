"""The council's dashboard: every cluster and block of a year, its drill-downs, the Excel file and live updates."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

from portal.dashboard import live_views, views  # noqa: E402,F401  (register the routes on bp)
