"""A small site on one machine (a council of a few hundred plans): a Prefect server with its UI, its database a
SQLite file (or `EHC_PREFECT_DATABASE_URL`), and one runner in this process serving every deployment with its
schedule. `ehc serve` starts it; Ctrl-C stops the runner, then the server.

The runner starts each flow run in a child process, as a worker would; a suspended case holds nothing. For more
than one machine, or a council of thousands of plans, use the work-pool recipe instead (README, Production)."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import sqlalchemy as sa

# What a site serves: each module's `deployment()` (the reviews module's `review_deployment()` too: the
# `annual-review` deployment; the disagreement module's `deployments()`: one per thread).
MODULES = ("deployments.needs_assessment", "deployments.deadline_watch", "deployments.reviews",
           "deployments.reconcile", "deployments.quarterly_report", "deployments.disagreement",
           "deployments.escalation_queue")
FACTORIES = ("deployment", "review_deployment")
LISTS = ("deployments",)
AUTH_SERVER, AUTH_CLIENT = "PREFECT_SERVER_API_AUTH_STRING", "PREFECT_API_AUTH_STRING"


def served() -> list:
    """Every deployment a site runs (RunnerDeployment, each with its schedule)."""
    found = []
    for name in MODULES:
        module = importlib.import_module(name)
        found += [getattr(module, f)() for f in FACTORIES if hasattr(module, f)]
        found += [d for f in LISTS if hasattr(module, f) for d in getattr(module, f)()]
    return found


def database_url(folder: Path) -> str:
    """The Prefect server's database: `EHC_PREFECT_DATABASE_URL`, else a SQLite file in the site's folder."""
    return os.environ.get("EHC_PREFECT_DATABASE_URL") or f"sqlite+aiosqlite:///{folder.resolve() / 'prefect.db'}"


def shown(url: str) -> str:
    """A database URL as it may be printed: no password."""
    return sa.make_url(url).render_as_string(hide_password=True)


@contextmanager
def prefect_server(folder: Path, host: str, port: int, timeout: float = 120) -> Iterator[str]:
    """`prefect server start` (API, UI and its services) in a subprocess, its output in `folder/server.log`,
    stopped as Ctrl-C stops it at the end; yields the API URL once it answers."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "server.log"
    api = f"http://{host}:{port}/api"
    # The UI asks the API it was served with, not the default port (else it shows "Can't connect to Server API").
    env = os.environ | {"PREFECT_SERVER_DATABASE_CONNECTION_URL": database_url(folder),
                        "PREFECT_UI_API_URL": os.environ.get("PREFECT_UI_API_URL") or api}
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port",
                                 str(port)], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_healthy(api, proc, log, timeout)
        yield api
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _wait_healthy(api: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    stop = time.monotonic() + timeout
    while time.monotonic() < stop:
        if proc.poll() is not None:
            raise RuntimeError(f"the Prefect server stopped (exit {proc.returncode}); its log: {log}")
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the Prefect server did not answer at {api} in {timeout:.0f}s; its log: {log}")


def serve(api: str, deployments: list) -> None:
    """One runner serving every deployment with its schedule against the server at `api`, until Ctrl-C. The
    schedules stay active when it stops (a restart carries on)."""
    import prefect.settings as ps
    from prefect import serve as prefect_serve

    updates = {ps.PREFECT_API_URL: api}
    if os.environ.get(AUTH_SERVER) and not os.environ.get(AUTH_CLIENT):
        updates[ps.PREFECT_API_AUTH_STRING] = os.environ[AUTH_SERVER]
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C stops it even if started with SIGINT ignored
    with ps.temporary_settings(updates=updates):
        prefect_serve(*deployments, pause_on_shutdown=False, print_starting_message=False)
