"""Query parameters, pagination and the list envelope of the JSON API.

A list answers `{"items": [...], "page", "per_page", "total"}` with a `Link` header
(first, prev, next, last) that keeps the other query parameters. Bad parameters are
a 422 naming each one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from urllib.parse import urlencode

from flask import Response, jsonify, request
from sqlalchemy import Select, func, select

from portal.api.problems import invalid
from portal.extensions import db

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_PAGE = 100_000


def integer(name: str, errors: dict, *, default: int | None, minimum: int, maximum: int) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        value = None
    if value is None or not minimum <= value <= maximum:
        errors[name] = f"“{name}” phải là số nguyên từ {minimum} đến {maximum}."
        return default
    return value


def choice(name: str, choices: Iterable[str], errors: dict) -> str | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    allowed = list(choices)
    if raw not in allowed:
        errors[name] = f"“{name}” phải là một trong: {', '.join(allowed)}."
        return None
    return raw


def paging(errors: dict) -> tuple[int, int]:
    page = integer("page", errors, default=1, minimum=1, maximum=MAX_PAGE)
    per_page = integer("per_page", errors, default=DEFAULT_PER_PAGE, minimum=1, maximum=MAX_PER_PAGE)
    return page, per_page


def check(errors: dict) -> None:
    if errors:
        raise invalid(errors)


def _link(page: int, per_page: int, total: int) -> str:
    last = max(1, -(-total // per_page))
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("page", "per_page")]
    targets = {"first": 1, "last": last}
    if page > 1:
        targets["prev"] = min(page - 1, last)
    if page < last:
        targets["next"] = page + 1
    links = []
    for rel, number in targets.items():
        query = urlencode([*args, ("page", number), ("per_page", per_page)])
        links.append(f'<{request.base_url}?{query}>; rel="{rel}"')
    return ", ".join(links)


def envelope(items: list, page: int, per_page: int, total: int) -> Response:
    response = jsonify({"items": items, "page": page, "per_page": per_page, "total": total})
    response.headers["Link"] = _link(page, per_page, total)
    return response


def paginate_query(query: Select, page: int, per_page: int, serialize: Callable) -> Response:
    """Two queries whatever the size: the count and the page."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return envelope([serialize(row) for row in rows], page, per_page, total)


def paginate_list(rows: Sequence, page: int, per_page: int, serialize: Callable) -> Response:
    """A list already read (and filtered by the policy) in full, cut into pages."""
    start = (page - 1) * per_page
    return envelope([serialize(row) for row in rows[start : start + per_page]], page, per_page, len(rows))
