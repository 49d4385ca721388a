"""people: the people of a case, the named caseworker, settings by URN, the cannot_notify queue, letters

Revision ID: 0004_people
Revises: 0002 (to be 0003_child_name_key once that migration is merged before this one)
Create Date: 2026-12-01 09:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0004_people'
down_revision = '0003'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('role', S(), nullable=False),
    sa.Column('name', S(), nullable=False),
    sa.Column('email', S(), nullable=True),
    sa.Column('address', S(), nullable=True),
    sa.Column('postcode', S(), nullable=True),
    sa.Column('phone', S(), nullable=True),
    sa.Column('prefers', S(), nullable=False),
    sa.Column('language', S(), nullable=True),
    sa.Column('interpreter', sa.Boolean(), nullable=False),
    sa.Column('easy_read', sa.Boolean(), nullable=False),
    sa.Column('large_print', sa.Boolean(), nullable=False),
    sa.Column('lacks_capacity', sa.Boolean(), nullable=False),
    sa.Column('parent_acts', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_case_id'), ['case_id'], unique=False)

    op.create_table('setting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('urn', sa.Integer(), nullable=False),
    sa.Column('name', S(), nullable=False),
    sa.Column('type', S(), nullable=False),
    sa.Column('phase', S(), nullable=False),
    sa.Column('la_code', S(), nullable=False),
    sa.Column('postcode', S(), nullable=True),
    sa.Column('senco_contact_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['senco_contact_id'], ['contact.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('setting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_setting_urn'), ['urn'], unique=True)

    op.create_table('cannot_notify',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', S(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('step_id', sa.Integer(), nullable=True),
    sa.Column('kind', S(), nullable=False),
    sa.Column('recipient_role', S(), nullable=False),
    sa.Column('reason', S(), nullable=False),
    sa.Column('caseworker_email', S(), nullable=True),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', S(), nullable=True),
    sa.Column('resolution_note', S(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['step_id'], ['step.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('cannot_notify', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cannot_notify_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cannot_notify_caseworker_email'), ['caseworker_email'], unique=False)

    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('caseworker_email', S(), nullable=True))
        batch_op.add_column(sa.Column('current_setting_urn', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('requested_setting_urn', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_case_caseworker_email'), ['caseworker_email'], unique=False)

    with op.batch_alter_table('notification_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', S(), nullable=False, server_default='email'))
        batch_op.add_column(sa.Column('postal_address', S(), nullable=True))
        batch_op.alter_column('recipient_email', existing_type=S(), nullable=True)

    # the family's address moves to `person`: no command ever wrote child.family_email
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.drop_column('family_email')


def downgrade() -> None:
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.add_column(sa.Column('family_email', S(), nullable=True))
    with op.batch_alter_table('notification_outbox', schema=None) as batch_op:
        batch_op.alter_column('recipient_email', existing_type=S(), nullable=False)
        batch_op.drop_column('postal_address')
        batch_op.drop_column('channel')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_caseworker_email'))
        batch_op.drop_column('requested_setting_urn')
        batch_op.drop_column('current_setting_urn')
        batch_op.drop_column('caseworker_email')
    op.drop_table('cannot_notify')
    op.drop_table('setting')
    op.drop_table('person')
