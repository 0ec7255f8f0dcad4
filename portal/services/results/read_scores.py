"""The scores of one cluster-year as the engine reads them: one statement, with or without detail.

Without detail, ONE aggregate statement gives per (subject unit, criterion) each stage's points and
the submitted peer scores' count and sum. It groups the cluster-year's score tallies (`tallied`:
models/tallies.py, kept by triggers in the transaction of every write), starting from the cluster-
year's rounds (a subquery on `scoring_rounds`, as the bare sum of bench/results_read.py filters). A
range (minimum, maximum) cannot be kept by adding and subtracting: under the trimmed mean every
leaf's comes from the scores, by `aggregate` (two grouped parts over the scores, see there); under the
lowest-basis rule of non-participation the units that withheld reviews need theirs (their trimmed
mean is a candidate), read from their scores and joined into the tallies' statement. The sum of
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

from sqlalchemy import BigInteger, Integer, Numeric, bindparam, cast, func, null, select, type_coerce, union_all
from sqlalchemy.orm import Session

from portal.models import Assessment, Score, ScoreTally, ScoringRound
from portal.policy import ClusterYear
from portal.services.results.inputs import LeafScores, PeerView

ZERO = Decimal("0")
POINTS = Numeric(18, 2)
STAGES = ("self", "verified", "explanation", "final")
REASON_STAGES = frozenset({"verified", "final"})
Key = tuple[int, int]  # (subject unit id, leaf criterion id)
PARAMS = ClusterYear(bindparam("year_id"), bindparam("cluster_id"))  # the statements are built once, with these


def tuples(session: Session, statement, values: dict) -> list:
    """The statement's rows as plain tuples, fetched at once (iterating a result fetches row by row).

    psycopg gives ints, str and Decimals as they are: the driver's own tuples are used (building Core rows
    would be a third of the read). On SQLite points come back as floats that SQLAlchemy turns into
    Decimals one value at a time; a cluster-year's points take a few dozen distinct values, so each
    column's conversion is remembered per value (`_converted`): building Core rows for the 40 000 scores
    of a province-scale cluster took 300 ms of a 700 ms read (bench/README.md, SQLite)."""
    result = session.connection().execute(statement, values)
    processors = getattr(result._metadata, "_effective_processors", ())
    if processors is None or isinstance(processors, list | tuple):
        rows = result.cursor.fetchall()
        result.close()
        return rows if processors is None else _converted(rows, processors)
    return result.all()


def _converted(rows: list, processors) -> list[tuple]:
    """`rows` with each column's result processor applied, once per distinct value of the column
    (processors are pure: a number's Decimal, a timestamp's datetime)."""
    columns = [(index, convert, {}) for index, convert in enumerate(processors) if convert is not None]
    found = []
    for raw in rows:
        row = list(raw)
        for index, convert, seen in columns:
            value = row[index]
            try:
                row[index] = seen[value]
            except KeyError:
                row[index] = seen[value] = convert(value)
            except TypeError:  # an unhashable value: converted as it is
                row[index] = convert(value)
        found.append(tuple(row))
    return found


def rounds(where: ClusterYear, set_id: int):
    """The ids of the cluster-year's rounds on the table `set_id` that feed results, as a subquery (a peer
    round still being assigned has no reviews)."""
    return select(ScoringRound.id).where(
        ScoringRound.cluster_id == where.cluster_id,
        ScoringRound.year_id == where.year_id,
        ScoringRound.criteria_set_id == set_id,
        (ScoringRound.kind != "peer") | (ScoringRound.status != "draft"),
    )


def submitted(where: ClusterYear, set_id: int) -> tuple:
    """The assessments both statements read: submitted, in the cluster-year's rounds on its table.

    An assessment is always on its round's table (`scoring.rounds.add_drafts`, `verification`; a peer round
    takes the table in force when it opens, before it has any assessment), so the table is filtered on the
    round. Filtered on the assessment as well, PostgreSQL multiplied the two selectivities (the table is
    one in 40 of all assessments, but every assessment of the round) and expected 1 row where 33 came: it
    then sorted the other stages' part instead of hashing it (bench/README.md, "Results read")."""
    return (Assessment.round_id.in_(rounds(where, set_id)), Assessment.status == "submitted")


def cents(points):
    """Points (two decimals at most: scores.points is NUMERIC(9, 2), sums keep that scale) as whole cents.
    round() first: SQLite's points are floats (0,29 × 100 = 28,999…)."""
    return cast(func.round(points * 100), BigInteger)


class _Cents(dict):
    """Whole cents → the Decimal of the points (scale 2, as PostgreSQL gives NUMERIC(9, 2) and its sums),
    each made once and shared (Decimals are immutable); None → None. Cleared past `LIMIT` values (another
    thread may then miss None too: it is made again like any value)."""

    LIMIT = 100_000

    def __missing__(self, whole: int | None) -> Decimal | None:
        if len(self) > self.LIMIT:
            self.clear()
        points = self[whole] = None if whole is None else Decimal(whole).scaleb(-2)
        return points


CENTS = _Cents({None: None})


def aggregate(where: ClusterYear, set_id: int, *, ranged: bool = True, units=None, joined: bool = False):
    """The aggregate statement: per (unit, criterion) each stage's points and the peer count and sum
    (and, `ranged`, the peer minimum and maximum; with `units`, a list of unit ids or an expanding bound
    parameter, those units' only, NULL for the others), from the scores themselves. The read runs it
    under the trimmed mean (`statement_for`); otherwise it reads the tallies (`tallied`), and the tests
    take this one as the reference the tallies' statement must equal.

    Two grouped parts over the same join, UNION ALL, then grouped again (at most two rows per unit and
    criterion): the peer scores (`stage = 'peer'`, count and sum: the bare sum's own work) and the other
    stages' (`max … FILTER` per stage over their few rows only; with `units`, those units' peer scores
    too, for their minimum and maximum). One pass with every FILTER evaluated on every peer score cost
    ×1,3–1,5 the bare sum (bench/README.md). `joined` (PostgreSQL): the two parts FULL JOINed on (unit,
    criterion) instead of grouped again, a little cheaper; SQLite has FULL JOIN from 3.39 only.

    Its points come as whole cents (`cents`): the driver's integers cost a third of its Decimals to fetch,
    and `aggregated` turns them into Decimals once per distinct value (`CENTS`)."""
    unit, criterion = Assessment.subject_unit_id, Score.criterion_id
    peer = Assessment.stage == "peer"

    def part(rows, *columns):
        return (
            select(unit.label("unit_id"), criterion.label("criterion_id"), *columns)
            .select_from(Assessment)
            .join(Score, Score.assessment_id == Assessment.id)
            .where(*submitted(where, set_id), rows)
            .group_by(unit, criterion)
        )

    def nothing(name: str, kind=POINTS):
        return type_coerce(null(), kind).label(name)

    def extremes(*condition):
        return (
            type_coerce(func.min(Score.points).filter(*condition), POINTS).label("low"),
            type_coerce(func.max(Score.points).filter(*condition), POINTS).label("high"),
        )

    ranges = ("low", "high") if ranged or units is not None else ()
    peers = part(
        peer,
        *(nothing(f"s_{stage}") for stage in STAGES),
        func.count(Score.points).label("n"),
        type_coerce(func.sum(Score.points), POINTS).label("total"),
        *(extremes() if ranged else (nothing(name) for name in ranges)),
    )
    stages = part(
        ~peer if ranged or units is None else ~peer | unit.in_(units),
        *(type_coerce(func.max(Score.points).filter(Assessment.stage == s), POINTS).label(f"s_{s}") for s in STAGES),
        nothing("n", Integer),
        nothing("total"),
        *(extremes(peer) if ranges and not ranged else (nothing(name) for name in ranges)),
    )
    if joined:
        p, q = peers.subquery("peers"), stages.subquery("stages")
        return select(
            func.coalesce(p.c.unit_id, q.c.unit_id),
            func.coalesce(p.c.criterion_id, q.c.criterion_id),
            *(cents(q.c[f"s_{stage}"]) for stage in STAGES),
            func.coalesce(p.c.n, 0),
            cents(p.c.total),
            *(cents((p if ranged else q).c[name]) for name in ranges),
        ).select_from(p.join(q, (p.c.unit_id == q.c.unit_id) & (p.c.criterion_id == q.c.criterion_id), full=True))
    parts = union_all(peers, stages).subquery("parts")
    return select(
        parts.c.unit_id,
        parts.c.criterion_id,
        *(cents(func.max(parts.c[f"s_{stage}"])) for stage in STAGES),
        func.coalesce(func.max(parts.c.n), 0),
        *(cents(func.max(parts.c[name])) for name in ("total", *ranges)),
    ).group_by(parts.c.unit_id, parts.c.criterion_id)


def aggregated(
    session: Session, where: ClusterYear, set_id: int, leaf_ids: set[int], ranged: bool, ranged_units=frozenset()
) -> dict:
    """unit id → leaf id → LeafScores from the aggregate statement (no reviewer's points, no reasons).

    `ranged`: the aggregate gives every peer minimum and maximum; else `ranged_units` (units that withheld
    reviews under the lowest-basis rule) have theirs, from the same statement (`tallied(units=…)`)."""
    values = {**where._asdict(), "set_id": set_id}
    units = not ranged and bool(ranged_units)
    if units:
        values["units"] = sorted(ranged_units)
    rows = tuples(session, statement_for(ranged, units, session.connection().dialect.name), values)
    found: dict[int, dict[int, LeafScores]] = {}
    d = CENTS  # the points come as whole cents (None: not scored)
    if ranged or units:
        for unit_id, leaf_id, own, verified, explained, final, count, total, low, high in rows:
            if leaf_id not in leaf_ids:
                continue  # a stray score on a parent counts for nothing (as in scoring.assessments.totals)
            unit = found.get(unit_id)
            if unit is None:
                unit = found[unit_id] = {}
            view = PeerView(count, d[total], d[low], d[high]) if count else None
            unit[leaf_id] = LeafScores(d[own], d[verified], d[explained], d[final], view)
        return found
    for unit_id, leaf_id, own, verified, explained, final, count, total in rows:  # the same, without ranges
        if leaf_id not in leaf_ids:
            continue
        unit = found.get(unit_id)
        if unit is None:
            unit = found[unit_id] = {}
        view = PeerView(count, d[total]) if count else None
        unit[leaf_id] = LeafScores(d[own], d[verified], d[explained], d[final], view)
    return found


@cache
def statement_for(ranged: bool, units: bool, dialect: str):
    """The statement `aggregated` runs, built once (bound parameters: year_id, cluster_id, set_id and,
    with `units`, the expanding `units`): the tallies' unless every peer range is needed."""
    if ranged:  # the trimmed mean: every leaf's peer minimum and maximum, from the scores
        return aggregate(PARAMS, bindparam("set_id"), ranged=True, joined=dialect == "postgresql")
    return tallied(PARAMS, bindparam("set_id"), units=bindparam("units", expanding=True) if units else None)


def tallied(where: ClusterYear, set_id, *, units=None):
    """The aggregate from the score tallies (models/tallies.py): per (unit, criterion) each stage's points
    and the peer count and sum, as whole cents, grouping the cluster-year's tally rows (one per round,
    subject, criterion, stage and, but for peer reviews, author) instead of its scores. With `units`, those
    units' peer minimum and maximum come from their scores, joined in (a range cannot be kept by adding).

    The tallies hold what the submitted assessments' scores give, kept by triggers in the same transaction
    as every write, so this reads the same numbers as `aggregate`: tests/test_score_tallies.py compares
    them, and every test of the suite ends by checking the tallies against the scores."""
    t = ScoreTally
    scored = t.n > 0  # a tally of scores without points is no points (as max/sum of NULLs)
    peer = t.stage == "peer"
    tallies = (
        select(
            t.subject_unit_id.label("unit_id"),
            t.criterion_id.label("criterion_id"),
            *(func.max(t.cents).filter(t.stage == stage, scored).label(f"s_{stage}") for stage in STAGES),
            func.coalesce(func.sum(t.n).filter(peer), 0).label("n"),
            cast(func.sum(t.cents).filter(peer, scored), BigInteger).label("total"),
        )
        .where(t.round_id.in_(rounds(where, set_id)))
        .group_by(t.subject_unit_id, t.criterion_id)
    )
    if units is None:
        return tallies
    unit, criterion = Assessment.subject_unit_id, Score.criterion_id
    ranges = (
        select(
            unit.label("unit_id"),
            criterion.label("criterion_id"),
            func.min(Score.points).label("low"),
            func.max(Score.points).label("high"),
        )
        .select_from(Assessment)
        .join(Score, Score.assessment_id == Assessment.id)
        .where(*submitted(where, set_id), Assessment.stage == "peer", unit.in_(units))
        .group_by(unit, criterion)
        .subquery("ranges")
    )
    kept = tallies.subquery("tallies")
    return select(
        *kept.c,
        cents(ranges.c.low),
        cents(ranges.c.high),
    ).select_from(
        kept.outerjoin(ranges, (ranges.c.unit_id == kept.c.unit_id) & (ranges.c.criterion_id == kept.c.criterion_id))
    )


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
    """unit id → leaf id → LeafScores with each reviewer's points and the reasons, from the scores themselves."""
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
    found: dict[int, dict[int, LeafScores]] = {}
    for key in stages.keys() | reviewers.keys():
        given = stages.get(key, {})
        found.setdefault(key[0], {})[key[1]] = LeafScores(
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
