"""Everything the results engine reads for one cluster-year, in four queries (with or without detail).

1. The context, one row per band rule (at least one): the year, the cluster-year's table
   (scope.table_set_id), its results settings (outer join) and the band rules of its year for its
   kind and for every kind (outer join): settings.as_settings and bands.chosen read them.
2. The table: one SELECT of its criteria; each leaf's section and depth-1 criterion (its "group",
   where band floors are checked) are worked out in Python from the parent links, once per read.
3. The members, by name, each with its non-applicable marks (aggregated per unit), its withheld
   peer reviews (assigned in the open or closed peer round, not submitted: counted per reviewer)
   and the ineligibility cases overlapping the year (one row per case).
4. The scores (read_scores.py): without detail one aggregate statement over the cluster-year's
   score tallies (models/tallies.py), per (unit, criterion), computing only what the basis needs
   (the peer range of the units that withheld reviews under the lowest-basis rule comes in the same
   statement, from their scores; the trimmed mean groups the scores themselves); with detail the
   scores themselves, each reviewer's points and reasons.

The first three are the cluster-year's frame (`Frame`): the ranking keeps frames by data version
(`read_cluster(frames=…)`, a VersionedCache that passes over scores' audit entries), so while only
scores change it reads the data version and the scores.

Every query runs on the session's connection and gives Core rows (no ORM objects). The read is
filtered on the cluster-year first, so it reads only the cluster's own rows, whatever the size of
the province.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache, partial

from sqlalchemy import String, and_, bindparam, cast, func, or_, select
from sqlalchemy.orm import Session

from portal.models import (
    Assessment,
    BandRule,
    Cluster,
    CriteriaSet,
    Criterion,
    EmulationYear,
    Ineligibility,
    Membership,
    NotApplicable,
    ResultSettings,
    ReviewAssignment,
    ScoringRound,
    Unit,
)
from portal.models.base import N_
from portal.models.results import IneligibilityKind
from portal.policy import ClusterYear
from portal.services import DomainError
from portal.services.criteria import tree as treelib
from portal.services.platform import live
from portal.services.results import bands, eligibility, scope, settings
from portal.services.results.cache import VersionedCache
from portal.services.results.inputs import (
    ZERO,
    Basis,
    ClusterInput,
    Group,
    Leaf,
    LeafScores,
    NonParticipation,
    Section,
    Settings,
    Table,
    UnitInput,
)
from portal.services.results.read_scores import aggregate, aggregated, detailed
from portal.services.scoring.reviews import REVIEW_OF_ASSIGNMENT

__all__ = ["FRAME_IGNORES", "Frame", "aggregate", "ranges_needed", "read_cluster", "read_frame", "read_table"]

NO_TABLE = N_("Cụm, khối chưa có bảng tiêu chí năm này.")
NO_SCORES = LeafScores()
NONE: dict = {}
PARAMS = ClusterYear(bindparam("year_id"), bindparam("cluster_id"))  # the statements are built once, with these
SETTINGS_COLUMNS = (
    ResultSettings.basis,
    ResultSettings.trim_min_reviewers,
    ResultSettings.self_weight,
    ResultSettings.scale_mode,
    ResultSettings.tie_rules,
    ResultSettings.non_participation,
    ResultSettings.non_participation_points,
    ResultSettings.floor_level,
    ResultSettings.reviewer_bias_share,
    ResultSettings.self_excess_share,
    ResultSettings.mutual_share,
)


@dataclass
class Member:
    unit_id: int
    name: str
    sort_key: bytes
    not_applicable: frozenset[int]
    withheld: int
    cases: list[str] = field(default_factory=list)  # "kind: reason" of each ineligibility overlapping the year


@dataclass(frozen=True)
class Frame:
    """Everything of a cluster-year's read but its scores: the settings, the table and the members.

    Three of the read's queries; no score is in it, so a cache of frames (`read_cluster(frames=…)`) passes
    over the audit entries of scores (`FRAME_IGNORES`) and keeps a frame while the unit's scores change."""

    settings: Settings
    table: Table
    members: tuple[Member, ...]
    leaf_ids: tuple[int, ...]


FRAME_IGNORES = frozenset({"Score"})  # the object types a frame never holds (see Frame)


def read_frame(session: Session, where: ClusterYear) -> Frame:
    """The cluster-year's frame: three queries (DomainError when it has no criteria table)."""
    context = _context(session, where)
    if not context or context[0].set_id is None:
        raise DomainError(NO_TABLE)
    first = context[0]
    chosen = settings.as_settings(
        first if first.settings_id is not None else None, bands.chosen([r for r in context if r.code is not None])
    )
    table = _table(session.connection().execute(TABLE, {"set_id": first.set_id}).all())
    members = tuple(_members(session, where, first.set_id, first.year))
    return Frame(chosen, table, members, tuple(leaf.criterion_id for leaf in table.leaves))


def read_cluster(
    session: Session, cluster_id: int, year_id: int, *, detail: bool = False, frames: VersionedCache | None = None
) -> ClusterInput:
    """The engine's input for one cluster-year (DomainError when it has no criteria table).

    `frames`: a cache of frames (VersionedCache(ignored=FRAME_IGNORES)) as of the session's data version
    (`live.data_version`, one small query once per transaction): the scores are read every time, the
    settings, table and members only when an audited write other than a score's touched the cluster-year."""
    where = ClusterYear(year_id, cluster_id)
    if frames is None:
        frame = read_frame(session, where)
    else:
        frame = frames.get(session, where, None, live.data_version(session), partial(read_frame, session, where))
    table, members, leaf_ids = frame.table, frame.members, frame.leaf_ids
    if detail:
        scores = detailed(session, where, table.criteria_set_id, set(leaf_ids))
    else:
        ranged, ranged_units = ranges_needed(frame.settings, members)
        scores = aggregated(session, where, table.criteria_set_id, set(leaf_ids), ranged, ranged_units)
    blank = dict.fromkeys(leaf_ids, NO_SCORES)  # every leaf, in table order; a unit's own scores merged in
    units = tuple(
        UnitInput(
            unit_id=m.unit_id,
            name=m.name,
            sort_key=m.sort_key,
            scores={**blank, **scores.get(m.unit_id, NONE)},
            not_applicable=m.not_applicable,
            withheld_reviews=m.withheld,
            ineligible_reason="; ".join(m.cases),
        )
        for m in members
    )
    return ClusterInput(cluster_id, year_id, table, units, frame.settings, detail)


def ranges_needed(chosen: Settings, members) -> tuple[bool, frozenset[int]]:
    """Which peer ranges (minimum, maximum) the basis needs: every leaf's under the trimmed mean; else
    the leaves of the units that withheld reviews under the lowest-basis rule (their trimmed mean is a
    candidate), read by the same aggregate statement for those units only."""
    if chosen.basis == Basis.TRIMMED_MEAN:
        return True, frozenset()
    if chosen.non_participation == NonParticipation.LOWEST_BASIS:
        return False, frozenset(m.unit_id for m in members if m.withheld)
    return False, frozenset()


def _context(session: Session, where: ClusterYear) -> list:
    """The year, the table's id, the settings (settings_id None: none saved) and the band rules: one query."""
    return session.connection().execute(_context_statement(), where._asdict()).all()


@cache
def _context_statement():
    kind = select(Cluster.kind).where(Cluster.id == PARAMS.cluster_id).scalar_subquery()
    return (
        select(
            EmulationYear.year,
            scope.table_set_id(PARAMS).label("set_id"),
            ResultSettings.id.label("settings_id"),
            *SETTINGS_COLUMNS,
            BandRule.cluster_kind,
            BandRule.code,
            BandRule.min_total_share,
            BandRule.min_floor_share,
        )
        .select_from(EmulationYear)
        .outerjoin(
            ResultSettings,
            and_(ResultSettings.cluster_id == PARAMS.cluster_id, ResultSettings.year_id == EmulationYear.id),
        )
        .outerjoin(
            BandRule,
            and_(
                BandRule.year_id == EmulationYear.id,
                or_(BandRule.cluster_kind == kind, BandRule.cluster_kind.is_(None)),
            ),
        )
        .where(EmulationYear.id == PARAMS.year_id)
    )


def _members(session: Session, where: ClusterYear, set_id: int, year: int) -> list[Member]:
    """The member units by name, with their marks, withheld reviews and ineligibility cases: one query."""
    values = {**where._asdict(), "set_id": set_id, "first": date(year, 1, 1), "last": date(year, 12, 31)}
    found: dict[int, Member] = {}
    for unit_id, name, sort_key, ids, withheld, kind, reason in session.connection().execute(
        _members_statement(), values
    ):
        member = found.get(unit_id)
        if member is None:
            marked = frozenset(int(i) for i in ids.split(",")) if ids else frozenset()
            member = found[unit_id] = Member(unit_id, name, sort_key, marked, withheld or 0)
        if kind is not None:
            member.cases.append(f"{IneligibilityKind(kind).label}: {reason}")
    return list(found.values())


@cache
def _members_statement():
    marks = (
        select(NotApplicable.unit_id, func.aggregate_strings(cast(NotApplicable.criterion_id, String), ",").label("m"))
        .where(NotApplicable.criteria_set_id == bindparam("set_id"))
        .group_by(NotApplicable.unit_id)
        .subquery()
    )
    peer_round = select(ScoringRound.id).where(
        ScoringRound.cluster_id == PARAMS.cluster_id,
        ScoringRound.year_id == PARAMS.year_id,
        ScoringRound.kind == "peer",
        ScoringRound.status != "draft",
    )
    missing = (
        select(ReviewAssignment.reviewer_unit_id, func.count().label("n"))
        .select_from(ReviewAssignment)
        .outerjoin(Assessment, and_(REVIEW_OF_ASSIGNMENT, Assessment.status == "submitted"))
        .where(ReviewAssignment.round_id.in_(peer_round), Assessment.id.is_(None))
        .group_by(ReviewAssignment.reviewer_unit_id)
        .subquery()
    )
    overlapping = eligibility.between(bindparam("first"), bindparam("last"))
    return (
        select(Unit.id, Unit.name, Unit.sort_key, marks.c.m, missing.c.n, Ineligibility.kind, Ineligibility.reason)
        .join(Membership, Membership.unit_id == Unit.id)
        .outerjoin(marks, marks.c.unit_id == Unit.id)
        .outerjoin(missing, missing.c.reviewer_unit_id == Unit.id)
        .outerjoin(Ineligibility, and_(Ineligibility.unit_id == Unit.id, overlapping))
        .where(Membership.cluster_id == PARAMS.cluster_id, Membership.year_id == PARAMS.year_id)
        .order_by(Unit.sort_key, Unit.id, Ineligibility.starts_on, Ineligibility.id)
    )


def read_table(session: Session, where: ClusterYear) -> Table:
    """The cluster-year's criteria table (scope.table_set_id) as the engine reads it: one query."""
    return _table(session.connection().execute(_table_statement(scope.table_set_id(where))).all())


def _table_statement(set_id):
    """The criteria of set `set_id` (a bound parameter, or an SQL expression giving the id)."""
    return (
        select(
            CriteriaSet.id.label("set_id"),
            CriteriaSet.target_total,
            CriteriaSet.deduction_capped,
            Criterion.id,
            Criterion.parent_id,
            Criterion.position,
            Criterion.code,
            Criterion.title,
            Criterion.kind,
            Criterion.max_points,
        )
        .select_from(CriteriaSet)
        .outerjoin(Criterion, Criterion.set_id == CriteriaSet.id)
        .where(CriteriaSet.id == set_id)
    )


TABLE = _table_statement(bindparam("set_id"))


def _table(rows) -> Table:
    """The table from its criteria rows: sections, groups (where band floors are checked) and leaves."""
    if not rows:
        raise DomainError(NO_TABLE)
    first = rows[0]
    tree = treelib.build([row for row in rows if row.id is not None])
    paths = tree.paths()
    sections, groups, leaves = [], [], []
    lineage: list = []  # the nodes from the root down to the one being walked
    for node, depth in tree.walk():
        lineage[depth - 1 :] = [node]
        root = lineage[0]
        if depth == 1:
            sections.append(Section(node.id, paths[node.id], node.title, node.kind, tree.maxima[node.id]))
        if depth == 2 or (depth == 1 and tree.is_leaf(node)):  # a leaf section is its own group
            groups.append(Group(node.id, root.id, paths[node.id], node.title, tree.maxima[node.id]))
        if tree.is_leaf(node):
            group = lineage[1] if depth > 1 else root
            leaves.append(Leaf(node.id, root.id, group.id, root.kind, node.max_points or ZERO))
    return Table(
        criteria_set_id=first.set_id,
        target_total=first.target_total,
        deduction_capped=first.deduction_capped,
        sections=tuple(sections),
        groups=tuple(groups),
        leaves=tuple(leaves),
    )
