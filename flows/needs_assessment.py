"""The EHC needs assessment, from the request to the final plan (CFA s36-s39; SEND Regs 2014 reg 4-14).

One flow run per case, named by its reference. Where the law waits on a person (a decision, advice, a
meeting, a plan sent), the run suspends (`suspend_flow_run`): it holds no process and no worker slot, and
the store keeps the case. An event (the Prefect form, or `ehc`) resumes it; the run then starts again from
the top, reads the case's stage from the store, passes over the stages the case has left behind, and carries
on from the stage it is in. That stage's writes run again but are idempotent (Prefect's cached result within
the run; a step by its key, a message by its outbox key), so a crash mid-stage is finished, never repeated.
"""

from __future__ import annotations

from dataclasses import dataclass

from prefect import flow, tags
from prefect.context import FlowRunContext
from prefect.flow_runs import suspend_flow_run
from prefect.runtime import flow_run

from tasks.advice import AdviceReceived, request_advice, start_assessment
from tasks.coproduction import DecisionToIssue, MeetingHeld, open_coproduction
from tasks.plan import DraftIssued, FinalIssued, open_drafting, put_plan_in_force, send_draft_notices
from tasks.request import DecisionToAssess, close_refused, read_decision, read_stage
from tasks.waiting import CaseEvent, briefing, record_event, still_waiting, waiting_on

FLOW_NAME = "needs-assessment"
# The case's stages during the assessment, in order; any other stage (closed, plan in force, …) is past it.
STAGES = ("request", "decision_to_assess", "advice", "coproduction", "draft_plan", "representations")


@dataclass(frozen=True)
class HumanStep:
    """A point where the case waits on a person: the store condition (`key`), the form, and its briefing."""

    key: str
    form: type[CaseEvent]
    title: str
    regulation: str
    command: str

    @property
    def slug(self) -> str:
        """The step key as Prefect allows in a pause key (lowercase letters, digits, dashes)."""
        return self.key.replace(".", "-").replace("_", "-")


DECISION_TO_ASSESS = HumanStep("assess.decision", DecisionToAssess, "decide whether to assess", "reg 5(1)",
                               "ehc case decide {ref} --assess yes|no --on DATE")
ADVICE = HumanStep("advice", AdviceReceived, "advice received", "reg 8(1)",
                   "ehc advice received {ref} --source SOURCE --on DATE")
MEETING = HumanStep("coproduction.meeting", MeetingHeld, "co-production meeting held", "before week 16",
                    "ehc meeting held {ref} --on DATE --attended ROLE ... --child-views|--no-child-views")
DECISION_TO_ISSUE = HumanStep("plan.decision", DecisionToIssue, "decide whether to issue a plan",
                              "reg 10(1), week 16", "ehc plan decide {ref} --issue yes|no --on DATE")
DRAFT = HumanStep("plan.draft", DraftIssued, "draft plan issued", "reg 13, week 20 less 15 days",
                  "ehc draft issued {ref} --on DATE [--setting NAME] [--personal-budget]")
FINAL = HumanStep("plan.final", FinalIssued, "final plan issued", "reg 13(2), week 20",
                  "ehc final issued {ref} --on DATE")
HUMAN_STEPS = {h.slug: h for h in (DECISION_TO_ASSESS, ADVICE, MEETING, DECISION_TO_ISSUE, DRAFT, FINAL)}


def show_stage(reference: str, stage: str) -> None:
    """Keep the run's tags on the case's stage (`case:REF`, `stage:advice`), so the UI filters by them."""
    shown = [f"case:{reference}", f"stage:{stage}"]
    if sorted(flow_run.tags) != sorted(shown):
        FlowRunContext.get().client.update_flow_run(flow_run.id, tags=shown)  # the run's own client


def wait_for(reference: str, step: HumanStep) -> None:
    """Wait, holding nothing, until the store says the step is done. Each suspension is keyed by how far the
    case has come, so a resumed run that finds the store moved on suspends afresh rather than reusing an
    answer, and one that finds it unchanged takes the answer given on the form."""
    while still_waiting(reference, step.key):
        w = waiting_on(reference, step.key)
        if not w.open:  # the event arrived between the two reads
            continue
        show_stage(reference, w.stage)
        form = step.form.with_initial_data(
            description=briefing(reference, step.title, step.regulation, w, step.command.format(ref=reference)),
            reference=reference)
        given = suspend_flow_run(wait_for_input=form, key=f"{step.slug}-{w.progress}", timeout=None)
        record_event(reference, given)


@flow(name=FLOW_NAME, flow_run_name="{reference}", persist_result=True)
def needs_assessment(reference: str) -> str:
    """Request → decision to assess (6 weeks) → advice from each source → co-production → decision to issue
    (week 16) → draft (15 days) → final plan (week 20) → plan in force. Returns the case's stage at the end."""
    stage = read_stage(reference)
    if stage not in STAGES:  # the assessment is over: the run was started or resumed after it ended
        show_stage(reference, stage)
        return stage
    ahead = STAGES[STAGES.index(stage):]
    with tags(f"case:{reference}"):
        if "decision_to_assess" in ahead:
            with tags("stage:decision_to_assess"):
                wait_for(reference, DECISION_TO_ASSESS)
                if not read_decision(reference, "assess.decision"):
                    close_refused(reference, "not_to_assess")
                    show_stage(reference, "closed")
                    return "closed"
        if "advice" in ahead:
            with tags("stage:advice"):
                sources = start_assessment(reference)
                for source in sources:
                    request_advice(reference, source)
                wait_for(reference, ADVICE)
        if "coproduction" in ahead:
            with tags("stage:coproduction"):
                open_coproduction(reference)
                wait_for(reference, MEETING)
                wait_for(reference, DECISION_TO_ISSUE)
                if not read_decision(reference, "plan.decision"):
                    close_refused(reference, "not_to_issue")
                    show_stage(reference, "closed")
                    return "closed"
        with tags("stage:draft_plan"):
            if "draft_plan" in ahead:
                open_drafting(reference)
                wait_for(reference, DRAFT)
            send_draft_notices(reference)
        with tags("stage:final_plan"):
            wait_for(reference, FINAL)
            put_plan_in_force(reference)
        show_stage(reference, "plan_in_force")
        return "plan_in_force"
