"""How reviews run for real: the review scheduler every day at 06:30 London time (GMT or BST as the season has
it), before the deadline watch at 07:00, so a review opened today is chased from today.

The scheduler runs each review's one `annual-review` run in its own process as it opens or changes, so only the
scheduler is deployed. `python -m deployments.reviews` serves it (a long-lived process, like `flow.serve`)."""

from __future__ import annotations

from prefect.schedules import Cron

from flows.review_scheduler import review_scheduler

NAME = "review-scheduler"
SCHEDULE = Cron("30 6 * * *", timezone="Europe/London")
TAGS = ["ehc", "stage:review"]


def deployment():
    return review_scheduler.to_deployment(name=NAME, schedule=SCHEDULE, tags=TAGS,
                                          description="Open reviews as they fall due, carry changed reviews on, "
                                                      "send each SENCO the term's list; daily 06:30 Europe/London.")


if __name__ == "__main__":
    review_scheduler.serve(name=NAME, schedule=SCHEDULE, tags=TAGS)
