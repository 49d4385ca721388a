"""How the deadline watch runs for real: every weekday at 07:00 London time (GMT or BST as the season has it).

`python -m deployments.deadline_watch` serves it (a long-lived process, like `flow.serve`)."""

from __future__ import annotations

from prefect.schedules import Cron

from flows.deadline_watch import FLOW_NAME, deadline_watch

SCHEDULE = Cron("0 7 * * 1-5", timezone="Europe/London")


def deployment():
    return deadline_watch.to_deployment(name=FLOW_NAME, schedule=SCHEDULE, tags=["ehc", "watch"],
                                        description="Chase open steps, escalate, send; weekdays 07:00 Europe/London.")


if __name__ == "__main__":
    deadline_watch.serve(name=FLOW_NAME, schedule=SCHEDULE, tags=["ehc", "watch"])
