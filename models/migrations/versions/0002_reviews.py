"""reviews: one row per review cycle of a plan in force (annual review, PfA, phase transfer)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 03:09:38.327715
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('setting', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('anchor_on', sa.Date(), nullable=False),
    sa.Column('annual_due_on', sa.Date(), nullable=False),
    sa.Column('meeting_latest_on', sa.Date(), nullable=False),
    sa.Column('meeting_by_on', sa.Date(), nullable=False),
    sa.Column('early_years', sa.Boolean(), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('meeting_on', sa.Date(), nullable=True),
    sa.Column('meeting_held', sa.Boolean(), nullable=False),
    sa.Column('pfa_required', sa.Boolean(), nullable=False),
    sa.Column('pfa_employment', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('pfa_independent_living', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('pfa_community', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('pfa_health', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('report_on', sa.Date(), nullable=True),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('amendment_notice_on', sa.Date(), nullable=True),
    sa.Column('representations_close_on', sa.Date(), nullable=True),
    sa.Column('amended_final_due_on', sa.Date(), nullable=True),
    sa.Column('amended_final_latest_on', sa.Date(), nullable=True),
    sa.Column('amended_final_on', sa.Date(), nullable=True),
    sa.Column('phase_transfer', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('transfer_on', sa.Date(), nullable=True),
    sa.Column('transfer_due_on', sa.Date(), nullable=True),
    sa.Column('next_setting', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('flow_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('seen_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'cycle', name='uq_review_case_cycle')
    )
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_review_status_meeting_by', ['status', 'meeting_by_on'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_index('ix_review_status_meeting_by')
        batch_op.drop_index(batch_op.f('ix_review_case_id'))

    op.drop_table('review')
