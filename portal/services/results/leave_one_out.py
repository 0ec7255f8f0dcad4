"""A unit's tallies with each of its reviewers left out in turn, worked out from its own tally (rank stability).

Only the leaves a reviewer scored change when it is left out, and each of them by a figure that
depends only on the points it gave: under the peer mean (S − x) ÷ (n − 1); under the blend the same
mean weighed with the self-score; under the trimmed mean the sum less x and the lowest and highest
of the rest (the neighbours of x when x was one of them, looked up in the leaf's points sorted
once); under the median the middle of the rest (found in the same sorted list). With nobody left
the leaf takes its agreed score, as in points.leaf_points.

Points are handled as whole cents (ints) and every quotient is rounded half-up to the cent from its
exact value: with points in cents, at most 10⁷ points and a weight of at most 4 decimal places that
is the figure points.py's Decimal arithmetic gives (28 significant digits are far more than the
exact values need to stay clear of, or land exactly on, a half cent). The changes are summed per
kind (and per section named by a tie rule, and leaves at their maximum); points.finished applies
the caps and the scale. A unit under the lowest-basis rule of non-participation takes the least
favourable of those figures per leaf, as points.leaf_points does. `Unsupported` (points that are
not whole non-negative cents) sends the unit to the leaf-by-leaf recomputation (points.tally with
leave_out).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import replace
from decimal import Decimal

from portal.services.criteria.methods import round_points
from portal.services.results.inputs import (
    Basis,
    LeafScores,
    NonParticipation,
    PeerView,
    Settings,
    TieBreaker,
    UnitInput,
)
from portal.services.results.points import NO_SCORES, ZERO, Layout, Sums, Tally, agreed, finished, tally

KINDS = ("scored", "bonus", "deduction")


class Unsupported(Exception):
    """The fast path does not apply to this unit: recompute it leaf by leaf."""


class Cents(dict):
    """Decimal points → whole cents (non-negative), each distinct value converted once."""

    def __missing__(self, value: Decimal) -> int:
        whole = exact_cents(value)
        if whole < 0:
            raise Unsupported
        self[value] = whole
        return whole


def exact_cents(value: Decimal) -> int:
    scaled = value.scaleb(2)
    whole = int(scaled)
    if whole != scaled:
        raise Unsupported
    return whole


def without_each(layout: Layout, unit: UnitInput, settings: Settings, base: Tally) -> dict[int, Tally]:
    """reviewer → the unit's tally without that reviewer's points, for every reviewer of an applicable leaf.

    What ranking needs: the totals, the sections a tie rule names (the others keep the unit's own
    figures) and, under the rule "more criteria at maximum", the count of leaves at maximum; no
    points per leaf nor sources.
    """
    try:
        return _fast(layout, unit, settings, base)
    except Unsupported:
        reviewers = {r for leaf in layout.applicable(unit) for r in _given(unit.scores.get(leaf.criterion_id))}
        return {r: tally(layout, unit, settings, leave_out=r) for r in reviewers}


def _given(scores: LeafScores | None) -> dict:
    view = scores.peer if scores is not None else None
    return (view.by_reviewer or {}) if view is not None else {}


class Changes:
    """Per reviewer (by slot), how much each kind, each named section and the count of leaves at maximum move."""

    def __init__(self, settings: Settings, reviewers: list[int]):
        self.slot = {r: i for i, r in enumerate(reviewers)}
        width = len(reviewers)
        self.kinds = {kind: [0] * width for kind in KINDS}
        named = {rule.section_id for rule in settings.tie_rules if rule.breaker == TieBreaker.SECTION}
        self.sections = {section_id: [0] * width for section_id in named}
        counted = any(rule.breaker == TieBreaker.MORE_AT_MAXIMUM for rule in settings.tie_rules)
        self.at_maximum = [0] * width if counted else None

    def add(self, leaf, before: int, reviewers: list[int], after: list[int]) -> None:
        """The leaf's points were `before` (cents); without reviewers[k] they are after[k]."""
        slots = [self.slot[r] for r in reviewers]
        moves = [value - before for value in after]
        for target in (self.kinds[leaf.kind], self.sections.get(leaf.section_id)):
            if target is not None:
                for i, move in zip(slots, moves, strict=True):
                    target[i] += move
        if self.at_maximum is not None and leaf.kind == "scored":
            top = leaf.max_points.scaleb(2)
            was = before >= top
            for i, value in zip(slots, after, strict=True):
                self.at_maximum[i] += (value >= top) - was


def _fast(layout: Layout, unit: UnitInput, settings: Settings, base: Tally) -> dict[int, Tally]:
    cents = Cents()
    kinds = {kind: ZERO for kind in KINDS}
    maxima = {kind: ZERO for kind in KINDS}
    leaves = []
    reviewers: set[int] = set()
    for leaf in layout.applicable(unit):
        value = base.points[leaf.criterion_id]
        kinds[leaf.kind] += value
        maxima[leaf.kind] += leaf.max_points
        scores = unit.scores.get(leaf.criterion_id, NO_SCORES)
        if given := _given(scores):
            leaves.append((leaf, scores, value))
            reviewers.update(given)
    order = sorted(reviewers)
    changes = Changes(settings, order)
    lowest = unit.withheld_reviews > 0 and settings.non_participation == NonParticipation.LOWEST_BASIS
    for leaf, scores, value in leaves:
        after = _values(settings, scores, cents)
        if lowest:
            after = _least_favourable(leaf, scores, settings, cents, after)
        changes.add(leaf, exact_cents(value), list(scores.peer.by_reviewer), after)
    found = {}
    for reviewer, i in changes.slot.items():
        moved = {kind: kinds[kind] + Decimal(changes.kinds[kind][i]).scaleb(-2) for kind in KINDS}
        sections = dict(base.sections)
        for section_id, delta in changes.sections.items():
            sections[section_id] += Decimal(delta[i]).scaleb(-2)
        at_maximum = base.at_maximum + (changes.at_maximum[i] if changes.at_maximum is not None else 0)
        found[reviewer] = finished(layout, unit, settings, Sums(moved, maxima, sections, at_maximum))
    return found


def _values(settings: Settings, scores: LeafScores, cents: Cents) -> list[int]:
    """The leaf's points in cents without each of its reviewers (in the order of PeerView.by_reviewer)."""
    view: PeerView = scores.peer
    given = list(map(cents.__getitem__, view.by_reviewer.values()))
    n = view.count - 1  # the reviewers left
    if n == 0:
        value = agreed(scores)[0]
        return [exact_cents(round_points(value)) if value is not None else 0] * len(given)
    total = cents[view.total]
    basis = settings.basis
    if basis == Basis.MEDIAN:
        return _medians(given, n)
    if basis == Basis.TRIMMED_MEAN and n >= settings.trim_min_reviewers:
        return _trimmed(given, n, total)
    if basis == Basis.BLEND:
        a, b = settings.self_weight.as_integer_ratio()
        own = a * n * (cents[scores.self_points] if scores.self_points is not None else 0)
        kept, whole = (b - a), b * n
        return [(2 * (own + kept * (total - c)) + whole) // (2 * whole) for c in given]
    return [(2 * (total - c) + n) // (2 * n) for c in given]  # the peer mean


def _least_favourable(leaf, scores: LeafScores, settings: Settings, cents: Cents, after: list[int]) -> list[int]:
    """The lowest-basis rule (points.leaf_points): the least of the basis value, the agreed and self scores,
    the peer mean and trimmed mean without the reviewer (the greatest on a deduction leaf). Rounding to the
    cent keeps the order, so the pick is made among rounded figures."""
    pick = max if leaf.kind == "deduction" else min
    fixed = [exact_cents(round_points(v)) for v in (agreed(scores)[0], scores.self_points) if v is not None]
    if scores.peer.count == 1:  # nobody left: the agreed score, or nothing
        return after if agreed(scores)[0] is None else [pick(fixed)] * len(after)
    means = _values(replace(settings, basis=Basis.PEER_MEAN), scores, cents)
    trimmed = _values(replace(settings, basis=Basis.TRIMMED_MEAN), scores, cents)
    return [pick(value, mean, trim, *fixed) for value, mean, trim in zip(after, means, trimmed, strict=True)]


def _trimmed(given: list[int], n: int, total: int) -> list[int]:
    """Without c: the sum less c and the lowest and highest of the rest, over n − 2."""
    ordered = sorted(given)
    low, second, high, next_high = ordered[0], ordered[1], ordered[-1], ordered[-2]
    kept = n - 2
    return [
        (2 * (total - c - (second if c == low else low) - (next_high if c == high else high)) + kept) // (2 * kept)
        for c in given
    ]


def _medians(given: list[int], n: int) -> list[int]:
    """Without c: the middle of the rest (the mean of the two middle ones, half-up, when n is even)."""
    ordered = sorted(given)
    half = n // 2
    by_value: dict[int, int] = {}
    for c in set(given):
        i = bisect_left(ordered, c)  # the rest: ordered without position i

        def at(k: int, i: int = i) -> int:
            return ordered[k] if k < i else ordered[k + 1]

        by_value[c] = at(half) if n % 2 else (at(half - 1) + at(half) + 1) // 2
    return [by_value[c] for c in given]
