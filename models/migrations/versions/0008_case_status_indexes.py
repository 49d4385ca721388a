"""step, review: an index on (case_id, status) in place of the one on case_id

A case's open steps (or open review) were read through the index on (status, …) where a query also named the
status: SQLite, without statistics, chose it, and read every open step of every case to find one case's (at a
large council's size, tens of milliseconds a query). The new index leads with the case and serves every query the
old one did.

Revision ID: 0008_case_status_indexes
Revises: 0007_review_version
"""

from alembic import op

revision = '0008_case_status_indexes'
down_revision = '0007_review_version'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('step', 'review'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f'ix_{table}_case_status', ['case_id', 'status'], unique=False)
            batch_op.drop_index(f'ix_{table}_case_id')


def downgrade() -> None:
    for table in ('step', 'review'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f'ix_{table}_case_id', ['case_id'], unique=False)
            batch_op.drop_index(f'ix_{table}_case_status')
