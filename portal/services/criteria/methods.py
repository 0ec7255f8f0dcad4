"""Scoring methods: how a leaf criterion's points follow from what a unit reports.

Every function is pure, works in Decimal, and rounds a leaf's points half-up to
two decimals (sums are made of rounded leaves). These are the defaults of
domain.md ("Criteria and scoring"); a province may choose others.

- direct: the scorer enters the points, 0 … max, in the set's step.
- pass_fail (định tính): max if achieved, else 0.
- per_occurrence (chấm thẳng; also bonus/deduction per occurrence): count × points
  each, clamped to the cap (the item's max).
- quantitative (định lượng): results are compared with each unit's own registered
  target, so the points of the whole cluster are computed together; see
  `quantitative()`.

A table's bonus and deduction sections are capped as a whole: see `capped()`.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from portal.formatting import vn_number

CENT = Decimal("0.01")
HALF = Decimal("0.5")
ZERO = Decimal(0)


class ScoreError(ValueError):
    """A reported value or score is not acceptable; the message is for the user (Vietnamese)."""


def round_points(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


THOUSANDS = re.compile(r"^-?[1-9]\d{0,2}(\.\d{3})+$")


def normalise_number(raw: str) -> str:
    """Vietnamese writing to Python's: '1.234,5' → '1234.5', '12,5' → '12.5', '1.000' → '1000'.

    A comma is the decimal mark and dots group thousands; a lone dot that does not
    group thousands ('12.5', '0.25') is read as a decimal point, as typed on an
    English keyboard.
    """
    raw = raw.strip().replace(" ", "").replace("\u00a0", "")
    if "," in raw:
        return raw.replace(".", "").replace(",", ".") if raw.count(",") == 1 else raw
    if THOUSANDS.match(raw):
        return raw.replace(".", "")
    return raw


def parse_decimal(text: str | float | Decimal | None, *, field: str = "Giá trị") -> Decimal | None:
    """'12,5', '1.000' or '12.5' → Decimal; blank → None; anything else (NaN, text) → ScoreError."""
    if text is None:
        return None
    if isinstance(text, Decimal):
        value = text
    else:
        raw = normalise_number(str(text))
        if not raw:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise ScoreError(f"{field} phải là một số (ví dụ 12,5).") from None
    if not value.is_finite():
        raise ScoreError(f"{field} phải là một số hữu hạn.")
    if value.adjusted() > 12 or value.adjusted() < -12:  # keeps Decimal arithmetic cheap and sane
        raise ScoreError(f"{field} quá lớn hoặc quá nhỏ.")
    return value


def direct(points: Decimal, max_points: Decimal, step: Decimal | None = None) -> Decimal:
    """The scorer's own points, checked against 0 … max and the step (e.g. 0.25)."""
    if points < 0:
        raise ScoreError("Điểm không được âm.")
    if points > max_points:
        raise ScoreError(f"Điểm không được vượt quá điểm chuẩn ({vn_number(max_points)}).")
    if step and (points / step) != (points / step).to_integral_value():
        raise ScoreError(f"Điểm phải là bội số của {vn_number(step)}.")
    return round_points(points)


def pass_fail(achieved: bool, max_points: Decimal) -> Decimal:
    return round_points(max_points) if achieved else ZERO.quantize(CENT)


def per_occurrence(count: int, points_each: Decimal, cap: Decimal | None) -> Decimal:
    """count × points each, at most the cap. Used for bonus and deduction items too:
    the sign comes from the item's kind when points are added up."""
    if count < 0:
        raise ScoreError("Số lần không được âm.")
    total = points_each * count
    if cap is not None and total > cap:
        total = cap
    return round_points(total)


def capped(
    bonus: Decimal, deduction: Decimal, bonus_cap: Decimal, deduction_cap: Decimal, deduction_capped: bool
) -> tuple[Decimal, Decimal]:
    """An assessment's (bonus, deduction) after the table's caps.

    `bonus` and `deduction` are the sums of the points scored under the table's bonus and
    deduction sections; `bonus_cap` and `deduction_cap` are the sums of those sections'
    maxima. The bonus never exceeds its cap; the deduction is held to its cap only when
    the table says so (`deduction_capped`), otherwise every point deducted counts. The
    grand total is then base + bonus − deduction. Nothing is rounded here: the inputs are
    sums of rounded leaves.
    """
    bonus = min(bonus, bonus_cap)
    if deduction_capped:
        deduction = min(deduction, deduction_cap)
    return bonus, deduction


def quantitative(
    results: Mapping[Hashable, tuple[Decimal | None, Decimal | None]], max_points: Decimal
) -> dict[Hashable, Decimal]:
    """Points of every unit of the cluster on one quantitative criterion.

    `results` maps a unit to (actual, target). With a target T > 0, r = actual / T:
      r < 1 → ½·max·r;  r = 1 → ½·max;  r the highest above 1 in the cluster (ties:
      all of them lead) → max;  any other r > 1 → ½·max + ½·max·(r − 1)/(r_best − 1).
    A unit with no target (or T = 0) but a result gets max · actual / (the highest
    actual among the units without a target), and never leads; no result → 0.
    Because one unit's result moves the others' points, call this for the whole
    cluster whenever any value or target changes.
    """
    half = max_points * HALF
    ratios = {k: a / t for k, (a, t) in results.items() if t and t > 0 and a is not None}
    best = max((r for r in ratios.values() if r > 1), default=None)
    untargeted = {k: a for k, (a, t) in results.items() if not (t and t > 0) and a is not None and a > 0}
    best_untargeted = max(untargeted.values(), default=None)
    points: dict[Hashable, Decimal] = {}
    for key in results:
        if key in ratios:
            r = ratios[key]
            if r < 1:
                value = half * r
            elif r == 1:
                value = half
            elif r == best:
                value = max_points
            else:
                value = half + half * (r - 1) / (best - 1)
        elif key in untargeted:
            value = max_points * untargeted[key] / best_untargeted
        else:
            value = ZERO
        points[key] = round_points(value)
    return points


def leaders(results: Mapping[Hashable, tuple[Decimal | None, Decimal | None]]) -> set[Hashable]:
    """The units leading a quantitative criterion: the highest ratio above 1 (all of a tie)."""
    ratios = {k: a / t for k, (a, t) in results.items() if t and t > 0 and a is not None}
    best = max((r for r in ratios.values() if r > 1), default=None)
    return {k for k, r in ratios.items() if best is not None and r == best}
