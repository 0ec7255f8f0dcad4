"""The dashboard's event stream (Server-Sent Events): a change committed in any worker reaches open pages.

Only when Redis is configured (`REDIS_URL`; else 404 and the page polls). The stream holds for
`LIVE_STREAM_SECONDS` at most, then ends; the browser's EventSource reconnects by itself. It never
holds a database connection: the principal is checked, the session given back, then Redis is read.
"""

from __future__ import annotations

from flask import Response, abort, current_app

from portal.access import require
from portal.dashboard import bp
from portal.extensions import db
from portal.services.platform import live


def _events(client, seconds: int):
    yield "retry: 3000\n\n"
    for message in live.subscribe(client, seconds):
        yield ": keep-alive\n\n" if message is None else f"event: changed\ndata: {message}\n\n"


@bp.get("/live")
@require("view_dashboard")
def stream():
    """text/event-stream: an event "changed" after each committed change, for a bounded time."""
    client = current_app.extensions.get("live_redis")
    if client is None:
        abort(404)
    db.session.remove()  # nothing more to read: the connection goes back to the pool for the stream's time
    response = Response(_events(client, current_app.config["LIVE_STREAM_SECONDS"]), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response
