"""hand-over outbox, request state, staff console

Revision ID: 4ed23c87f667
Revises: 2d7aca2aaef7
"""

from alembic import op
import sqlalchemy as sa


revision = '4ed23c87f667'
down_revision = '2d7aca2aaef7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('staff_email', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('staff_login_failures',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staff_login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_login_failures_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_login_failures_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_login_failures_email'), ['email'], unique=False)

    op.create_table('staff_users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('handover_deliveries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['consultation_requests.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('handover_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_deliveries_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_handover_deliveries_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handover_deliveries_state'), ['state'], unique=False)

    op.create_table('staff_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['staff_users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_sessions_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('consultation_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('other_party', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('state', sa.String(length=16), server_default='new', nullable=False))
        batch_op.add_column(sa.Column('state_note', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('state_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('state_changed_by', sa.String(length=254), nullable=True))
        batch_op.create_index(batch_op.f('ix_consultation_requests_state'), ['state'], unique=False)



def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('consultation_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_requests_state'))
        batch_op.drop_column('state_changed_by')
        batch_op.drop_column('state_changed_at')
        batch_op.drop_column('state_note')
        batch_op.drop_column('state')
        batch_op.drop_column('other_party')

    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_sessions_user_id'))

    op.drop_table('staff_sessions')
    with op.batch_alter_table('handover_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_deliveries_state'))
        batch_op.drop_index(batch_op.f('ix_handover_deliveries_request_id'))
        batch_op.drop_index(batch_op.f('ix_handover_deliveries_next_attempt_at'))

    op.drop_table('handover_deliveries')
    op.drop_table('staff_users')
    with op.batch_alter_table('staff_login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_login_failures_email'))
        batch_op.drop_index(batch_op.f('ix_staff_login_failures_at'))
        batch_op.drop_index(batch_op.f('ix_staff_login_failures_address'))

    op.drop_table('staff_login_failures')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
