"""audit entries append-only on PostgreSQL (trigger)

Revision ID: 5e1f0c2a7d31
Revises: aacdccbf4cb2
Create Date: 2026-11-24 08:50:00

"""
from alembic import op

from portal.models.audit import APPEND_ONLY_FUNCTION, APPEND_ONLY_TRIGGER, DROP_APPEND_ONLY

# revision identifiers, used by Alembic.
revision = '5e1f0c2a7d31'
down_revision = 'aacdccbf4cb2'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: the application never updates or deletes entries; the hash chain detects it
    op.execute(APPEND_ONLY_FUNCTION)
    op.execute(APPEND_ONLY_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in DROP_APPEND_ONLY:
        op.execute(statement)
