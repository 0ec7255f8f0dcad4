"""The JSON API, version 1 (/api/v1): per-user tokens, the pages' permissions, problem+json errors."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
