"""Flow `review-scheduler`, daily: opens each plan's review a term ahead of the term it falls due in, runs
every review whose store has changed (its one `annual-review` run carries on), sends each setting's SENCO
the term's list once a term, and refreshes the table of open reviews."""

from __future__ import annotations

from prefect import flow

from flows.annual_review import advance
from tasks.review import open_due_reviews, reviews_to_run, send_term_lists, show_open_reviews


@flow(name="review-scheduler", flow_run_name="review scheduler", persist_result=False)
def review_scheduler() -> dict:
    opened = open_due_reviews()
    changed = reviews_to_run()
    for reference, cycle in changed:
        advance(reference, cycle)
    return {"opened": len(opened), "advanced": len(changed), "term_lists": send_term_lists(),
            "open_reviews": show_open_reviews()}
