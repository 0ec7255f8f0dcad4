"""Live pages (the dashboard, the scoring and peer-review progress pages): what they share on the web floor.

A live region polls its page's URL with the ETag of what it shows (`static/js/portal.js` sends its
`data-etag` as If-None-Match); `etag` makes that tag from the data version (the newest audit entry),
the minute (deadlines pass), the user, the language and the URL, and `not_modified` answers 304 when
it has not changed, after one query. With Redis (`REDIS_URL`) the page also listens to an event stream,
`stream`, served by each page's own route with that page's authorisation; the region refreshes on
"changed". The data and its announcement are `services/platform/live.py`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import Response, abort, current_app, make_response, request, session
from flask_babel import get_locale

from portal.access import current_principal
from portal.extensions import db
from portal.models.base import utcnow
from portal.services.platform import live


def streaming() -> bool:
    """Whether the pages listen to the event stream (Redis configured), else they only poll."""
    return "live_redis" in current_app.extensions


def etag(version: int, url: str | None = None) -> str:
    """The tag of what a live page or fragment shows at `version` for this user, language and URL
    (the request's own, unless the page names the URL its region polls)."""
    now = utcnow()
    who = current_principal().user_id
    seed = f"{version}|{now:%Y%m%d%H%M}|{who}|{get_locale()}|{url or request.full_path}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def not_modified(tag: str):
    """304 when the client already has this version of the page or fragment, else None.

    Never while a flashed message waits: the page that shows it must be rendered (a browser revalidating
    the page it is redirected to after an action would otherwise keep its copy without the message). Never
    when this request's data version could not be made to cover every committed write (`live.has_writes`)."""
    if not request.if_none_match.contains(tag) or session.get("_flashes") or live.has_writes(db.session):
        return None
    response = make_response("", 304)
    response.set_etag(tag)
    response.vary.add("HX-Request")
    return response


def _events(client, seconds: int):
    yield "retry: 3000\n\n"
    for message in live.subscribe(client, seconds):
        yield ": keep-alive\n\n" if message is None else f"event: changed\ndata: {message}\n\n"


def answer(tag: str, build: Callable[[], Response]) -> Response:
    """A live page's answer: 304 when the browser already has `tag` (`not_modified`), else what `build`
    makes, carrying the tag."""
    if (unchanged := not_modified(tag)) is not None:
        return unchanged
    response = build()
    response.set_etag(tag)
    return response


def stream() -> Response:
    """text/event-stream: an event "changed" after each committed change, for `LIVE_STREAM_SECONDS` at most
    (the browser's EventSource reconnects by itself). Without Redis 404: the page polls.

    The caller has authorised the request as for its page. The stream never holds a database connection:
    the session is given back before Redis is read."""
    client = current_app.extensions.get("live_redis")
    if client is None:
        abort(404)
    db.session.remove()  # nothing more to read: the connection goes back to the pool for the stream's time
    response = Response(_events(client, current_app.config["LIVE_STREAM_SECONDS"]), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response
