"""Rank stability: the best and worst rank of each unit when any one reviewer's scores are left out.

Only under a peer basis (the agreed score does not depend on reviewers) and with detail (each
reviewer's points). For each reviewer, the units it reviewed are scored again without its points
(a leaf nobody else reviewed falls back to the agreed score, as always), every unit is ranked again
with the same tie rules, and each unit keeps the best and worst of those ranks (its own rank when
nobody reviewed in the cluster). A unit whose best or worst differs from its rank is
`decided_by_one_reviewer`.

Leaving a reviewer out only changes the leaves it scored, and a leaf's value without reviewer r
depends only on the points r gave: the mean and the blend are the leaf's sum less those points,
divided again; the trimmed mean and the median look the neighbours up in the leaf's peer points
sorted once. `leave_one_out.py` does this per unit in integer cents, with the same rounding
(half-up to the cent of the exact value, which is what the Decimal arithmetic of points.py gives
at these magnitudes), and sums the changes per kind; the caps and the scale are applied by
points.finished as in every tally. A unit it cannot take (one under the lowest-basis rule of
non-participation, or points that are not whole cents) is scored again leaf by leaf
(points.tally with leave_out), as `recomputed` does for every unit: the reference the property
tests hold the fast path to.
"""

from __future__ import annotations

from collections.abc import Mapping

from portal.services.results.inputs import ClusterInput
from portal.services.results.leave_one_out import without_each
from portal.services.results.output import Stability
from portal.services.results.points import Layout, Tally, tally
from portal.services.results.ranking import ranks


def reviewed_by(cluster: ClusterInput) -> dict[int, set[int]]:
    """reviewer → the units it gave points to."""
    found: dict[int, set[int]] = {}
    for unit in cluster.units:
        views = (scores.peer for scores in unit.scores.values() if scores.peer is not None)
        for reviewer in set().union(*(view.by_reviewer for view in views if view.by_reviewer)):
            found.setdefault(reviewer, set()).add(unit.unit_id)
    return found


def stability(
    layout: Layout, cluster: ClusterInput, tallies: Mapping[int, Tally], ranked: Mapping[int, tuple[int, bool]]
) -> dict[int, Stability]:
    """Each unit's best and worst rank with one reviewer left out (the fast path)."""
    changed: dict[int, dict[int, Tally]] = {reviewer: {} for reviewer in reviewed_by(cluster)}
    for unit in cluster.units:
        for reviewer, found in without_each(layout, unit, cluster.settings, tallies[unit.unit_id]).items():
            changed[reviewer][unit.unit_id] = found
    return _ranges(cluster, tallies, ranked, changed)


def recomputed(
    layout: Layout, cluster: ClusterInput, tallies: Mapping[int, Tally], ranked: Mapping[int, tuple[int, bool]]
) -> dict[int, Stability]:
    """The same figures, every reviewed unit scored again leaf by leaf per reviewer left out (the reference)."""
    changed = {
        reviewer: {
            unit.unit_id: tally(layout, unit, cluster.settings, leave_out=reviewer)
            for unit in cluster.units
            if unit.unit_id in subjects
        }
        for reviewer, subjects in reviewed_by(cluster).items()
    }
    return _ranges(cluster, tallies, ranked, changed)


def _ranges(
    cluster: ClusterInput,
    tallies: Mapping[int, Tally],
    ranked: Mapping[int, tuple[int, bool]],
    changed: Mapping[int, Mapping[int, Tally]],
) -> dict[int, Stability]:
    """Rank every scenario (reviewer → the tallies it changes) and keep each unit's best and worst rank."""
    rules = cluster.settings.tie_rules
    seen: dict[int, list[int]] = {unit_id: [] for unit_id in ranked}
    for scenario in changed.values():
        for unit_id, (rank, _) in ranks({**tallies, **scenario}, rules).items():
            seen[unit_id].append(rank)
    result = {}
    for unit_id, (rank, _) in ranked.items():
        best, worst = min(seen[unit_id], default=rank), max(seen[unit_id], default=rank)
        result[unit_id] = Stability(best, worst, best != rank or worst != rank)
    return result
