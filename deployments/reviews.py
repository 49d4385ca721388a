"""How reviews run for real: the review scheduler every day at 06:30 London time (GMT or BST as the season has
it), before the deadline watch at 07:00, so a review opened today is chased from today; and the
`annual-review` deployment the scheduler starts each cycle's run from.

`python -m deployments.reviews` serves both (a long-lived process, like `flow.serve`); a suspended review run
occupies nothing while it waits."""

from __future__ import annotations

from prefect import serve
from prefect.schedules import Cron

from flows.annual_review import annual_review
from flows.review_scheduler import review_scheduler

NAME = "review-scheduler"
SCHEDULE = Cron("30 6 * * *", timezone="Europe/London")
TAGS = ["ehc", "stage:review"]


def deployment():
    return review_scheduler.to_deployment(name=NAME, schedule=SCHEDULE, tags=TAGS,
                                          description="Open reviews as they fall due and start their runs, catch "
                                                      "up runs the store moved past, send each SENCO the term's "
                                                      "list; daily 06:30 Europe/London.")


def review_deployment():
    return annual_review.to_deployment(name=annual_review.name, tags=["ehc"],
                                       description="One run per plan per review cycle; suspended while it waits.")


if __name__ == "__main__":
    serve(deployment(), review_deployment())
