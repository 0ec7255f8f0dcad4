"""The score tallies (models/tallies.py) worked out from the scores: to rebuild them, or to check them.

The triggers keep the tallies in step with every write; this module is what proves it and what
repairs a database whose tallies were bypassed (rows copied with triggers off: the benchmark's
COPY, a restore of a backup taken before the tallies existed). `flask results tallies` runs both.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Integer, case, cast, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from portal.models import Assessment, Score, ScoreTally
from portal.models.tallies import PEER_AUTHOR

KEY = ("round_id", "subject_unit_id", "criterion_id", "stage", "author_unit_id")


def expected(round_ids=None):
    """The tallies as the scores give them, grouped per key (a SELECT of KEY, n, cents); the rounds
    `round_ids` only, when given."""
    author = case((Assessment.stage == "peer", literal(PEER_AUTHOR)), else_=Assessment.author_unit_id)
    statement = (
        select(
            Assessment.round_id,
            Assessment.subject_unit_id,
            Score.criterion_id,
            Assessment.stage,
            author.label("author_unit_id"),
            cast(func.count(Score.points), Integer).label("n"),
            cast(func.coalesce(func.sum(cast(func.round(Score.points * 100), BigInteger)), 0), BigInteger).label(
                "cents"
            ),
        )
        .join(Score, Score.assessment_id == Assessment.id)
        .where(Assessment.status == "submitted")
        .group_by(Assessment.round_id, Assessment.subject_unit_id, Score.criterion_id, Assessment.stage, author)
    )
    if round_ids is not None:
        statement = statement.where(Assessment.round_id.in_(round_ids))
    return statement


def rebuild(session: Session, round_ids=None) -> int:
    """Replace the tallies (of `round_ids`, or all) with what the scores give; the rows written."""
    cleared = delete(ScoreTally)
    if round_ids is not None:
        cleared = cleared.where(ScoreTally.round_id.in_(round_ids))
    session.execute(cleared)
    result = session.execute(insert(ScoreTally).from_select(list(KEY) + ["n", "cents"], expected(round_ids)))
    return result.rowcount


@dataclass(frozen=True)
class Drift:
    key: tuple
    kept: tuple[int, int] | None  # (n, cents) in the tallies; None: no row
    computed: tuple[int, int] | None  # from the scores; None: no score


def drift(session: Session, round_ids=None) -> list[Drift]:
    """Every key whose tally differs from what the scores give (a row of n = 0 and no scores agrees)."""
    kept_query = select(ScoreTally.__table__)
    if round_ids is not None:
        kept_query = kept_query.where(ScoreTally.round_id.in_(round_ids))
    kept = {tuple(row[:5]): (row.n, row.cents) for row in session.execute(kept_query)}
    computed = {tuple(row[:5]): (row.n, row.cents) for row in session.execute(expected(round_ids))}
    found = []
    for key in sorted(kept.keys() | computed.keys(), key=lambda k: tuple(str(part) for part in k)):
        mine, theirs = kept.get(key), computed.get(key)
        if (mine or (0, 0)) != (theirs or (0, 0)):
            found.append(Drift(key, mine, theirs))
    return found
