"""What the results engine reads: one cluster-year's table, scores and settings as plain values.

`read.py` fills these from the database (one aggregate query per cluster and basis);
`engine.py` computes from them and knows nothing of the database, Flask or HTML. Tests
build them by hand. Every number is a Decimal; every mapping is keyed by database ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from portal.models.criteria import CriterionKind
from portal.models.results import BandCode

# the stored codes (labelled enums of the model), named here too for the engine and its callers
from portal.models.results import Basis as Basis
from portal.models.results import FloorLevel as FloorLevel
from portal.models.results import NonParticipation as NonParticipation
from portal.models.results import ScaleMode as ScaleMode
from portal.models.results import TieBreaker as TieBreaker

ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class Leaf:
    """A leaf criterion of the table; `kind` is its root section's kind (scored, bonus, deduction)."""

    criterion_id: int
    section_id: int  # the root (I, II, …) it belongs to
    group_id: int  # the depth-1 criterion it belongs to (the section itself for a leaf at depth 0 or 1 … see read.py)
    kind: str
    max_points: Decimal
    code: str = ""  # its path in the table (I.2.a): names a leaf that keeps a unit out of a band


@dataclass(frozen=True, slots=True)
class Section:
    criterion_id: int
    code: str
    title: str
    kind: str
    max_points: Decimal  # sum of its leaves' maxima


@dataclass(frozen=True, slots=True)
class Group:
    """A criterion at the level where band floors are checked (see FloorLevel.CRITERION)."""

    criterion_id: int
    section_id: int
    code: str
    title: str
    max_points: Decimal


@dataclass(frozen=True)
class Table:
    criteria_set_id: int
    target_total: Decimal  # the declared total (e.g. 100 or 1,000)
    deduction_capped: bool
    sections: tuple[Section, ...]
    groups: tuple[Group, ...]
    leaves: tuple[Leaf, ...]  # in table order

    @property
    def scored_maximum(self) -> Decimal:
        return sum((leaf.max_points for leaf in self.leaves if leaf.kind == CriterionKind.SCORED), ZERO)


# PeerView and LeafScores are built once per unit and leaf by every read (1,500 of each for a
# province-scale cluster): not frozen, so that their __init__ assigns plainly (three times faster than
# a frozen dataclass's object.__setattr__ per field). Nothing changes them after the read.
@dataclass(slots=True)
class PeerView:
    """The submitted peer scores of one unit on one leaf.

    The aggregate read fills count and total, and low/high only when the basis needs them (the
    trimmed mean, or the lowest-basis rule with a unit that withheld reviews); with detail every
    field is filled: `by_reviewer` (reviewer unit id → points: median, stability, reviewer flags)
    and the figures worked out from it, squares included (the spread shown in an explanation).
    """

    count: int
    total: Decimal
    low: Decimal | None = None  # None: not read (see above)
    high: Decimal | None = None
    squares: Decimal | None = None
    by_reviewer: Mapping[int, Decimal] | None = None


@dataclass(slots=True)
class LeafScores:
    """Every stage's points of one unit on one leaf (None: that stage did not score it)."""

    self_points: Decimal | None = None
    verified: Decimal | None = None
    explanation: Decimal | None = None
    final: Decimal | None = None
    peer: PeerView | None = None
    verified_reason: str = ""  # the head's reason for changing the self-score (filled with detail)
    final_reason: str = ""


@dataclass(frozen=True)
class UnitInput:
    unit_id: int
    name: str
    sort_key: bytes  # vntext.sort_key of the name: the order of a tie shown in the table
    scores: Mapping[int, LeafScores]  # criterion id of a leaf → its scores
    not_applicable: frozenset[int] = frozenset()  # leaf criterion ids marked "không áp dụng" for this unit
    withheld_reviews: int = 0  # peer reviews assigned to this unit and not submitted
    ineligible_reason: str = ""  # non-empty: keeps its rank, flagged, never nominated


@dataclass(frozen=True, slots=True)
class TieRule:
    breaker: TieBreaker
    section_id: int | None = None


@dataclass(frozen=True, slots=True)
class Band:
    """A classification band: total ≥ min_total_share × declared total and every criterion ≥ min_floor_share × max."""

    code: str  # xuat_sac | tot | hoan_thanh (the lowest, không hoàn thành, has no rule)
    label: str
    min_total_share: Decimal  # e.g. Decimal("0.90")
    min_floor_share: Decimal  # e.g. Decimal("0.85")


BELOW_BANDS = "khong_hoan_thanh"

DEFAULT_BANDS = (
    Band(BandCode.XUAT_SAC, BandCode.XUAT_SAC.label, Decimal("0.90"), Decimal("0.85")),
    Band(BandCode.TOT, BandCode.TOT.label, Decimal("0.80"), Decimal("0.80")),
    Band(BandCode.HOAN_THANH, BandCode.HOAN_THANH.label, Decimal("0.70"), Decimal("0.70")),
)


@dataclass(frozen=True)
class Settings:
    basis: Basis = Basis.AGREED
    trim_min_reviewers: int = 3
    self_weight: Decimal = Decimal("0.5")
    scale_mode: ScaleMode = ScaleMode.SCALE
    tie_rules: tuple[TieRule, ...] = ()
    non_participation: NonParticipation = NonParticipation.LOWEST_BASIS
    non_participation_points: Decimal = Decimal("5")
    floor_level: FloorLevel = FloorLevel.CRITERION
    bands: tuple[Band, ...] = DEFAULT_BANDS  # highest first
    # flags: shares of the declared total
    reviewer_bias_share: Decimal = Decimal("0.05")
    self_excess_share: Decimal = Decimal("0.10")
    mutual_share: Decimal = Decimal("0.05")


@dataclass(frozen=True)
class ClusterInput:
    cluster_id: int
    year_id: int
    table: Table
    units: tuple[UnitInput, ...]
    settings: Settings = field(default_factory=Settings)
    detail: bool = False  # PeerView.by_reviewer and the reasons are filled
