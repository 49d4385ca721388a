"""Shared fixtures: a migrated case store on SQLite and, where 127.0.0.1:5432 answers, on PostgreSQL too."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from models import db

# Prefect: no telemetry, and nothing written to the developer's own ~/.prefect by the test server.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# the test council's contacts, which its notices must state (reg 32; CFA s32): the engine has no placeholder of its own
os.environ.setdefault("EHC_COUNCIL_MEDIATION_ADVISER", "Testshire Mediation, mediation@mediation.testshire.org.uk, "
                                                        "01234 000002")
os.environ.setdefault("EHC_COUNCIL_SENDIASS", "Testshire SENDIASS, sendiass@testshire.org.uk, 01234 000003")

POSTGRES_URL = os.environ.get("EHC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parent.parent
DIRECTORY = Path(__file__).resolve().parent / "directory.csv"


BACKENDS = ["sqlite"] + (["postgresql"] if db.server_answers(POSTGRES_URL) else [])


@contextmanager
def postgres_schema(name: str) -> Iterator[str]:
    """An empty schema of its own inside the `test` database, dropped at the end: the URL to reach it."""
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {name}"))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{name}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="session")
def _postgres_migrated() -> str:
    """A schema of this run's own, so concurrent runs never touch each other; the migrations build it."""
    with postgres_schema(f"ehc_test_{os.getpid()}") as url:
        db.upgrade(url)
        yield url
        db.dispose_engine(url)


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path, monkeypatch) -> str:
    """A migrated, empty case store; EHC_DATABASE_URL points at it for the test's duration."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ehc.db'}"
        db.upgrade(url)
    else:
        url = request.getfixturevalue("_postgres_migrated")
        engine = db.engine(url)
        with engine.begin() as conn:
            tables = [t for t in sa.inspect(conn).get_table_names() if t != "alembic_version"]
            quoted = ", ".join(f'"{t}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    monkeypatch.setenv("EHC_DATABASE_URL", url)
    yield url
    if request.param == "sqlite":
        db.dispose_engine(url)


@pytest.fixture(autouse=True)
def directory(request) -> None:
    """A test that has a case store has the council's directory too (`tests/directory.csv`): the engine has no
    stand-in addresses of its own."""
    if "store_url" not in request.fixturenames:
        return
    request.getfixturevalue("store_url")
    from models.contacts import import_contacts

    with db.session() as s:
        assert not import_contacts(s, DIRECTORY, "test").bad


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect server (API + database) for the whole session: flows run against it for real."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def needs_assessment_demo(prefect_server, tmp_path_factory):
    """The demo's scripted cases driven once through the served needs-assessment flow: (store URL, story → ref)."""
    from tests.needs_assessment_pathway import drive_pathway

    yield from drive_pathway(tmp_path_factory)
