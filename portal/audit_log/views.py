"""audit_log area."""
from flask import Blueprint

bp = Blueprint("audit_log", __name__, url_prefix="/audit-log")
