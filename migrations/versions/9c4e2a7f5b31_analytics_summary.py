"""analytics summary of the tracker store's events

Revision ID: 9c4e2a7f5b31
Revises: 7b1f3c9d2e10
"""

from alembic import op
import sqlalchemy as sa


revision = '9c4e2a7f5b31'
down_revision = '7b1f3c9d2e10'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('analytics_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('analytics_turns',
    sa.Column('event_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('intent', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=True),
    sa.Column('handover_offered', sa.Boolean(), nullable=False),
    sa.Column('form_started', sa.Boolean(), nullable=False),
    sa.Column('process', sa.String(length=32), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('analytics_turns', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_turns_day_channel', ['day', 'channel'], unique=False)
        batch_op.create_index(batch_op.f('ix_analytics_turns_conversation_id'), ['conversation_id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('analytics_turns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analytics_turns_conversation_id'))
        batch_op.drop_index('ix_analytics_turns_day_channel')
    op.drop_table('analytics_turns')
    op.drop_table('analytics_state')
