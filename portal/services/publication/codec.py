"""The engine's input as JSON and back, and the canonical JSON a snapshot is hashed over.

`encode(cluster)` turns a `ClusterInput` into plain JSON data (Decimals as strings, byte keys as hex,
mappings keyed by id as string keys); `decode(data)` builds the same `ClusterInput` again, so that
`engine.compute(decode(encode(x)))` equals `engine.compute(x)`. `canonical(data)` is the one JSON text
of a value (sorted keys, no spaces, UTF-8), and `digest` its SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from portal.services.results.inputs import (
    Band,
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
from portal.services.results.output import plain


def canonical(data) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(data) -> str:
    return hashlib.sha256(canonical(data).encode("utf-8")).hexdigest()


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def _peer(view: PeerView | None):
    if view is None:
        return None
    data = plain(view)
    data["by_reviewer"] = (
        None if view.by_reviewer is None else {str(k): str(v) for k, v in sorted(view.by_reviewer.items())}
    )
    return data


def _unit(unit: UnitInput) -> dict:
    return {
        "unit_id": unit.unit_id,
        "name": unit.name,
        "sort_key": unit.sort_key.hex(),
        "scores": {str(cid): {**plain(s), "peer": _peer(s.peer)} for cid, s in sorted(unit.scores.items())},
        "not_applicable": sorted(unit.not_applicable),
        "withheld_reviews": unit.withheld_reviews,
        "ineligible_reason": unit.ineligible_reason,
    }


def encode(cluster: ClusterInput) -> dict:
    """The engine's input as plain JSON data."""
    return {
        "cluster_id": cluster.cluster_id,
        "year_id": cluster.year_id,
        "detail": cluster.detail,
        "table": plain(cluster.table),
        "settings": plain(cluster.settings),
        "units": [_unit(u) for u in cluster.units],
    }


def _table(data: dict) -> Table:
    return Table(
        criteria_set_id=data["criteria_set_id"],
        target_total=Decimal(data["target_total"]),
        deduction_capped=data["deduction_capped"],
        sections=tuple(Section(**{**s, "max_points": Decimal(s["max_points"])}) for s in data["sections"]),
        groups=tuple(Group(**{**g, "max_points": Decimal(g["max_points"])}) for g in data["groups"]),
        leaves=tuple(Leaf(**{**leaf, "max_points": Decimal(leaf["max_points"])}) for leaf in data["leaves"]),
    )


def _settings(data: dict) -> Settings:
    shares = ("self_weight", "non_participation_points", "reviewer_bias_share", "self_excess_share", "mutual_share")
    return Settings(
        basis=Basis(data["basis"]),
        trim_min_reviewers=data["trim_min_reviewers"],
        scale_mode=ScaleMode(data["scale_mode"]),
        tie_rules=tuple(TieRule(TieBreaker(r["breaker"]), r["section_id"]) for r in data["tie_rules"]),
        non_participation=NonParticipation(data["non_participation"]),
        floor_level=FloorLevel(data["floor_level"]),
        bands=tuple(
            Band(b["code"], b["label"], Decimal(b["min_total_share"]), Decimal(b["min_floor_share"]))
            for b in data["bands"]
        ),
        **{name: Decimal(data[name]) for name in shares},
    )


def _decode_peer(data) -> PeerView | None:
    if data is None:
        return None
    by_reviewer = data["by_reviewer"]
    return PeerView(
        count=data["count"],
        total=Decimal(data["total"]),
        low=Decimal(data["low"]),
        high=Decimal(data["high"]),
        squares=Decimal(data["squares"]),
        by_reviewer=None if by_reviewer is None else {int(k): Decimal(v) for k, v in by_reviewer.items()},
    )


def _scores(data: dict) -> LeafScores:
    return LeafScores(
        self_points=_decimal(data["self_points"]),
        verified=_decimal(data["verified"]),
        explanation=_decimal(data["explanation"]),
        final=_decimal(data["final"]),
        peer=_decode_peer(data["peer"]),
        verified_reason=data["verified_reason"],
        final_reason=data["final_reason"],
    )


def decode(data: dict) -> ClusterInput:
    """The `ClusterInput` that `encode` was given."""
    units = tuple(
        UnitInput(
            unit_id=u["unit_id"],
            name=u["name"],
            sort_key=bytes.fromhex(u["sort_key"]),
            scores={int(cid): _scores(s) for cid, s in u["scores"].items()},
            not_applicable=frozenset(u["not_applicable"]),
            withheld_reviews=u["withheld_reviews"],
            ineligible_reason=u["ineligible_reason"],
        )
        for u in data["units"]
    )
    return ClusterInput(
        cluster_id=data["cluster_id"],
        year_id=data["year_id"],
        table=_table(data["table"]),
        units=units,
        settings=_settings(data["settings"]),
        detail=data["detail"],
    )
