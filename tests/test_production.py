"""The production recipe of the README, run: a Prefect server on PostgreSQL with its API authentication on, a
process work pool `ehc`, every flow of prefect.yaml deployed (`prefect deploy --all`), a process worker, and a
case driven from request to final plan through it with the `ehc` commands a caseworker types.

Every step is the command the README gives, run as a subprocess: nothing in-process stands in for the server or
the worker. The server's database is a PostgreSQL database of this run's own, dropped at the end; the case store
a schema of its own."""

from __future__ import annotations

import base64
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import yaml

from models import db
from tests.conftest import POSTGRES_URL, REPO, postgres_schema

pytestmark = pytest.mark.skipif(not db.server_answers(POSTGRES_URL),
                                reason=f"PostgreSQL does not answer at {sa.make_url(POSTGRES_URL).host}:5432")

PREFECT = str(Path(sys.executable).parent / "prefect")
AUTH = "ehc-admin:not-a-real-secret"  # user:password, as PREFECT_SERVER_API_AUTH_STRING takes it
POOL = "ehc"
DEPLOYMENTS = yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]


@contextmanager
def _database(name: str) -> Iterator[str]:
    """A PostgreSQL database of its own for the Prefect server, dropped at the end: its asyncpg URL."""
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    url = sa.make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@contextmanager
def _process(args: list[str], env: dict, log: Path, stop_timeout: float = 30) -> Iterator[subprocess.Popen]:
    """A long-lived subprocess (server, worker) in a session of its own, its output in `log`; stopped at the end
    as Ctrl-C would (SIGINT), killed if it does not stop."""
    with log.open("ab") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=stop_timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _run(args: list[str], env: dict, timeout: float = 120) -> str:
    done = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args[1:])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _wait_healthy(api: str, proc: subprocess.Popen, log: Path, timeout: float = 150) -> None:
    stop = time.monotonic() + timeout
    while time.monotonic() < stop:
        assert proc.poll() is None, f"the Prefect server exited:\n{log.read_text()[-3000:]}"
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the Prefect server did not answer in {timeout}s:\n{log.read_text()[-3000:]}")


FOOTPRINT = ("flow_run", "flow_run_state", "task_run", "task_run_state", "log", "events")


def _footprint(prefect_db: str) -> dict:
    """Rows and their data bytes in the tables a case's run writes to, the size on disk of every table with its
    indexes, and the transactions committed so far, in the Prefect server's database."""
    engine = sa.create_engine(sa.make_url(prefect_db).set(drivername="postgresql+psycopg"))
    with engine.connect() as conn:
        found = {t: conn.execute(sa.text(f"SELECT count(*), coalesce(sum(pg_column_size(r.*)), 0) FROM {t} r")).one()
                 for t in FOOTPRINT}
        found["commits"] = conn.execute(sa.text("SELECT xact_commit FROM pg_stat_database WHERE datname = "
                                                "current_database()")).scalar_one()  # the server's transactions
        found["bytes"] = conn.execute(sa.text("SELECT sum(pg_total_relation_size(relid)) FROM pg_stat_user_tables")
                                      ).scalar_one()
    engine.dispose()
    return found


def _basic(auth: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()}


@pytest.fixture
def production(tmp_path, monkeypatch):
    """The recipe brought up step by step; yields (API URL, the clients' environment). Everything stopped and
    dropped at the end."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = f"http://127.0.0.1:{port}/api"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "EHC_"))}
    base |= {"PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
             "DO_NOT_TRACK": "1"}
    with _database(f"prefect_prod_{os.getpid()}") as prefect_db, postgres_schema(f"ehc_prod_{os.getpid()}") as store:
        db.upgrade(store)
        # 1. the server, on PostgreSQL, its API refusing any request without the auth string (the UI is off
        #    here only to start faster; production keeps it)
        server_env = base | {"PREFECT_SERVER_DATABASE_CONNECTION_URL": prefect_db,
                             "PREFECT_SERVER_API_AUTH_STRING": AUTH, "PREFECT_UI_ENABLED": "false"}
        server_log = tmp_path / "server.log"
        with _process([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)], server_env,
                      server_log) as server:
            _wait_healthy(api, server, server_log)
            client_env = base | {"PREFECT_API_URL": api, "PREFECT_API_AUTH_STRING": AUTH}
            # 2. the work pool; 3. every deployment of prefect.yaml
            _run([PREFECT, "work-pool", "create", POOL, "--type", "process"], client_env)
            _run([PREFECT, "--no-prompt", "deploy", "--all"], client_env | {"EHC_REPO_DIR": str(REPO)}, timeout=180)
            # 4. a worker on the pool; flow runs inherit its environment (the case store, the mail folder)
            worker_env = client_env | {"EHC_REPO_DIR": str(REPO), "EHC_DATABASE_URL": store,
                                       "EHC_MAIL_FOLDER": str(tmp_path / "mail"),
                                       "PREFECT_WORKER_QUERY_SECONDS": "1"}
            worker_log = tmp_path / "worker.log"
            with _process([PREFECT, "worker", "start", "--pool", POOL, "--type", "process"], worker_env,
                          worker_log):
                monkeypatch.setenv("EHC_DATABASE_URL", store)
                monkeypatch.setenv("EHC_MAIL_FOLDER", str(tmp_path / "mail"))
                monkeypatch.setenv("EHC_TODAY", "2026-01-05")  # the driver moves it day by day; restored after
                yield api, client_env, worker_log, prefect_db
        db.dispose_engine(store)


def test_a_case_runs_from_request_to_final_plan_through_a_worker_on_an_authenticated_server(production):
    import prefect.settings as ps
    from prefect import get_client

    from cli.demo import cli_runner
    from cli.main import app
    from deployments.demo import drive, load
    from models.casework import get_case
    from models.db import session
    from models.vocabulary import CaseStatus
    from tasks.waiting import case_run

    api, env, worker_log, prefect_db = production

    # A request without the auth string, or with a wrong one, is refused; with it, answered.
    assert httpx.post(f"{api}/flow_runs/filter", json={}, timeout=10).status_code == 401
    assert httpx.post(f"{api}/flow_runs/filter", json={}, headers=_basic("ehc-admin:wrong"), timeout=10
                      ).status_code == 401
    assert httpx.post(f"{api}/deployments/filter", json={}, headers=_basic(AUTH), timeout=10).status_code == 200

    updates = {ps.PREFECT_API_URL: api, ps.PREFECT_API_AUTH_STRING: AUTH}
    with ps.temporary_settings(updates=updates), get_client(sync_client=True) as client:
        deployed = {d.name: d for d in client.read_deployments()}
        for d in DEPLOYMENTS:
            assert deployed[d["name"]].work_pool_name == POOL
            assert [s.schedule.timezone for s in deployed[d["name"]].schedules] == \
                [s["timezone"] for s in d.get("schedules", [])]

        before = _footprint(prefect_db)
        started = time.monotonic()
        refs = drive((load()["on_time"],), cli_runner(app))
        wall = time.monotonic() - started
        (ref,) = refs.values()
        run = case_run(ref)
        assert run.state.is_completed(), f"{run.state.name}; worker log:\n{worker_log.read_text()[-3000:]}"
        assert run.work_pool_name == POOL
        states = client.read_flow_run_states(run.id)
    after = _footprint(prefect_db)

    with session() as s:
        assert get_case(s, ref).status == CaseStatus.PLAN_IN_FORCE

    # What one execution costs through the worker: from Scheduled (started, resumed) to Running (the worker
    # polled, submitted a process, the process ran the pull step and loaded the flow), and Prefect's run time.
    starts, scheduled = [], None
    for st in states:
        if st.type.value == "SCHEDULED":
            scheduled = st.timestamp
        elif st.type.value == "RUNNING" and scheduled is not None:
            starts.append((st.timestamp - scheduled).total_seconds())
    assert len(starts) >= 7  # the start, then one per act: decision, advice, meeting, plan decision, draft, final
    run_time = run.total_run_time.total_seconds()
    print(f"\nproduction recipe: {len(starts)} executions, Scheduled→Running median {statistics.median(starts):.1f} s "
          f"(max {max(starts):.1f} s), run time {run_time:.2f} s, case driven in {wall:.0f} s; Prefect database "
          f"+{(after['bytes'] - before['bytes']) / 1024:.0f} KiB on disk, {after['commits'] - before['commits']} "
          "transactions; rows (data): "
          + ", ".join(f"{t} +{after[t][0] - before[t][0]} ({(after[t][1] - before[t][1]) / 1024:.0f} KiB)"
                      for t in FOOTPRINT))
