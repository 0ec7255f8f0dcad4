"""Timings of the results engine on a province-scale cluster built in memory (no database).

    .venv/bin/python -m bench.results_engine                  # 25 units × 60 leaves, all-pairs peer review
    .venv/bin/python -m bench.results_engine --units 40 --leaves 120 --repeat 5

One cluster: U units, each reviewed by every other unit (U − 1 reviewers), a table of L leaves
(L − 6 scored under four sections, 3 bonus, 3 deduction), every stage scored with seeded random
points in steps of 0.25; one unit with two leaves "không áp dụng", one that withheld its reviews.
`compute()` runs under every basis, without detail (the aggregates the read gives by default: no
PeerView.by_reviewer) and with detail (each reviewer's points: reviewer spread, bias and mutual
flags, rank stability). Prints the best of --repeat runs per case, in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import replace
from decimal import Decimal

from portal import vntext
from portal.services.results.engine import compute
from portal.services.results.inputs import (
    Basis,
    ClusterInput,
    Group,
    Leaf,
    LeafScores,
    PeerView,
    Section,
    Settings,
    Table,
    UnitInput,
)

STEP = Decimal("0.25")
KINDS = (("I", "scored"), ("II", "scored"), ("III", "scored"), ("IV", "scored"), ("V", "bonus"), ("VI", "deduction"))


def table(leaves: int) -> Table:
    scored = leaves - 6
    counts = [scored // 4 + (n < scored % 4) for n in range(4)] + [3, 3]
    sections, groups, found = [], [], []
    next_id = 1000
    for (code, kind), count in zip(KINDS, counts, strict=True):
        section_id = next_id
        members = []
        for n in range(count):
            next_id += 1
            group_id = section_id if kind != "scored" else section_id + 500 + n // 3
            members.append(Leaf(next_id, section_id, group_id, kind, Decimal(5), f"{code}.{n + 1}"))
        found += members
        maximum = sum((leaf.max_points for leaf in members), Decimal(0))
        sections.append(Section(section_id, code, f"Mục {code}", kind, maximum))
        for group_id in sorted({leaf.group_id for leaf in members}):
            group_max = sum((leaf.max_points for leaf in members if leaf.group_id == group_id), Decimal(0))
            groups.append(Group(group_id, section_id, f"{code}.{group_id}", f"Tiêu chí {group_id}", group_max))
        next_id += 1
    return Table(1, Decimal(sum(c for c in counts[:4]) * 5), True, tuple(sections), tuple(groups), tuple(found))


def points(rng: random.Random, leaf: Leaf) -> Decimal:
    steps = int(leaf.max_points / STEP)
    return STEP * rng.randint(steps // 2, steps) if leaf.kind != "deduction" else STEP * rng.randint(0, 4)


def peer_view(given: dict[int, Decimal], detail: bool) -> PeerView:
    values = given.values()
    squares = sum((p * p for p in values), Decimal(0))
    return PeerView(len(given), sum(values, Decimal(0)), min(values), max(values), squares, given if detail else None)


def cluster(units: int, leaves: int, seed: int, detail: bool) -> ClusterInput:
    rng = random.Random(seed)
    layout = table(leaves)
    found = []
    for unit_id in range(1, units + 1):
        scores = {}
        for leaf in layout.leaves:
            given = {r: points(rng, leaf) for r in range(1, units + 1) if r != unit_id}
            own = points(rng, leaf)
            verified = own - STEP if own else own
            scores[leaf.criterion_id] = LeafScores(own, verified, None, None, peer_view(given, detail))
        name = f"Đơn vị {unit_id:02d}"
        not_applicable = frozenset(leaf.criterion_id for leaf in layout.leaves[:2]) if unit_id == 2 else frozenset()
        found.append(
            UnitInput(unit_id, name, vntext.sort_key(name), scores, not_applicable, withheld_reviews=int(unit_id == 3))
        )
    return ClusterInput(1, 1, layout, tuple(found), Settings(), detail=detail)


def best_ms(data: ClusterInput, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        compute(data)
        timings.append(time.perf_counter() - start)
    return min(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=25)
    parser.add_argument("--leaves", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=15)
    options = parser.parse_args()
    print(f"{options.units} units × {options.leaves} leaves × {options.units - 1} reviewers; best of {options.repeat}")
    print(f"{'basis':<14}{'no detail (ms)':>16}{'detail (ms)':>14}")
    plain = cluster(options.units, options.leaves, options.seed, detail=False)
    detailed = cluster(options.units, options.leaves, options.seed, detail=True)
    for basis in Basis:
        settings = replace(plain.settings, basis=basis)
        without = "—" if basis is Basis.MEDIAN else f"{best_ms(replace(plain, settings=settings), options.repeat):.1f}"
        with_detail = best_ms(replace(detailed, settings=settings), options.repeat)
        print(f"{basis.value:<14}{without:>16}{with_detail:>14.1f}")


if __name__ == "__main__":
    main()
