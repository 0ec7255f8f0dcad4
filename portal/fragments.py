"""Rendered fragments of the heavy pages (a results table, a progress table, the dashboard's table),
kept per worker in a `results.cache.VersionedCache` until a write may have changed them.

A fragment is kept under its cluster-year and a variant naming everything else its markup depends on:
the fragment's name, the locale, the viewer's permissions as they affect the markup (a small key made
from the policy's answers, never the user), and the query parameters. A write that touches the
cluster-year (`results.invalidation.touched`) drops every variant of it; a page that spans cluster-years
(the dashboard) puts the data version itself in its variant, so any write makes a new key and the old
one ages out of the LRU.

Nothing secret or per-request is kept: a fragment is rendered with the request's CSRF token, which is
replaced by a mark before it is kept and by the reading request's own token when served; other
per-request values (the dashboard's ETag) are rendered as marks and filled in the same way.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable

from flask import current_app
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from portal.extensions import db
from portal.policy import ClusterYear
from portal.services.results.cache import VersionedCache

# Per worker, kept as UTF-8 (half what a Python string of Vietnamese text takes). Measured at 25 units ×
# 60 criteria: a results table 25 KB, a cluster-year page's body 35 KB, an assessment's rows 50 KB, the
# dashboard 20 KB at 8 clusters (about 100 KB at 40): 100 of them stay within about 5–10 MB.
FRAGMENTS_KEPT = 100
# a unit's own card on a cluster-year page is under 1 KB: a province's units (40 clusters × 25) fit in 1 MB
CARDS_KEPT = 1000
# shown on the kept fragments though they change no ranking: the late units' e-mail addresses, the
# evidence files on a form, the cluster's name in a reminder
SHOWN = frozenset({"User", "Evidence", "Cluster"})
_NONCE = secrets.token_hex(8)
CSRF_MARK = f"@@csrf-{_NONCE}@@"


def mark(name: str) -> str:
    """A per-request value's place in a kept fragment (filled by `cached`'s `fill`)."""
    return f"@@{name}-{_NONCE}@@"


def fragment_cache() -> VersionedCache:
    """This worker's cache of rendered fragments."""
    return current_app.extensions.setdefault("fragments", VersionedCache(FRAGMENTS_KEPT, SHOWN))


def card_cache() -> VersionedCache:
    """This worker's cache of the small per-unit fragments (a unit's own card on the cluster-year page): apart
    from the large ones, so that many units' cards never push a cluster-year's body out."""
    return current_app.extensions.setdefault("fragment-cards", VersionedCache(CARDS_KEPT, SHOWN))


def cached(
    where: ClusterYear,
    name: str,
    variant: tuple[Hashable, ...],
    version: int,
    produce: Callable[[], str | tuple[str, ...]],
    fill: dict[str, str] | None = None,
    kept_in: VersionedCache | None = None,
) -> Markup | tuple[Markup, ...]:
    """The fragment `name` of `where` for `variant` as of data version `version` (or several fragments made
    together, a tuple), rendered by `produce()` when not kept; the CSRF token and the `fill` marks are the
    reading request's own. Kept in `kept_in` (default: `fragment_cache()`)."""

    def rendered() -> bytes | tuple[bytes, ...]:
        made, token = produce(), generate_csrf()
        if isinstance(made, tuple):
            return tuple(str(part).replace(token, CSRF_MARK).encode() for part in made)
        return str(made).replace(token, CSRF_MARK).encode()

    kept = (kept_in or fragment_cache()).get(db.session, where, (name, str(get_locale()), *variant), version, rendered)
    if isinstance(kept, tuple):
        return tuple(_filled(part, fill) for part in kept)
    return _filled(kept, fill)


def _filled(kept: bytes, fill: dict[str, str] | None) -> Markup:
    html = kept.decode()
    if CSRF_MARK in html:
        html = html.replace(CSRF_MARK, generate_csrf())
    for placeholder, value in (fill or {}).items():
        html = html.replace(placeholder, value)
    return Markup(html)
