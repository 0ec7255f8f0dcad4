"""Who reviews whom in a peer round (chấm chéo): pure, deterministic algorithms on unit ids.

A plan is a set of (reviewer, subject) pairs, never (u, u). Three ways to build one:

- `all_pairs`: every member reviews every other member (n·(n−1) reviews);
- `k_each`: every unit is reviewed by exactly k others and reviews exactly k, from a
  circulant design on a seeded shuffle: the unit at position i reviews positions
  i+1 … i+k (mod n). A pair is reciprocal (A→B and B→A) only when two offsets add up
  to n, which needs n ≤ 2k; then the circulant has n·(2k−n+1)/2 reciprocal pairs, the
  fewest any plan with n·k reviews can have (n·k reviews over n·(n−1)/2 pairs);
- `team`: a cross-check team (tổ kiểm tra chéo) reviews everyone; a team member is
  reviewed by the other members, so a team of one leaves its own unit unreviewed.

`check` lists what the head should see before opening the round.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from portal.models.base import N_
from portal.models.scoring import AssignmentMode
from portal.services import DomainError

Pair = tuple[int, int]  # (reviewer unit id, subject unit id)


def _distinct(units: Iterable[int]) -> list[int]:
    return sorted(set(units))


def all_pairs(units: Iterable[int]) -> set[Pair]:
    """Every ordered pair of different units."""
    ids = _distinct(units)
    return {(a, b) for a in ids for b in ids if a != b}


def k_each(units: Iterable[int], k: int, seed: int = 0) -> set[Pair]:
    """Each unit reviewed by exactly k others and reviewing exactly k; reciprocal pairs only when n < 2k+1."""
    ids = _distinct(units)
    n = len(ids)
    if n < 2 or not isinstance(k, int) or not 1 <= k <= n - 1:
        raise DomainError(N_("Số đơn vị chấm mỗi đơn vị phải từ 1 đến n−1"), "k")
    random.Random(seed).shuffle(ids)  # sorted first, so the same units and seed give the same plan
    return {(ids[i], ids[(i + step) % n]) for i in range(n) for step in range(1, k + 1)}


def min_reciprocal(n: int, k: int) -> int:
    """The fewest reciprocal pairs a plan where each of n units reviews k others can have."""
    return max(0, n * (2 * k - n + 1) // 2)


def team(units: Iterable[int], team_ids: Iterable[int]) -> set[Pair]:
    """Each team member reviews every unit except itself."""
    ids = _distinct(units)
    members = _distinct(team_ids)
    if not members:
        raise DomainError(N_("Chọn ít nhất một đơn vị vào tổ kiểm tra chéo."), "team")
    if set(members) - set(ids):
        raise DomainError(N_("Tổ kiểm tra chéo chỉ gồm các đơn vị thành viên của cụm, khối năm này."), "team")
    return {(reviewer, subject) for reviewer in members for subject in ids if subject != reviewer}


def plan(mode: str, units: Iterable[int], *, k: int | None = None, team_ids: Iterable[int] = (), seed: int = 0):
    """The plan for an assignment mode (models.scoring.AssignmentMode)."""
    if mode == AssignmentMode.ALL_PAIRS:
        return all_pairs(units)
    if mode == AssignmentMode.K_EACH:
        if k is None:
            raise DomainError(N_("Nhập số đơn vị chấm mỗi đơn vị (k)."), "k")
        return k_each(units, k, seed)
    if mode == AssignmentMode.TEAM:
        return team(units, team_ids)
    raise DomainError(N_("Chọn cách phân công chấm chéo."), "mode")


@dataclass
class Warnings:
    unreviewed: list[int] = field(default_factory=list)  # units nobody reviews
    idle: list[int] = field(default_factory=list)  # units that review nobody (when everyone should)
    reciprocal: list[Pair] = field(default_factory=list)  # (a, b) with a < b, reviewing each other

    def __bool__(self) -> bool:
        return bool(self.unreviewed or self.idle or self.reciprocal)


def check(assignments: Iterable[Pair], units: Iterable[int], *, everyone_reviews: bool = True) -> Warnings:
    """What to warn about before opening: unreviewed units, idle reviewers, reciprocal pairs.

    In a team round only the team reviews, so idle units are expected: pass everyone_reviews=False.
    """
    pairs = set(assignments)
    ids = _distinct(units)
    subjects = {s for _, s in pairs}
    reviewers = {r for r, _ in pairs}
    return Warnings(
        unreviewed=[u for u in ids if u not in subjects],
        idle=[u for u in ids if u not in reviewers] if everyone_reviews else [],
        reciprocal=sorted((a, b) for a, b in pairs if a < b and (b, a) in pairs),
    )
