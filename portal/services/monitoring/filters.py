"""The dashboard's filters, search and sort, applied to its rows in Python (a province has tens of clusters).

Search compares `vntext.search_key`s (case and diacritics ignored, đ as d), computed here in Python,
so it answers the same on SQLite and PostgreSQL; names sort by `vntext.sort_key` (Vietnamese order).
"""

from __future__ import annotations

from dataclasses import dataclass

from portal import vntext
from portal.services.monitoring.board import Row
from portal.services.monitoring.stages import STAGE_ORDER

SORTS = ("cluster", "kind", "head", "overseer", "decision", "stage", "late", "signed", "submitted", "reviews")
SORTS += ("leader", "score")
MINE = "mine"


@dataclass(frozen=True)
class Filters:
    kind: str = ""
    stage: str = ""
    overseer: str = ""  # a council member's id, MINE, or ""
    late_only: bool = False
    q: str = ""
    sort: str = "cluster"
    descending: bool = False


def search_text(row: Row) -> str:
    """What the search box finds a row by: the cluster's code and name, its head, deputies and overseer."""
    term = row.term
    names = [row.cluster.code, row.cluster.name]
    if term is not None:
        names += [u.name for u in (row.summary.head, *row.summary.deputies) if u is not None]
        names += [u.short_name for u in (row.summary.head, *row.summary.deputies) if u is not None and u.short_name]
        names += [term.overseer.full_name] if term.overseer else []
        names += [term.decision_number]
    return vntext.search_key(" | ".join(names))


def apply(rows: list[Row], filters: Filters, council_member_id: int | None) -> list[Row]:
    """The rows that pass every filter, in the chosen order (the cluster's name breaks ties)."""
    wanted_overseer = council_member_id if filters.overseer == MINE else _int(filters.overseer)
    needle = vntext.search_key(filters.q)
    kept = []
    for row in rows:
        if filters.kind and row.cluster.kind != filters.kind:
            continue
        if filters.stage and row.stage != filters.stage:
            continue
        if filters.overseer and (row.term is None or row.term.overseer_id != wanted_overseer):
            continue
        if filters.late_only and not row.late:
            continue
        if needle and needle not in (row.search_key or search_text(row)):
            continue
        kept.append(row)
    kept.sort(key=lambda row: (row.cluster.sort_key, row.cluster.id))
    kept.sort(key=_key(filters.sort), reverse=filters.descending)
    return kept


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 10 else None


def _name(unit) -> bytes:
    return vntext.sort_key(unit.name) if unit is not None else b"\xff"


def _key(sort: str):
    keys = {
        "cluster": lambda r: r.cluster.sort_key,
        "kind": lambda r: r.cluster.kind,
        "head": lambda r: _name(r.summary.head),
        "overseer": lambda r: r.overseer.sort_key if r.overseer else b"\xff",
        "decision": lambda r: vntext.sort_key(r.term.decision_number if r.term else ""),
        "stage": lambda r: STAGE_ORDER[r.stage],
        "late": lambda r: r.late_count,
        "signed": lambda r: r.done["signed"].share,
        "submitted": lambda r: r.done["submitted"].share,
        "reviews": lambda r: r.done["reviews"].share,
        "leader": lambda r: _name(r.leader),
        "score": lambda r: r.leader.score if r.leader else -1,
    }
    return keys.get(sort, keys["cluster"])
