"""The scoring methods: documented rules, tested on examples and on properties."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.services.criteria import methods
from portal.services.criteria.methods import ScoreError


def test_quantitative_rule_on_an_example():
    results = {
        "below": (D(80), D(100)),  # r = 0.8 → ½·10·0.8 = 4
        "at": (D(50), D(50)),  # r = 1 → 5
        "best": (D(150), D(100)),  # r = 1.5, the best → 10
        "over": (D(120), D(100)),  # r = 1.2 → 5 + 5·0.2/0.5 = 7
        "no_target": (D(30), None),  # 10·30/60 = 5
        "no_target_best": (D(60), D(0)),  # 10·60/60 = 10, but not a leader
        "no_result": (None, D(100)),  # 0
    }
    points = methods.quantitative(results, D(10))
    assert points == {
        "below": D("4.00"),
        "at": D("5.00"),
        "best": D("10.00"),
        "over": D("7.00"),
        "no_target": D("5.00"),
        "no_target_best": D("10.00"),
        "no_result": D("0.00"),
    }
    assert methods.leaders(results) == {"best"}


def test_quantitative_ties_all_lead():
    results = {"a": (D(12), D(10)), "b": (D(24), D(20)), "c": (D(11), D(10))}
    points = methods.quantitative(results, D(8))
    assert points["a"] == points["b"] == D("8.00")
    assert methods.leaders(results) == {"a", "b"}


def test_quantitative_rounds_half_up():
    # ½·3·(1/3) = 0.5 exactly; ½·1·(1/8) = 0.0625 → 0.06; ½·1·(5/8)=0.3125 → 0.31; ½·0.25·(0.3) = 0.0375 → 0.04
    assert methods.quantitative({"x": (D(1), D(8))}, D(1))["x"] == D("0.06")
    assert methods.quantitative({"x": (D(3), D(10))}, D("0.25"))["x"] == D("0.04")


@given(
    st.dictionaries(
        st.integers(0, 30),
        st.tuples(
            st.one_of(st.none(), st.decimals(0, 10_000, places=2)),
            st.one_of(st.none(), st.decimals(0, 10_000, places=2)),
        ),
        min_size=1,
        max_size=25,
    ),
    st.decimals("0.25", 100, places=2),
)
def test_quantitative_properties(results, max_points):
    points = methods.quantitative(results, max_points)
    assert set(points) == set(results)
    for value in points.values():
        assert D(0) <= value <= max_points
    for key in methods.leaders(results):
        assert points[key] == methods.round_points(max_points)
    # a higher ratio never gets fewer points (among units with a target and a result)
    targeted = sorted((a / t, points[k]) for k, (a, t) in results.items() if t and t > 0 and a is not None)
    for (r1, p1), (r2, p2) in zip(targeted, targeted[1:], strict=False):
        if r1 < r2:
            assert p1 <= p2


@pytest.mark.parametrize(
    "points, error",
    [
        (D("-1"), "không được âm"),
        (D("10.5"), r"vượt quá điểm chuẩn \(10\)"),
        (D("2.3"), "bội số của 0,25"),
    ],
)
def test_direct_refuses(points, error):
    with pytest.raises(ScoreError, match=error):
        methods.direct(points, D(10), D("0.25"))


def test_direct_accepts_the_step():
    assert methods.direct(D("7.75"), D(10), D("0.25")) == D("7.75")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("12,5", D("12.5")),
        (" 3.25 ", D("3.25")),
        ("", None),
        (None, None),
        ("7", D(7)),
        ("1.000", D(1000)),
        ("1.234,5", D("1234.5")),
        ("12.345.678", D(12345678)),
        ("0.250", D("0.25")),
        ("-2,5", D("-2.5")),
    ],
)
def test_parse_decimal(text, expected):
    assert methods.parse_decimal(text) == expected


@pytest.mark.parametrize("text", ["NaN", "inf", "mười", "1,2,3", "1e400000000000"])
def test_parse_decimal_refuses(text):
    with pytest.raises(ScoreError):
        methods.parse_decimal(text)


def test_pass_fail_and_per_occurrence():
    assert methods.pass_fail(True, D(5)) == D("5.00") and methods.pass_fail(False, D(5)) == D("0.00")
    assert methods.per_occurrence(3, D("0.5"), D(2)) == D("1.50")
    assert methods.per_occurrence(7, D("0.5"), D(2)) == D("2.00")  # clamped
    assert methods.per_occurrence(7, D("0.5"), None) == D("3.50")
    with pytest.raises(ScoreError):
        methods.per_occurrence(-1, D(1), D(2))


def test_capped_holds_bonus_to_its_cap_and_deduction_only_when_the_table_says_so():
    # under the caps: nothing changes
    assert methods.capped(D("1.50"), D("2.00"), D(3), D(5), True) == (D("1.50"), D("2.00"))
    # bonus above its cap is cut, whatever the table says about deductions
    assert methods.capped(D("4.25"), D(0), D(3), D(5), False) == (D(3), D(0))
    # deductions above their cap: cut only for a capped table
    assert methods.capped(D(0), D("7.50"), D(3), D(5), True) == (D(0), D(5))
    assert methods.capped(D(0), D("7.50"), D(3), D(5), False) == (D(0), D("7.50"))
    # a table without bonus or deduction sections has caps of zero
    assert methods.capped(D("2.00"), D("1.00"), D(0), D(0), True) == (D(0), D(0))


@given(
    bonus=st.decimals(min_value=0, max_value=100, places=2),
    deduction=st.decimals(min_value=0, max_value=100, places=2),
    bonus_cap=st.decimals(min_value=0, max_value=100, places=2),
    deduction_cap=st.decimals(min_value=0, max_value=100, places=2),
    deduction_capped=st.booleans(),
)
def test_capped_properties(bonus, deduction, bonus_cap, deduction_cap, deduction_capped):
    capped_bonus, capped_deduction = methods.capped(bonus, deduction, bonus_cap, deduction_cap, deduction_capped)
    assert capped_bonus == min(bonus, bonus_cap)
    assert capped_deduction <= deduction
    assert capped_deduction == (min(deduction, deduction_cap) if deduction_capped else deduction)
