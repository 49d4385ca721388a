"""Set-based statements that stay cheap on both stores at a council's size (a watch day writes thousands of rows).

On PostgreSQL a list goes as one parameter (`= ANY(:ids)`; rows as one JSON document read back by
`json_populate_recordset`): a statement
of a thousand placeholders costs psycopg more to parse than the server to run. SQLite takes the usual `IN (…)`
and multi-row `VALUES`, where a placeholder is free."""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

BATCH = 1000  # rows per statement on SQLite (its limit on placeholders is 32,766)
PG_BATCH = 20_000  # rows per statement on PostgreSQL (one parameter per column, whatever the rows)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a pass over thousands of rows: the short-lived rows trigger
    full collections over the whole heap (a quarter of a watch day's CPU), and reference counting frees them
    anyway. Restored as it was, whatever happens."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def dialect(s: Session) -> str:
    return s.get_bind().dialect.name


def among(s: Session, column: sa.ColumnElement, values: Iterable) -> sa.ColumnElement[bool]:
    """`column IN values`, as one array parameter on PostgreSQL."""
    values = list(values)
    if dialect(s) == "postgresql":
        return column == sa.any_(sa.cast(sa.bindparam("among", values, unique=True, type_=ARRAY(column.type)),
                                         ARRAY(column.type)))
    return column.in_(values)


def batches(s: Session, values: Sequence) -> Iterable[Sequence]:
    """`values` in slices small enough for one statement each on this store."""
    size = PG_BATCH if dialect(s) == "postgresql" else BATCH
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _json_value(value):
    if isinstance(value, dt.date):  # a datetime too: ISO 8601 with its offset, as PostgreSQL reads it
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _from_json(s: Session, table: sa.Table, rows: list[dict], names: list[str]):
    """PostgreSQL: `INSERT … SELECT` of the rows given as one JSON document, read back as the table's record type."""
    record = sa.literal_column(f"NULL::{s.get_bind().dialect.identifier_preparer.format_table(table)}")
    payload = json.dumps(rows, default=_json_value)
    records = sa.func.json_populate_recordset(record, sa.cast(sa.literal(payload), sa.JSON)).table_valued(*names)
    return postgresql_insert(table).from_select(names, sa.select(*(records.c[n] for n in names)))


def with_defaults(model, rows: list[dict]) -> list[dict]:
    """Rows of a SQLModel table with every column the model defaults filled in (its primary key left to the
    store), as constructing each object would, without paying for one (a pass writes thousands)."""
    defaults = {name: f.get_default(call_default_factory=True) for name, f in model.model_fields.items()
                if name != "id" and not f.is_required()}
    return [{**defaults, **row} for row in rows]


READ = "rows read by key"  # `Session.info` entry: what `kept` holds


def kept(s: Session, what: str) -> dict:
    """What this session keeps of the rows it read, by key (a case by its reference, a case's steps, the
    directory's contact for a role): rows never deleted, kept as the session's own objects, which are the ones
    a query would return (its identity map). The caller reads again a kept object the session no longer holds
    (rolled back) and forgets what it kept when it writes such rows; a bulk insert past the ORM forgets all."""
    return s.info.setdefault(READ, {}).setdefault(what, {})


def kept_by_case(s: Session, what: str, case_ids: Iterable[int], read: Callable[[Sequence[int]], Iterable]) -> dict:
    """Each case's rows of `what` (objects with a `case_id`), in the order `read` gives them: read once a session
    for the cases not read yet, a batch of case ids at a time, and kept (`kept`); read again for a case whose
    kept rows the session no longer holds all of. The caller forgets a case's when it adds one of its rows."""
    by_case = kept(s, what)
    case_ids = list(case_ids)
    unread = [cid for cid in case_ids if cid not in by_case or not all(row in s for row in by_case[cid])]
    for batch in batches(s, unread):
        found: dict[int, list] = {cid: [] for cid in batch}
        for row in read(batch):
            found[row.case_id].append(row)
        by_case.update(found)
    return {cid: list(by_case[cid]) for cid in case_ids}


def insert_all(s: Session, table: sa.Table, rows: list[dict]) -> None:
    """Insert the rows, in a few statements (every row has the same keys). Past the ORM: what the session kept
    of the rows it read (`READ`) is forgotten, as it may now be incomplete."""
    s.info.pop(READ, None)
    for batch in batches(s, rows):
        if dialect(s) == "postgresql":
            s.execute(_from_json(s, table, list(batch), list(batch[0])))
        else:
            s.execute(sa.insert(table), list(batch))


def insert_new(s: Session, table: sa.Table, rows: list[dict], index_elements: list[str],
               returning: Sequence[sa.ColumnElement], index_where: sa.ColumnElement | None = None) -> list[sa.Row]:
    """Insert the rows that conflict with none already stored (`INSERT … ON CONFLICT DO NOTHING` on the unique
    index named), returning `returning` of the rows inserted: a row a concurrent writer inserted first is
    skipped, never doubled, never an error. Every row has the same keys."""
    if not rows:
        return []
    names = list(rows[0])
    inserted: list[sa.Row] = []
    for batch in batches(s, rows):
        if dialect(s) == "postgresql":
            statement, parameters = _from_json(s, table, list(batch), names), None
        else:
            statement, parameters = sqlite_insert(table), batch
        statement = statement.on_conflict_do_nothing(index_elements=index_elements, index_where=index_where)
        inserted += s.execute(statement.returning(*returning), parameters).all()
    return inserted
