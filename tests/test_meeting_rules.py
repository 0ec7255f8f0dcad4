"""The vote's arithmetic (services/meetings/rules.py): quorum, threshold and selection under a quota.

Boundaries: exactly half, exactly two thirds, 2k+1 members; quota overflow; a tie at the quota;
the denominator of each figure. Pure functions: no database.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.models.meetings import Outcome, QuorumRule, Threshold, ThresholdBase
from portal.services.meetings.rules import Candidate, Rules, elected, least, quorum_met, reaches, select

TWO_THIRDS_OF_ALL = Rules(threshold=Threshold.TWO_THIRDS, base=ThresholdBase.MEMBERS)


@pytest.mark.parametrize(
    "members, present, met",
    [
        (9, 6, True),
        (9, 5, False),
        (6, 4, True),
        (6, 3, False),
        (3, 2, True),
        (3, 1, False),
        (7, 5, True),
        (7, 4, False),
    ],
)
def test_quorum_two_thirds_at_the_boundary(members, present, met):
    assert quorum_met(members, present, QuorumRule.TWO_THIRDS) is met


@pytest.mark.parametrize("members, present, met", [(8, 4, False), (8, 5, True), (7, 4, True), (7, 3, False)])
def test_quorum_more_than_half_at_the_boundary(members, present, met):
    assert quorum_met(members, present, QuorumRule.MORE_THAN_HALF) is met


def test_no_quorum_without_members_or_with_more_present_than_members():
    assert not quorum_met(0, 0)
    assert not quorum_met(3, 4)


@pytest.mark.parametrize("present, votes, ok", [(8, 4, False), (8, 5, True), (6, 3, False), (6, 4, True)])
def test_exactly_half_of_those_present_is_not_more_than_half(present, votes, ok):
    assert elected(votes, present, present + 2) is ok


@pytest.mark.parametrize("k", [1, 2, 3, 10, 33])
def test_with_2k_plus_1_present_k_plus_1_votes_are_needed(k):
    present = 2 * k + 1
    assert not elected(k, present, present)
    assert elected(k + 1, present, present)
    assert least(present, Threshold.MORE_THAN_HALF) == k + 1


@pytest.mark.parametrize("present, votes, ok", [(9, 6, True), (9, 5, False), (6, 4, True), (7, 5, True), (7, 4, False)])
def test_two_thirds_threshold_counts_exactly_two_thirds(present, votes, ok):
    assert elected(votes, present, present, Rules(threshold=Threshold.TWO_THIRDS)) is ok


def test_the_threshold_over_all_members_uses_the_members_as_denominator():
    # 9 members, 6 present: 4 votes are more than half of those present, not two thirds of all members
    assert elected(4, 6, 9)
    assert not elected(4, 6, 9, Rules(base=ThresholdBase.MEMBERS))
    assert not elected(5, 6, 9, TWO_THIRDS_OF_ALL)
    assert elected(6, 6, 9, TWO_THIRDS_OF_ALL)


def _outcomes(decisions):
    return {d.unit_id: d.outcome for d in decisions}


def test_candidates_are_taken_by_votes_then_rank_up_to_the_quota():
    ballot = [Candidate(1, 5, 3), Candidate(2, 6, 2), Candidate(3, 5, 1), Candidate(4, 2, 4)]
    decisions = select(ballot, 2, present=7, members=8)
    assert [d.unit_id for d in decisions] == [2, 3, 1, 4]
    assert _outcomes(decisions) == {
        2: Outcome.ELECTED,
        3: Outcome.ELECTED,  # level with 1 on votes, ranked higher
        1: Outcome.OVER_QUOTA,
        4: Outcome.NOT_ELECTED,
    }
    assert {d.denominator for d in decisions} == {7}


def test_a_tie_at_the_quota_boundary_is_undecided():
    ballot = [Candidate(1, 7, 1), Candidate(2, 5, 2), Candidate(3, 5, 2), Candidate(4, 1, 4)]
    assert _outcomes(select(ballot, 2, present=7, members=7)) == {
        1: Outcome.ELECTED,
        2: Outcome.UNDECIDED,
        3: Outcome.UNDECIDED,
        4: Outcome.NOT_ELECTED,
    }


def test_a_tie_inside_the_quota_elects_both():
    ballot = [Candidate(1, 5, 2), Candidate(2, 5, 2), Candidate(3, 4, 3)]
    assert _outcomes(select(ballot, 2, present=7, members=7)) == {
        1: Outcome.ELECTED,
        2: Outcome.ELECTED,
        3: Outcome.OVER_QUOTA,
    }


def test_quota_overflow_and_a_quota_of_nothing():
    ballot = [Candidate(i, 6, i) for i in range(1, 5)]
    assert list(_outcomes(select(ballot, 1, present=6, members=6)).values()).count(Outcome.ELECTED) == 1
    assert set(_outcomes(select(ballot, 0, present=6, members=6)).values()) == {Outcome.OVER_QUOTA}


def test_fewer_qualified_than_seats_elects_only_those_over_the_threshold():
    ballot = [Candidate(1, 4, 1), Candidate(2, 3, 2)]  # 3 of 6 is exactly half
    assert _outcomes(select(ballot, 2, present=6, members=6)) == {1: Outcome.ELECTED, 2: Outcome.NOT_ELECTED}


ballots = st.lists(st.tuples(st.integers(0, 9), st.integers(1, 5)), min_size=1, max_size=8).map(
    lambda rows: [Candidate(i, votes, rank) for i, (votes, rank) in enumerate(rows, 1)]
)


@given(ballots, st.integers(0, 4), st.integers(1, 9), st.sampled_from(list(Threshold)))
def test_selection_never_exceeds_the_quota_nor_elects_below_the_threshold(ballot, quota, present, threshold):
    rules = Rules(threshold=threshold)
    decisions = select(ballot, quota, present, present, rules)
    outcomes = _outcomes(decisions)
    taken = [d for d in decisions if d.outcome == Outcome.ELECTED]
    undecided = [d for d in decisions if d.outcome == Outcome.UNDECIDED]
    assert len(taken) <= quota
    assert len(taken) + len(undecided) >= min(
        quota, sum(1 for c in ballot if elected(c.votes, present, present, rules))
    )
    for d in taken + undecided:
        assert reaches(d.votes, present, threshold)
        assert Fraction(d.votes, d.denominator) > 0
    if undecided:  # a tie across the boundary: more level candidates than seats left
        assert len(undecided) > quota - len(taken)
        assert len({(d.votes, d.rank) for d in undecided}) == 1
    assert set(outcomes) == {c.unit_id for c in ballot}
