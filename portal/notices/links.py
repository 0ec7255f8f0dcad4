"""Where a notice leads: its stored endpoint and arguments, built with url_for when shown or mailed."""

from __future__ import annotations

from flask import url_for
from werkzeug.routing import BuildError

from portal.models import Notification


def link_of(notice: Notification, external: bool = False) -> str:
    """The page where the user acts; the notices page if that page no longer exists under that name."""
    try:
        return url_for(notice.endpoint, **(notice.args or {}), _external=external)
    except BuildError:
        return url_for("notices.index", _external=external)
