"""A unit's results year over year, across the clusters it belonged to and the units merged into it.

Units change clusters between years, and in the 2025 reform many merged: a commune formed from
three keeps their history. `lineage` follows the successor links backwards (units merged into this
one, and the units merged into those) and forwards (what this one was merged into); `years` gives
each year in which the unit or one of its predecessors was a member of a cluster: rank among how
many, score, band, from the cached rankings (`standings`), and the awards the council approved.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.models import AwardType, Cluster, CouncilDecision, EmulationYear, Membership, Unit, UnitChange
from portal.models.org import UnitChangeKind
from portal.models.publication import Verdict
from portal.policy import ClusterYear
from portal.services.monitoring.standings import StandingCache

MAX_DEPTH = 20  # merges chain a few levels at most; a cycle in bad data must not loop forever


@dataclass(frozen=True)
class YearResult:
    """The unit (or a predecessor) in one year: its cluster and where it stood."""

    year: int
    cluster: Cluster
    unit: Unit  # the unit that was the member that year: this one or a predecessor
    rank: int | None  # None: no ranking that year (no criteria table)
    of: int  # units ranked in the cluster-year
    score: Decimal | None
    target_total: Decimal | None
    band: str | None
    eligible: bool | None
    awards: tuple[tuple[str, str], ...] = ()  # (award name, decision number) the council approved that year


def predecessors(session: Session, unit: Unit) -> list[Unit]:
    """The units merged into `unit`, directly or through other merges, nearest first."""
    found: dict[int, Unit] = {}
    frontier = [unit.id]
    for _ in range(MAX_DEPTH):
        merged_by_change = select(UnitChange.unit_id).where(
            UnitChange.kind == UnitChangeKind.MERGE, UnitChange.successor_id.in_(frontier)
        )
        rows = session.scalars(
            select(Unit)
            .where(or_(Unit.merged_into_id.in_(frontier), Unit.id.in_(merged_by_change)))
            .order_by(Unit.sort_key, Unit.id)
        ).all()
        new = [u for u in rows if u.id not in found and u.id != unit.id]
        if not new:
            break
        found.update((u.id, u) for u in new)
        frontier = [u.id for u in new]
    return list(found.values())


def successors(unit: Unit) -> list[Unit]:
    """What the unit was merged into, and what that was merged into, nearest first."""
    chain, seen, current = [], {unit.id}, unit.merged_into
    while current is not None and current.id not in seen and len(chain) < MAX_DEPTH:
        chain.append(current)
        seen.add(current.id)
        current = current.merged_into
    return chain


def years(session: Session, unit: Unit, before: list[Unit], cache: StandingCache, version: int) -> list[YearResult]:
    """Every year the unit or a predecessor was a member of a cluster, newest first, with its standing."""
    ids = [unit.id, *(u.id for u in before)]
    rows = session.execute(
        select(Membership.year_id, Membership.unit_id, EmulationYear.year, Cluster)
        .join(EmulationYear, EmulationYear.id == Membership.year_id)
        .join(Cluster, Cluster.id == Membership.cluster_id)
        .where(Membership.unit_id.in_(ids))
        .order_by(EmulationYear.year.desc(), Cluster.sort_key)
    ).all()
    units = {u.id: u for u in (unit, *before)}
    ranked = cache.get_many(session, {ClusterYear(y, c.id) for y, _u, _n, c in rows}, version)
    awards = _awards(session, ids)
    found = []
    for year_id, unit_id, number, cluster in rows:
        standing = ranked.get(ClusterYear(year_id, cluster.id))
        mine = standing.of(unit_id) if standing and standing.scored else None
        found.append(
            YearResult(
                number,
                cluster,
                units[unit_id],
                mine.rank if mine else None,
                len(standing.units) if standing else 0,
                mine.score if mine else None,
                standing.target_total if standing else None,
                mine.band if mine else None,
                mine.eligible if mine else None,
                tuple(awards.get((year_id, cluster.id, unit_id), ())),
            )
        )
    return found


def _awards(session: Session, unit_ids: list[int]) -> dict[tuple[int, int, int], list[tuple[str, str]]]:
    """(year id, cluster id, unit id) → the awards the council approved for the unit: (name, decision number)."""
    found = defaultdict(list)
    for year_id, cluster_id, unit_id, name, number in session.execute(
        select(
            CouncilDecision.year_id,
            CouncilDecision.cluster_id,
            CouncilDecision.unit_id,
            AwardType.name,
            CouncilDecision.decision_number,
        )
        .join(AwardType, AwardType.id == CouncilDecision.award_type_id)
        .where(CouncilDecision.unit_id.in_(unit_ids), CouncilDecision.verdict == Verdict.APPROVED)
        .order_by(AwardType.position, AwardType.id)
    ):
        found[year_id, cluster_id, unit_id].append((name, number))
    return found
