"""Each cluster-year's ranking as the dashboard shows it (leader, ranks, scores, bands), cached by data version.

A ranking is computed through the results engine for each cluster-year with that cluster's own
settings (score basis, scaling, non-applicable criteria, tie rules): an aggregate over every cluster
at once would be wrong as soon as one cluster uses another basis. What the engine gives is small
(one `Standing` per unit) and is kept in a `StandingCache`. Every audited write — a score saved, the
settings, a mark, a membership — gives a new data version (`platform.live.data_version`, the newest
audit entry); the next read maps the audit entries since the last one it saw to the cluster-years
they touch (`invalidation`) and computes those again, so a number shown is never stale. Between
writes, reading every cluster's ranking costs one query (the version).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from portal.policy import ClusterYear
from portal.services import DomainError
from portal.services.monitoring import invalidation
from portal.services.results import engine
from portal.services.results.read import read_cluster


@dataclass(frozen=True, slots=True)
class Standing:
    """One unit in its cluster-year's ranking."""

    unit_id: int
    name: str
    rank: int
    score: Decimal  # the compared total: what ranks and bands read
    band: str  # a BandCode or results.inputs.BELOW_BANDS
    eligible: bool


@dataclass(frozen=True)
class ClusterStanding:
    """A cluster-year's ranking: every unit, rank order; `scored` is False while nobody has points."""

    where: ClusterYear
    target_total: Decimal
    leaders: tuple[int, ...]
    units: tuple[Standing, ...]

    @property
    def scored(self) -> bool:
        return any(u.score != 0 for u in self.units)

    @property
    def leader(self) -> Standing | None:
        """The unit ranked first (the first by name when several share it); None before any points."""
        if not self.scored:
            return None
        return next((u for u in self.units if u.unit_id in self.leaders), None)

    def of(self, unit_id: int) -> Standing | None:
        return next((u for u in self.units if u.unit_id == unit_id), None)


def compute(session: Session, where: ClusterYear) -> ClusterStanding | None:
    """The cluster-year's ranking from the engine; None when it has no criteria table."""
    try:
        cluster = read_cluster(session, where.cluster_id, where.year_id)
    except DomainError:
        return None
    result = engine.compute(cluster)
    units = tuple(Standing(u.unit_id, u.name, u.rank, u.compared_total, u.band, u.eligible) for u in result.units)
    return ClusterStanding(where, result.target_total, result.leaders, units)


class StandingCache:
    """Computed rankings by cluster-year, kept until a write may have changed them.

    The cache remembers the data version it has looked up to. When a read brings a newer version,
    the audit entries in between say which cluster-years were touched (`invalidation.touched`):
    only those are computed again (all of them when that cannot be told). One per app (the dashboard
    keeps it in `app.extensions`), shared by the threads of a worker; every worker process keeps its
    own, each checked against the same database.
    """

    def __init__(self, limit: int = 5000):
        self._rows: dict[ClusterYear, ClusterStanding | None] = {}
        self._version = 0  # the audit entries up to here have been looked at
        self._lock = threading.Lock()
        self.limit = limit
        self.computed = 0  # how many rankings were computed (not served from the cache): for tests and benches

    def _catch_up(self, session: Session, version: int) -> None:
        with self._lock:
            if version <= self._version:
                return
            stale = invalidation.touched(session, self._version, version) if self._rows else set()
            if stale is invalidation.EVERYTHING:
                self._rows.clear()
            else:
                for where in stale:
                    self._rows.pop(where, None)
            self._version = version

    def get_many(
        self, session: Session, wheres: Iterable[ClusterYear], version: int
    ) -> dict[ClusterYear, ClusterStanding | None]:
        """The ranking of each cluster-year as of `version`: from the cache, or computed and kept."""
        self._catch_up(session, version)
        found = {}
        for where in wheres:
            if where in self._rows:
                found[where] = self._rows[where]
                continue
            found[where] = compute(session, where)
            self.computed += 1
            with self._lock:
                if len(self._rows) >= self.limit:
                    self._rows.clear()
                self._rows[where] = found[where]
        return found
