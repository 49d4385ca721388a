"""Flow `annual-review`: one run per plan per review cycle, named `EHC-YYYY-NNNNN review N` and tagged with the
case and its stage (CFA s44; SEND Regs reg 18, 20-22), started by the review scheduler when the cycle opens.

A review takes months and waits on people: the setting fixes and holds the meeting, the council decides and,
if it amends, issues the amended plan. At each of those the run suspends (`tasks.waiting.wait_for`) with the
act's typed form and holds no process; the caseworker records the act on the form in the Prefect UI, or with
`ehc review …`, which records the same event and wakes the run. A resumed run starts again from the top and
reads the store: it passes over the acts already recorded and suspends on the next. The run ends Completed
when the cycle completes, or when the case closes (the plan ceased or transferred).
"""

from __future__ import annotations

from prefect import flow, tags
from prefect.states import Completed, State

from models.vocabulary import Stage
from tasks.review import WAITS, review_open, review_outcome
from tasks.waiting import ANNUAL_REVIEW, show_stage, wait_for


@flow(name=ANNUAL_REVIEW, flow_run_name="{reference} review {cycle}", persist_result=True)
def annual_review(reference: str, cycle: int) -> State:
    """Wait for each act of the cycle in turn (meeting date, meeting, decision, amended plan), as long as the
    cycle is open; then end with the review's stage."""
    with tags(f"case:{reference}", f"stage:{Stage.REVIEW}"):
        for form in WAITS:
            if not review_open(reference, cycle):
                break
            wait_for(reference, form)  # the case card, with the review's dates, is shown at each wait
        shown = review_outcome(reference, cycle)
    show_stage(reference, shown["case_stage"])
    return Completed(message=f"review {cycle}: {shown['stage']}")
