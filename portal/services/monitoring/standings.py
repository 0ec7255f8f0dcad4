"""Each cluster-year's ranking as the dashboard shows it (leader, ranks, scores, bands), cached by data version.

A ranking is computed through the results engine for each cluster-year with that cluster's own
settings (score basis, scaling, non-applicable criteria, tie rules): an aggregate over every cluster
at once would be wrong as soon as one cluster uses another basis. What the engine gives is small
(one `Standing` per unit) and is kept in a `StandingCache`. Every audited write — a score saved, the
settings, a mark, a membership — gives a new data version (`platform.live.data_version`, the newest
audit seal); the next read maps the audit entries since the last one it saw to the cluster-years
they touch (`results.invalidation`, through `results.cache`) and computes those again, so a number
shown is never stale. Between writes, reading every cluster's ranking costs one query (the version).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from sqlalchemy.orm import Session

from portal.policy import ClusterYear
from portal.services import DomainError
from portal.services.results import engine
from portal.services.results.cache import VersionedCache
from portal.services.results.read import FRAME_IGNORES, read_cluster


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


FRAMES_KEPT = 500  # about 45 KB each (25 units, 60 leaves): a province's clusters many times over, 22 MB at most


def compute(session: Session, where: ClusterYear, frames: VersionedCache | None = None) -> ClusterStanding | None:
    """The cluster-year's ranking from the engine; None when it has no criteria table. `frames`: the
    cluster-years' settings, tables and members kept by data version (`read.read_cluster`)."""
    try:
        cluster = read_cluster(session, where.cluster_id, where.year_id, frames=frames)
    except DomainError:
        return None
    result = engine.compute(cluster)
    units = tuple(Standing(u.unit_id, u.name, u.rank, u.compared_total, u.band, u.eligible) for u in result.units)
    return ClusterStanding(where, result.target_total, result.leaders, units)


class StandingCache:
    """Computed rankings by cluster-year, kept until a write may have changed them (`results.cache`).

    One per app (the dashboard keeps it in `app.extensions`), shared by the threads of a worker; every
    worker process keeps its own, each checked against the same database.
    """

    def __init__(self, limit: int = 5000, frames: int = FRAMES_KEPT):
        self._cache = VersionedCache(limit)
        # each cluster-year's settings, table and members, kept while only its scores change
        self._frames = VersionedCache(frames, ignored=FRAME_IGNORES)

    @property
    def kept(self) -> int:
        """How many rankings are kept now."""
        return self._cache.kept

    @property
    def frames_computed(self) -> int:
        """How many cluster-year frames were read (not served from the cache): for tests and benches."""
        return self._frames.computed

    @property
    def computed(self) -> int:
        """How many rankings were computed (not served from the cache): for tests and benches."""
        return self._cache.computed

    def get_many(
        self, session: Session, wheres: Iterable[ClusterYear], version: int
    ) -> dict[ClusterYear, ClusterStanding | None]:
        """The ranking of each cluster-year as of `version`: from the cache, or computed and kept."""
        return {
            where: self._cache.get(session, where, None, version, partial(compute, session, where, self._frames))
            for where in wheres
        }
