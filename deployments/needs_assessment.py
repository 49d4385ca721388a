"""How the needs assessment runs for real: one deployment, served by a runner; one flow run per case.

`python -m deployments.needs_assessment` serves it (a long-lived process, like `flow.serve`). `serving()` does
the same inside another program (the demo, the tests) and stops cleanly. The helpers below find a case's
run through the Prefect API by its name and tag, start it once, and resume it after an event."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from prefect import Flow, get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterName
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.sorting import FlowRunSort
from prefect.deployments import run_deployment
from prefect.flow_runs import resume_flow_run
from prefect.runner import Runner

from flows.needs_assessment import FLOW_NAME, HUMAN_STEPS, HumanStep, needs_assessment
from tasks.waiting import CaseEvent, still_waiting

DEPLOYMENT = f"{FLOW_NAME}/{FLOW_NAME}"
BUSY = ("PENDING", "RUNNING")


@contextmanager
def serving(query_seconds: float = 1, limit: int | None = 20, alongside: tuple[Flow, ...] = ()) -> Iterator[Runner]:
    """Serve the deployment from a runner in a background thread until the block ends. Each run executes in a
    child process; a suspended run occupies nothing here. `alongside`: other flows the same runner serves, each
    as a deployment named after it (the benchmark's bare flow)."""
    runner = Runner(name=f"{FLOW_NAME}-runner", query_seconds=query_seconds, limit=limit, pause_on_shutdown=False)
    runner.add_flow(needs_assessment, name=FLOW_NAME, tags=["ehc"])
    for other in alongside:
        runner.add_flow(other, name=other.name)
    loop = asyncio.new_event_loop()
    context = contextvars.copy_context()  # the thread sees this thread's Prefect settings (API URL)
    thread = threading.Thread(target=context.run, args=(loop.run_until_complete, runner.start()), daemon=True,
                              name="needs-assessment-runner")
    thread.start()
    try:
        yield runner
    finally:
        if runner.started:
            # A run's process outlives its final or Suspended state by about a second (the heartbeat thread is
            # joined); stopping the runner while it still tracks that process would mark the run Cancelled.
            stop = time.monotonic() + 30
            while runner._process_manager.flow_run_ids() and time.monotonic() < stop:  # what astop cancels
                time.sleep(0.1)
            asyncio.run_coroutine_threadsafe(runner.astop(), loop).result(timeout=60)
        thread.join(timeout=60)


def case_run(reference: str) -> FlowRun | None:
    """The case's flow run: the newest `needs-assessment` run named by the reference."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[FLOW_NAME])),
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[reference])),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=1)
    return runs[0] if runs else None


def start(reference: str) -> FlowRun:
    """Start the case's run once (the idempotency key makes a second start return the first run)."""
    return run_deployment(DEPLOYMENT, parameters={"reference": reference}, flow_run_name=reference, timeout=0,
                          tags=[f"case:{reference}", "stage:request"], idempotency_key=f"{FLOW_NAME}:{reference}")


def settle(run_id: UUID, after: UUID | None = None, timeout: float = 120) -> FlowRun:
    """Wait until the run is suspended or finished in a state other than `after` (a state id)."""
    stop = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            run = client.read_flow_run(run_id)
            state = run.state
            if state.id != after and (state.is_paused() or state.is_final()):
                return run
            if time.monotonic() > stop:
                raise TimeoutError(f"flow run {run.name} still {state.name} after {timeout}s")
            time.sleep(0.2)


def paused_on(run: FlowRun) -> HumanStep | None:
    """The human step a suspended run waits on (its pause key is `<step slug>-<progress>`)."""
    return HUMAN_STEPS.get((run.state.state_details.pause_key or "").rpartition("-")[0])


def settled(reference: str) -> bool:
    """The case's run has caught up with the store: finished, or suspended on a step the store still has open."""
    run = case_run(reference)
    if run is None:
        return False
    if run.state.is_final():
        return True
    if not run.state.is_paused():
        return False
    step = paused_on(run)
    return step is not None and still_waiting(reference, step.key)


def settle_cases(references: list[str], timeout: float = 180) -> None:
    """Wait until every case's run has caught up with the store (the demo and the tests between days)."""
    stop = time.monotonic() + timeout
    waiting = list(references)
    while waiting:
        waiting = [ref for ref in waiting if not settled(ref)]
        if waiting and time.monotonic() > stop:
            raise TimeoutError(f"runs not settled after {timeout}s: {', '.join(waiting)}")
        if waiting:
            time.sleep(0.3)


def wake(event: CaseEvent, wait: float = 60) -> str:
    """After `ehc` has recorded `event` in the store: resume the case's run if it is suspended on that kind of
    event and the store no longer waits on it. Returns what happened, in a word."""
    run = case_run(event.reference)
    if run is None:
        return "no run"
    if run.state.type.value in BUSY:  # it may have read the store just before the event was recorded
        run = settle(run.id, timeout=wait)
    if not run.state.is_paused():
        return run.state.name.lower()
    step = paused_on(run)
    if step is None or step.form is not type(event) or still_waiting(event.reference, step.key):
        return "suspended"  # e.g. advice from one source while others are outstanding: nothing for the run yet
    resume_flow_run(run.id, run_input=event.model_dump(mode="json"))
    return "resumed"


if __name__ == "__main__":
    needs_assessment.serve(name=FLOW_NAME, tags=["ehc"])
