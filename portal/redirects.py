"""The one check for a `next` target (sign-in, language switch, forms that return to their page)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def is_local_path(target: str | None) -> bool:
    """A path on this site: starts with one '/', no scheme or host, no backslash (browsers read
    '/\\evil' as '//evil'), no control character or space (browsers drop tabs and newlines)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) <= 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, fallback: str | None = None) -> str:
    """`target` when it is a local path, else `fallback` (the home page by default)."""
    return target if is_local_path(target) else (fallback or url_for("home.index"))
