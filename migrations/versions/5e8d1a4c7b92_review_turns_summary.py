"""review inbox summary of the tracker store's events

Revision ID: 5e8d1a4c7b92
Revises: b5d1e8a3c4f2
"""

from alembic import op
import sqlalchemy as sa


revision = '5e8d1a4c7b92'
down_revision = 'b5d1e8a3c4f2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('review_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('review_turns',
    sa.Column('event_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('guesses', sa.Text(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('reply', sa.Text(), nullable=False),
    sa.Column('reply_kind', sa.String(length=16), nullable=False),
    sa.Column('unhandled', sa.String(length=16), nullable=True),
    sa.Column('had_fallback', sa.Boolean(), nullable=False),
    sa.Column('handoff', sa.Boolean(), nullable=False),
    sa.Column('after_fallback', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('review_turns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_turns_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_turns_conversation_id'), ['conversation_id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('review_turns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_turns_conversation_id'))
        batch_op.drop_index(batch_op.f('ix_review_turns_at'))
    op.drop_table('review_turns')
    op.drop_table('review_state')
