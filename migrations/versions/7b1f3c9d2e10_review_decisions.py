"""review inbox decisions

Revision ID: 7b1f3c9d2e10
Revises: 4ed23c87f667
"""

from alembic import op
import sqlalchemy as sa


revision = '7b1f3c9d2e10'
down_revision = '4ed23c87f667'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('review_decisions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('intent', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('staff_email', sa.String(length=254), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('undone_by', sa.String(length=254), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('review_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_decisions_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_decisions_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_decisions_decided_at'), ['decided_at'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('review_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_decisions_decided_at'))
        batch_op.drop_index(batch_op.f('ix_review_decisions_event_id'))
        batch_op.drop_index(batch_op.f('ix_review_decisions_conversation_id'))
    op.drop_table('review_decisions')
