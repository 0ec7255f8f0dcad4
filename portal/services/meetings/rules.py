"""The vote's rules as plain arithmetic: quorum, threshold, and who is taken under a quota.

Whole numbers and `Fraction`s only, never floats: "more than half" of 4 is 3, two thirds of 9 is 6.
The defaults (domain.md, "Deliberation"): a quorum of two thirds of the members present; a nominee
needs more than 50 % of the ballots of the members present. The province may ask two thirds instead,
and count over all members instead of those present (`Rules`).

`select` takes candidates in order of votes, then of rank in the approved table, up to the quota;
only candidates that reach the threshold are taken; candidates level on both at the quota's boundary
are undecided and go to a run-off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from portal.models.meetings import Outcome, QuorumRule, Threshold, ThresholdBase

SHARES = {
    QuorumRule.TWO_THIRDS: (Fraction(2, 3), False),  # (share, strictly more than)
    QuorumRule.MORE_THAN_HALF: (Fraction(1, 2), True),
    Threshold.TWO_THIRDS: (Fraction(2, 3), False),
    Threshold.MORE_THAN_HALF: (Fraction(1, 2), True),
}


@dataclass(frozen=True)
class Rules:
    quorum: str = QuorumRule.TWO_THIRDS
    threshold: str = Threshold.MORE_THAN_HALF
    base: str = ThresholdBase.PRESENT


DEFAULT_RULES = Rules()


def reaches(count: int, total: int, rule: str) -> bool:
    """Does `count` out of `total` reach the rule's share (strictly above it for "more than")?"""
    if total <= 0:
        return False
    share, strictly = SHARES[rule]
    ratio = Fraction(count, total)
    return ratio > share if strictly else ratio >= share


def least(total: int, rule: str) -> int:
    """The smallest count out of `total` that reaches the rule's share (total + 1 when none can)."""
    return next((n for n in range(total + 1) if reaches(n, total, rule)), total + 1)


def quorum_met(members: int, present: int, rule: str = QuorumRule.TWO_THIRDS) -> bool:
    """Are enough members present for the meeting to vote?"""
    return 0 <= present <= members and reaches(present, members, rule)


def denominator(present: int, members: int, rules: Rules = DEFAULT_RULES) -> int:
    """What a nominee's votes are counted against: the members present, or all members."""
    return members if rules.base == ThresholdBase.MEMBERS else present


def elected(votes: int, present: int, members: int, rules: Rules = DEFAULT_RULES) -> bool:
    """Do these votes reach the threshold (the quorum aside)?"""
    return reaches(votes, denominator(present, members, rules), rules.threshold)


@dataclass(frozen=True)
class Candidate:
    unit_id: int
    votes: int
    rank: int  # in the approved table


@dataclass(frozen=True)
class Decision:
    unit_id: int
    votes: int
    denominator: int
    outcome: str  # an Outcome
    rank: int


def select(
    candidates: Iterable[Candidate], quota: int, present: int, members: int, rules: Rules = DEFAULT_RULES
) -> list[Decision]:
    """Each candidate's outcome, in order of votes then rank (see the module's docstring)."""
    base = denominator(present, members, rules)
    ordered = sorted(candidates, key=lambda c: (-c.votes, c.rank, c.unit_id))
    qualified = [c for c in ordered if elected(c.votes, present, members, rules)]
    outcomes = {c.unit_id: Outcome.NOT_ELECTED for c in ordered}
    if len(qualified) <= quota:
        outcomes.update({c.unit_id: Outcome.ELECTED for c in qualified})
    else:
        outcomes.update({c.unit_id: outcome for c, outcome in _over(qualified, quota)})
    return [Decision(c.unit_id, c.votes, base, outcomes[c.unit_id], c.rank) for c in ordered]


def _over(qualified: list[Candidate], quota: int) -> list[tuple[Candidate, str]]:
    """More qualified candidates than seats: the first `quota` are taken, unless the boundary is level."""
    if not quota:
        return [(c, Outcome.OVER_QUOTA) for c in qualified]
    boundary = _key(qualified[quota - 1])
    level = _key(qualified[quota]) == boundary
    result = []
    for c in qualified:
        key = _key(c)
        if level and key == boundary:
            result.append((c, Outcome.UNDECIDED))
        elif key <= boundary:
            result.append((c, Outcome.ELECTED))
        else:
            result.append((c, Outcome.OVER_QUOTA))
    return result


def _key(candidate: Candidate) -> tuple[int, int]:
    return (-candidate.votes, candidate.rank)
