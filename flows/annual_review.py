"""Flow `annual-review`: one run per plan per review cycle, named `EHC-YYYY-NNNNN review N`, tagged with the
case and `stage:review` (CFA s44; SEND Regs reg 18, 20-22).

A review takes months and waits on people (the setting holds the meeting, the council decides). The run does
what the store says is due (advice requests, the decision notice, the review card), then ends in a
*Scheduled* state named `AwaitingReview`, timed for 07:00 on the next due date: it holds no process while
it waits. When a caseworker records an act (`ehc review …`) or the daily scheduler sees the store change,
`advance` runs the same flow run again from its top; every task is idempotent, so nothing is sent twice.
The run completes when the cycle does.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from prefect import flow, get_client, tags
from prefect.flow_engine import run_flow
from prefect.states import Completed, Scheduled, State

from models import casework, reviews
from models.db import session
from tasks.review import mark_seen, note_run, notify_decision, request_review_advice, show_review
from tasks.transfer import notify_cease

WAITING = "AwaitingReview"


def wake_time(due: dt.date) -> dt.datetime:
    """07:00 in London on a due date: when a deployed run waiting for it is picked up again."""
    return pendulum.datetime(due.year, due.month, due.day, 7, tz="Europe/London")


@flow(name="annual-review", flow_run_name="{reference} review {cycle}", persist_result=False)
def annual_review(reference: str, cycle: int) -> State:
    """Carry review `cycle` of the plan as far as the store allows, then wait for the next act."""
    version = note_run(reference, cycle)
    request_review_advice(reference, cycle)
    notify_decision(reference, cycle)
    notify_cease(reference)
    shown = show_review(reference, cycle)
    mark_seen(reference, cycle, version)
    if shown["status"] == "complete":
        return Completed(message=f"review {cycle}: {shown['stage']}")
    if shown["next"] is None:
        return Scheduled(name=WAITING, message="waiting for the next act")
    due, key = shown["next"]
    return Scheduled(scheduled_time=wake_time(due), name=WAITING, message=f"waiting for {key} (due {due})")


def advance(reference: str, cycle: int | None = None) -> State | None:
    """Run a review cycle (default: the case's current one): start its one run, or run the waiting (or failed)
    run again."""
    with session() as s:
        case = casework.get_case(s, reference)
        review = reviews.get_review(s, case, cycle) if cycle else reviews.current_review(s, case)
        if review is None:
            return None
        cycle, run_id, version = review.cycle, review.flow_run_id, review.version
    if run_id is None:
        with tags(f"case:{reference}", "stage:review"):
            return annual_review(reference, cycle, return_state=True)
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        if run.state is not None and (run.state.is_completed() or run.state.is_cancelled()):  # the cycle is over
            with session() as s:
                reviews.mark_seen(s, reviews.get_review(s, casework.get_case(s, reference), cycle), version)
            return run.state
        client.set_flow_run_state(run_id, Scheduled(name="Resuming"), force=True)  # due now, not at the wake time
        return run_flow(annual_review, flow_run=client.read_flow_run(run_id),
                        parameters={"reference": reference, "cycle": cycle}, return_type="state")
