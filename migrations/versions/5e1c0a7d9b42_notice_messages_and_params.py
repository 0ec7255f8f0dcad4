"""notices: catalogue entry and values beside the text; the results-corrected kind

Revision ID: 5e1c0a7d9b42
Revises: 07f1baa53109
Create Date: 2026-12-07 07:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1c0a7d9b42'
down_revision = '07f1baa53109'
branch_labels = None
depends_on = None

KINDS = (
    "'criteria_published', 'pledge_to_sign', 'pledge_to_resign', 'round_opened', 'deadline_near', "
    "'verification_sent', 'explanation_received', 'review_assigned', 'vote_opened', 'results_published', "
)


def upgrade():
    # Older rows keep only their Vietnamese text (message and params stay NULL): the pages show the text then.
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))
        batch_op.drop_constraint(op.f('ck_notifications_kind'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_notifications_kind'), f"kind IN ({KINDS}'results_corrected', 'council_decided')"
        )


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind = 'results_corrected'")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notifications_kind'), f"kind IN ({KINDS}'council_decided')")
        batch_op.drop_column('params')
        batch_op.drop_column('message')
