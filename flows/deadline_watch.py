"""The deadline watch, once a day: chase every open step, escalate what slipped, send, show the queues.

Reads the whole case store (no case in particular), so the run is named by its day, never by a child."""

from __future__ import annotations

import datetime as dt

from prefect import flow
from prefect.runtime import flow_run

from flows.reconcile import reconcile_all
from models.settings import today
from tasks.caseload import publish_caseloads, show_changed_cases
from tasks.disagreement import prompt_cease_reviews
from tasks.escalation import publish_queues, refresh_queue_runs
from tasks.watch import publish_failed, send_messages, watch_the_day

FLOW_NAME = "deadline-watch"


def run_name() -> str:
    """`deadline-watch-2025-03-31`: the day swept, nothing about any case."""
    return f"{FLOW_NAME}-{flow_run.parameters.get('as_of') or today()}"


@flow(name=FLOW_NAME, flow_run_name=run_name, log_prints=False)
def deadline_watch(as_of: dt.date | None = None, send: bool = True) -> dict:
    """Reminders, due today, overdue and escalations for `as_of` (default today in London); every case's run
    reconciled with the store and stalled cases flagged; then the outbox."""
    on = as_of or today()
    prompt_cease_reviews(on)  # CFA s46: the young people who reached 25, prompted before the chase
    report = watch_the_day(on)
    reconciled = reconcile_all(on)
    shown = {**show_changed_cases(on), "caseloads": publish_caseloads(on)}  # cards, tags, caseloads
    sent = send_messages() if send else None
    queues = publish_queues(on)
    queue_runs = refresh_queue_runs()
    failed = publish_failed()
    return {"on": on.isoformat(), "chases": report.chases, "messages": report.messages,
            "escalations_opened": report.escalations_opened, "escalations_raised": report.escalations_raised,
            "sent": sent.sent if sent else 0, "queues": queues, "queue_runs": queue_runs, "failed": failed,
            "reconciled": reconciled, "shown": shown}
