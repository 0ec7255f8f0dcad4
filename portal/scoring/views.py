"""Self-assessment (tự chấm điểm), verification (thẩm định) and explanation (giải trình) pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("scoring", __name__, url_prefix="/scoring")
