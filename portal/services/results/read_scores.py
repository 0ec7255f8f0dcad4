"""The scores of one cluster-year as the engine reads them: one statement, with or without detail.

Without detail, ONE aggregate statement starts from the cluster-year's rounds (a subquery on
`scoring_rounds`: the bare sum of bench/results_read.py filters the same way), reads their
submitted assessments on the table (index on `round_id`) and the assessments' scores (index on
`assessment_id`), and groups per (subject unit, criterion) before anything else is joined. Per group
it gives each stage's points (`max(points) FILTER (WHERE stage = …)`: one assessment per stage and
subject) and the submitted peer scores' count and sum; their minimum and maximum only under the
trimmed mean (they cost half as much again as the rest: min and max on numeric). Under the
lowest-basis rule of non-participation the units that withheld reviews need theirs too (their
trimmed mean is a candidate): a second statement reads them for those units only. The sum of
squares is never computed in SQL: the peer spread beyond count and mean (range, standard deviation)
is an explanation, read with detail.

With detail, ONE statement reads the scores themselves (subject, criterion, author, stage, points,
and the note of the verified and final stages: the reasons): every stage's points, each reviewer's
points (PeerView.by_reviewer) and the count, sum, range and squares worked out from them in Python.
Rows are read as plain tuples of the session's connection (Core, no ORM objects); each statement is
built once with bound parameters (functools.cache), so SQLAlchemy finds its compiled form at once.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from sqlalchemy import Numeric, bindparam, func, select, type_coerce
from sqlalchemy.orm import Session

from portal.models import Assessment, Score, ScoringRound
from portal.policy import ClusterYear
from portal.services.results.inputs import LeafScores, PeerView

ZERO = Decimal("0")
POINTS = Numeric(18, 2)
STAGES = ("self", "verified", "explanation", "final")
REASON_STAGES = frozenset({"verified", "final"})
Key = tuple[int, int]  # (subject unit id, leaf criterion id)
PARAMS = ClusterYear(bindparam("year_id"), bindparam("cluster_id"))  # the statements are built once, with these


def tuples(session: Session, statement, values: dict) -> list:
    """The statement's rows: the driver's own tuples when no column needs converting (psycopg gives ints,
    str and Decimals as they are: building Core rows would be a third of the read), else Core rows (on
    SQLite the numbers become Decimals there). Fetched at once: iterating a result fetches row by row."""
    result = session.connection().execute(statement, values)
    if getattr(result._metadata, "_effective_processors", ()) is None:
        rows = result.cursor.fetchall()
        result.close()
        return rows
    return result.all()


def rounds(where: ClusterYear):
    """The ids of the cluster-year's rounds that feed results, as a subquery (a peer round still being
    assigned has no reviews)."""
    return select(ScoringRound.id).where(
        ScoringRound.cluster_id == where.cluster_id,
        ScoringRound.year_id == where.year_id,
        (ScoringRound.kind != "peer") | (ScoringRound.status != "draft"),
    )


def submitted(where: ClusterYear, set_id: int) -> tuple:
    """The assessments both statements read: submitted, in the cluster-year's rounds, on its table."""
    return (
        Assessment.round_id.in_(rounds(where)),
        Assessment.criteria_set_id == set_id,
        Assessment.status == "submitted",
    )


def aggregate(where: ClusterYear, set_id: int, *, ranged: bool = True):
    """The aggregate statement: per (unit, criterion) each stage's points and the peer count and sum
    (and, `ranged`, the peer minimum and maximum). bench/results_read.py runs it bare."""
    peer = Assessment.stage == "peer"
    columns = [
        Assessment.subject_unit_id,
        Score.criterion_id,
        *(type_coerce(func.max(Score.points).filter(Assessment.stage == stage), POINTS) for stage in STAGES),
        func.count(Score.points).filter(peer),
        type_coerce(func.sum(Score.points).filter(peer), POINTS),
    ]
    if ranged:
        columns += [
            type_coerce(func.min(Score.points).filter(peer), POINTS),
            type_coerce(func.max(Score.points).filter(peer), POINTS),
        ]
    return (
        select(*columns)
        .select_from(Assessment)
        .join(Score, Score.assessment_id == Assessment.id)
        .where(*submitted(where, set_id))
        .group_by(Assessment.subject_unit_id, Score.criterion_id)
    )


def aggregated(
    session: Session, where: ClusterYear, set_id: int, leaf_ids: set[int], ranged: bool, ranged_units=frozenset()
) -> dict:
    """(unit id, leaf id) → LeafScores from the aggregate statement (no reviewer's points, no reasons).

    `ranged`: the aggregate gives every peer minimum and maximum; else `ranged_units` (units that withheld
    reviews under the lowest-basis rule) have theirs read by a small second statement."""
    values = {**where._asdict(), "set_id": set_id}
    extra = {}
    if ranged_units and not ranged:
        extra = {
            (u, c): (low, high)
            for u, c, low, high in tuples(session, _ranges(), {**values, "units": list(ranged_units)})
        }
    found = {}
    for row in tuples(session, _aggregate_statement(ranged), values):
        unit_id, leaf_id, own, verified, explained, final, count, total = row[:8]
        if leaf_id not in leaf_ids:
            continue  # a stray score on a parent counts for nothing (as in scoring.assessments.totals)
        view = None
        if count:
            low, high = row[8:10] if ranged else extra.get((unit_id, leaf_id), (None, None))
            view = PeerView(count, total, low, high, None)
        found[(unit_id, leaf_id)] = LeafScores(own, verified, explained, final, view)
    return found


@cache
def _ranges():
    """The peer minimum and maximum per (unit, criterion) of some units (`units`)."""
    return (
        select(
            Assessment.subject_unit_id,
            Score.criterion_id,
            type_coerce(func.min(Score.points), POINTS),
            type_coerce(func.max(Score.points), POINTS),
        )
        .select_from(Assessment)
        .join(Score, Score.assessment_id == Assessment.id)
        .where(
            *submitted(PARAMS, bindparam("set_id")),
            Assessment.stage == "peer",
            Assessment.subject_unit_id.in_(bindparam("units", expanding=True)),
        )
        .group_by(Assessment.subject_unit_id, Score.criterion_id)
    )


@cache
def _aggregate_statement(ranged: bool):
    return aggregate(PARAMS, bindparam("set_id"), ranged=ranged)


@cache
def _detail_statement():
    return (
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
        .where(*submitted(PARAMS, bindparam("set_id")))
    )


def detailed(session: Session, where: ClusterYear, set_id: int, leaf_ids: set[int]) -> dict:
    """(unit id, leaf id) → LeafScores with each reviewer's points and the reasons, from the scores themselves."""
    rows = tuples(session, _detail_statement(), {**where._asdict(), "set_id": set_id})
    stages: dict[Key, dict[str, Decimal | None]] = {}
    reviewers: dict[Key, dict[int, Decimal]] = {}
    reasons: dict[tuple[int, int, str], str] = {}
    for unit_id, leaf_id, author_id, stage, points, note in rows:
        if leaf_id not in leaf_ids:
            continue
        key = (unit_id, leaf_id)
        if stage == "peer":
            if points is not None:
                reviewers.setdefault(key, {})[author_id] = points
            continue
        given = stages.setdefault(key, {})
        if points is not None or stage not in given:  # one assessment per stage and subject; else the highest
            given[stage] = points if given.get(stage) is None else max(given[stage], points)
        if note and stage in REASON_STAGES:
            reasons[(unit_id, leaf_id, stage)] = note
    found = {}
    for key in stages.keys() | reviewers.keys():
        given = stages.get(key, {})
        found[key] = LeafScores(
            *(given.get(stage) for stage in STAGES),
            peer=_view(reviewers[key]) if key in reviewers else None,
            verified_reason=reasons.get((*key, "verified"), ""),
            final_reason=reasons.get((*key, "final"), ""),
        )
    return found


def _view(given: dict[int, Decimal]) -> PeerView:
    values = given.values()
    squares = sum((v * v for v in values), ZERO)
    return PeerView(len(given), sum(values, ZERO), min(values), max(values), squares, given)
