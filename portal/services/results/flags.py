"""Reviewers' totals, spreads and the flags the meeting should look at.

A reviewer's total for a unit is the sum of the points it gave on the unit's applicable leaves
(deduction leaves negative). Deviations and means are worked out exactly (Fraction) and rounded to
the cent only to be shown, so the order of units or reviewers never moves a figure or a flag.
Thresholds are shares of the declared total (Settings.*_share × target_total); a flag is raised
strictly above its threshold.

- reviewer_harsh / reviewer_lenient: a reviewer's bias, the mean over the units it reviewed of
  (its total − the mean of the other reviewers' totals for that unit), counting units with at least
  one other reviewer; |bias| > threshold. Needs detail.
- self_excess: the unit's own total − its peers' total, both over the applicable leaves that peers
  scored (peer side: each leaf's mean, to the cent; a leaf it did not score itself counts 0);
  > threshold. Needs no detail.
- mutual_high: A's total for B above the other reviewers' mean for B by more than the threshold,
  and B's for A above the others' mean for A likewise. Needs detail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from operator import methodcaller

from portal.services.criteria.methods import round_points
from portal.services.results.inputs import PeerView, UnitInput
from portal.services.results.output import Figure, Flag, Spread
from portal.services.results.points import SIGN, ZERO, Layout, cents

Totals = dict[int, dict[int, Decimal]]  # subject unit → reviewer → total


def reviewer_totals(layout: Layout, units: Iterable[UnitInput]) -> Totals:
    totals: Totals = {}
    for unit in units:
        added: list[Mapping[int, Decimal]] = []  # each applicable leaf's points by reviewer, by sign
        taken: list[Mapping[int, Decimal]] = []
        for leaf in layout.applicable(unit):
            scores = unit.scores.get(leaf.criterion_id)
            if scores is None or scores.peer is None or not scores.peer.by_reviewer:
                continue
            (taken if SIGN[leaf.kind] < 0 else added).append(scores.peer.by_reviewer)
        totals[unit.unit_id] = {
            reviewer: _summed(added, reviewer) - _summed(taken, reviewer) for reviewer in set().union(*added, *taken)
        }
    return totals


def _summed(given: list[Mapping[int, Decimal]], reviewer: int) -> Decimal:
    """The points `reviewer` gave over these leaves (a C-level loop: the hot spot of detail)."""
    return sum(map(methodcaller("get", reviewer, ZERO), given), ZERO)


def spread(count: int, total: Decimal, squares: Decimal, low: Decimal, high: Decimal) -> Spread:
    """Count, mean, range and population standard deviation (the reviewers there are, not a sample)."""
    mean = total / count
    variance = max(squares / count - mean * mean, ZERO)  # a rounding below zero is zero
    return Spread(count, round_points(mean), round_points(low), round_points(high), round_points(variance.sqrt()))


def peer_spread(view: PeerView) -> Spread:
    """A leaf's peer spread; without detail only the count and mean (and the range when the basis read it)."""
    if view.squares is None:
        low, high = (None, None) if view.low is None else (round_points(view.low), round_points(view.high))
        return Spread(view.count, round_points(view.total / view.count), low, high, None)
    return spread(view.count, view.total, view.squares, view.low, view.high)


def totals_spread(given: Mapping[int, Decimal]) -> Spread | None:
    values = given.values()
    if not given:
        return None
    return spread(len(given), sum(values, ZERO), sum((v * v for v in values), ZERO), min(values), max(values))


def _excesses(given: Mapping[int, Decimal]) -> dict[int, Fraction]:
    """Each reviewer's total − the mean of the others' totals for the same unit (two reviewers at least)."""
    if len(given) < 2:
        return {}
    whole = sum(given.values(), ZERO)
    n = len(given)
    # total − (whole − total) ÷ (n − 1) = (total × n − whole) ÷ (n − 1): the numerator is an exact Decimal
    return {reviewer: Fraction(total * n - whole) / (n - 1) for reviewer, total in given.items()}


def reviewer_flags(totals: Totals, threshold: Decimal) -> list[Flag]:
    deviations: dict[int, list[Fraction]] = {}
    for given in totals.values():
        for reviewer, excess in _excesses(given).items():
            deviations.setdefault(reviewer, []).append(excess)
    flags = []
    for reviewer, found in deviations.items():
        bias = sum(found, Fraction(0)) / len(found)
        if abs(bias) > threshold:
            figures = (Figure("bias", cents(bias)), Figure("units", len(found)), Figure("threshold", threshold))
            flags.append(Flag("reviewer_lenient" if bias > 0 else "reviewer_harsh", reviewer, None, figures))
    return flags


def mutual_flags(totals: Totals, threshold: Decimal) -> list[Flag]:
    excesses = {unit_id: _excesses(given) for unit_id, given in totals.items()}
    flags = []
    for b, by_reviewer in excesses.items():
        for a, a_to_b in by_reviewer.items():
            b_to_a = excesses.get(a, {}).get(b)
            if a < b and b_to_a is not None and a_to_b > threshold and b_to_a > threshold:
                figures = (
                    Figure("a_to_b", cents(a_to_b)),
                    Figure("b_to_a", cents(b_to_a)),
                    Figure("threshold", threshold),
                )
                flags.append(Flag("mutual_high", a, b, figures))
    return flags


def self_excess_flags(layout: Layout, units: Iterable[UnitInput], threshold: Decimal) -> list[Flag]:
    flags = []
    for unit in units:
        own = peers = ZERO
        compared = False
        for leaf in layout.applicable(unit):
            scores = unit.scores.get(leaf.criterion_id)
            view = scores.peer if scores is not None else None
            if view is None or not view.count:
                continue
            compared = True
            own += SIGN[leaf.kind] * (scores.self_points or ZERO)
            peers += SIGN[leaf.kind] * round_points(view.total / view.count)
        if compared and own - peers > threshold:
            figures = (Figure("self_total", own), Figure("peer_total", peers), Figure("excess", own - peers))
            flags.append(Flag("self_excess", unit.unit_id, None, (*figures, Figure("threshold", threshold))))
    return flags
