"""Score tallies: each (round, subject unit, criterion, stage)'s submitted points, kept by the database.

A tally row holds, for the submitted assessments of one round, one subject unit, one stage and one
criterion, how many of their scores carry points (`n`) and the sum of those points in whole cents
(`cents`). Peer reviews of a subject share one row (author 0): the count and sum the peer basis
needs. Every other stage has one row per author, so the highest of several (one is the rule) is
still a MAX at read time, exactly as from the scores themselves.

The results read (services/results/read_scores.py) groups these rows instead of the scores: a
cluster-year of 25 units × 60 criteria with all-pairs review holds 40 500 scores but about 6 000
tally rows. The peer range (minimum, maximum) cannot be kept by adding and subtracting, so the
trimmed mean and the withholding units' range still read the scores.

Triggers keep the rows right, in the same transaction as the change, whatever wrote it (the
portal's services, a restore, an import, SQL by hand):

- a score inserted, deleted, or its points (or assessment, or criterion) changed, while its
  assessment is submitted: its old contribution subtracted, its new one added;
- an assessment becoming submitted adds all its scores; leaving that status (returned to the
  unit, reopened) subtracts them; its round, subject, author or stage changed while submitted
  moves them;
- an assessment deleted while submitted deletes its scores first (each score's trigger subtracts
  it), so the cascade finds none;
- a round deleted takes its tally rows with it (ON DELETE CASCADE).

Adding is an UPSERT (`n = n + excluded.n`): concurrent submissions of reviews of the same subject
each add their part to the row they lock, in criterion order (a return locks them in that order too
before subtracting: no deadlock). Subtracting is an UPDATE only, never an insert, so a
deletion that has already removed the tally rows (a round's cascade) finds nothing to do.
`services/results/tallies.py` rebuilds them from the scores and finds any row that differs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import DDL, BigInteger, ForeignKey, Integer, MetaData, String, event
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db

PEER_AUTHOR = 0  # peer reviews of one subject share a tally row


class ScoreTally(db.Model):
    """Submitted points per (round, subject unit, criterion, stage, author): derived, kept by triggers."""

    __tablename__ = "score_tallies"
    __table_args__ = {"info": {"derived": True}}  # rebuilt from scores, never backed up or restored

    round_id: Mapped[int] = mapped_column(ForeignKey("scoring_rounds.id", ondelete="CASCADE"), primary_key=True)
    subject_unit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    criterion_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    author_unit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # PEER_AUTHOR
    n: Mapped[int] = mapped_column(Integer, default=0)  # scores with points
    cents: Mapped[int] = mapped_column(BigInteger, default=0)  # their sum, in whole cents


KEY = "round_id, subject_unit_id, criterion_id, stage, author_unit_id"


def _author(row: str) -> str:
    return f"CASE WHEN {row}.stage = 'peer' THEN {PEER_AUTHOR} ELSE {row}.author_unit_id END"


def _counted(row: str) -> str:
    return f"CASE WHEN {row}.points IS NULL THEN 0 ELSE 1 END"


def _cents(row: str) -> str:
    return f"COALESCE(CAST(round({row}.points * 100) AS BIGINT), 0)"


UPSERT = (
    f"ON CONFLICT ({KEY}) DO UPDATE SET n = score_tallies.n + excluded.n, cents = score_tallies.cents + excluded.cents"
)


def add_score(score: str) -> str:
    """Add score row `score` (NEW) to its tally, if its assessment is submitted."""
    return f"""
INSERT INTO score_tallies ({KEY}, n, cents)
SELECT a.round_id, a.subject_unit_id, {score}.criterion_id, a.stage, {_author("a")}, {_counted(score)}, {_cents(score)}
FROM assessments a WHERE a.id = {score}.assessment_id AND a.status = 'submitted'
{UPSERT}"""


def subtract_score(score: str) -> str:
    """Subtract score row `score` (OLD) from its tally, if its assessment is (still) there and submitted,
    and its round too: a round's deletion cascades to its tallies and its assessments (which delete their
    scores), and PostgreSQL checks the foreign key of a tally row updated after its round is gone."""
    return f"""
UPDATE score_tallies SET n = n - {_counted(score)}, cents = cents - {_cents(score)}
WHERE criterion_id = {score}.criterion_id
AND (round_id, subject_unit_id, stage, author_unit_id) = (
    SELECT a.round_id, a.subject_unit_id, a.stage, {_author("a")}
    FROM assessments a WHERE a.id = {score}.assessment_id AND a.status = 'submitted')
AND EXISTS (SELECT 1 FROM scoring_rounds r WHERE r.id = score_tallies.round_id)"""


def add_assessment(assessment: str) -> str:
    """Add every score of assessment row `assessment` (NEW), in criterion order (the rows' lock order)."""
    return f"""
INSERT INTO score_tallies ({KEY}, n, cents)
SELECT {assessment}.round_id, {assessment}.subject_unit_id, s.criterion_id, {assessment}.stage,
    {_author(assessment)}, {_counted("s")}, {_cents("s")}
FROM scores s WHERE s.assessment_id = {assessment}.id
ORDER BY s.criterion_id
{UPSERT}"""


def subtract_assessment(assessment: str) -> str:
    """Subtract every score of assessment row `assessment` (OLD) from its tallies."""
    return f"""
UPDATE score_tallies SET
    n = n - (SELECT {_counted("s")} FROM scores s
        WHERE s.assessment_id = {assessment}.id AND s.criterion_id = score_tallies.criterion_id),
    cents = cents - (SELECT {_cents("s")} FROM scores s
        WHERE s.assessment_id = {assessment}.id AND s.criterion_id = score_tallies.criterion_id)
WHERE round_id = {assessment}.round_id AND subject_unit_id = {assessment}.subject_unit_id
AND stage = {assessment}.stage AND author_unit_id = {_author(assessment)}
AND criterion_id IN (SELECT criterion_id FROM scores WHERE assessment_id = {assessment}.id)"""


def lock_assessment(assessment: str) -> str:
    """PostgreSQL: lock the tally rows of assessment row `assessment` (OLD) in criterion order, as adding
    does, before subtracting (an UPDATE's own order follows its plan): no deadlock with a submission."""
    return f"""
PERFORM 1 FROM score_tallies
WHERE round_id = {assessment}.round_id AND subject_unit_id = {assessment}.subject_unit_id
AND stage = {assessment}.stage AND author_unit_id = {_author(assessment)}
ORDER BY criterion_id FOR UPDATE"""


SCORE_MOVED = (
    "OLD.points IS DISTINCT FROM NEW.points OR OLD.assessment_id <> NEW.assessment_id "
    "OR OLD.criterion_id <> NEW.criterion_id"
)
ASSESSMENT_MOVED = (
    "(OLD.status = 'submitted' OR NEW.status = 'submitted') AND (OLD.status <> NEW.status "
    "OR OLD.round_id <> NEW.round_id OR OLD.subject_unit_id <> NEW.subject_unit_id "
    "OR OLD.author_unit_id <> NEW.author_unit_id OR OLD.stage <> NEW.stage)"
)
SUBMITTED_SCORE = "(SELECT status FROM assessments WHERE id = {row}.assessment_id) = 'submitted'"


@dataclass(frozen=True)
class Triggers:
    create: tuple[str, ...]
    drop: tuple[str, ...]


POSTGRESQL = Triggers(
    create=(
        f"""
CREATE OR REPLACE FUNCTION score_tallies_score() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN {subtract_score("OLD")};
    END IF;
    IF TG_OP <> 'DELETE' THEN {add_score("NEW")};
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql""",
        f"""
CREATE OR REPLACE FUNCTION score_tallies_assessment() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM scores WHERE assessment_id = OLD.id;
        RETURN OLD;
    END IF;
    IF OLD.status = 'submitted' THEN {lock_assessment("OLD")}; {subtract_assessment("OLD")};
    END IF;
    IF NEW.status = 'submitted' THEN {add_assessment("NEW")};
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql""",
        "CREATE TRIGGER score_tallies_score AFTER INSERT OR DELETE ON scores "
        "FOR EACH ROW EXECUTE FUNCTION score_tallies_score()",
        "CREATE TRIGGER score_tallies_score_update AFTER UPDATE OF points, assessment_id, criterion_id ON scores "
        f"FOR EACH ROW WHEN ({SCORE_MOVED}) EXECUTE FUNCTION score_tallies_score()",
        "CREATE TRIGGER score_tallies_assessment AFTER UPDATE ON assessments "
        f"FOR EACH ROW WHEN ({ASSESSMENT_MOVED}) EXECUTE FUNCTION score_tallies_assessment()",
        "CREATE TRIGGER score_tallies_assessment_delete BEFORE DELETE ON assessments "
        "FOR EACH ROW WHEN (OLD.status = 'submitted') EXECUTE FUNCTION score_tallies_assessment()",
    ),
    drop=(
        "DROP TRIGGER IF EXISTS score_tallies_score ON scores",
        "DROP TRIGGER IF EXISTS score_tallies_score_update ON scores",
        "DROP TRIGGER IF EXISTS score_tallies_assessment ON assessments",
        "DROP TRIGGER IF EXISTS score_tallies_assessment_delete ON assessments",
        "DROP FUNCTION IF EXISTS score_tallies_score()",
        "DROP FUNCTION IF EXISTS score_tallies_assessment()",
    ),
)

SQLITE = Triggers(
    create=(
        f"""
CREATE TRIGGER score_tallies_score_insert AFTER INSERT ON scores
WHEN {SUBMITTED_SCORE.format(row="NEW")}
BEGIN {add_score("NEW")}; END""",
        f"""
CREATE TRIGGER score_tallies_score_update AFTER UPDATE OF points, assessment_id, criterion_id ON scores
WHEN {SCORE_MOVED.replace("IS DISTINCT FROM", "IS NOT")}
BEGIN {subtract_score("OLD")}; {add_score("NEW")}; END""",
        f"""
CREATE TRIGGER score_tallies_score_delete AFTER DELETE ON scores
WHEN {SUBMITTED_SCORE.format(row="OLD")}
BEGIN {subtract_score("OLD")}; END""",
        f"""
CREATE TRIGGER score_tallies_assessment AFTER UPDATE ON assessments
WHEN {ASSESSMENT_MOVED}
BEGIN
{subtract_assessment("OLD")} AND OLD.status = 'submitted';
{add_assessment("NEW").replace("ORDER BY", "AND NEW.status = 'submitted' ORDER BY")};
END""",
        """
CREATE TRIGGER score_tallies_assessment_delete BEFORE DELETE ON assessments
WHEN OLD.status = 'submitted'
BEGIN DELETE FROM scores WHERE assessment_id = OLD.id; END""",
    ),
    drop=(
        "DROP TRIGGER IF EXISTS score_tallies_score_insert",
        "DROP TRIGGER IF EXISTS score_tallies_score_update",
        "DROP TRIGGER IF EXISTS score_tallies_score_delete",
        "DROP TRIGGER IF EXISTS score_tallies_assessment",
        "DROP TRIGGER IF EXISTS score_tallies_assessment_delete",
    ),
)


def triggers(dialect: str) -> Triggers:
    return POSTGRESQL if dialect == "postgresql" else SQLITE


def attach(metadata: MetaData) -> None:
    """Create the triggers with the tables (metadata.create_all): after every table exists. create_all
    runs this even when the tables were there already (it then creates none), so the triggers are
    dropped first: made anew, never twice."""
    for dialect, made in (("postgresql", POSTGRESQL), ("sqlite", SQLITE)):
        for statement in (*made.drop, *made.create):
            event.listen(metadata, "after_create", DDL(statement).execute_if(dialect=dialect))


attach(db.metadata)
