"""What Prefect costs a needs assessment: one case driven from request to final plan through the served flow,
against a bare flow with the same number of no-op tasks, on the same (test) server, in one run.

The case's run executes once per event (it is suspended in between, holding nothing), so both the per-run
fixed cost and the per-task cost are printed. Run: `.venv/bin/python -m benchmarks.needs_assessment_overhead`.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from prefect import flow, get_client, task
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.testing.utilities import prefect_test_harness


@task
def no_op(i: int) -> int:
    return i


@flow(name="bare")
def bare(n: int) -> int:
    return sum(no_op(i) for i in range(n))


def timed_bare(n: int) -> tuple[float, float]:
    """Wall time of one bare run in this process, and its run time as Prefect records it."""
    start = time.perf_counter()
    state = bare(n, return_state=True)
    wall = time.perf_counter() - start
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
    return wall, run.total_run_time.total_seconds()


def main() -> None:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    for handler in ("CONSOLE", "CONSOLE_FLOW_RUNS"):
        os.environ[f"PREFECT_LOGGING_HANDLERS_{handler}_LEVEL"] = "WARNING"
    folder = Path(tempfile.mkdtemp(prefix="ehc-bench-"))
    os.environ["EHC_DATABASE_URL"] = f"sqlite:///{folder / 'ehc.db'}"

    from cli.demo import ON_TIME, cli_runner, drive
    from deployments.needs_assessment import case_run, serving
    from models import db

    db.upgrade()
    with prefect_test_harness(server_startup_timeout=120):
        with serving():
            start = time.perf_counter()
            ref = drive((ON_TIME,), cli_runner())[ON_TIME.story]
            case_wall = time.perf_counter() - start
        run = case_run(ref)
        with get_client(sync_client=True) as client:
            tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
            executions = sum(1 for st in client.read_flow_run_states(run.id) if st.name == "Running")
        n = len(tasks)
        case_run_time = run.total_run_time.total_seconds()
        bare_wall, bare_run_time = timed_bare(n)
        per_execution = round(n / executions)
        small_wall, small_run_time = timed_bare(per_execution)
        empty_wall, empty_run_time = timed_bare(0)

    print(f"needs-assessment, one case request → final plan: {executions} executions (1 start + 1 per event), "
          f"{n} task runs")
    print(f"  run time recorded by Prefect (sum of executions): {case_run_time:7.2f} s")
    print(f"  wall time of the scripted case (runner start-up, events, waits): {case_wall:7.2f} s")
    print(f"bare flow, {n} no-op tasks, one run: run time {bare_run_time:7.2f} s, wall {bare_wall:7.2f} s")
    print(f"bare flow, {per_execution} no-op tasks (one execution's worth): run time {small_run_time:5.2f} s, "
          f"wall {small_wall:5.2f} s")
    print(f"bare flow, no task (the fixed cost of a run, heartbeat join included): run time {empty_run_time:5.2f} s, "
          f"wall {empty_wall:5.2f} s")
    print(f"ratio, needs-assessment run time / bare run time with the same tasks: "
          f"{case_run_time / bare_run_time:5.2f}x   (goal <= 1.5x)")
    print(f"ratio, one execution / bare flow of the same size: "
          f"{case_run_time / executions / small_run_time:5.2f}x")


if __name__ == "__main__":
    main()
