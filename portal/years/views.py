"""years area."""
from flask import Blueprint

bp = Blueprint("years", __name__, url_prefix="/years")
