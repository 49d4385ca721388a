"""How the needs assessment runs for real: one deployment, served by a runner; one flow run per case.

`python -m deployments.needs_assessment` serves it (a long-lived process, like `flow.serve`). `serving()` does
the same inside another program (the demo, the tests) and stops cleanly; `settle_cases` waits until every
case's run has caught up with the store."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prefect import Flow
from prefect.runner import Runner

from flows.needs_assessment import FORMS, needs_assessment
from tasks.waiting import NEEDS_ASSESSMENT, case_run, paused_on, still_waiting

FORM_BY_SLUG = {form.slug(): form for form in FORMS}


def deployment():
    """The deployment a site's runner serves (`ehc serve`): started per case by `ehc case start`, no schedule."""
    return needs_assessment.to_deployment(name=NEEDS_ASSESSMENT, tags=["ehc"],
                                          description="One run per case, named by its reference; suspended "
                                                      "(holding nothing) while it waits.")


@contextmanager
def serving(query_seconds: float = 1, limit: int | None = 20, alongside: tuple[Flow, ...] = ()) -> Iterator[Runner]:
    """Serve the deployment from a runner in a background thread until the block ends. Each run executes in a
    child process; a suspended run occupies nothing here. `alongside`: other flows the same runner serves, each
    as a deployment named after it (the annual review, the benchmark's bare flow)."""
    runner = Runner(name=f"{NEEDS_ASSESSMENT}-runner", query_seconds=query_seconds, limit=limit,
                    pause_on_shutdown=False)
    runner.add_flow(needs_assessment, name=NEEDS_ASSESSMENT, tags=["ehc"])
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


def settled(reference: str) -> bool:
    """The case's run has caught up with the store: finished, or suspended on an act the store still waits on."""
    run = case_run(reference)
    if run is None:
        return False
    if run.state.is_final():
        return True
    if not run.state.is_paused():
        return False
    form = FORM_BY_SLUG.get(paused_on(run))
    return form is not None and still_waiting(reference, form)


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


if __name__ == "__main__":
    needs_assessment.serve(name=NEEDS_ASSESSMENT, tags=["ehc"])
