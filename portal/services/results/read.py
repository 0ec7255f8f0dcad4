"""Everything the results engine reads for one cluster-year, in a fixed number of queries.

The scores are read by ONE aggregate query that starts from the cluster-year's rounds: the
assessments of those rounds (index on `round_id`), their scores (index on `assessment_id`),
grouped per (subject unit, criterion) before anything else is joined, so it reads only the
cluster's own rows, whatever the size of the province. Per unit and leaf it gives the points of
each submitted stage (self, verified, explanation, final: `MAX(CASE stage …)`; one assessment per
stage and subject) and of the submitted peer reviews COUNT, SUM, MIN, MAX and SUM of squares.
With `detail`, a second query reads each reviewer's points and the reasons given for changes.

The table is one SELECT of its criteria: each leaf's section and depth-1 criterion (its "group",
where band floors are checked) are worked out in Python from the parent links, once per read.
Everything else (members, non-applicable marks, withheld reviews, ineligibility, settings and
bands) is one small query each. The column queries run on the session's connection (Core rows, no
ORM loading: a third of the read's own time on the aggregate's rows).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import Numeric, and_, case, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from portal.models import (
    Assessment,
    CriteriaSet,
    Criterion,
    EmulationYear,
    Membership,
    NotApplicable,
    ReviewAssignment,
    Score,
    ScoringRound,
    Unit,
)
from portal.policy import ClusterYear
from portal.services import DomainError
from portal.services.criteria import tree as treelib
from portal.services.results import eligibility, scope, settings
from portal.services.results.inputs import (
    ClusterInput,
    Group,
    Leaf,
    LeafScores,
    PeerView,
    Section,
    Table,
    UnitInput,
)
from portal.services.scoring.reviews import REVIEW_OF_ASSIGNMENT

ZERO = Decimal("0")
POINTS = Numeric(18, 2)
SQUARES = Numeric(24, 4)
STAGES = ("self", "verified", "explanation", "final")
REASON_STAGES = ("verified", "final")
NO_SCORES = LeafScores()


def read_cluster(session: Session, cluster_id: int, year_id: int, *, detail: bool = False) -> ClusterInput:
    """The engine's input for one cluster-year (DomainError when it has no criteria table)."""
    where = ClusterYear(year_id, cluster_id)
    rounds = dict(
        session.connection()
        .execute(
            select(ScoringRound.id, ScoringRound.kind).where(
                ScoringRound.cluster_id == cluster_id,
                ScoringRound.year_id == year_id,
                # a peer round still being assigned has no reviews, nor any withheld
                (ScoringRound.kind != "peer") | (ScoringRound.status != "draft"),
            )
        )
        .all()
    )
    table = read_table(session, where)
    members = _members(session, where)
    leaf_ids = [leaf.criterion_id for leaf in table.leaves]
    scores = _scores(session, list(rounds), table.criteria_set_id, set(leaf_ids), detail)
    not_applicable = defaultdict(set)
    for unit_id, criterion_id in session.connection().execute(
        select(NotApplicable.unit_id, NotApplicable.criterion_id).where(
            NotApplicable.criteria_set_id == table.criteria_set_id
        )
    ):
        not_applicable[unit_id].add(criterion_id)
    peer_round = next((rid for rid, kind in rounds.items() if kind == "peer"), None)
    withheld = _withheld(session, peer_round) if peer_round is not None else {}
    ineligible = eligibility.of_year(session, members[0].year, [row.id for row in members]) if members else {}
    units = tuple(
        UnitInput(
            unit_id=row.id,
            name=row.name,
            sort_key=row.sort_key,
            scores={leaf_id: scores.get((row.id, leaf_id), NO_SCORES) for leaf_id in leaf_ids},
            not_applicable=frozenset(not_applicable.get(row.id, ())),
            withheld_reviews=withheld.get(row.id, 0),
            ineligible_reason=eligibility.reason_text(ineligible.get(row.id, [])),
        )
        for row in members
    )
    return ClusterInput(cluster_id, year_id, table, units, settings.load(session, where), detail)


def _members(session: Session, where: ClusterYear):
    """The cluster-year's member units (id, name, sort_key, and the year's number), by name."""
    return (
        session.connection()
        .execute(
            select(Unit.id, Unit.name, Unit.sort_key, EmulationYear.year)
            .join(Membership, Membership.unit_id == Unit.id)
            .join(EmulationYear, EmulationYear.id == Membership.year_id)
            .where(Membership.cluster_id == where.cluster_id, Membership.year_id == where.year_id)
            .order_by(Unit.sort_key, Unit.id)
        )
        .all()
    )


def read_table(session: Session, where: ClusterYear) -> Table:
    """The cluster-year's criteria table (scope.table_set_id) as the engine reads it: one query."""
    rows = (
        session.connection()
        .execute(
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
            .where(CriteriaSet.id == scope.table_set_id(where))
        )
        .all()
    )
    if not rows:
        raise DomainError("Cụm, khối chưa có bảng tiêu chí năm này.")
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


def aggregate(round_ids: list[int], set_id: int):
    """The aggregate query: per (unit, criterion) each stage's points and the peer view (bench/ runs it bare)."""
    peer = Assessment.stage == "peer"
    peer_points = case((peer, Score.points))
    return (
        select(
            Assessment.subject_unit_id,
            Score.criterion_id,
            *(type_coerce(func.max(case((Assessment.stage == stage, Score.points))), POINTS) for stage in STAGES),
            func.count(peer_points),
            type_coerce(func.sum(peer_points), POINTS),
            type_coerce(func.min(peer_points), POINTS),
            type_coerce(func.max(peer_points), POINTS),
            type_coerce(func.sum(case((peer, Score.points * Score.points))), SQUARES),
        )
        .select_from(Assessment)
        .join(Score, Score.assessment_id == Assessment.id)
        .where(*_submitted(round_ids, set_id))
        .group_by(Assessment.subject_unit_id, Score.criterion_id)
    )


def _scores(
    session: Session, round_ids: list[int], set_id: int, leaf_ids: set[int], detail: bool
) -> dict[tuple[int, int], LeafScores]:
    """(unit id, leaf id) → the stages' points and the peer view: the aggregate query (and the detail)."""
    if not round_ids:
        return {}
    rows = session.connection().execute(aggregate(round_ids, set_id)).all()
    reviewers, reasons = _detail(session, round_ids, set_id) if detail else ({}, {})
    found = {}
    for unit_id, leaf_id, own, verified, explained, final, count, total, low, high, squares in rows:
        if leaf_id not in leaf_ids:
            continue  # a stray score on a parent counts for nothing (as in scoring.assessments.totals)
        key = (unit_id, leaf_id)
        view = None
        if count:
            view = PeerView(count, total, low, high, squares, reviewers.get(key) if detail else None)
        found[key] = LeafScores(
            self_points=own,
            verified=verified,
            explanation=explained,
            final=final,
            peer=view,
            verified_reason=reasons.get((unit_id, leaf_id, "verified"), ""),
            final_reason=reasons.get((unit_id, leaf_id, "final"), ""),
        )
    return found


def _submitted(round_ids: list[int], set_id: int) -> tuple:
    """The assessments both score queries read: submitted, in the cluster-year's rounds, on its table."""
    return (
        Assessment.round_id.in_(round_ids),
        Assessment.criteria_set_id == set_id,
        Assessment.status == "submitted",
    )


def _detail(session: Session, round_ids: list[int], set_id: int):
    """Each reviewer's points per (unit, leaf), and the reasons of the verified and final stages: one query."""
    rows = (
        session.connection()
        .execute(
            select(
                Assessment.subject_unit_id,
                Score.criterion_id,
                Assessment.author_unit_id,
                Assessment.stage,
                type_coerce(Score.points, POINTS),
                Score.note,
            )
            .select_from(Assessment)
            .join(Score, Score.assessment_id == Assessment.id)
            .where(
                *_submitted(round_ids, set_id),
                or_(
                    and_(Assessment.stage == "peer", Score.points.is_not(None)),
                    and_(Assessment.stage.in_(REASON_STAGES), Score.note != ""),
                ),
            )
        )
        .all()
    )
    reviewers: dict[tuple[int, int], dict[int, Decimal]] = defaultdict(dict)
    reasons: dict[tuple[int, int, str], str] = {}
    for unit_id, leaf_id, author_id, stage, points, note in rows:
        if stage == "peer":
            reviewers[(unit_id, leaf_id)][author_id] = points
        else:
            reasons[(unit_id, leaf_id, stage)] = note
    return reviewers, reasons


def _withheld(session: Session, peer_round_id: int) -> dict[int, int]:
    """Per reviewer unit, its assigned peer reviews not submitted: one query."""
    return dict(
        session.connection()
        .execute(
            select(ReviewAssignment.reviewer_unit_id, func.count())
            .select_from(ReviewAssignment)
            .outerjoin(Assessment, and_(REVIEW_OF_ASSIGNMENT, Assessment.status == "submitted"))
            .where(ReviewAssignment.round_id == peer_round_id, Assessment.id.is_(None))
            .group_by(ReviewAssignment.reviewer_unit_id)
        )
        .all()
    )
