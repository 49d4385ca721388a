"""sen2: persons, requests and placements of an SEN2 return

Revision ID: 0006_sen2
Revises: 0005_disagreement (in the sen2 branch: 0002, its newest revision; repoint at merge)
Create Date: 2026-12-01 09:23:33.856084
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0006_sen2'
down_revision = '0005_disagreement'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sen2_return',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('reference_date', sa.Date(), nullable=True),
    sa.Column('lea', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('dmo', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('dco', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('software_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('release', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('persons', sa.Integer(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('sen2_person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('surname', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('forename', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('sex', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('ethnicity', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('postcode', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('upn', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('uln', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('upn_unknown', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['child.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_key')
    )
    with op.batch_alter_table('sen2_person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sen2_person_child_id'), ['child_id'], unique=False)

    op.create_table('placement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('part', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('urn', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('ukprn', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('setting_type', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('setting_other', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('entry_on', sa.Date(), nullable=True),
    sa.Column('leaving_on', sa.Date(), nullable=True),
    sa.Column('sen_unit', sa.Boolean(), nullable=False),
    sa.Column('resourced_provision', sa.Boolean(), nullable=False),
    sa.Column('res', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('wbp', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('placement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_placement_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_placement_urn'), ['urn'], unique=False)

    op.create_table('sen2_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('sen2_person_id', sa.Integer(), nullable=False),
    sa.Column('request_key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=True),
    sa.Column('rya', sa.Boolean(), nullable=True),
    sa.Column('request_outcome_on', sa.Date(), nullable=True),
    sa.Column('request_outcome', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('request_mediation', sa.Boolean(), nullable=True),
    sa.Column('request_tribunal', sa.Boolean(), nullable=True),
    sa.Column('exported', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('has_assessment', sa.Boolean(), nullable=False),
    sa.Column('assessment_outcome', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('assessment_outcome_on', sa.Date(), nullable=True),
    sa.Column('assessment_mediation', sa.Boolean(), nullable=True),
    sa.Column('assessment_tribunal', sa.Boolean(), nullable=True),
    sa.Column('other_mediation', sa.Boolean(), nullable=True),
    sa.Column('other_tribunal', sa.Boolean(), nullable=True),
    sa.Column('week20', sa.Boolean(), nullable=True),
    sa.Column('has_named_plan', sa.Boolean(), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=True),
    sa.Column('plan_res', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('plan_wbp', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('pb', sa.Boolean(), nullable=True),
    sa.Column('oa', sa.Boolean(), nullable=True),
    sa.Column('dp', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('cease_on', sa.Date(), nullable=True),
    sa.Column('cease_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('has_active_plans', sa.Boolean(), nullable=False),
    sa.Column('transfer_la', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('sen_needs', sa.JSON(), nullable=False),
    sa.Column('review_meeting_on', sa.Date(), nullable=True),
    sa.Column('review_outcome', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('last_review_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['sen2_person_id'], ['sen2_person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id'),
    sa.UniqueConstraint('sen2_person_id', 'request_key', name='uq_sen2_request_person_key')
    )
    with op.batch_alter_table('sen2_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sen2_request_sen2_person_id'), ['sen2_person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sen2_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sen2_request_sen2_person_id'))

    op.drop_table('sen2_request')
    with op.batch_alter_table('placement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_placement_urn'))
        batch_op.drop_index(batch_op.f('ix_placement_case_id'))

    op.drop_table('placement')
    with op.batch_alter_table('sen2_person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sen2_person_child_id'))

    op.drop_table('sen2_person')
    op.drop_table('sen2_return')
