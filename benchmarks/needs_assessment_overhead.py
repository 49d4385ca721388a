"""What Prefect costs a needs assessment, against a bare Prefect flow with the same number of no-op tasks, on
the same server and runner, in one run.

A case's run executes once at its start and once per event that gives it work (it is suspended in between,
holding nothing), so four runs are timed side by side, `--repeat` times:

1. `needs-assessment`: the demo's on-time case, request to final plan (E executions, N task runs);
2. `bare`, suspended and resumed at the same points with the same number of no-op tasks in each execution:
   Prefect's own floor for a run that waits;
3. `bare`, all N no-op tasks in one execution, a flow that never waits: what the waiting itself costs;
4. `bare` of the same shape showing what the issue asks a case's run to show (task runs tagged with the case and
   stage, the run's tags kept on the stage, each suspension waiting on a form): Prefect's price for being seen.

Time is Prefect's run time: the sum of the run's Running spans, so neither the weeks suspended nor the start
of each execution's process count (that start-up, alike for every flow, is printed apart). The server is
PostgreSQL-backed where 127.0.0.1:5432 answers (a database of its own, dropped at the end), as a council runs
it; `--prefect-database sqlite` measures the demo's SQLite-backed server instead, where every tagged task run
waits on SQLite's single writer.

    .venv/bin/python -m benchmarks.needs_assessment_overhead [--repeat 3] [--prefect-database sqlite]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import sqlalchemy as sa
from prefect import flow, get_client, tags, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.context import FlowRunContext
from prefect.deployments import run_deployment
from prefect.flow_runs import resume_flow_run, suspend_flow_run
from prefect.input import RunInput
from prefect.runtime import flow_run

POSTGRES_URL = os.environ.get("EHC_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@task(cache_policy=NO_CACHE)
def no_op(i: int) -> int:
    return i


class Go(RunInput):
    """The form a `shown` bare run suspends with (one field, as small as a form gets)."""

    reference: str


@flow(name="bare")
def bare(counts: list[int], shown: bool = False) -> int:
    """`counts[k]` no-op tasks in execution k + 1, suspending after each but the last: a case's shape, no work.
    `shown`: with what the issue asks the case's run to show, at Prefect's price: task runs tagged with the case
    and stage (each takes its tag concurrency slots, a server call), the run's tags kept on the stage, and each
    suspension waiting on a form. Where it stands is kept in a file (a resume does not grow the run count)."""
    executed = Path(os.environ["EHC_BENCH_BARE_DIR"]) / str(flow_run.id)
    k = int(executed.read_text()) if executed.exists() else 0
    executed.write_text(str(k + 1))
    with tags(*(("case:BARE", f"stage:{k}") if shown else ())):
        for i in range(counts[k]):
            no_op(i)
    if k + 1 < len(counts):
        if shown:
            FlowRunContext.get().client.update_flow_run(flow_run.id, tags=["case:BARE", f"stage:{k}"])
            suspend_flow_run(wait_for_input=Go.with_initial_data(description=f"execution {k + 1}", reference="BARE"),
                             key=f"execution-{k + 1}", timeout=None)
        else:
            suspend_flow_run(key=f"execution-{k + 1}", timeout=None)
    return sum(counts)


@dataclass
class Timed:
    """One flow run as Prefect recorded it."""

    run_time: float  # the sum of its Running spans (to the next state), s
    spans: list[float]  # each execution's
    executions: int
    tasks_per_execution: list[int]
    start_up: list[float]  # per execution: from the runner's submission to Running (the process starting), s


def timed(run_id: UUID) -> Timed:
    """Read the run back. Task runs reach the server's database through its event pipeline a moment after the
    run ends, so they are read until their number holds for a second."""
    with get_client(sync_client=True) as client:
        states = sorted(client.read_flow_run_states(run_id), key=lambda st: st.timestamp)
        tasks, seen = [], -1
        while len(tasks) != seen:
            seen = len(tasks)
            time.sleep(1)
            tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])),
                                          limit=200)
    running = [st.timestamp for st in states if st.name == "Running"]
    spans = [(after.timestamp - st.timestamp).total_seconds()
             for st, after in zip(states, states[1:], strict=False) if st.name == "Running"]
    submitted = [st.timestamp for st in states if st.name == "Submitting"]
    per_execution = [0] * len(running)
    for t in tasks:
        began = t.start_time or t.expected_start_time or t.created
        per_execution[max(i for i, at in enumerate(running) if at <= began)] += 1
    start_up = [(r - s).total_seconds() for s, r in zip(submitted, running, strict=False)]
    return Timed(sum(spans), spans, len(running), per_execution, start_up)


def bare_run(counts: list[int], shown: bool = False) -> Timed:
    """Run `bare` through the runner, resuming each suspension as soon as it is reached."""
    from tasks.waiting import settle

    run = run_deployment("bare/bare", parameters={"counts": counts, "shown": shown}, timeout=0)
    state_id = None
    while True:
        current = settle(run.id, after=state_id)
        if current.state.is_final():
            break
        state_id = current.state.id
        resume_flow_run(run.id, run_input={"reference": "BARE"} if shown else None)
    if not current.state.is_completed():
        raise RuntimeError(f"bare run ended {current.state.name}")
    return timed(run.id)


def case_run_once(repeat: int) -> Timed:
    """The demo's on-time case, request to final plan, in a store of its own."""
    from cli.demo import cli_runner
    from cli.main import app
    from deployments.demo import drive, load
    from tasks.waiting import case_run

    script = dataclasses.replace(load()["on_time"], child_name=f"Bench Case-{repeat}")
    ref = drive((script,), cli_runner(app))[script.story]
    run = case_run(ref)
    if not run.state.is_completed():
        raise RuntimeError(f"{ref} ended {run.state.name}")
    return timed(run.id)


def prefect_database(kind: str, folder: Path) -> tuple[str, sa.Engine | None, str]:
    """The Prefect server's database URL, an admin engine to drop it afterwards (PostgreSQL), and its name."""
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{folder / 'prefect.db'}", None, "SQLite"
    name = f"ehc_bench_prefect_{os.getpid()}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    url = sa.make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False), admin, f"PostgreSQL (database {name})"


def main() -> None:
    from models import db

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--prefect-database", choices=("postgresql", "sqlite"),
                        default="postgresql" if db.server_answers(POSTGRES_URL) else "sqlite")
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    for handler in ("CONSOLE", "CONSOLE_FLOW_RUNS"):
        os.environ[f"PREFECT_LOGGING_HANDLERS_{handler}_LEVEL"] = "WARNING"
    folder = Path(tempfile.mkdtemp(prefix="ehc-bench-"))
    os.environ["EHC_DATABASE_URL"] = f"sqlite:///{folder / 'ehc.db'}"
    os.environ["EHC_BENCH_BARE_DIR"] = str(folder)
    from deployments.demo import DEMO_COUNCIL

    os.environ.update(DEMO_COUNCIL)  # the demo's council: its notices must state a SENDIASS and mediation adviser

    from benchmarks.directory import load_directory
    from deployments.needs_assessment import serving
    from deployments.server import prefect_server

    db.upgrade()
    load_directory()
    url, admin, described = prefect_database(args.prefect_database, folder)
    cases, shaped, shown, flat = [], [], [], []
    try:
        with prefect_server(url, folder / "prefect-server.log"), serving(query_seconds=0.5, alongside=(bare,)):
            for repeat in range(args.repeat):
                case = case_run_once(repeat)
                cases.append(case)
                shaped.append(bare_run(case.tasks_per_execution))
                shown.append(bare_run(case.tasks_per_execution, shown=True))
                flat.append(bare_run([sum(case.tasks_per_execution)]))
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {sa.make_url(url).database} WITH (FORCE)"))
            admin.dispose()

    def median(runs: list[Timed]) -> float:
        return statistics.median(r.run_time for r in runs)

    def line(label: str, runs: list[Timed]) -> str:
        return f"  {label:<66} {median(runs):6.2f} s  {[round(r.run_time, 2) for r in runs]}"

    case = cases[0]
    n = sum(case.tasks_per_execution)
    start_up = statistics.median(s for r in cases + shaped + shown for s in r.start_up)
    print(f"Prefect server on {described}; one runner; run time = sum of Running spans; median of {args.repeat}")
    print(f"needs-assessment, the on-time case request → final plan: {case.executions} executions, {n} task runs "
          f"{case.tasks_per_execution}")
    print(line("needs-assessment", cases))
    print(line(f"bare, {n} no-op tasks, one execution (never waits)", flat))
    print(line(f"bare, {n} no-op tasks, suspended at the same points", shaped))
    print(line("bare, same shape + task tags, stage tag on the run, forms", shown))
    for label, runs in (("needs-assessment", cases), ("bare, same shape", shaped), ("bare, showing", shown)):
        spans = [statistics.median(r.spans[i] for r in runs) for i in range(case.executions)]
        print(f"  {label + ', per execution':<66} {' '.join(f'{x:.2f}' for x in spans)}")
    print(f"  each execution's process start-up before Running, not in run time, alike for all: {start_up:.2f} s")
    print("ratios (goal <= 1.5x):")
    for label, runs in ((f"bare in one execution ({case.executions} executions instead of 1)", flat),
                        ("bare of the same shape", shaped),
                        ("bare of the same shape, showing what the case shows", shown)):
        print(f"  needs-assessment / {label:<64} {median(cases) / median(runs):5.2f}x")


if __name__ == "__main__":
    main()
