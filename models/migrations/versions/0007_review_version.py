"""review: drop `version` and `seen_version`, written but never read since the runs wait on the store itself

Revision ID: 0007_review_version
Revises: 0006_sen2
"""

import sqlalchemy as sa
from alembic import op

revision = '0007_review_version'
down_revision = '0006_sen2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_column('seen_version')
        batch_op.drop_column('version')


def downgrade() -> None:
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('seen_version', sa.Integer(), nullable=False, server_default='-1'))
