"""Properties of the results engine over random clusters (hypothesis).

The table is the one of tests/test_results_engine.py (declared total 100, a bonus and a deduction
leaf). Points move in steps of 0.25 within each leaf's maximum; every unit may be reviewed by any of
the others, on any leaf, and may have self, verified and final scores or not.
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.services.criteria.methods import round_points
from portal.services.results.engine import compute
from portal.services.results.inputs import (
    Basis,
    ClusterInput,
    LeafScores,
    NonParticipation,
    ScaleMode,
    TieBreaker,
    TieRule,
)
from portal.services.results.leave_one_out import without_each
from portal.services.results.points import PEER_BASES, Layout, tally
from portal.services.results.ranking import rank_key, ranks
from portal.services.results.stability import recomputed, stability
from tests.test_results_engine import LEAVES, MAXIMA, C, cluster, peer, unit

SCORED = [leaf.criterion_id for leaf in LEAVES if leaf.kind == "scored"]
RULES = [TieRule(TieBreaker.SECTION, 1), TieRule(TieBreaker.FEWER_DEDUCTIONS), TieRule(TieBreaker.MORE_AT_MAXIMUM)]
EXAMPLES = settings(max_examples=50, deadline=None)


def points(leaf_id: int):
    return st.integers(0, int(MAXIMA[leaf_id] * 4)).map(lambda quarters: D(quarters) / 4)


@st.composite
def leaf_scores(draw, unit_id: int, others: list[int], leaf_id: int) -> LeafScores:
    maybe = st.none() | points(leaf_id)
    reviewers = draw(st.lists(st.sampled_from(others), unique=True)) if others else []
    given = {reviewer: draw(points(leaf_id)) for reviewer in reviewers}
    return LeafScores(self_points=draw(maybe), verified=draw(maybe), final=draw(maybe), peer=peer(given))


@st.composite
def clusters(draw, not_applicable: bool = True) -> ClusterInput:
    unit_ids = draw(st.lists(st.integers(1, 60), min_size=2, max_size=5, unique=True))
    units = []
    for unit_id in unit_ids:
        others = [other for other in unit_ids if other != unit_id]
        scores = {leaf.criterion_id: draw(leaf_scores(unit_id, others, leaf.criterion_id)) for leaf in LEAVES}
        skipped = frozenset(draw(st.lists(st.sampled_from(SCORED), max_size=2))) if not_applicable else frozenset()
        units.append(unit(unit_id, scores, name=f"Đơn vị {unit_id % 7}", not_applicable=skipped))
    rules = draw(st.lists(st.sampled_from(RULES), unique=True))
    return cluster(
        *units,
        detail=True,
        basis=draw(st.sampled_from(list(Basis))),
        trim_min_reviewers=draw(st.integers(3, 4)),
        self_weight=draw(st.sampled_from([D(0), D("0.25"), D("0.5"), D(1)])),
        scale_mode=draw(st.sampled_from(list(ScaleMode))),
        non_participation=draw(st.sampled_from(list(NonParticipation))),
        tie_rules=tuple(rules),
    )


def shuffled(data: ClusterInput, rng: random.Random) -> ClusterInput:
    """The same cluster with its units, and every leaf's reviewers, in another order."""
    units = []
    for u in data.units:
        scores = {}
        for leaf_id, s in u.scores.items():
            given = list(s.peer.by_reviewer.items())
            rng.shuffle(given)
            scores[leaf_id] = replace(s, peer=replace(s.peer, by_reviewer=dict(given)))
        units.append(replace(u, scores=scores))
    rng.shuffle(units)
    return replace(data, units=tuple(units))


@EXAMPLES
@given(clusters(), st.randoms(use_true_random=False))
def test_permuting_units_or_reviewers_changes_nothing(data, rng):
    assert compute(shuffled(data, rng)).to_dict() == compute(data).to_dict()


@EXAMPLES
@given(clusters(), st.data())
def test_a_unit_that_withholds_its_reviews_never_gains(data, draw):
    target = draw.draw(st.sampled_from(data.units))
    withholding = replace(data, units=tuple(replace(u, withheld_reviews=3) if u is target else u for u in data.units))
    before = next(u for u in compute(data).units if u.unit_id == target.unit_id)
    after = next(u for u in compute(withholding).units if u.unit_id == target.unit_id)
    assert after.compared_total <= before.compared_total
    assert after.raw_total <= before.raw_total
    assert after.non_participation == data.settings.non_participation.value


@EXAMPLES
@given(clusters(not_applicable=False))
def test_scaled_totals_of_units_with_every_criterion_applicable_equal_raw_totals(data):
    for result in compute(replace(data, settings=replace(data.settings, scale_mode=ScaleMode.SCALE))).units:
        assert result.compared_base == result.base and result.compared_total == result.raw_total


@EXAMPLES
@given(clusters())
def test_ranks_are_competition_ranks_of_the_compared_totals(data):
    data = replace(data, settings=replace(data.settings, tie_rules=()))
    found = compute(data).units
    for result in found:
        better = sum(other.compared_total > result.compared_total for other in found)
        level = sum(other.compared_total == result.compared_total for other in found)
        assert result.rank == better + 1 and result.tie_unresolved == (level > 1)


@EXAMPLES
@given(st.lists(points(C), min_size=1, max_size=9), st.integers(3, 6))
def test_the_trimmed_mean_is_the_textbook_one(values, at_least):
    view = peer(dict(enumerate(values, start=100)))
    data = cluster(unit(1, {C: LeafScores(peer=view)}), basis=Basis.TRIMMED_MEAN, trim_min_reviewers=at_least)
    ordered = sorted(values)
    kept = ordered[1:-1] if len(values) >= at_least else ordered
    textbook = round_points(sum(kept, D(0)) / len(kept))
    assert next(item for item in compute(data).units[0].leaves if item.criterion_id == C).points == textbook


@st.composite
def consensus_with_one_offset(draw):
    """Every reviewer gives each unit the same points on each scored leaf, but one adds `offset` everywhere."""
    unit_ids = list(range(1, draw(st.integers(3, 6)) + 1))
    reviewer = draw(st.sampled_from(unit_ids))
    offset = D(draw(st.integers(-20, 20))) / 4
    units = []
    for unit_id in unit_ids:
        scores = {}
        for leaf_id in SCORED:
            agreed = draw(points(leaf_id))
            given = {r: agreed + (offset if r == reviewer else 0) for r in unit_ids if r != unit_id}
            scores[leaf_id] = LeafScores(final=agreed, peer=peer(given))
        units.append(unit(unit_id, scores))
    return cluster(*units, detail=True), reviewer, offset


@EXAMPLES
@given(consensus_with_one_offset())
def test_a_uniform_offset_on_one_reviewer_is_flagged_above_the_threshold(case):
    data, reviewer, offset = case
    bias = offset * len(SCORED)  # on every unit it reviewed, its total lies that far from the others'
    threshold = data.settings.reviewer_bias_share * data.table.target_total
    flagged = {f.kind for f in compute(data).flags if f.unit_id == reviewer and f.kind.startswith("reviewer")}
    if abs(bias) > threshold:
        assert flagged == {"reviewer_lenient" if offset > 0 else "reviewer_harsh"}
    else:
        assert flagged == set()


# ---------------------------------------------------------------- rank stability: the fast path


@st.composite
def reviewed_clusters(draw) -> ClusterInput:
    """Clusters of up to 9 units under a peer basis (enough reviewers to trim), some withholding reviews,
    some points in odd cents, and tie rules that look at sections, deductions and leaves at maximum."""
    data = draw(clusters())
    cents = st.integers(0, 3000).map(lambda c: D(c) / 100)
    units = []
    for u in data.units:
        if draw(st.booleans()):  # more reviewers on one leaf, at any cent
            reviewers = draw(st.lists(st.integers(100, 130), min_size=1, max_size=9, unique=True))
            s = u.scores[C]
            u = replace(u, scores={**u.scores, C: replace(s, peer=peer({r: draw(cents) for r in reviewers}))})
        units.append(replace(u, withheld_reviews=draw(st.sampled_from([0, 0, 2]))))
    basis = draw(st.sampled_from(sorted(PEER_BASES)))
    weight = draw(st.sampled_from([D(0), D("0.3333"), D("0.5"), D("0.0001"), D(1)]))
    return replace(data, units=tuple(units), settings=replace(data.settings, basis=basis, self_weight=weight))


@settings(max_examples=150, deadline=None)
@given(reviewed_clusters())
def test_rank_stability_fast_path_equals_recomputing_every_reviewer_left_out(data):
    layout = Layout.of(data.table)
    tallies = {u.unit_id: tally(layout, u, data.settings) for u in data.units}
    ranked = ranks(tallies, data.settings.tie_rules)
    assert stability(layout, data, tallies, ranked) == recomputed(layout, data, tallies, ranked)
    for u in data.units:  # each leave-one-out tally, not only the ranks it gives
        fast = without_each(layout, u, data.settings, tallies[u.unit_id])
        plain = {r: tally(layout, u, data.settings, leave_out=r) for r in fast}
        for reviewer, found in fast.items():
            expected = plain[reviewer]
            rules = data.settings.tie_rules  # (the sections of a fast tally are moved only when a rule names them)
            assert rank_key(found, rules) == rank_key(expected, rules), reviewer
            assert (found.base, found.bonus, found.deduction, found.compared_total) == (
                expected.base,
                expected.bonus,
                expected.deduction,
                expected.compared_total,
            )
