"""transfer area."""
from flask import Blueprint

bp = Blueprint("transfer", __name__, url_prefix="/transfer")
