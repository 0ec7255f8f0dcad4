"""URL converters for the whole app: numbers in paths stay within what the database can hold.

Werkzeug's `int` accepts any length of digits; an id beyond the 32-bit integer columns
would reach the database and fail there (a 500 on PostgreSQL). Here every `<int:…>`
stops at 2³¹−1, `<id:…>` is a row id (1 … 2³¹−1), `<year:…>` an emulation year.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


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
        super().__init__(url_map, min=2000, max=2100)


def register_converters(app: Flask) -> None:
    """Before any blueprint: rules compile their converters when they are added."""
    app.url_map.converters.update(int=BoundedIntConverter, id=IdConverter, year=YearConverter)
