"""Human steps: what a case waits on, the briefing on its form, and recording the caseworker's answer.

A case waits on a condition of the store (an open step); the flow suspends until an event arrives, from the
Prefect UI form or from `ehc` (which records it in the store first). Either way the store decides."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import INPUTS, NO_CACHE, RUN_ID, CacheKeyFnPolicy
from prefect.input import RunInput

from models import assessment
from models.db import session
from models.errors import InputError
from models.settings import today

UI_ACTOR = "caseworker (Prefect form)"


def _task_name(ctx, _inputs) -> str:
    return ctx.task.name


# A task that writes runs once per case run, task and inputs; later executions of the run read its persisted
# result ("Cached"). Not keyed on the task's source: looking that up costs ~2 s per module in a fresh process.
ONCE_PER_RUN = INPUTS + RUN_ID + CacheKeyFnPolicy(cache_key_fn=_task_name)


class CaseEvent(RunInput):
    """An event a caseworker records on a case; each subclass is one decision or happening, one form."""

    reference: str

    def record(self, s, on_today, actor) -> None:
        """Write the event to the store (each subclass names the change in `models.assessment`)."""
        raise NotImplementedError


def still_waiting(reference: str, key: str) -> bool:
    """Whether the case still waits on `key`, read by the flow itself (a resumed run mostly finds it done)."""
    with session() as s:
        return assessment.waiting(s, reference, key).open


@task(name="waiting on", task_run_name="{reference} waiting on {key}", cache_policy=NO_CACHE)
def waiting_on(reference: str, key: str) -> assessment.Waiting:
    """What the run is about to wait on, and the dates at stake: the last task a waiting case shows. Read from
    the store; the store is the truth, not the run."""
    with session() as s:
        return assessment.waiting(s, reference, key)


def briefing(reference: str, title: str, regulation: str, w: assessment.Waiting, command: str) -> str:
    """The Markdown shown above the form: the case, the date at stake and the 20-week limit."""
    due = f"**{w.due}** ({regulation})" if w.due else "not set"
    return (f"### {reference}: {title}\n\n"
            f"- Stage: `{w.stage}`\n- Due: {due}\n"
            f"- 20-week limit for the final plan (reg 13(2)): **{w.final_due}**\n\n"
            f"Record it here, or from a shell: `{command}`")


@task(name="record event", task_run_name="{reference} record {given.__class__.__name__}", cache_policy=ONCE_PER_RUN)
def record_event(reference: str, given: CaseEvent) -> bool:
    """Record an answer given on the Prefect form. A bad answer is audited as rejected (so the form is asked
    again) and never half-written."""
    if given.reference != reference:
        error = InputError("reference", f"the form is for {reference}")
    else:
        try:
            with session() as s:
                given.record(s, today(), UI_ACTOR)
            return True
        except InputError as exc:
            error = exc
    get_run_logger().warning("%s rejected: %s", given.__class__.__name__, error)
    with session() as s:
        assessment.reject_input(s, assessment.get_case(s, reference), UI_ACTOR, given.__class__.__name__, error)
    return False
