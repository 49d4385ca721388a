"""The deadline watch's tasks: one day of the watch in one unit of work, sending, and the failed messages.

The algorithm (which steps, which tier, what escalates) is `models.deadline_watch`; the wording, addresses and
keys of its notices are `notifications.compose`."""

from __future__ import annotations

import datetime as dt

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact

from models import bulk, deadline_watch
from models.db import session
from models.outbox import failed_messages
from notifications import compose
from notifications.backends import configured_backend
from notifications.dispatch import DispatchReport, dispatch


def run_watch(on: dt.date, url: str | None = None) -> deadline_watch.WatchReport:
    """One day of the watch, in one unit of work: chases, escalations, the DCO's digest, and the sweep's log.
    The report counts the messages this run wrote (a concurrent run's are its own)."""
    report = deadline_watch.WatchReport(on)
    with bulk.collector_paused(), session(url) as s:
        since = deadline_watch.last_sweep(s, on)
        newest = deadline_watch.max_step_id(s)
        report.swept, chases = deadline_watch.sweep(s, on, since)
        report.chases = len(chases)
        for row in compose.write(s, deadline_watch.chase(s, on, chases, report)):
            report.count(row.kind)
        digest = deadline_watch.dco_digest(s, on)
        report.digest = digest is not None
        compose.write(s, [digest] if digest else [])
        deadline_watch.record_sweep(s, on, newest, chases=report.chases,
                                    **{f"sent_{k}": v for k, v in report.messages.items()})
    return report


@task(name="watch the day")
def watch_the_day(on: dt.date) -> deadline_watch.WatchReport:
    report = run_watch(on)
    get_run_logger().info("%s: %d chases, messages %s, escalations opened %d raised %d", on, report.chases,
                          report.messages, report.escalations_opened, report.escalations_raised)
    return report


@task(name="send messages")
def send_messages() -> DispatchReport:
    report = dispatch(configured_backend())
    get_run_logger().info("sent %d, retrying %d, failed %d%s", report.sent, report.retrying, report.failed,
                          f"; stopped: {report.halted}" if report.halted else "")
    return report


@task(name="publish failed messages")
def publish_failed() -> int:
    """The failed-messages artifact: case reference, kind, role and reason; no address, no body."""
    with session() as s:
        rows = failed_messages(s)
    create_table_artifact(
        [{"message": r.id, "case": r.reference or "", "kind": r.kind, "to (role)": r.recipient_role,
          "attempts": r.attempts, "reason": r.reason or ""} for r in rows] or [{"message": "", "case": "none failed"}],
        key="failed-messages",
        description=f"Messages the provider refused ({len(rows)}); fix the cause, then `ehc outbox retry`.")
    return len(rows)
