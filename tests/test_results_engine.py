"""The results engine on hand-computed examples: every basis, caps, scaling, non-participation, ties,
tie-breakers, band boundaries, eligibility, explanations, flags and rank stability.

The table of every example (declared total 100): section I (scored) with criterion I.1 = leaves
I.1.a (max 30) and I.1.b (max 20), criterion I.2 = one leaf (max 50); section II, bonus (one leaf,
max 10); section III, deductions (one leaf, max 5).
"""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from portal import vntext
from portal.services.results.engine import ResultsError, compute
from portal.services.results.inputs import (
    BELOW_BANDS,
    Basis,
    ClusterInput,
    FloorLevel,
    Group,
    Leaf,
    LeafScores,
    NonParticipation,
    PeerView,
    ScaleMode,
    Section,
    Settings,
    Table,
    TieBreaker,
    TieRule,
    UnitInput,
)

A, B, C, BONUS, DEDUCTION = 111, 112, 121, 201, 301  # leaf ids
SECTIONS = (
    Section(1, "I", "Thực hiện nhiệm vụ chính trị", "scored", D(100)),
    Section(2, "II", "Điểm thưởng", "bonus", D(10)),
    Section(3, "III", "Điểm trừ", "deduction", D(5)),
)
GROUPS = (Group(11, 1, "I.1", "Kết quả chuyên môn", D(50)), Group(12, 1, "I.2", "Cải cách hành chính", D(50)))
LEAVES = (
    Leaf(A, 1, 11, "scored", D(30), "I.1.a"),
    Leaf(B, 1, 11, "scored", D(20), "I.1.b"),
    Leaf(C, 1, 12, "scored", D(50), "I.2"),
    Leaf(BONUS, 2, 2, "bonus", D(10), "II"),
    Leaf(DEDUCTION, 3, 3, "deduction", D(5), "III"),
)
MAXIMA = {leaf.criterion_id: leaf.max_points for leaf in LEAVES}


def peer(given: dict, detail: bool = True) -> PeerView:
    """A peer view from {reviewer: points}, with (detail) or without the points by reviewer."""
    points = {reviewer: D(str(value)) for reviewer, value in given.items()}
    values = points.values()
    if not points:
        return PeerView(0, D(0), D(0), D(0), D(0), {} if detail else None)
    squares = sum((v * v for v in values), D(0))
    return PeerView(len(points), sum(values, D(0)), min(values), max(values), squares, points if detail else None)


def unit(unit_id: int, scores: dict | None = None, name: str | None = None, **options) -> UnitInput:
    name = name or f"Đơn vị {unit_id}"
    return UnitInput(unit_id, name, vntext.sort_key(name), scores or {}, **options)


def finals(unit_id: int, a, b, c, bonus=0, deduction=0, **options) -> UnitInput:
    """A unit whose agreed score is a final score on every leaf."""
    values = {A: a, B: b, C: c, BONUS: bonus, DEDUCTION: deduction}
    return unit(unit_id, {leaf: LeafScores(final=D(str(v))) for leaf, v in values.items()}, **options)


def cluster(*units: UnitInput, detail: bool = False, capped: bool = True, **settings) -> ClusterInput:
    table = Table(7, D(100), capped, SECTIONS, GROUPS, LEAVES)
    return ClusterInput(3, 2026, table, units, Settings(**settings), detail=detail)


def results(*units: UnitInput, **options) -> dict:
    return {u.unit_id: u for u in compute(cluster(*units, **options)).units}


def leaf(result, criterion_id: int):
    return next(item for item in result.leaves if item.criterion_id == criterion_id)


# --- the score basis ---------------------------------------------------------------------------


def test_agreed_score_is_the_last_stage_of_final_verified_self():
    scores = {
        A: LeafScores(
            self_points=D(20), verified=D(25), explanation=D(29), final=D(28), final_reason="Bổ sung minh chứng"
        ),
        B: LeafScores(self_points=D(15), verified=D(18), verified_reason="Thiếu minh chứng"),
        C: LeafScores(self_points=D(40)),
        DEDUCTION: LeafScores(self_points=D(1)),
    }
    result = results(unit(1, scores))[1]
    assert [(leaf(result, i).points, leaf(result, i).source) for i in (A, B, C, BONUS, DEDUCTION)] == [
        (D("28.00"), "final"),
        (D("18.00"), "verified"),
        (D("40.00"), "self"),
        (D("0.00"), "none"),
        (D("1.00"), "self"),
    ]
    assert leaf(result, BONUS).unscored and not leaf(result, A).unscored  # "chưa chấm"
    assert (result.base, result.bonus, result.deduction, result.raw_total) == (D(86), D(0), D(1), D(85))
    assert (
        leaf(result, A).final_reason == "Bổ sung minh chứng" and leaf(result, B).verified_reason == "Thiếu minh chứng"
    )
    assert leaf(result, A).explanation == D(29) and leaf(result, A).agreed == D(28)


def test_peer_mean_rounds_each_leaf_half_up_then_sums():
    scores = {
        A: LeafScores(peer=peer({2: 20, 3: 21, 4: 21})),  # 62 / 3 = 20.666… → 20.67
        B: LeafScores(peer=peer({2: 10, 3: "10.25"})),  # 10.125 → 10.13 (half-up)
        C: LeafScores(peer=peer({2: 40, 3: 45, 4: 44})),  # 43
    }
    result = results(unit(1, scores), basis=Basis.PEER_MEAN)[1]
    assert [leaf(result, i).points for i in (A, B, C)] == [D("20.67"), D("10.13"), D("43.00")]
    assert result.base == D("73.80")  # summing first would give 73.79
    assert leaf(result, A).source == "peer_mean"


def test_trimmed_mean_drops_one_highest_and_one_lowest_from_n_reviewers():
    scores = {
        A: LeafScores(peer=peer({2: 10, 3: 20, 4: 22, 5: 30}, detail=False)),  # (20 + 22) / 2 = 21
        B: LeafScores(peer=peer({2: 10, 3: 20}, detail=False)),  # 2 reviewers < 3: the mean, 15
        C: LeafScores(peer=peer({2: 40, 3: 40, 4: 50}, detail=False)),  # one 40 and the 50 dropped: 40
    }
    assert results(unit(1, scores), basis=Basis.TRIMMED_MEAN)[1].base == D(76)
    # from 5 reviewers only: plain means 20.5 + 15 + 43.33
    assert results(unit(1, scores), basis=Basis.TRIMMED_MEAN, trim_min_reviewers=5)[1].base == D("78.83")


def test_median_of_odd_and_even_counts_needs_detail():
    scores = {
        A: LeafScores(peer=peer({2: 10, 3: 20, 4: 22, 5: 30})),  # 21
        B: LeafScores(peer=peer({2: 10, 3: 12, 4: 19})),  # 12
        C: LeafScores(peer=peer({2: 40, 3: 45})),  # 42.5
    }
    assert results(unit(1, scores), basis=Basis.MEDIAN, detail=True)[1].base == D("75.50")
    with pytest.raises(ResultsError, match="detail"):
        compute(cluster(unit(1, scores), basis=Basis.MEDIAN))
    lacking = {**scores, C: LeafScores(peer=peer({2: 40}, detail=False))}
    with pytest.raises(ResultsError, match="by_reviewer"):
        compute(cluster(unit(1, lacking), basis=Basis.MEDIAN, detail=True))


def test_blend_weighs_self_against_the_peer_mean():
    scores = {
        A: LeafScores(self_points=D(30), peer=peer({2: 20, 3: 22})),  # 0.3 × 30 + 0.7 × 21 = 23.7
        B: LeafScores(peer=peer({2: 10})),  # no self-score: 0.7 × 10 = 7
        C: LeafScores(self_points=D(50), peer=peer({2: 40, 3: 41})),  # 15 + 0.7 × 40.5 = 43.35
    }
    result = results(unit(1, scores), basis=Basis.BLEND, self_weight=D("0.3"))[1]
    assert [leaf(result, i).points for i in (A, B, C)] == [D("23.70"), D("7.00"), D("43.35")]
    assert result.base == D("74.05")


@pytest.mark.parametrize("basis", [Basis.PEER_MEAN, Basis.TRIMMED_MEAN, Basis.MEDIAN, Basis.BLEND])
def test_a_leaf_nobody_reviewed_takes_the_agreed_score_under_a_peer_basis(basis):
    scores = {
        A: LeafScores(self_points=D(30), final=D(25)),
        B: LeafScores(verified=D(12), peer=peer({})),
        C: LeafScores(self_points=D(40), peer=peer({2: 44})),
    }
    result = results(unit(1, scores), basis=basis, detail=True, self_weight=D(0))[1]
    assert [(leaf(result, i).points, leaf(result, i).source) for i in (A, B, C)] == [
        (D(25), "final"),
        (D(12), "verified"),
        (D(44), basis.value),
    ]


def test_bonus_is_capped_and_deductions_capped_where_the_table_says_so():
    over = finals(1, 30, 20, 40, bonus=12, deduction=7)  # points over the leaves' maxima (e.g. typed in error)
    capped = results(over)[1]
    assert (capped.bonus, capped.deduction, capped.raw_total) == (D(10), D(5), D(95))
    uncapped = results(over, capped=False)[1]
    assert (uncapped.bonus, uncapped.deduction, uncapped.raw_total) == (D(10), D(7), D(93))


# --- criteria that do not apply ----------------------------------------------------------------


def test_non_applicable_leaves_leave_points_and_maximum_and_the_total_is_scaled():
    scaled = finals(1, 27, 18, 50, bonus=2, not_applicable=frozenset({C}))  # C's 50 points do not count
    thirds = finals(2, 25, 20, 42, not_applicable=frozenset({B}))
    whole = finals(3, 25, 18, 42)
    found = results(scaled, thirds, whole)
    assert (found[1].base, found[1].applicable_maximum, found[1].compared_base) == (D(45), D(50), D(90))
    assert (found[1].raw_total, found[1].compared_total) == (D(47), D(92))  # bonus on top, not scaled
    assert (found[2].base, found[2].compared_base) == (D(67), D("83.75"))  # 67 × 100 / 80
    assert found[3].compared_total == found[3].raw_total == D(85)
    assert (
        not leaf(found[1], C).applicable
        and leaf(found[1], C).points == 0
        and leaf(found[1], C).source == "not_applicable"
    )
    assert [r.unit_id for r in compute(cluster(scaled, thirds, whole)).units] == [1, 3, 2]
    raw = results(scaled, thirds, whole, scale_mode=ScaleMode.RAW)
    assert [raw[i].compared_total for i in (1, 2, 3)] == [D(47), D(67), D(85)]


# --- non-participation ---------------------------------------------------------------------------


def test_a_unit_that_withheld_reviews_takes_the_least_favourable_value_of_each_leaf():
    scores = {
        A: LeafScores(self_points=D(30), final=D(28), peer=peer({2: 24, 3: 26})),  # lowest: the peer mean 25
        B: LeafScores(self_points=D(12), final=D(16), peer=peer({2: 18, 3: 20})),  # lowest: its self-score 12
        C: LeafScores(final=D(40), peer=peer({2: 45, 3: 47})),  # the agreed 40 is already the lowest
        DEDUCTION: LeafScores(self_points=D(0), final=D(1), peer=peer({2: 2, 3: 4})),  # highest deduction: 3
    }
    fair = results(unit(1, scores))[1]
    withheld = results(unit(1, scores, withheld_reviews=2))[1]
    assert (fair.base, fair.deduction, fair.non_participation) == (D(84), D(1), "")
    assert [leaf(withheld, i).points for i in (A, B, C, DEDUCTION)] == [D(25), D(12), D(40), D(3)]
    assert [leaf(withheld, i).source for i in (A, B, C, DEDUCTION)] == [
        "lowest_basis",
        "lowest_basis",
        "final",
        "lowest_basis",
    ]
    assert (withheld.raw_total, withheld.non_participation, withheld.withheld_reviews) == (D(74), "lowest_basis", 2)


def test_a_fixed_deduction_for_withheld_reviews_is_never_capped_away():
    at_cap = finals(1, 30, 20, 40, deduction=5, withheld_reviews=1)
    result = results(at_cap, non_participation=NonParticipation.FIXED_DEDUCTION, non_participation_points=D(4))[1]
    assert (result.deduction, result.penalty, result.raw_total, result.compared_total) == (D(5), D(4), D(81), D(81))
    assert result.non_participation == "fixed_deduction"


# --- ranking -------------------------------------------------------------------------------------


def test_ties_rank_1_2_2_4_shown_in_name_order_and_left_to_the_vote():
    ranked = compute(
        cluster(
            finals(1, 30, 20, 40),  # 90
            finals(2, 30, 20, 30, name="Đơn vị Bắc Sơn"),  # 80
            finals(3, 30, 20, 30, name="Đơn vị An Phú"),  # 80
            finals(4, 30, 20, 20),  # 70
        )
    )
    assert [(u.unit_id, u.rank, u.tie_unresolved) for u in ranked.units] == [
        (1, 1, False),
        (3, 2, True),
        (2, 2, True),
        (4, 4, False),
    ]
    assert ranked.leaders == (1,)


def test_a_shared_first_place_is_shown_as_such():
    ranked = compute(cluster(finals(1, 30, 20, 40), finals(2, 30, 20, 40), finals(3, 30, 20, 30)))
    assert ranked.leaders == (1, 2)
    assert [(u.rank, u.tie_unresolved) for u in ranked.units] == [(1, True), (1, True), (3, False)]


TIED = (
    finals(1, 30, 18, 30, bonus=2),  # 80: section I 78, no deduction, one leaf at its maximum
    finals(2, 30, 20, 30),  # 80: section I 80, no deduction, two leaves at their maximum
    finals(3, 29, 20, 32, deduction=1),  # 80: section I 81, one point deducted, one leaf at its maximum
)


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ((), {1: (1, True), 2: (1, True), 3: (1, True)}),
        ((TieRule(TieBreaker.SECTION, 1),), {3: (1, False), 2: (2, False), 1: (3, False)}),
        ((TieRule(TieBreaker.FEWER_DEDUCTIONS),), {1: (1, True), 2: (1, True), 3: (3, False)}),
        (
            (TieRule(TieBreaker.FEWER_DEDUCTIONS), TieRule(TieBreaker.MORE_AT_MAXIMUM)),
            {2: (1, False), 1: (2, False), 3: (3, False)},
        ),
        (
            (TieRule(TieBreaker.MORE_AT_MAXIMUM), TieRule(TieBreaker.SECTION, 2)),
            {2: (1, False), 1: (2, False), 3: (3, False)},
        ),
    ],
)
def test_tie_breakers_apply_in_their_order(rules, expected):
    found = results(*TIED, tie_rules=rules)
    assert {unit_id: (found[unit_id].rank, found[unit_id].tie_unresolved) for unit_id in expected} == expected


def test_an_ineligible_unit_keeps_its_rank_and_is_flagged():
    found = results(finals(1, 30, 20, 45, ineligible_reason="Đang bị thanh tra"), finals(2, 30, 20, 40))
    assert (found[1].rank, found[1].eligible, found[1].ineligible_reason) == (1, False, "Đang bị thanh tra")
    assert (found[2].rank, found[2].eligible) == (2, True)


# --- bands ---------------------------------------------------------------------------------------


def test_exactly_90_percent_with_every_criterion_at_85_percent_is_xuat_sac():
    exact = results(finals(1, "24.5", 18, "47.5"))[1]  # total 90, I.1 42.5 / 50 = exactly 85 %
    assert (exact.compared_total, exact.total_share, exact.band, exact.band_gap) == (
        D(90),
        D("0.9000"),
        "xuat_sac",
        None,
    )


def test_a_criterion_just_below_the_floor_keeps_a_unit_out_and_is_named():
    result = results(finals(1, "24.49", 18, "47.51"))[1]  # total 90, I.1 42.49 / 50 = 84.98 %
    assert result.band == "tot"
    gap = result.band_gap
    assert (gap.band, gap.total_short, gap.total_share) == ("xuat_sac", False, D("0.9000"))
    assert (gap.criterion_id, gap.criterion_code, gap.criterion_share, gap.min_floor_share) == (
        11,
        "I.1",
        D("0.8498"),
        D("0.85"),
    )


def test_a_total_just_below_the_threshold_keeps_a_unit_out():
    result = results(finals(1, 27, 18, "44.99"))[1]
    assert (result.band, result.total_share) == ("tot", D("0.8999"))
    assert (result.band_gap.total_short, result.band_gap.criterion_id) == (True, None)
    low = results(finals(1, 20, 10, 30))[1]  # 60
    assert (low.band, low.band_gap.band, low.band_gap.total_short) == (BELOW_BANDS, "hoan_thanh", True)


def test_the_floor_at_leaf_level_checks_every_scored_leaf():
    unit_ = finals(1, 30, 15, 45)  # I.1 45 / 50 = 90 %, but I.1.b 15 / 20 = 75 %
    assert results(unit_)[1].band == "xuat_sac"
    by_leaf = results(unit_, floor_level=FloorLevel.LEAF)[1]
    assert by_leaf.band == "hoan_thanh"  # 75 % ≥ 70 %, < 80 %
    assert (by_leaf.band_gap.band, by_leaf.band_gap.criterion_code, by_leaf.band_gap.criterion_share) == (
        "tot",
        "I.1.b",
        D("0.7500"),
    )


def test_a_criterion_that_does_not_apply_has_no_floor():
    result = results(finals(1, 27, 18, 0, not_applicable=frozenset({C})))[1]  # 45 / 50 → 90 on the scale
    assert (result.compared_total, result.band) == (D(90), "xuat_sac")


# --- explanations ----------------------------------------------------------------------------------


def test_explanations_compare_sections_with_the_cluster_and_show_the_spread():
    first = unit(
        1,
        {
            A: LeafScores(self_points=D(30), final=D(28), peer=peer({2: 10, 3: 20})),
            C: LeafScores(final=D(50), peer=peer({2: 40, 3: 50})),
            BONUS: LeafScores(final=D(2)),
        },
    )
    second = finals(2, 20, 10, 40, not_applicable=frozenset({BONUS}))
    found = results(first, second, detail=True)
    sections = {s.code: (s.points, s.maximum, s.average) for s in found[1].sections}
    assert sections == {"I": (D(78), D(100), D(74)), "II": (D(2), D(10), D(2)), "III": (D(0), D(5), D(0))}
    assert [s.code for s in found[2].sections] == ["I", "III"]
    spread = leaf(found[1], A).peer
    assert (spread.count, spread.mean, spread.low, spread.high, spread.std_dev) == (2, D(15), D(10), D(20), D(5))
    assert (leaf(found[1], A).self_points, leaf(found[1], A).points) == (D(30), D(28))
    reviewers = found[1].reviewers  # reviewer 2 gave 50 in all, reviewer 3 gave 70: population std dev 10
    assert (reviewers.count, reviewers.low, reviewers.high, reviewers.mean, reviewers.std_dev) == (
        2,
        D(50),
        D(70),
        D(60),
        D(10),
    )
    assert found[2].reviewers is None and leaf(found[2], A).peer is None


# --- flags ---------------------------------------------------------------------------------------


def reviewed(totals: dict[int, dict[int, int]], detail: bool = True, selves: dict | None = None) -> list[UnitInput]:
    """Units scored by peers on leaf I.2 only: {unit: {reviewer: points}}."""
    selves = selves or {}
    return [
        unit(u, {C: LeafScores(self_points=selves.get(u), final=D(40), peer=peer(given, detail))})
        for u, given in totals.items()
    ]


def flags_of(result) -> list[tuple]:
    return [(f.kind, f.unit_id, f.other_unit_id, {x.name: x.value for x in f.figures}) for f in result.flags]


def test_a_harsh_reviewer_is_flagged_with_its_bias():
    harsh = {1: {2: 40, 3: 40, 4: 30}, 2: {1: 40, 3: 40, 4: 30}, 3: {1: 40, 2: 40, 4: 30}, 4: {1: 40, 2: 40, 3: 40}}
    flags = flags_of(compute(cluster(*reviewed(harsh), detail=True)))
    # reviewer 4: 10 below the others on units 1–3; reviewer 1: +5, +5, 0 → 3.33, under the 5-point threshold
    assert flags == [("reviewer_harsh", 4, None, {"bias": D(-10), "units": 3, "threshold": D(5)})]


def test_a_mutual_high_scoring_pair_is_flagged():
    pair = {1: {2: 48, 3: 40, 4: 40}, 2: {1: 48, 3: 40, 4: 40}, 3: {1: 40, 2: 40, 4: 40}, 4: {1: 40, 2: 40, 3: 40}}
    flags = flags_of(compute(cluster(*reviewed(pair), detail=True)))
    assert flags == [("mutual_high", 1, 2, {"a_to_b": D(8), "b_to_a": D(8), "threshold": D(5)})]


def test_self_excess_is_flagged_with_or_without_detail_and_reviewer_flags_need_detail():
    pair = {1: {2: 48, 3: 40, 4: 40}, 2: {1: 48, 3: 40, 4: 40}, 3: {1: 40, 2: 40, 4: 40}, 4: {1: 40, 2: 40, 3: 40}}
    selves = {3: D(50), 4: D("50.25")}  # peers give both 40: unit 3 is 10 above (not above 10), unit 4 is 10.25
    plain = compute(cluster(*reviewed(pair, detail=False, selves=selves)))
    figures = {"self_total": D("50.25"), "peer_total": D(40), "excess": D("10.25"), "threshold": D(10)}
    assert flags_of(plain) == [("self_excess", 4, None, figures)]
    assert (plain.detail, plain.stability) == (False, False)
    assert all(u.reviewers is None and u.stability is None for u in plain.units)
    detailed = compute(cluster(*reviewed(pair, selves=selves), detail=True))
    assert [f[0] for f in flags_of(detailed)] == ["mutual_high", "self_excess"]


# --- rank stability ------------------------------------------------------------------------------


def test_places_decided_by_one_reviewer_are_marked():
    given = {1: {2: 40, 3: 30}, 2: {1: 34, 3: 34}, 3: {1: 20, 2: 20}}  # means 35, 34, 20
    ranked = compute(cluster(*reviewed(given), basis=Basis.PEER_MEAN, detail=True))
    # without reviewer 2, unit 1 has 30 and falls behind unit 2's 34
    assert ranked.stability
    assert [
        (u.unit_id, u.rank, u.stability.best, u.stability.worst, u.stability.decided_by_one_reviewer)
        for u in ranked.units
    ] == [
        (1, 1, 1, 2, True),
        (2, 2, 1, 2, True),
        (3, 3, 3, 3, False),
    ]
    agreed = compute(cluster(*reviewed(given), detail=True))
    assert not agreed.stability and all(u.stability is None for u in agreed.units)


# --- the result as data ----------------------------------------------------------------------------


def test_the_result_is_plain_ordered_json():
    data = cluster(finals(2, 30, 20, "40.5"), finals(1, 25, 20, 40), basis=Basis.AGREED)
    as_dict = compute(data).to_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert list(as_dict)[:4] == ["cluster_id", "year_id", "criteria_set_id", "settings"]
    assert as_dict["settings"]["basis"] == "agreed" and as_dict["settings"]["bands"][0]["min_total_share"] == "0.90"
    assert [u["unit_id"] for u in as_dict["units"]] == [2, 1]
    assert as_dict["units"][0]["compared_total"] == "90.50" and as_dict["leaders"] == [2]
    reordered = ClusterInput(data.cluster_id, data.year_id, data.table, data.units[::-1], data.settings)
    assert compute(reordered).to_dict() == as_dict


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"trim_min_reviewers": 2}, "trim_min_reviewers"),
        ({"self_weight": D("1.5")}, "self_weight"),
        ({"non_participation_points": D(-1)}, "non_participation_points"),
        ({"tie_rules": (TieRule(TieBreaker.SECTION, 99),)}, "no such section"),
        ({"tie_rules": (TieRule(TieBreaker.SECTION),)}, "no such section"),
    ],
)
def test_settings_the_engine_cannot_apply_are_refused(settings, message):
    with pytest.raises(ResultsError, match=message):
        compute(cluster(finals(1, 30, 20, 40), **settings))
