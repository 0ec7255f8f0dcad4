"""score tallies: each round, subject, criterion and stage's submitted points, kept by triggers

Revision ID: 9a4d2c6e1f70
Revises: 3c9e51d7a2b4
Create Date: 2026-12-07 19:00:00

The results read groups these rows instead of the scores (docs/reference/results.md, "Score tallies").
The table is filled from the submitted assessments' scores, then the triggers keep it.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9a4d2c6e1f70'
down_revision = '3c9e51d7a2b4'
branch_labels = None
depends_on = None

# The triggers as this revision made them, frozen here (the model module may change them later, with a
# migration of its own: tests/test_migrations.py compares the newest with models/tallies.py).
POSTGRESQL_CREATE = (
    """CREATE OR REPLACE FUNCTION score_tallies_score() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
UPDATE score_tallies SET n = n - CASE WHEN OLD.points IS NULL THEN 0 ELSE 1 END, cents = cents - COALESCE(CAST(round(OLD.points * 100) AS BIGINT), 0)
WHERE criterion_id = OLD.criterion_id
AND (round_id, subject_unit_id, stage, author_unit_id) = (
    SELECT a.round_id, a.subject_unit_id, a.stage, CASE WHEN a.stage = 'peer' THEN 0 ELSE a.author_unit_id END
    FROM assessments a WHERE a.id = OLD.assessment_id AND a.status = 'submitted')
AND EXISTS (SELECT 1 FROM scoring_rounds r WHERE r.id = score_tallies.round_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
INSERT INTO score_tallies (round_id, subject_unit_id, criterion_id, stage, author_unit_id, n, cents)
SELECT a.round_id, a.subject_unit_id, NEW.criterion_id, a.stage, CASE WHEN a.stage = 'peer' THEN 0 ELSE a.author_unit_id END, CASE WHEN NEW.points IS NULL THEN 0 ELSE 1 END, COALESCE(CAST(round(NEW.points * 100) AS BIGINT), 0)
FROM assessments a WHERE a.id = NEW.assessment_id AND a.status = 'submitted'
ON CONFLICT (round_id, subject_unit_id, criterion_id, stage, author_unit_id) DO UPDATE SET n = score_tallies.n + excluded.n, cents = score_tallies.cents + excluded.cents;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE FUNCTION score_tallies_assessment() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM scores WHERE assessment_id = OLD.id;
        RETURN OLD;
    END IF;
    IF OLD.status = 'submitted' THEN
PERFORM 1 FROM score_tallies
WHERE round_id = OLD.round_id AND subject_unit_id = OLD.subject_unit_id
AND stage = OLD.stage AND author_unit_id = CASE WHEN OLD.stage = 'peer' THEN 0 ELSE OLD.author_unit_id END
ORDER BY criterion_id FOR UPDATE;
UPDATE score_tallies SET
    n = n - (SELECT CASE WHEN s.points IS NULL THEN 0 ELSE 1 END FROM scores s
        WHERE s.assessment_id = OLD.id AND s.criterion_id = score_tallies.criterion_id),
    cents = cents - (SELECT COALESCE(CAST(round(s.points * 100) AS BIGINT), 0) FROM scores s
        WHERE s.assessment_id = OLD.id AND s.criterion_id = score_tallies.criterion_id)
WHERE round_id = OLD.round_id AND subject_unit_id = OLD.subject_unit_id
AND stage = OLD.stage AND author_unit_id = CASE WHEN OLD.stage = 'peer' THEN 0 ELSE OLD.author_unit_id END
AND criterion_id IN (SELECT criterion_id FROM scores WHERE assessment_id = OLD.id);
    END IF;
    IF NEW.status = 'submitted' THEN
INSERT INTO score_tallies (round_id, subject_unit_id, criterion_id, stage, author_unit_id, n, cents)
SELECT NEW.round_id, NEW.subject_unit_id, s.criterion_id, NEW.stage,
    CASE WHEN NEW.stage = 'peer' THEN 0 ELSE NEW.author_unit_id END, CASE WHEN s.points IS NULL THEN 0 ELSE 1 END, COALESCE(CAST(round(s.points * 100) AS BIGINT), 0)
FROM scores s WHERE s.assessment_id = NEW.id
ORDER BY s.criterion_id
ON CONFLICT (round_id, subject_unit_id, criterion_id, stage, author_unit_id) DO UPDATE SET n = score_tallies.n + excluded.n, cents = score_tallies.cents + excluded.cents;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    """CREATE TRIGGER score_tallies_score AFTER INSERT OR DELETE ON scores FOR EACH ROW EXECUTE FUNCTION score_tallies_score()""",
    """CREATE TRIGGER score_tallies_score_update AFTER UPDATE OF points, assessment_id, criterion_id ON scores FOR EACH ROW WHEN (OLD.points IS DISTINCT FROM NEW.points OR OLD.assessment_id <> NEW.assessment_id OR OLD.criterion_id <> NEW.criterion_id) EXECUTE FUNCTION score_tallies_score()""",
    """CREATE TRIGGER score_tallies_assessment AFTER UPDATE ON assessments FOR EACH ROW WHEN ((OLD.status = 'submitted' OR NEW.status = 'submitted') AND (OLD.status <> NEW.status OR OLD.round_id <> NEW.round_id OR OLD.subject_unit_id <> NEW.subject_unit_id OR OLD.author_unit_id <> NEW.author_unit_id OR OLD.stage <> NEW.stage)) EXECUTE FUNCTION score_tallies_assessment()""",
    """CREATE TRIGGER score_tallies_assessment_delete BEFORE DELETE ON assessments FOR EACH ROW WHEN (OLD.status = 'submitted') EXECUTE FUNCTION score_tallies_assessment()""",
)
POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS score_tallies_score ON scores",
    "DROP TRIGGER IF EXISTS score_tallies_score_update ON scores",
    "DROP TRIGGER IF EXISTS score_tallies_assessment ON assessments",
    "DROP TRIGGER IF EXISTS score_tallies_assessment_delete ON assessments",
    "DROP FUNCTION IF EXISTS score_tallies_score()",
    "DROP FUNCTION IF EXISTS score_tallies_assessment()",
)
SQLITE_CREATE = (
    """CREATE TRIGGER score_tallies_score_insert AFTER INSERT ON scores
WHEN (SELECT status FROM assessments WHERE id = NEW.assessment_id) = 'submitted'
BEGIN
INSERT INTO score_tallies (round_id, subject_unit_id, criterion_id, stage, author_unit_id, n, cents)
SELECT a.round_id, a.subject_unit_id, NEW.criterion_id, a.stage, CASE WHEN a.stage = 'peer' THEN 0 ELSE a.author_unit_id END, CASE WHEN NEW.points IS NULL THEN 0 ELSE 1 END, COALESCE(CAST(round(NEW.points * 100) AS BIGINT), 0)
FROM assessments a WHERE a.id = NEW.assessment_id AND a.status = 'submitted'
ON CONFLICT (round_id, subject_unit_id, criterion_id, stage, author_unit_id) DO UPDATE SET n = score_tallies.n + excluded.n, cents = score_tallies.cents + excluded.cents; END""",
    """CREATE TRIGGER score_tallies_score_update AFTER UPDATE OF points, assessment_id, criterion_id ON scores
WHEN OLD.points IS NOT NEW.points OR OLD.assessment_id <> NEW.assessment_id OR OLD.criterion_id <> NEW.criterion_id
BEGIN
UPDATE score_tallies SET n = n - CASE WHEN OLD.points IS NULL THEN 0 ELSE 1 END, cents = cents - COALESCE(CAST(round(OLD.points * 100) AS BIGINT), 0)
WHERE criterion_id = OLD.criterion_id
AND (round_id, subject_unit_id, stage, author_unit_id) = (
    SELECT a.round_id, a.subject_unit_id, a.stage, CASE WHEN a.stage = 'peer' THEN 0 ELSE a.author_unit_id END
    FROM assessments a WHERE a.id = OLD.assessment_id AND a.status = 'submitted')
AND EXISTS (SELECT 1 FROM scoring_rounds r WHERE r.id = score_tallies.round_id);
INSERT INTO score_tallies (round_id, subject_unit_id, criterion_id, stage, author_unit_id, n, cents)
SELECT a.round_id, a.subject_unit_id, NEW.criterion_id, a.stage, CASE WHEN a.stage = 'peer' THEN 0 ELSE a.author_unit_id END, CASE WHEN NEW.points IS NULL THEN 0 ELSE 1 END, COALESCE(CAST(round(NEW.points * 100) AS BIGINT), 0)
FROM assessments a WHERE a.id = NEW.assessment_id AND a.status = 'submitted'
ON CONFLICT (round_id, subject_unit_id, criterion_id, stage, author_unit_id) DO UPDATE SET n = score_tallies.n + excluded.n, cents = score_tallies.cents + excluded.cents; END""",
    """CREATE TRIGGER score_tallies_score_delete AFTER DELETE ON scores
WHEN (SELECT status FROM assessments WHERE id = OLD.assessment_id) = 'submitted'
BEGIN
UPDATE score_tallies SET n = n - CASE WHEN OLD.points IS NULL THEN 0 ELSE 1 END, cents = cents - COALESCE(CAST(round(OLD.points * 100) AS BIGINT), 0)
WHERE criterion_id = OLD.criterion_id
AND (round_id, subject_unit_id, stage, author_unit_id) = (
    SELECT a.round_id, a.subject_unit_id, a.stage, CASE WHEN a.stage = 'peer' THEN 0 ELSE a.author_unit_id END
    FROM assessments a WHERE a.id = OLD.assessment_id AND a.status = 'submitted')
AND EXISTS (SELECT 1 FROM scoring_rounds r WHERE r.id = score_tallies.round_id); END""",
    """CREATE TRIGGER score_tallies_assessment AFTER UPDATE ON assessments
WHEN (OLD.status = 'submitted' OR NEW.status = 'submitted') AND (OLD.status <> NEW.status OR OLD.round_id <> NEW.round_id OR OLD.subject_unit_id <> NEW.subject_unit_id OR OLD.author_unit_id <> NEW.author_unit_id OR OLD.stage <> NEW.stage)
BEGIN

UPDATE score_tallies SET
    n = n - (SELECT CASE WHEN s.points IS NULL THEN 0 ELSE 1 END FROM scores s
        WHERE s.assessment_id = OLD.id AND s.criterion_id = score_tallies.criterion_id),
    cents = cents - (SELECT COALESCE(CAST(round(s.points * 100) AS BIGINT), 0) FROM scores s
        WHERE s.assessment_id = OLD.id AND s.criterion_id = score_tallies.criterion_id)
WHERE round_id = OLD.round_id AND subject_unit_id = OLD.subject_unit_id
AND stage = OLD.stage AND author_unit_id = CASE WHEN OLD.stage = 'peer' THEN 0 ELSE OLD.author_unit_id END
AND criterion_id IN (SELECT criterion_id FROM scores WHERE assessment_id = OLD.id) AND OLD.status = 'submitted';

INSERT INTO score_tallies (round_id, subject_unit_id, criterion_id, stage, author_unit_id, n, cents)
SELECT NEW.round_id, NEW.subject_unit_id, s.criterion_id, NEW.stage,
    CASE WHEN NEW.stage = 'peer' THEN 0 ELSE NEW.author_unit_id END, CASE WHEN s.points IS NULL THEN 0 ELSE 1 END, COALESCE(CAST(round(s.points * 100) AS BIGINT), 0)
FROM scores s WHERE s.assessment_id = NEW.id
AND NEW.status = 'submitted' ORDER BY s.criterion_id
ON CONFLICT (round_id, subject_unit_id, criterion_id, stage, author_unit_id) DO UPDATE SET n = score_tallies.n + excluded.n, cents = score_tallies.cents + excluded.cents;
END""",
    """CREATE TRIGGER score_tallies_assessment_delete BEFORE DELETE ON assessments
WHEN OLD.status = 'submitted'
BEGIN DELETE FROM scores WHERE assessment_id = OLD.id; END""",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS score_tallies_score_insert",
    "DROP TRIGGER IF EXISTS score_tallies_score_update",
    "DROP TRIGGER IF EXISTS score_tallies_score_delete",
    "DROP TRIGGER IF EXISTS score_tallies_assessment",
    "DROP TRIGGER IF EXISTS score_tallies_assessment_delete",
)

TRIGGERS = {"postgresql": (POSTGRESQL_CREATE, POSTGRESQL_DROP), "sqlite": (SQLITE_CREATE, SQLITE_DROP)}

FILL = """
INSERT INTO score_tallies (round_id, subject_unit_id, criterion_id, stage, author_unit_id, n, cents)
SELECT a.round_id, a.subject_unit_id, s.criterion_id, a.stage,
    CASE WHEN a.stage = 'peer' THEN 0 ELSE a.author_unit_id END,
    count(s.points), COALESCE(sum(CAST(round(s.points * 100) AS BIGINT)), 0)
FROM assessments a JOIN scores s ON s.assessment_id = a.id
WHERE a.status = 'submitted'
GROUP BY a.round_id, a.subject_unit_id, s.criterion_id, a.stage,
    CASE WHEN a.stage = 'peer' THEN 0 ELSE a.author_unit_id END
"""


def upgrade():
    op.create_table(
        "score_tallies",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("subject_unit_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("criterion_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("author_unit_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["scoring_rounds.id"], name=op.f("fk_score_tallies_round_id_scoring_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "round_id", "subject_unit_id", "criterion_id", "stage", "author_unit_id", name=op.f("pk_score_tallies")
        ),
    )
    op.execute(FILL)
    for statement in TRIGGERS[op.get_bind().dialect.name][0]:
        op.execute(statement)


def downgrade():
    for statement in TRIGGERS[op.get_bind().dialect.name][1]:
        op.execute(statement)
    op.drop_table("score_tallies")
