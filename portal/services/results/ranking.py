"""Ranks and bands.

Ranking: by compared total, highest first, competition style (1, 2, 2, 4). Units on the same total
are separated by the cluster's tie rules in their order (higher points in a named section, fewer
deduction points — non-participation points included —, more scored leaves at their maximum);
units still level share the rank and their order is settled by the meeting's vote.

Bands (highest first): a unit takes the highest band whose two conditions hold — compared total
≥ min_total_share × declared total, and every scored criterion at the floor level that applies to
it ≥ min_floor_share × its applicable maximum — else BELOW_BANDS.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal

from portal.services.results.inputs import BELOW_BANDS, Band, FloorLevel, Settings, TieBreaker, TieRule, UnitInput
from portal.services.results.output import BandGap
from portal.services.results.points import ZERO, Layout, Tally

SHARE = Decimal("0.0001")


def share(points: Decimal, maximum: Decimal) -> Decimal:
    """points ÷ maximum to 1/10,000, rounded down: a share shown never reaches a threshold it missed."""
    return (points / maximum).quantize(SHARE, rounding=ROUND_FLOOR) if maximum else ZERO


def rank_key(tally: Tally, rules: tuple[TieRule, ...]) -> tuple:
    key: list[Decimal | int] = [-tally.compared_total]
    for rule in rules:
        if rule.breaker == TieBreaker.SECTION:
            key.append(-tally.sections.get(rule.section_id, ZERO))
        elif rule.breaker == TieBreaker.FEWER_DEDUCTIONS:
            key.append(tally.deduction + tally.penalty)
        else:
            key.append(-tally.at_maximum)
    return tuple(key)


def ranks(tallies: Mapping[int, Tally], rules: tuple[TieRule, ...]) -> dict[int, tuple[int, bool]]:
    """unit id → (rank, shares it with another unit)."""
    keys = {unit_id: rank_key(tally, rules) for unit_id, tally in tallies.items()}
    ordered = sorted(keys.values())
    counts = Counter(keys.values())
    return {unit_id: (bisect_left(ordered, key) + 1, counts[key] > 1) for unit_id, key in keys.items()}


def floor_criteria(layout: Layout, unit: UnitInput, tally: Tally, level: FloorLevel) -> list[tuple]:
    """(id, code, points, applicable maximum) of every scored criterion that applies, at the floor level, in order."""
    scored = [leaf for leaf in layout.applicable(unit) if leaf.kind == "scored"]
    if level == FloorLevel.LEAF:
        return [(leaf.criterion_id, leaf.code, tally.points[leaf.criterion_id], leaf.max_points) for leaf in scored]
    sums: dict[int, tuple[Decimal, Decimal]] = {}
    for leaf in scored:
        points, maximum = sums.get(leaf.group_id, (ZERO, ZERO))
        sums[leaf.group_id] = (points + tally.points[leaf.criterion_id], maximum + leaf.max_points)
    return [(g.criterion_id, g.code, *sums[g.criterion_id]) for g in layout.table.groups if g.criterion_id in sums]


def classify(
    settings: Settings, target: Decimal, compared: Decimal, criteria: list[tuple]
) -> tuple[str, BandGap | None]:
    """The unit's band, and what kept it out of the band just above (None in the highest band)."""
    higher: BandGap | None = None
    for band in settings.bands:
        total_short = compared < band.min_total_share * target
        under = [(cid, code, p, m) for cid, code, p, m in criteria if p < band.min_floor_share * m]
        if not total_short and not under:
            return band.code, higher
        higher = _gap(band, share(compared, target), total_short, under)
    return BELOW_BANDS, higher


def _gap(band: Band, total_share: Decimal, total_short: bool, under: list[tuple]) -> BandGap:
    worst = min(under, key=lambda c: share(c[2], c[3]), default=None)
    return BandGap(
        band=band.code,
        total_share=total_share,
        min_total_share=band.min_total_share,
        total_short=total_short,
        criterion_id=worst[0] if worst else None,
        criterion_code=worst[1] if worst else "",
        criterion_share=share(worst[2], worst[3]) if worst else None,
        min_floor_share=band.min_floor_share,
    )
