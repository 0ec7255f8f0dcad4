"""Rank stability: the best and worst rank of each unit when any one reviewer's scores are left out.

Only under a peer basis (the agreed score does not depend on reviewers) and with detail (each
reviewer's points). For each reviewer, the units it reviewed are scored again without its points
(a leaf nobody else reviewed falls back to the agreed score, as always), every unit is ranked again
with the same tie rules, and each unit keeps the best and worst of those ranks (its own rank when
nobody reviewed in the cluster). A unit whose best or worst differs from its rank is
`decided_by_one_reviewer`.
"""

from __future__ import annotations

from collections.abc import Mapping

from portal.services.results.inputs import ClusterInput
from portal.services.results.output import Stability
from portal.services.results.points import Layout, Tally, tally
from portal.services.results.ranking import ranks


def reviewed_by(cluster: ClusterInput) -> dict[int, set[int]]:
    """reviewer → the units it gave points to."""
    found: dict[int, set[int]] = {}
    for unit in cluster.units:
        for scores in unit.scores.values():
            if scores.peer is not None and scores.peer.by_reviewer:
                for reviewer in scores.peer.by_reviewer:
                    found.setdefault(reviewer, set()).add(unit.unit_id)
    return found


def stability(
    layout: Layout, cluster: ClusterInput, tallies: Mapping[int, Tally], ranked: Mapping[int, tuple[int, bool]]
) -> dict[int, Stability]:
    settings = cluster.settings
    seen: dict[int, list[int]] = {unit_id: [] for unit_id in ranked}
    for reviewer, subjects in reviewed_by(cluster).items():
        scenario = dict(tallies)
        for unit in cluster.units:
            if unit.unit_id in subjects:
                scenario[unit.unit_id] = tally(layout, unit, settings, leave_out=reviewer)
        for unit_id, (rank, _) in ranks(scenario, settings.tie_rules).items():
            seen[unit_id].append(rank)
    result = {}
    for unit_id, (rank, _) in ranked.items():
        best, worst = min(seen[unit_id], default=rank), max(seen[unit_id], default=rank)
        result[unit_id] = Stability(best, worst, best != rank or worst != rank)
    return result
