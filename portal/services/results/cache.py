"""Computed results kept per process until a write may have changed them, never shown stale.

Every audited write leaves an audit entry in its own transaction, and the sealer gives the committed
entries their positions one after the other (`platform.audit_seal`; a writing request's entries are
sealed before it answers): the newest seal position (`platform.live.data_version`) is a version of
every number the portal shows. A
`VersionedCache` remembers the version it has looked up to; a read that brings a newer one maps the
entries in between to the cluster-years they touch (`invalidation.touched`) and drops those (all of
them when that cannot be told). Every gunicorn worker keeps its own cache, each checked against the
same database, so a write through one worker is seen by the next read in any other.

Three rules keep a value from being kept wrong:

- a value is kept only when no newer version was looked at while it was computed (another thread of
  the worker may have dropped its cluster-year meanwhile);
- a session holding writes of its own (not yet committed, may be rolled back) neither reads from the
  cache nor fills it: it computes;
- a version older than the one looked up to (a backup restored) drops everything;
- at most `limit` values are kept, the least recently used going first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from sqlalchemy.orm import Session

from portal.policy import ClusterYear
from portal.services.platform import live
from portal.services.results import invalidation


class VersionedCache:
    """Values by (cluster-year, variant), kept until an audited write touches the cluster-year."""

    def __init__(self, limit: int = 256, shown: frozenset[str] = frozenset(), ignored: frozenset[str] = frozenset()):
        self._rows: OrderedDict[tuple[ClusterYear, Hashable], object] = OrderedDict()
        self._version = 0  # the audit entries up to here have been looked at
        self._lock = threading.Lock()
        self.limit = limit
        self.shown = shown  # object types that change no ranking but that the values show (invalidation.SHOWN_SCOPES)
        self.ignored = ignored  # object types the values never depend on: their entries drop nothing
        self.computed = 0  # how many values were computed (not served from the cache): for tests and benches

    @property
    def kept(self) -> int:
        """How many values are kept now (a property, not `len`: an empty cache stays truthy)."""
        return len(self._rows)

    def _catch_up(self, session: Session, version: int) -> None:
        with self._lock:
            if version == self._version:
                return
            if version < self._version:  # the log went back (a backup restored): nothing kept can be trusted
                self._rows.clear()
                self._version = version
                return
            stale = (
                invalidation.touched(session, self._version, version, self.shown, self.ignored) if self._rows else set()
            )
            if stale is invalidation.EVERYTHING:
                self._rows.clear()
            else:
                for key in [key for key in self._rows if key[0] in stale]:
                    del self._rows[key]
            self._version = version

    def get(self, session: Session, where: ClusterYear, variant: Hashable, version: int, compute: Callable[[], object]):
        """The value for (where, variant) as of `version` (`live.data_version` read by the caller before
        anything else of this request): from the cache, or `compute()`d and kept."""
        if live.has_writes(session):
            self.computed += 1
            return compute()
        self._catch_up(session, version)
        key = (where, variant)
        with self._lock:
            if key in self._rows:
                self._rows.move_to_end(key)
                return self._rows[key]
        value = compute()
        self.computed += 1
        with self._lock:
            if self._version == version:  # nothing newer was looked at meanwhile
                self._rows[key] = value
                while len(self._rows) > self.limit:
                    self._rows.popitem(last=False)
        return value
