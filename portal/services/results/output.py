"""What the results engine gives back: frozen values a snapshot can keep as they are.

Every figure is a Decimal (points to the cent, shares to 1/10,000 rounded down so that a share
shown never passes a threshold the unit missed), an int, a bool or a str. `ClusterResult.to_dict()`
turns the whole result into JSON-safe values (Decimals as strings) in a fixed order: fields in the
order they are declared here, units in table order, flags sorted.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from decimal import Decimal
from enum import Enum

from portal.services.results.inputs import Settings


def plain(value):
    """A result (or settings) value as JSON-safe data, in declaration order."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [plain(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class Spread:
    """Points given by several reviewers: their number, mean, lowest, highest and population std dev.

    A leaf's peer spread read without detail has only the count and the mean (and the range when
    the basis read it: the trimmed mean, the lowest-basis rule); None means not read.
    """

    count: int
    mean: Decimal
    low: Decimal | None
    high: Decimal | None
    std_dev: Decimal | None


@dataclass(frozen=True, slots=True)
class LeafResult:
    """One leaf of one unit: the points that count and every figure they came from."""

    criterion_id: int
    code: str
    kind: str
    max_points: Decimal
    applicable: bool
    points: Decimal  # what counts (0 when not applicable or not scored)
    source: str  # final | verified | self | none | <basis> | lowest_basis | not_applicable
    self_points: Decimal | None
    verified: Decimal | None
    explanation: Decimal | None
    final: Decimal | None
    agreed: Decimal | None  # final → verified → self
    verified_reason: str
    final_reason: str
    peer: Spread | None  # the submitted peer scores of this leaf

    @property
    def unscored(self) -> bool:
        """ "Chưa chấm": applicable, and no stage nor reviewer scored it."""
        return self.source == "none"


@dataclass(frozen=True, slots=True)
class SectionResult:
    """A section's points (sum of its applicable leaves, before caps) against its maximum and the cluster's average."""

    section_id: int
    code: str
    kind: str
    points: Decimal
    maximum: Decimal  # of its applicable leaves
    average: Decimal  # over the units to which some of its leaves apply


@dataclass(frozen=True, slots=True)
class BandGap:
    """What kept a unit out of the band just above its own: its total, a criterion under the floor, or both."""

    band: str
    total_share: Decimal
    min_total_share: Decimal
    total_short: bool
    criterion_id: int | None  # the criterion furthest under the floor (lowest share), None if all reach it
    criterion_code: str
    criterion_share: Decimal | None
    min_floor_share: Decimal


@dataclass(frozen=True, slots=True)
class Stability:
    """The best and worst rank a unit gets when any one reviewer's scores are left out."""

    best: int
    worst: int
    decided_by_one_reviewer: bool  # best or worst differs from its rank


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    value: Decimal | int


@dataclass(frozen=True, slots=True)
class Flag:
    """Something the meeting should look at, with the figures that raised it.

    kind: reviewer_harsh / reviewer_lenient (unit_id is the reviewer), self_excess (unit_id scored
    itself above its peers), mutual_high (unit_id and other_unit_id scored each other high).
    """

    kind: str
    unit_id: int
    other_unit_id: int | None
    figures: tuple[Figure, ...]


@dataclass(frozen=True, slots=True)
class UnitResult:
    unit_id: int
    name: str
    rank: int  # competition ranking: 1, 2, 2, 4
    tie_unresolved: bool  # shares its rank: settled by the meeting's vote
    eligible: bool
    ineligible_reason: str
    base: Decimal  # scored sections, applicable leaves
    bonus: Decimal  # after its cap
    deduction: Decimal  # after its cap when the table caps deductions
    penalty: Decimal  # non-participation points (FIXED_DEDUCTION), never capped
    raw_total: Decimal  # base + bonus − deduction − penalty
    applicable_maximum: Decimal  # of the scored leaves that apply
    compared_base: Decimal  # base on the table's scale (= base when everything applies, or in RAW mode)
    compared_total: Decimal  # what ranks and bands read
    total_share: Decimal  # compared_total ÷ declared total
    band: str  # a Band.code or BELOW_BANDS
    band_gap: BandGap | None  # None in the highest band
    non_participation: str  # the NonParticipation rule applied, "" when it withheld no review
    withheld_reviews: int
    sections: tuple[SectionResult, ...]
    leaves: tuple[LeafResult, ...]  # table order, non-applicable leaves included
    reviewers: Spread | None  # of its reviewers' totals (needs detail)
    stability: Stability | None  # needs detail and a peer basis


@dataclass(frozen=True)
class ClusterResult:
    cluster_id: int
    year_id: int
    criteria_set_id: int
    settings: Settings
    detail: bool  # False: no reviewer spread, reviewer-bias or mutual flags, nor stability
    stability: bool  # rank stability computed (detail and a peer basis)
    target_total: Decimal
    scored_maximum: Decimal
    leaders: tuple[int, ...]  # unit ids ranked 1 (several: a shared first place)
    units: tuple[UnitResult, ...]  # rank, then name order
    flags: tuple[Flag, ...]

    def to_dict(self) -> dict:
        return plain(self)
