"""The simulation's last weeks through Prefect: a server of its own (its database the folder's `prefect.db`, the
one `ehc serve --dir` opens), the `needs-assessment` and `annual-review` deployments, the review scheduler and
the deadline watch as the real flows, and each case's run executed in this process as a runner would execute it
in a child process (`prefect.flow_engine.run_flow` on the scheduled run, from the top, until it suspends on its
next form or ends). In-process because a child process costs ~2 s to start, more than the run itself."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from pathlib import Path
from uuid import UUID

import prefect.settings as ps
from prefect import get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterState
from prefect.client.schemas.filters import FlowRunFilterStateType as StateTypes
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.events.worker import EventsWorker
from prefect.exceptions import Pause
from prefect.flow_engine import run_flow
from prefect.logging.handlers import APILogWorker

from deployments import needs_assessment, reviews, server, site
from flows.annual_review import annual_review
from flows.deadline_watch import deadline_watch
from flows.needs_assessment import needs_assessment as needs_assessment_flow
from flows.quarterly_report import quarterly_report
from flows.review_scheduler import review_scheduler
from tasks.waiting import ANNUAL_REVIEW, NEEDS_ASSESSMENT, CaseEvent, start, wake

FLOWS = {NEEDS_ASSESSMENT: needs_assessment_flow, ANNUAL_REVIEW: annual_review}
PAGE = 200  # the API's largest page


class Live:
    """A Prefect server for the last weeks, and the runs executed in this process."""

    def __init__(self, folder: Path, timings) -> None:
        self.t, self.executions = timings, Counter()
        self._server = server.prefect_server(site.database_url(folder), folder / "prefect-server.log")
        self.api = self._server.__enter__()
        # A run's heartbeat tells the server its process is alive; in this process the run ends before the
        # next heartbeat is due, and joining the heartbeat thread costs about a second per execution.
        self._settings = ps.temporary_settings(updates={ps.PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})
        self._settings.__enter__()
        needs_assessment.deployment().apply()
        reviews.review_deployment().apply()

    def stop(self) -> None:
        """Send the runs' logs and events still queued, then stop the server."""
        APILogWorker.drain_all(timeout=30)
        EventsWorker.drain_all(timeout=30)
        self._settings.__exit__(None, None, None)
        self._server.__exit__(None, None, None)

    # --- what the site's runner does: execute the scheduled runs -------------------------------------------

    def execute(self, run_id: UUID) -> None:
        """Execute one scheduled run in this process, as the runner's child process would."""
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(run_id)
            flow_name = client.read_flow(run.flow_id).name
        t = time.perf_counter()
        try:
            run_flow(FLOWS[flow_name], flow_run=run, return_type="state")
        except Pause:  # suspended on its next form: the child process would exit here
            pass
        self.executions[flow_name] += 1
        self.t.seconds[f"prefect: {flow_name} executions"] += time.perf_counter() - t

    def execute_scheduled(self) -> None:
        """Every case run waiting to be picked up (started, resumed, rescheduled), in name order, until none; one
        at a time (Prefect's engine run in threads of one process hung here)."""
        while runs := self._scheduled():
            for run in runs:
                self.execute(run.id)

    def _scheduled(self) -> list:
        found = []
        with get_client(sync_client=True) as client:
            while batch := client.read_flow_runs(
                    flow_filter=FlowFilter(name=FlowFilterName(any_=list(FLOWS))),
                    flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=StateTypes(any_=[StateType.SCHEDULED]))),
                    sort=FlowRunSort.NAME_ASC, limit=PAGE, offset=len(found)):
                found += batch
        return found

    # --- the day ---------------------------------------------------------------------------------------------

    def scheduler(self) -> None:
        """06:30: the review scheduler flow (opens reviews falling due, starts their runs), then those runs."""
        with self.t.spent("prefect"):
            with self.t.spent("prefect: review-scheduler flow"):
                review_scheduler()
            self.execute_scheduled()

    def watch(self, day: dt.date) -> None:
        """07:00: the deadline watch flow (chases, escalations, every case's run reconciled, the queues shown);
        the runs it started or rescheduled executed. Its messages stay in the outbox (`ehc outbox`)."""
        with self.t.spent("prefect"):
            with self.t.spent("prefect: deadline-watch flow"):
                deadline_watch(as_of=day, send=False)
            self.execute_scheduled()

    def start_case(self, reference: str) -> None:
        """`ehc case start`: the new case's run, executed to its first wait."""
        with self.t.spent("prefect"):
            self.execute(start(reference).id)

    def woken(self, event: CaseEvent) -> None:
        """After the act is recorded: wake the case's run as `ehc` does, and execute it if it was resumed."""
        with self.t.spent("prefect"):
            if wake(event) == "resumed":
                self.execute_scheduled()

    def refresh_artifacts(self, first: dt.date, last: dt.date, out_dir: Path) -> None:
        """The report's artifact and files for the year simulated (the queues and the open reviews are the
        watch's and the scheduler's, refreshed this morning)."""
        with self.t.spent("prefect"):
            quarterly_report(from_date=first, to_date=last, out_dir=str(out_dir))

    def counts(self) -> dict:
        """Runs by flow and state at the end, and the executions made."""
        states: Counter = Counter()
        with get_client(sync_client=True) as client:
            for name in FLOWS:
                offset = 0
                while batch := client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[name])),
                                                     limit=PAGE, offset=offset):
                    offset += len(batch)
                    states.update(f"{name} {run.state.name}" for run in batch)
        return {"executions": dict(self.executions), "states": dict(sorted(states.items()))}
