"""One URL serves a page and its fragments: helpers for htmx-aware views."""

from __future__ import annotations

from flask import Response, make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block


def is_fragment_request() -> bool:
    """True for an htmx request that wants a fragment, not a boosted or history-restore one."""
    hx = request.htmx
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def render(template: str, block: str | None = None, status: int = 200, **context) -> Response:
    """The whole page, or only `block` of it for an htmx fragment request."""
    if block and is_fragment_request():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def hx_redirect(location: str) -> Response:
    """Redirect after a state change: HX-Redirect for htmx, 303 See Other otherwise."""
    if request.htmx:
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, code=303)


def hx_trigger(response: Response, event: str, detail: dict | str | None = None) -> Response:
    import json

    response.headers["HX-Trigger"] = json.dumps({event: detail if detail is not None else True})
    return response
