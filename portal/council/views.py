"""council area."""
from flask import Blueprint

bp = Blueprint("council", __name__, url_prefix="/council")
