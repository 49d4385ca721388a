"""one open case per child: child.name_key (the name as a caseworker compares it), unique with the date of birth;
at most one case of a child not closed

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 08:40:00.000000

Existing rows: each child gets its key; children with the same key and date of birth (two rows made by a race,
or "Probe  child" after "Probe Child") become one, the oldest, which takes the others' cases. If a child then has
two cases not closed, the upgrade stops naming them: a caseworker must close the duplicate first.
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

child = sa.table('child', sa.column('id', sa.Integer), sa.column('name', sa.String),
                 sa.column('name_key', sa.String), sa.column('date_of_birth', sa.Date),
                 sa.column('family_email', sa.String))
case = sa.table('case', sa.column('id', sa.Integer), sa.column('reference', sa.String),
                sa.column('child_id', sa.Integer), sa.column('status', sa.String))


def name_key(name: str) -> str:
    """As models.cases.name_key on the day of this migration (a migration never imports the models)."""
    return " ".join(unicodedata.normalize("NFC", name).split()).casefold()


def _fill_and_merge(conn) -> None:
    kept: dict[tuple, dict] = {}
    for row in conn.execute(sa.select(child.c.id, child.c.name, child.c.date_of_birth, child.c.family_email)
                            .order_by(child.c.id)).mappings():
        key = name_key(row['name'])
        conn.execute(child.update().where(child.c.id == row['id']).values(name_key=key))
        first = kept.setdefault((key, row['date_of_birth']), dict(row))
        if first['id'] == row['id']:
            continue
        conn.execute(case.update().where(case.c.child_id == row['id']).values(child_id=first['id']))
        if first['family_email'] is None and row['family_email'] is not None:
            conn.execute(child.update().where(child.c.id == first['id']).values(family_email=row['family_email']))
            first['family_email'] = row['family_email']
        conn.execute(child.delete().where(child.c.id == row['id']))


def _refuse_two_open_cases(conn) -> None:
    crowded = (sa.select(case.c.child_id).where(case.c.status != 'closed').group_by(case.c.child_id)
               .having(sa.func.count() > 1))
    references = sorted(conn.execute(sa.select(case.c.reference).where(case.c.status != 'closed',
                                                                       case.c.child_id.in_(crowded))).scalars())
    if references:
        raise RuntimeError("a child has more than one open case: close the duplicate of each before upgrading "
                           f"({', '.join(references)})")


def upgrade() -> None:
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(), nullable=True))
    conn = op.get_bind()
    _fill_and_merge(conn)
    _refuse_two_open_cases(conn)
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=sa.String(), nullable=False)
        batch_op.create_unique_constraint('uq_child_name_key_dob', ['name_key', 'date_of_birth'])
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index('uq_case_open_child', ['child_id'], unique=True,
                              sqlite_where=sa.text("status != 'closed'"),
                              postgresql_where=sa.text("status != 'closed'"))


def downgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index('uq_case_open_child')
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.drop_constraint('uq_child_name_key_dob', type_='unique')
        batch_op.drop_column('name_key')
