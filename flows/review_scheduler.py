"""Flow `review-scheduler`, daily: opens each plan's review a term ahead of the term it falls due in and starts
the cycle's `annual-review` run, catches up the runs whose store has moved past the act they wait for (acts
recorded with `--no-run` or while Prefect was unreachable, a case closed), sends each setting's SENCO the
term's list once a term, and refreshes the table of open reviews."""

from __future__ import annotations

from prefect import flow

from tasks.review import (
    catch_up_review_runs,
    open_due_reviews,
    send_term_lists,
    show_open_reviews,
    start_review_runs,
)


@flow(name="review-scheduler", flow_run_name="review scheduler", persist_result=False)
def review_scheduler() -> dict:
    opened = open_due_reviews()
    started = start_review_runs()
    return {"opened": len(opened), "started": len(started), "caught_up": catch_up_review_runs(),
            "term_lists": send_term_lists(), "open_reviews": show_open_reviews()}
