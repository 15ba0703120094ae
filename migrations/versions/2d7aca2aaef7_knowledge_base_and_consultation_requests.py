"""knowledge base and consultation requests

Revision ID: 2d7aca2aaef7
Revises: 
"""

from alembic import op
import sqlalchemy as sa


revision = '2d7aca2aaef7'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('consultation_requests',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('contact', sa.String(length=254), nullable=False),
    sa.Column('contact_kind', sa.String(length=8), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('recommendation', sa.Text(), nullable=True),
    sa.Column('consented_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consultation_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_requests_conversation_id'), ['conversation_id'], unique=False)

    op.create_table('kb_content_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('kb_source_paragraphs',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('document', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('kb_topics',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('short_answer', sa.Text(), nullable=False),
    sa.Column('long_answer', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('kb_citations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('topic_id', sa.String(length=64), nullable=False),
    sa.Column('paragraph_id', sa.String(length=16), nullable=False),
    sa.Column('quote', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['paragraph_id'], ['kb_source_paragraphs.id'], ),
    sa.ForeignKeyConstraint(['topic_id'], ['kb_topics.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('kb_citations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_citations_topic_id'), ['topic_id'], unique=False)

    op.create_table('kb_topic_relations',
    sa.Column('topic_id', sa.String(length=64), nullable=False),
    sa.Column('related_topic_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['related_topic_id'], ['kb_topics.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['kb_topics.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('topic_id', 'related_topic_id')
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('kb_topic_relations')
    with op.batch_alter_table('kb_citations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_citations_topic_id'))

    op.drop_table('kb_citations')
    op.drop_table('kb_topics')
    op.drop_table('kb_source_paragraphs')
    op.drop_table('kb_content_version')
    with op.batch_alter_table('consultation_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_requests_conversation_id'))

    op.drop_table('consultation_requests')
