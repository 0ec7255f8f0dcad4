"""Evidence files (minh chứng): upload, download and removal, authorised per assessment."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("evidence", __name__, url_prefix="/evidence")
