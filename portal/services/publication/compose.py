"""The numbers of a snapshot, computed from its frozen data alone, and their recompute.

`compose(frozen)` adds `computed` (the engine over the stored input, and over the input with the
meeting's changes: `ClusterResult.to_dict()` of each) and `table` (the approved ranking: the engine's
rank with the meeting's tie decisions, compared total and band per unit). `recompute(content)` does the
same from a stored snapshot and lists every number that differs from the stored one (empty: "khớp").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from decimal import Decimal

from portal.services.publication import codec
from portal.services.results import engine
from portal.services.results.inputs import ClusterInput, LeafScores
from portal.services.results.output import ClusterResult

DIFFERENCES_SHOWN = 50


@dataclass(frozen=True)
class Difference:
    path: str
    stored: object
    computed: object


def with_adjustments(cluster: ClusterInput, adjustments: list[dict]) -> ClusterInput:
    """The input with each changed leaf scored as the meeting (or a correction) decided: a final score."""
    changed: dict[int, dict[int, LeafScores]] = {}
    for a in adjustments:
        changed.setdefault(a["unit_id"], {})[a["criterion_id"]] = LeafScores(final=Decimal(a["points"]))
    units = tuple(
        replace(u, scores={**u.scores, **changed[u.unit_id]}) if u.unit_id in changed else u for u in cluster.units
    )
    return replace(cluster, units=units)


def _table(result: ClusterResult, ties: list[dict]) -> list[dict]:
    """Each unit in approved order: rank after the meeting's tie decisions (a tie only fully settled counts)."""
    places = {t["unit_id"]: t for t in ties}
    rows = []
    for unit in result.units:
        group = [u.unit_id for u in result.units if u.rank == unit.rank]
        settled = unit.tie_unresolved and sorted(places[i]["place"] for i in group if i in places) == list(
            range(1, len(group) + 1)
        )
        place = places[unit.unit_id]["place"] if settled else None
        rows.append(
            {
                "unit_id": unit.unit_id,
                "name": unit.name,
                "rank": unit.rank + (place - 1 if place else 0),
                "tied": unit.tie_unresolved and not settled,
                "compared_total": str(unit.compared_total),
                "raw_total": str(unit.raw_total),
                "band": unit.band,
                "eligible": unit.eligible,
            }
        )
    rows.sort(key=lambda r: (r["rank"], r["unit_id"]))
    return rows


def _numbers(content: dict) -> tuple[dict, list[dict]]:
    cluster = codec.decode(content["input"])
    plain_result = engine.compute(cluster)
    approved = engine.compute(with_adjustments(cluster, content["adjustments"]))
    computed = {"engine": plain_result.to_dict(), "approved": approved.to_dict()}
    # through JSON once: the stored form (string keys, lists) is what it is compared with
    return json.loads(codec.canonical(computed)), json.loads(codec.canonical(_table(approved, content["ties"])))


def compose(frozen: dict) -> dict:
    """The frozen data with its computed numbers and approved table."""
    computed, table = _numbers(frozen)
    return {**frozen, "computed": computed, "table": table}


def recompute(content: dict) -> list[Difference]:
    """Every stored number that the engine, run again on the stored input, does not give (empty: khớp)."""
    computed, table = _numbers(content)
    found: list[Difference] = []
    _walk("computed", content.get("computed"), computed, found)
    _walk("table", content.get("table"), table, found)
    return found


def _label(item, index: int) -> str:
    if isinstance(item, dict) and "unit_id" in item and "criterion_id" not in item:
        return f"[đơn vị {item['unit_id']}]"
    if isinstance(item, dict) and "criterion_id" in item:
        return f"[tiêu chí {item['criterion_id']}]"
    return f"[{index}]"


def _walk(path: str, stored, fresh, found: list[Difference]) -> None:
    if len(found) >= DIFFERENCES_SHOWN:
        return
    if isinstance(stored, dict) and isinstance(fresh, dict):
        for key in sorted(set(stored) | set(fresh)):
            _walk(f"{path}.{key}", stored.get(key), fresh.get(key), found)
    elif isinstance(stored, list) and isinstance(fresh, list) and len(stored) == len(fresh):
        for i, (old, new) in enumerate(zip(stored, fresh, strict=True)):
            _walk(path + _label(old, i), old, new, found)
    elif stored != fresh:
        found.append(Difference(path, stored, fresh))
