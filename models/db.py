"""Engine, sessions and migrations for the case store: SQLite file by default, PostgreSQL via EHC_DATABASE_URL."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import Session

from models.settings import settings

MIGRATIONS = Path(__file__).parent / "migrations"
_engines: dict[str, sa.Engine] = {}
_engines_lock = threading.Lock()  # alembic's migration context is not thread-safe


def server_answers(url: str) -> bool:
    """Whether the database server `url` names accepts a connection (the tests and benchmarks run on PostgreSQL
    only where one answers)."""
    parsed = sa.make_url(url)
    try:
        with socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 5432), timeout=1):
            return True
    except OSError:
        return False


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str | None = None) -> str | None:
    """Bring the store's schema to the newest migration; returns the revision it is at."""
    url = url or settings().database_url
    command.upgrade(alembic_config(url), "head")
    return head_revision(url)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def engine(url: str | None = None) -> sa.Engine:
    """The engine for `url` (default: settings), its schema migrated to head on first use."""
    url = url or settings().database_url
    if url in _engines:
        return _engines[url]
    with _engines_lock:
        if url not in _engines:
            eng = sa.create_engine(url, pool_pre_ping=True)
            if eng.dialect.name == "sqlite":
                sa.event.listen(eng, "connect", _sqlite_pragmas)
            if current_revision(eng) != head_revision(url):
                upgrade(url)
            _engines[url] = eng
    return _engines[url]


def dispose_engine(url: str) -> None:
    eng = _engines.pop(url, None)
    if eng is not None:
        eng.dispose()


@contextmanager
def session(url: str | None = None) -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on any error, so nothing is half-written."""
    with Session(engine(url), expire_on_commit=False) as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
