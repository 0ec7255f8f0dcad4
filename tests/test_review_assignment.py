"""Who reviews whom: properties of the assignment algorithms, over random clusters (hypothesis)."""

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.services import DomainError
from portal.services.scoring import review_assignment as ra


@st.composite
def units_and_k(draw):
    """Distinct unit ids (as a cluster's members, in any order), a valid k and a seed."""
    ids = draw(st.lists(st.integers(1, 10_000), min_size=2, max_size=40, unique=True))
    k = draw(st.integers(1, len(ids) - 1))
    return ids, k, draw(st.integers(0, 2**32))


def _reciprocal(pairs) -> int:
    return sum(1 for a, b in pairs if a < b and (b, a) in pairs)


@settings(max_examples=300, deadline=None)
@given(units_and_k())
def test_k_each_is_balanced_without_self_and_minimal_in_reciprocal_pairs(case):
    ids, k, seed = case
    n = len(ids)
    pairs = ra.k_each(ids, k, seed)
    assert all(a != b for a, b in pairs)
    assert {a for a, _ in pairs} | {b for _, b in pairs} <= set(ids)
    assert Counter(b for _, b in pairs) == dict.fromkeys(ids, k)  # each subject reviewed exactly k times
    assert Counter(a for a, _ in pairs) == dict.fromkeys(ids, k)  # each reviewer reviews exactly k
    if n >= 2 * k + 1:
        assert _reciprocal(pairs) == 0
    assert _reciprocal(pairs) == ra.min_reciprocal(n, k)  # unavoidable ones only: nk − n(n−1)/2
    assert ra.min_reciprocal(n, k) >= n * k - n * (n - 1) // 2


@settings(max_examples=100, deadline=None)
@given(units_and_k(), st.randoms(use_true_random=False))
def test_same_seed_gives_the_same_plan_whatever_the_order(case, rnd):
    ids, k, seed = case
    shuffled = list(ids)
    rnd.shuffle(shuffled)
    assert ra.k_each(ids, k, seed) == ra.k_each(shuffled, k, seed)


def test_seeds_vary_the_plan():
    ids = list(range(1, 13))
    assert len({frozenset(ra.k_each(ids, 3, seed)) for seed in range(10)}) > 1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 10_000), min_size=2, max_size=40, unique=True))
def test_all_pairs(ids):
    n = len(ids)
    pairs = ra.all_pairs(ids)
    assert len(pairs) == n * (n - 1)
    assert all(a != b for a, b in pairs)
    assert ra.check(pairs, ids).unreviewed == [] and ra.check(pairs, ids).idle == []


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_team_reviews_everyone(data):
    ids = data.draw(st.lists(st.integers(1, 10_000), min_size=2, max_size=40, unique=True))
    members = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=len(ids), unique=True))
    pairs = ra.team(ids, members)
    assert all(a != b for a, b in pairs)
    assert {a for a, _ in pairs} <= set(members)
    for unit in set(ids) - set(members):  # every non-team unit is reviewed by every team member
        assert {a for a, b in pairs if b == unit} == set(members)
    for unit in members:  # a team member is reviewed by the other members
        assert {a for a, b in pairs if b == unit} == set(members) - {unit}
    warnings = ra.check(pairs, ids, everyone_reviews=False)
    assert warnings.idle == []
    assert warnings.unreviewed == (list(members) if len(members) == 1 else [])


@pytest.mark.parametrize("k", [0, -1, 5, 6])
def test_k_out_of_range(k):
    with pytest.raises(DomainError, match="từ 1 đến n−1") as error:
        ra.k_each([1, 2, 3, 4, 5], k)
    assert error.value.field == "k"


def test_k_needs_two_units():
    with pytest.raises(DomainError, match="từ 1 đến n−1"):
        ra.k_each([1], 1)


def test_team_must_be_non_empty_members():
    with pytest.raises(DomainError, match="ít nhất một") as error:
        ra.team([1, 2, 3], [])
    assert error.value.field == "team"
    with pytest.raises(DomainError, match="thành viên"):
        ra.team([1, 2, 3], [4])


def test_plan_by_mode():
    assert ra.plan("all_pairs", [1, 2, 3]) == ra.all_pairs([1, 2, 3])
    assert ra.plan("k_each", [1, 2, 3], k=1, seed=7) == ra.k_each([1, 2, 3], 1, 7)
    assert ra.plan("team", [1, 2, 3], team_ids=[2]) == {(2, 1), (2, 3)}
    with pytest.raises(DomainError) as error:
        ra.plan("k_each", [1, 2, 3])
    assert error.value.field == "k"
    with pytest.raises(DomainError) as error:
        ra.plan("lottery", [1, 2, 3])
    assert error.value.field == "mode"


def test_check_lists_unreviewed_idle_and_reciprocal():
    warnings = ra.check({(1, 2), (2, 1), (1, 3)}, [1, 2, 3, 4])
    assert warnings.unreviewed == [4]
    assert warnings.idle == [3, 4]
    assert warnings.reciprocal == [(1, 2)]
    assert warnings and not ra.check(ra.k_each([1, 2, 3, 4, 5], 2), [1, 2, 3, 4, 5])
