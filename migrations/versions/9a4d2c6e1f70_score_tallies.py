"""score tallies: each round, subject, criterion and stage's submitted points, kept by triggers

Revision ID: 9a4d2c6e1f70
Revises: 3c9e51d7a2b4
Create Date: 2026-12-07 19:00:00

The results read groups these rows instead of the scores (docs/reference/results.md, "Score tallies").
The table is filled from the submitted assessments' scores, then the triggers keep it.
"""
import sqlalchemy as sa
from alembic import op

from portal.models.tallies import triggers

# revision identifiers, used by Alembic.
revision = '9a4d2c6e1f70'
down_revision = '3c9e51d7a2b4'
branch_labels = None
depends_on = None

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
    for statement in triggers(op.get_bind().dialect.name).create:
        op.execute(statement)


def downgrade():
    for statement in triggers(op.get_bind().dialect.name).drop:
        op.execute(statement)
    op.drop_table("score_tallies")
