"""What changed between two revisions of a publication: points changed, totals, and whose rank moved."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class PointChange:
    unit_id: int
    name: str
    code: str
    before: Decimal | None  # the points that revision used (None: the engine's own)
    after: Decimal | None
    reason: str


@dataclass(frozen=True)
class RowChange:
    unit_id: int
    name: str
    rank_before: int | None
    rank_after: int | None
    total_before: Decimal | None
    total_after: Decimal | None
    band_before: str
    band_after: str

    @property
    def rank_moved(self) -> bool:
        return self.rank_before != self.rank_after

    @property
    def rank_delta(self) -> int:
        """Places gained (positive: up the table)."""
        if self.rank_before is None or self.rank_after is None:
            return 0
        return self.rank_before - self.rank_after


@dataclass(frozen=True)
class Diff:
    points: list[PointChange]
    rows: list[RowChange]  # only the units whose total, band or rank changed

    @property
    def moved(self) -> list[RowChange]:
        return [r for r in self.rows if r.rank_moved]

    @property
    def empty(self) -> bool:
        return not self.points and not self.rows


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def _names(content: dict) -> dict[int, str]:
    return {u["unit_id"]: u["name"] for u in content["input"]["units"]}


def diff(before: dict, after: dict) -> Diff:
    """The changes from the `before` revision's content to the `after` one's."""
    names = {**_names(before), **_names(after)}
    old = {(a["unit_id"], a["criterion_id"]): a for a in before["adjustments"]}
    new = {(a["unit_id"], a["criterion_id"]): a for a in after["adjustments"]}
    points = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a and b and a["points"] == b["points"]:
            continue
        source = b or a
        points.append(
            PointChange(
                key[0],
                names.get(key[0], ""),
                source["code"],
                _dec(a["points"]) if a else None,
                _dec(b["points"]) if b else None,
                (b or {}).get("reason", ""),
            )
        )
    rows_before = {r["unit_id"]: r for r in before["table"]}
    rows_after = {r["unit_id"]: r for r in after["table"]}
    rows = []
    for row in after["table"] + [r for r in before["table"] if r["unit_id"] not in rows_after]:
        a, b = rows_before.get(row["unit_id"], {}), rows_after.get(row["unit_id"], {})
        change = RowChange(
            row["unit_id"],
            row["name"],
            a.get("rank"),
            b.get("rank"),
            _dec(a.get("compared_total")),
            _dec(b.get("compared_total")),
            a.get("band", ""),
            b.get("band", ""),
        )
        if (change.rank_before, change.total_before, change.band_before) != (
            change.rank_after,
            change.total_after,
            change.band_after,
        ):
            rows.append(change)
    return Diff(points, rows)
