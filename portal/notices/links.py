"""Where a notice leads (its endpoint and arguments, built with url_for) and what it says, when shown or mailed."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext
from werkzeug.routing import BuildError

from portal.models import Notification
from portal.services.notices import inbox


def link_of(notice: Notification, external: bool = False) -> str:
    """The page where the user acts; the notices page if that page no longer exists under that name."""
    try:
        return url_for(notice.endpoint, **(notice.args or {}), _external=external)
    except BuildError:
        return url_for("notices.index", _external=external)


def text_of(notice: Notification) -> str:
    """The notice's words in the reader's language (the `notice_text` filter, the digest)."""
    return inbox.words(notice, gettext)
