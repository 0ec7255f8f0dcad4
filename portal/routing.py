"""What a request may carry: numbers the database can hold, no control characters, bounded sizes.

URL converters for the whole app: Werkzeug's `int` accepts any length of digits; an id
beyond the 32-bit integer columns would reach the database and fail there (a 500 on
PostgreSQL). Here every `<int:…>` stops at 2³¹−1, `<id:…>` is a row id (1 … 2³¹−1),
`<year:…>` an emulation year. Query-string integers go through `arg_int` with the same
bounds; a query string with control characters or over 4 KB, and JSON nested deeper than
32 levels, are refused with a 4xx before any view or parser sees them.
"""

from __future__ import annotations

import re

from flask import Flask, abort, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

from portal.extensions import db
from portal.services.platform.control_chars import has_control_characters

MAX_ID = 2**31 - 1
YEAR_MIN, YEAR_MAX = 2000, 2100
MAX_PAGE = 100_000
# The address's query part, in bytes. gunicorn allows a longer request line (gunicorn.conf.py)
# so that this check, not gunicorn's bare HTML 414, answers: a page in Vietnamese, problem+json for the API.
MAX_QUERY_STRING = 4096
MAX_JSON_DEPTH = 32


class BoundedIntConverter(IntegerConverter):
    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


class IdConverter(IntegerConverter):
    """A row id in a URL: 1 … 2³¹−1; a larger number names no row."""

    def __init__(self, url_map, *_args, **_kwargs):
        super().__init__(url_map, min=1, max=MAX_ID)


class YearConverter(IntegerConverter):
    """An emulation year in a URL, 2000 … 2100 as the database allows."""

    def __init__(self, url_map, *_args, **_kwargs):
        super().__init__(url_map, min=YEAR_MIN, max=YEAR_MAX)


def register_converters(app: Flask) -> None:
    """Before any blueprint: rules compile their converters when they are added."""
    app.url_map.converters.update(int=BoundedIntConverter, id=IdConverter, year=YearConverter)


# ------------------------------------------------------------------------------- query strings and bodies


def arg_int(name: str, default: int | None = None, *, minimum: int = 1, maximum: int = MAX_ID, values=None):
    """An integer from the query string (or `values`): the default when absent or not a number, 400 out of range.

    `request.args.get(name, type=int)` has no bounds: a 20-digit page or id reaches the
    database, which refuses it with a 500 (PostgreSQL's integer columns stop at 2³¹−1).
    """
    raw = (request.args if values is None else values).get(name, "").strip()
    digits = raw[1:] if raw[:1] in "+-" else raw
    if not (digits.isascii() and digits.isdigit()):
        return default
    if len(digits) > len(str(max(abs(minimum), abs(maximum)))) or not minimum <= int(raw) <= maximum:
        abort(400)
    return int(raw)


def paginate(query):
    """A list page of PAGE_SIZE rows; ?page= beyond MAX_PAGE is a 400, not a 500 from the database's OFFSET."""
    return db.paginate(
        query,
        page=arg_int("page", 1, maximum=MAX_PAGE),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )


def json_depth(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> int:
    """How deeply a JSON text nests arrays and objects, counted up to `limit` + 1 (then it stops reading)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    depth = deepest = 0
    for token in _JSON_STRUCTURE.finditer(text):
        mark = token.group()
        if mark in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        elif mark in "]}":
            depth -= 1
    return deepest


_JSON_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')  # strings are skipped whole: brackets in text count not


class DepthLimitedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing text nested deeper than MAX_JSON_DEPTH before parsing it.

    json.loads recurses once per level: 100,000 nested brackets would end in a
    RecursionError (a 500). A ValueError here is what request.get_json turns into a 400.
    """

    def loads(self, s, **kwargs):
        if json_depth(s) > MAX_JSON_DEPTH:
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        return super().loads(s, **kwargs)


def refuse_hostile_query_string():
    """Before every view: a query string too long (414) or holding control characters (400).

    Query strings come from links and filter boxes; a NUL byte in one reaches the
    database as a search term and PostgreSQL refuses it with a 500.
    """
    if len(request.query_string) > MAX_QUERY_STRING:
        abort(414)
    for key, value in request.args.items(multi=True):
        if has_control_characters(key) or has_control_characters(value):
            abort(400)


def register_request_guards(app: Flask) -> None:
    app.json = DepthLimitedJSONProvider(app)
    app.before_request(refuse_hostile_query_string)
