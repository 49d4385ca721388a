"""Flow `escalation-queue`: one long-lived run per escalation queue (`dco-queue`, `sen-team-manager-queue`, …),
suspended (holding nothing) on a form listing the queue's open items by case reference, step, tier and age. The
DCO or the manager chooses, per item, acknowledge, resolve or leave, says who they are and what was done; the
run records it in the store and suspends again with the refreshed list. The daily watch keeps each queue's run
there and current (`tasks.escalation.refresh_queue_runs`); the store is the truth."""

from __future__ import annotations

from prefect import flow
from prefect.flow_runs import suspend_flow_run
from prefect.runtime import flow_run

from models.db import session
from models.escalation import check_queue, queue_items
from models.settings import today
from tasks.escalation import ESCALATION_QUEUE, pause_key, publish_queue, queue_form, record_last_answer
from tasks.escalation import run_name as queue_run_name

FLOW_NAME = ESCALATION_QUEUE


def run_name() -> str:
    """`dco-queue`: the queue, nothing about any case."""
    return queue_run_name(flow_run.parameters["queue"])


@flow(name=FLOW_NAME, flow_run_name=run_name, persist_result=False)
def escalation_queue(queue: str) -> None:
    """Record the answer given on the queue's form (if any), then show the queue and wait for the next."""
    queue = check_queue(queue)
    suspensions, refused = record_last_answer(queue, flow_run.id)
    on = today()
    with session() as s:
        items = queue_items(s, queue)
    publish_queue(queue, items, on)
    suspend_flow_run(wait_for_input=queue_form(queue, items, on, refused), key=pause_key(queue, suspensions, items, on),
                     timeout=None)
