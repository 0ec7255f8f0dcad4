"""A unit's points under the cluster's settings: per leaf by the score basis, then its totals.

The rule (docs/reference/results.md): aggregate per leaf, round that leaf half-up to 2 decimals
(`criteria.methods.round_points`), then sum; a section is the sum of its applicable leaves; bonus
and deductions are summed the same way and capped by `criteria.methods.capped` (caps: the maxima of
the applicable bonus, deduction leaves). Leaves marked "không áp dụng" count neither in the points
nor in the maximum. Plain Python: no database, no Flask.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from portal.services.criteria.methods import capped, round_points
from portal.services.results.inputs import (
    Basis,
    ClusterInput,
    Leaf,
    LeafScores,
    NonParticipation,
    PeerView,
    ScaleMode,
    Settings,
    Table,
    TieBreaker,
    UnitInput,
)

ZERO = Decimal("0.00")
SIGN = {"scored": 1, "bonus": 1, "deduction": -1}  # how a leaf of each kind counts in a total
NO_SCORES = LeafScores()
PEER_BASES = frozenset({Basis.PEER_MEAN, Basis.TRIMMED_MEAN, Basis.MEDIAN, Basis.BLEND})
MIN_TRIMMED = 3  # dropping one highest and one lowest leaves at least one reviewer


class ResultsError(ValueError):
    """The input cannot give results as asked (a caller's mistake, not a user's): the message says why."""


def check(cluster: ClusterInput) -> None:
    settings = cluster.settings
    if settings.basis == Basis.MEDIAN and not cluster.detail:
        raise ResultsError("the median basis needs each reviewer's points: read the cluster with detail")
    if settings.trim_min_reviewers < MIN_TRIMMED:
        raise ResultsError(f"trim_min_reviewers must be at least {MIN_TRIMMED}")
    if not 0 <= settings.self_weight <= 1:
        raise ResultsError("self_weight must lie between 0 and 1")
    if settings.non_participation_points < 0:
        raise ResultsError("non_participation_points must not be negative")
    sections = {s.criterion_id for s in cluster.table.sections}
    for rule in settings.tie_rules:
        if rule.breaker == TieBreaker.SECTION and rule.section_id not in sections:
            raise ResultsError(f"tie rule {rule}: no such section in the table")


@dataclass(frozen=True)
class Layout:
    """The table as the engine walks it, worked out once per compute()."""

    table: Table
    scored_maximum: Decimal

    @classmethod
    def of(cls, table: Table) -> Layout:
        return cls(table, table.scored_maximum)

    def applicable(self, unit: UnitInput) -> Iterable[Leaf]:
        skip = unit.not_applicable
        return (leaf for leaf in self.table.leaves if leaf.criterion_id not in skip)


@dataclass(frozen=True, slots=True)
class Tally:
    """A unit's points: per applicable leaf (with where they came from), per section, and its totals."""

    points: dict[int, Decimal]
    sources: dict[int, str]
    sections: dict[int, Decimal]
    base: Decimal
    bonus: Decimal
    deduction: Decimal
    penalty: Decimal
    applicable_maximum: Decimal
    compared_base: Decimal
    at_maximum: int  # applicable scored leaves at their maximum

    @property
    def raw_total(self) -> Decimal:
        return self.base + self.bonus - self.deduction - self.penalty

    @property
    def compared_total(self) -> Decimal:
        return self.compared_base + self.bonus - self.deduction - self.penalty


def cents(value: Fraction | Decimal) -> Decimal:
    """An exact figure (a mean, a deviation) to the cent, half-up."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return round_points(value)


def agreed(scores: LeafScores) -> tuple[Decimal | None, str]:
    """The last stage that exists of final → verified → self, and its name ("none" if none scored it)."""
    for stage, value in (("final", scores.final), ("verified", scores.verified), ("self", scores.self_points)):
        if value is not None:
            return value, stage
    return None, "none"


def median(view: PeerView) -> Decimal:
    if view.by_reviewer is None:
        raise ResultsError("the median basis needs PeerView.by_reviewer (read with detail)")
    values = sorted(view.by_reviewer.values())
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def trimmed_mean(view: PeerView, min_reviewers: int) -> Decimal:
    """The mean without one highest and one lowest score once there are at least `min_reviewers` (≥ 3)."""
    if view.count >= min_reviewers:
        return (view.total - view.low - view.high) / (view.count - 2)
    return view.total / view.count


def peer_value(settings: Settings, view: PeerView, self_points: Decimal | None) -> Decimal:
    """A leaf's value under a peer basis, from a view with at least one score."""
    basis = settings.basis
    if basis == Basis.PEER_MEAN:
        return view.total / view.count
    if basis == Basis.TRIMMED_MEAN:
        return trimmed_mean(view, settings.trim_min_reviewers)
    if basis == Basis.MEDIAN:
        return median(view)
    weight = settings.self_weight  # BLEND; a leaf the unit did not score itself counts 0 on its side
    return weight * (self_points or ZERO) + (1 - weight) * view.total / view.count


def leaf_points(
    leaf: Leaf, scores: LeafScores, view: PeerView | None, settings: Settings, lowest: bool
) -> tuple[Decimal, str]:
    """One applicable leaf's points (rounded to the cent) and where they came from.

    `view`: the leaf's peer scores (None or a count of 0: nobody reviewed it). Under a peer basis
    a leaf nobody reviewed takes the agreed score. `lowest` (a unit that withheld reviews, rule
    LOWEST_BASIS): the least favourable of the basis value, the agreed and self scores, the peer
    mean and trimmed mean — the lowest, or the highest on a deduction leaf.
    """
    value, source = agreed(scores)
    if view is not None and not view.count:
        view = None
    if settings.basis != Basis.AGREED and view is not None:
        value, source = peer_value(settings, view, scores.self_points), str(settings.basis)
    if lowest and value is not None:
        candidates = [value, agreed(scores)[0], scores.self_points]
        if view is not None:
            candidates += [view.total / view.count, trimmed_mean(view, settings.trim_min_reviewers)]
        pick = max if leaf.kind == "deduction" else min
        worst = pick(c for c in candidates if c is not None)
        if worst != value:
            value, source = worst, str(NonParticipation.LOWEST_BASIS)
    return (ZERO, source) if value is None else (round_points(value), source)


def tally(layout: Layout, unit: UnitInput, settings: Settings, leave_out: int | None = None) -> Tally:
    """A unit's points; `leave_out`: as if that reviewer's peer scores did not exist (rank stability)."""
    lowest = unit.withheld_reviews > 0 and settings.non_participation == NonParticipation.LOWEST_BASIS
    keep_points = settings.basis == Basis.MEDIAN
    points: dict[int, Decimal] = {}
    sources: dict[int, str] = {}
    for leaf in layout.applicable(unit):
        scores = unit.scores.get(leaf.criterion_id, NO_SCORES)
        view = scores.peer
        if leave_out is not None and view is not None and leave_out in (view.by_reviewer or ()):
            view = without(view, leave_out, keep_points)
        points[leaf.criterion_id], sources[leaf.criterion_id] = leaf_points(leaf, scores, view, settings, lowest)
    return summed(layout, unit, settings, points, sources)


def summed(
    layout: Layout, unit: UnitInput, settings: Settings, points: dict[int, Decimal], sources: dict[int, str]
) -> Tally:
    """The tally of a unit whose applicable leaves have these points: sections, kinds, caps and scale."""
    sections: dict[int, Decimal] = {}
    sums = {"scored": ZERO, "bonus": ZERO, "deduction": ZERO}
    maxima = {"scored": ZERO, "bonus": ZERO, "deduction": ZERO}
    at_maximum = 0
    for leaf in layout.applicable(unit):
        value = points[leaf.criterion_id]
        sections[leaf.section_id] = sections.get(leaf.section_id, ZERO) + value
        sums[leaf.kind] += value
        maxima[leaf.kind] += leaf.max_points
        if leaf.kind == "scored" and value >= leaf.max_points:
            at_maximum += 1
    return finished(layout, unit, settings, Sums(sums, maxima, sections, at_maximum), points, sources)


@dataclass(frozen=True, slots=True)
class Sums:
    """A unit's leaf points summed per kind and section, before caps (and the applicable maxima per kind)."""

    kinds: dict[str, Decimal]
    maxima: dict[str, Decimal]
    sections: dict[int, Decimal]
    at_maximum: int


def finished(
    layout: Layout,
    unit: UnitInput,
    settings: Settings,
    sums: Sums,
    points: dict[int, Decimal] | None = None,
    sources: dict[int, str] | None = None,
) -> Tally:
    """Caps, the non-participation deduction and the compared total on the table's scale."""
    kinds, maxima = sums.kinds, sums.maxima
    bonus, deduction = capped(
        kinds["bonus"], kinds["deduction"], maxima["bonus"], maxima["deduction"], layout.table.deduction_capped
    )
    penalty = ZERO
    if unit.withheld_reviews > 0 and settings.non_participation == NonParticipation.FIXED_DEDUCTION:
        penalty = round_points(settings.non_participation_points)
    base, applicable = kinds["scored"], maxima["scored"]
    compared_base = base
    if settings.scale_mode == ScaleMode.SCALE and applicable and applicable != layout.scored_maximum:
        compared_base = round_points(base * layout.scored_maximum / applicable)
    return Tally(
        {} if points is None else points,
        {} if sources is None else sources,
        sums.sections,
        base,
        bonus,
        deduction,
        penalty,
        applicable,
        compared_base,
        sums.at_maximum,
    )


def without(view: PeerView, reviewer: int, keep_points: bool) -> PeerView:
    """A leaf's peer view as if `reviewer` had not scored it (its points by reviewer only if `keep_points`).

    Count, total and squares follow from the view's own; the range is looked for again only when the
    reviewer gave the lowest or the highest points.
    """
    given = view.by_reviewer
    left_out = given[reviewer]
    if view.count == 1:
        return PeerView(0, ZERO, ZERO, ZERO, ZERO, {} if keep_points else None)
    low, high = view.low, view.high
    if left_out in (low, high):
        rest = [points for r, points in given.items() if r != reviewer]
        low, high = min(rest), max(rest)
    kept = {r: points for r, points in given.items() if r != reviewer} if keep_points else None
    total, squares = view.total - left_out, view.squares - left_out * left_out
    return PeerView(view.count - 1, total, low, high, squares, kept)
