"""The EHC needs assessment, from the request to the final plan (CFA s36-s39; SEND Regs 2014 reg 4-14).

One flow run per case, named by its reference. Where the law waits on a person (a decision, advice, a
meeting, a plan sent), the run suspends with the form of that act (`tasks.waiting`): it holds no process and
no worker slot, and the store keeps the case. An act (the Prefect form, or `ehc`) resumes it; the run then
starts again from the top, reads the case's stage from the store, passes over the stages the case has left
behind, and carries on from the stage it is in. That stage's writes run again but are idempotent (Prefect's
cached result within the run; a step by its key, a message by its outbox key), so a crash mid-stage is
finished, never repeated.
"""

from __future__ import annotations

from prefect import flow, tags

from models.vocabulary import ASSESSMENT_STAGES, ClosedReason, Stage, StepKey
from tasks.advice import AdviceReceived, request_advice, start_assessment
from tasks.coproduction import DecisionToIssue, MeetingHeld, open_coproduction
from tasks.plan import DraftIssued, FinalIssued, open_drafting, put_plan_in_force, send_draft_notices
from tasks.request import DecisionToAssess, close_refused, read_decision, read_stage
from tasks.waiting import NEEDS_ASSESSMENT, show_stage, wait_for

FORMS = (DecisionToAssess, AdviceReceived, MeetingHeld, DecisionToIssue, DraftIssued, FinalIssued)  # the waits


@flow(name=NEEDS_ASSESSMENT, flow_run_name="{reference}", persist_result=True)
def needs_assessment(reference: str) -> str:
    """Request → decision to assess (6 weeks) → advice from each source → co-production → decision to issue
    (week 16) → draft (15 days) → final plan (week 20) → plan in force. Returns the case's stage at the end."""
    stage = read_stage(reference)
    if stage not in ASSESSMENT_STAGES:  # the assessment is over: the run was started or resumed after it ended
        show_stage(reference, stage)
        return stage
    ahead = ASSESSMENT_STAGES[ASSESSMENT_STAGES.index(stage):]
    with tags(f"case:{reference}"):
        if Stage.DECISION_TO_ASSESS in ahead:
            with tags(f"stage:{Stage.DECISION_TO_ASSESS}"):
                wait_for(reference, DecisionToAssess)
                if not read_decision(reference, StepKey.ASSESS_DECISION):
                    close_refused(reference, ClosedReason.NOT_TO_ASSESS)
                    show_stage(reference, Stage.CLOSED)
                    return Stage.CLOSED
        if Stage.ADVICE in ahead:
            with tags(f"stage:{Stage.ADVICE}"):
                for source in start_assessment(reference):
                    request_advice(reference, source)
                wait_for(reference, AdviceReceived)
        if Stage.COPRODUCTION in ahead:
            with tags(f"stage:{Stage.COPRODUCTION}"):
                open_coproduction(reference)
                wait_for(reference, MeetingHeld)
                wait_for(reference, DecisionToIssue)
                if not read_decision(reference, StepKey.PLAN_DECISION):
                    close_refused(reference, ClosedReason.NOT_TO_ISSUE)
                    show_stage(reference, Stage.CLOSED)
                    return Stage.CLOSED
        with tags(f"stage:{Stage.DRAFT_PLAN}"):
            if Stage.DRAFT_PLAN in ahead:
                open_drafting(reference)
                wait_for(reference, DraftIssued)
            send_draft_notices(reference)
        with tags(f"stage:{Stage.FINAL_PLAN}"):
            wait_for(reference, FinalIssued)
            put_plan_in_force(reference)
        show_stage(reference, Stage.PLAN_IN_FORCE)
        return Stage.PLAN_IN_FORCE
