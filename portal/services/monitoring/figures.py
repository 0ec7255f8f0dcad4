"""The numbers behind the dashboard's charts: clusters per stage, the spread of scores per kind of cluster."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from portal.models.org import ClusterKind
from portal.services.monitoring.board import Row
from portal.services.monitoring.stages import Stage

# share of the declared total: lower bound (inclusive) → label, highest first
BUCKETS = ((Decimal("0.9"), "≥ 90 %"), (Decimal("0.8"), "80–90 %"), (Decimal("0.7"), "70–80 %"))
BUCKETS += ((Decimal("0.5"), "50–70 %"), (Decimal("-1000"), "< 50 %"))


def stage_counts(rows: list[Row]) -> list[tuple[Stage, int]]:
    """How many clusters are at each stage, every stage listed in the year's order."""
    counts = Counter(row.stage for row in rows)
    return [(stage, counts.get(stage, 0)) for stage in Stage]


def distribution(rows: list[Row]) -> dict[str, list[tuple[str, int]]]:
    """Per kind of cluster (only kinds with scores): how many units score in each band of the declared total."""
    found = {}
    for kind in ClusterKind:
        counts = Counter()
        for row in rows:
            standing = row.standing
            if row.cluster.kind != kind or standing is None or not standing.scored or not standing.target_total:
                continue
            for unit in standing.units:
                share = unit.score / standing.target_total
                counts[next(label for low, label in BUCKETS if share >= low)] += 1
        if counts:
            found[kind] = [(label, counts.get(label, 0)) for _low, label in BUCKETS]
    return found
