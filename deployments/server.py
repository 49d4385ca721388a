"""A Prefect server of our own for the demo and the benchmarks: API and database in a subprocess, stopped at
the end. SQLite for the demo (nothing to set up); PostgreSQL where a run measures Prefect at council scale
(Prefect's own advice for production: SQLite serialises every write, and a task run with tags writes one to
take its tag concurrency slots)."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """Point this process's stdout and stderr at `log` for the block, so a subprocess started in it writes
    there (a SQLite-backed server logs every retried "database is locked" with a traceback)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log.open("ab") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


@contextmanager
def prefect_server(database_url: str, log: Path) -> Iterator[str]:
    """A Prefect server on `database_url` (`sqlite+aiosqlite:///…` or `postgresql+asyncpg://…`), its output in
    `log`; this process's Prefect client points at it for the block. Yields the API URL."""
    import prefect.settings as ps
    from prefect.server.api.server import SubprocessASGIServer

    with ps.temporary_settings(updates={ps.PREFECT_SERVER_DATABASE_CONNECTION_URL: database_url}):
        server = SubprocessASGIServer(port=_free_port())
        with _output_to(log):  # the server inherits these at its start
            server.start(timeout=120)
        try:
            with ps.temporary_settings(updates={ps.PREFECT_API_URL: server.api_url}):
                yield server.api_url
        finally:
            server.stop()
