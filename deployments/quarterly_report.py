"""How the quarterly report runs for real: on the first working day after each quarter, 07:30 London time.

A cron cannot know bank holidays, so the schedule fires at 07:30 on each of the first 7 days of January, April,
July and October, and the flow (`only_on_first_working_day`) does nothing unless today is the first working day
after the quarter (`models.statutory.is_working_day`): 7 days always hold one, whatever Easter does.
`python -m deployments.quarterly_report` serves it (a long-lived process, like `flow.serve`)."""

from __future__ import annotations

from prefect.schedules import Cron

from flows.quarterly_report import FLOW_NAME, quarterly_report

SCHEDULE = Cron("30 7 1-7 1,4,7,10 *", timezone="Europe/London")
TAGS = ["ehc", "report"]
PARAMETERS = {"only_on_first_working_day": True}
DESCRIPTION = "The quarter's SEND indicators, CSV and charts; first working day after each quarter, 07:30 London."


def deployment():
    return quarterly_report.to_deployment(name=FLOW_NAME, schedule=SCHEDULE, tags=TAGS, parameters=PARAMETERS,
                                          description=DESCRIPTION)


if __name__ == "__main__":
    quarterly_report.serve(name=FLOW_NAME, schedule=SCHEDULE, tags=TAGS, parameters=PARAMETERS)
