"""consultation requests remember the user message that confirmed them (stored once per message)

Revision ID: b5d1e8a3c4f2
Revises: 9c4e2a7f5b31
"""

from alembic import op
import sqlalchemy as sa


revision = 'b5d1e8a3c4f2'
down_revision = '9c4e2a7f5b31'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('consultation_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=128), nullable=True))
        batch_op.create_index('ix_consultation_requests_message', ['conversation_id', 'message_id'], unique=True)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('consultation_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_consultation_requests_message')
        batch_op.drop_column('message_id')
