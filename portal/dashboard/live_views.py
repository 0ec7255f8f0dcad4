"""The dashboard's event stream (Server-Sent Events): a change committed in any worker reaches open pages.

Only when Redis is configured (`REDIS_URL`; else 404 and the page polls): `portal.live.stream`, shared
with the progress pages, each behind its own page's authorisation.
"""

from __future__ import annotations

from portal import live
from portal.access import require
from portal.dashboard import bp


@bp.get("/live")
@require("view_dashboard")
def stream():
    """text/event-stream: an event "changed" after each committed change, for a bounded time."""
    return live.stream()
