"""How the reconciler runs for real: every 5 minutes (Europe/London, like every schedule here), so a case whose
run the store has moved past, whose run is missing or crashed, is put right within minutes, not at the next
morning's watch.

`python -m deployments.reconcile` serves it (a long-lived process, like `flow.serve`)."""

from __future__ import annotations

from prefect.schedules import Cron

from flows.reconcile import reconcile

NAME = "reconcile"
SCHEDULE = Cron("*/5 * * * *", timezone="Europe/London")
TAGS = ["ehc", "watch"]
DESCRIPTION = "Resume runs the store has moved past, start missing ones, retry crashed ones; every 5 minutes."


def deployment():
    return reconcile.to_deployment(name=NAME, schedule=SCHEDULE, tags=TAGS, description=DESCRIPTION)


if __name__ == "__main__":
    reconcile.serve(name=NAME, schedule=SCHEDULE, tags=TAGS)
