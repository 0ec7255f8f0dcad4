"""The results engine: one cluster-year's points, ranking, bands, flags and explanations.

`compute(cluster)` is a pure function of the plain values of `inputs.py` (filled by `read.py` or
built by hand): no database, no Flask. Its rules are written out in docs/reference/results.md; in
short:

- points (`points.py`): per leaf by the score basis, rounded half-up to the cent, then summed;
  bonus and deductions capped; non-applicable leaves out of points and maxima; compared total on
  the table's scale (or raw); non-participation by the cluster's rule;
- ranks and bands (`ranking.py`); flags and spreads (`flags.py`); rank stability (`stability.py`).

Without detail (no `PeerView.by_reviewer`) the work is one pass over the units' leaves; the
reviewers' spread, the reviewer-bias and mutual flags and the rank stability need detail and are
left out (`ClusterResult.detail` says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from portal.services.criteria.methods import round_points
from portal.services.results import flags
from portal.services.results.inputs import ClusterInput, UnitInput
from portal.services.results.output import ClusterResult, LeafResult, SectionResult, Stability, UnitResult
from portal.services.results.points import (
    NO_SCORES,
    PEER_BASES,
    ZERO,
    Layout,
    ResultsError,
    Tally,
    agreed,
    check,
    tally,
)
from portal.services.results.ranking import classify, floor_criteria, ranks, share
from portal.services.results.stability import stability

__all__ = ["ResultsError", "compute"]


def compute(cluster: ClusterInput) -> ClusterResult:
    check(cluster)
    settings = cluster.settings
    layout = Layout.of(cluster.table)
    tallies = {unit.unit_id: tally(layout, unit, settings) for unit in cluster.units}
    ranked = ranks(tallies, settings.tie_rules)
    averages = _section_averages(tallies)
    target = cluster.table.target_total
    found = flags.self_excess_flags(layout, cluster.units, settings.self_excess_share * target)
    totals: flags.Totals = {}
    stable: dict[int, Stability] = {}
    if cluster.detail:
        totals = flags.reviewer_totals(layout, cluster.units)
        found += flags.reviewer_flags(totals, settings.reviewer_bias_share * target)
        found += flags.mutual_flags(totals, settings.mutual_share * target)
        if settings.basis in PEER_BASES:
            stable = stability(layout, cluster, tallies, ranked)
    units = sorted(cluster.units, key=lambda u: (ranked[u.unit_id][0], u.sort_key, u.unit_id))
    results = tuple(
        _unit_result(cluster, layout, unit, tallies[unit.unit_id], ranked[unit.unit_id], averages, totals, stable)
        for unit in units
    )
    return ClusterResult(
        cluster_id=cluster.cluster_id,
        year_id=cluster.year_id,
        criteria_set_id=cluster.table.criteria_set_id,
        settings=settings,
        detail=cluster.detail,
        stability=cluster.detail and settings.basis in PEER_BASES,
        target_total=target,
        scored_maximum=layout.scored_maximum,
        leaders=tuple(r.unit_id for r in results if r.rank == 1),
        units=results,
        flags=tuple(sorted(found, key=lambda f: (f.kind, f.unit_id, f.other_unit_id or 0))),
    )


def _section_averages(tallies: Mapping[int, Tally]) -> dict[int, Decimal]:
    """Each section's mean points over the units to which some of its leaves apply, to the cent."""
    sums: dict[int, Decimal] = {}
    counts: dict[int, int] = {}
    for t in tallies.values():
        for section_id, points in t.sections.items():
            sums[section_id] = sums.get(section_id, ZERO) + points
            counts[section_id] = counts.get(section_id, 0) + 1
    return {section_id: round_points(total / counts[section_id]) for section_id, total in sums.items()}


def _unit_result(
    cluster: ClusterInput,
    layout: Layout,
    unit: UnitInput,
    t: Tally,
    ranked: tuple[int, bool],
    averages: Mapping[int, Decimal],
    totals: flags.Totals,
    stable: Mapping[int, Stability],
) -> UnitResult:
    settings = cluster.settings
    target = cluster.table.target_total
    compared = t.compared_total
    band, gap = classify(settings, target, compared, floor_criteria(layout, unit, t, settings.floor_level))
    given = totals.get(unit.unit_id)
    return UnitResult(
        unit_id=unit.unit_id,
        name=unit.name,
        rank=ranked[0],
        tie_unresolved=ranked[1],
        eligible=not unit.ineligible_reason,
        ineligible_reason=unit.ineligible_reason,
        base=t.base,
        bonus=t.bonus,
        deduction=t.deduction,
        penalty=t.penalty,
        raw_total=t.raw_total,
        applicable_maximum=t.applicable_maximum,
        compared_base=t.compared_base,
        compared_total=compared,
        total_share=share(compared, target),
        band=band,
        band_gap=gap,
        non_participation=str(settings.non_participation) if unit.withheld_reviews > 0 else "",
        withheld_reviews=unit.withheld_reviews,
        sections=_sections(layout, unit, t, averages),
        leaves=_leaves(layout, unit, t),
        reviewers=flags.totals_spread(given) if given else None,
        stability=stable.get(unit.unit_id),
    )


def _sections(layout: Layout, unit: UnitInput, t: Tally, averages: Mapping[int, Decimal]) -> tuple[SectionResult, ...]:
    maxima: dict[int, Decimal] = {}
    for leaf in layout.applicable(unit):
        maxima[leaf.section_id] = maxima.get(leaf.section_id, ZERO) + leaf.max_points
    return tuple(
        SectionResult(
            s.criterion_id, s.code, s.kind, t.sections[s.criterion_id], maxima[s.criterion_id], averages[s.criterion_id]
        )
        for s in layout.table.sections
        if s.criterion_id in t.sections
    )


def _leaves(layout: Layout, unit: UnitInput, t: Tally) -> tuple[LeafResult, ...]:
    results = []
    for leaf in layout.table.leaves:
        scores = unit.scores.get(leaf.criterion_id, NO_SCORES)
        applicable = leaf.criterion_id in t.points
        view = scores.peer if scores.peer is not None and scores.peer.count else None
        results.append(
            LeafResult(
                criterion_id=leaf.criterion_id,
                code=leaf.code,
                kind=leaf.kind,
                max_points=leaf.max_points,
                applicable=applicable,
                points=t.points.get(leaf.criterion_id, ZERO),
                source=t.sources.get(leaf.criterion_id, "not_applicable"),
                self_points=scores.self_points,
                verified=scores.verified,
                explanation=scores.explanation,
                final=scores.final,
                agreed=agreed(scores)[0],
                verified_reason=scores.verified_reason,
                final_reason=scores.final_reason,
                peer=flags.peer_spread(view) if view is not None else None,
            )
        )
    return tuple(results)
