"""Flow `reconcile`: every few minutes in production, and inside the daily watch. The store is the truth: every
case the store expects a run for has one, waiting on what the store still waits on, or working.

It starts a case's run that is missing (a needs assessment's, a review cycle's, a disagreement thread's), runs
again one suspended on an act recorded while Prefect was away (the store has moved past it), and retries one
that crashed or failed. Then it checks the invariant every open case
keeps (`models.invariant`): a case with nothing open that anyone owes, and no run working on it, goes on the
SEN team manager's queue with the reason. Run names and reports carry case references only."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import httpx
from prefect import flow, get_run_logger
from prefect.exceptions import ObjectNotFound, PrefectException
from prefect.logging import get_logger

from flows.needs_assessment import FORMS
from models import invariant, threads
from models.db import session
from models.settings import today
from models.vocabulary import Stage
from tasks.disagreement import WAITS as THREAD_WAITS
from tasks.disagreement import run_name
from tasks.review import WAITS
from tasks.waiting import ANNUAL_REVIEW, api_answers, case_run, reconcile_run

FLOW_NAME = "reconcile"
WORKING = ("SCHEDULED", "PENDING", "RUNNING")


def reconcile_all(on: dt.date, full: bool = True) -> dict:
    """Reconcile every case's run (`full`) or only those of cases changed since the last pass, then flag the
    cases that break the invariant. Without the Prefect API the runs are left for the next pass."""
    with session() as s:
        changed, watermark = invariant.changed_since_last_reconcile(s)
        among = None if full else changed
        expected = [(ref, {"forms": FORMS}) for ref in invariant.assessments_expecting_runs(s, among)]
        expected += [(ref, {"forms": WAITS, "flow": ANNUAL_REVIEW, "name": f"{ref} review {cycle}",
                            "stage": Stage.REVIEW, "cycle": cycle})
                     for ref, cycle in invariant.reviews_expecting_runs(s, among)]
        expected += [(ref, {"forms": THREAD_WAITS[thread], "flow": thread, "name": run_name(ref, thread, n),
                            "stage": thread, "n": n}) for ref, thread, n in threads.expecting_runs(s, among)]
    outcomes: Counter[str] = Counter()
    answers = api_answers()
    if answers:
        for reference, run in expected:
            try:
                outcomes[reconcile_run(reference, **run)] += 1
            except ObjectNotFound:  # no deployment to start it from (a runner not yet serving): the next pass
                outcomes["no deployment"] += 1
            except (PrefectException, httpx.HTTPError, OSError) as exc:  # the API went away mid-pass
                get_logger(__name__).warning("reconcile %s: %s", reference, type(exc).__name__)
                outcomes["not reached"] += 1
    with session() as s:
        recovered = invariant.clear_recovered(s, on)
        stalled = [c for c in invariant.stalled_cases(s) if not (answers and _worked_on(c.reference))]
        for case in stalled:
            invariant.flag_stalled(s, case, on, f"nothing open that anyone owes at stage {case.stage}, and no run "
                                                f"working on it")
        if answers:  # the watermark moves only once the runs were seen
            invariant.record_reconciled(s, on, watermark, **outcomes)
    return {"on": on.isoformat(), "prefect": answers, "runs": dict(outcomes), "stalled": len(stalled),
            "recovered": recovered}


def _worked_on(reference: str) -> bool:
    run = case_run(reference)
    return run is not None and run.state.type.value in WORKING


@flow(name=FLOW_NAME, flow_run_name=FLOW_NAME, persist_result=False)
def reconcile(full: bool = False) -> dict:
    """Every few minutes: the cases changed since the last pass (`full`: every case)."""
    report = reconcile_all(today(), full)
    get_run_logger().info("reconciled: %s", report)
    return report
