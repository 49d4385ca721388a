"""Tasks that end a plan's life with the council: the notices of ceasing a plan (reg 29-31, CFA s45) and of
its transfer to another council (reg 15). Phase transfers (reg 18) run inside the review (`models.reviews`).

Each notice has its own outbox key, so running a task again never sends it twice."""

from __future__ import annotations

from prefect import task

from models import casework
from models.db import session
from models.notice import Notice, NoticeKind, Recipient
from models.settings import settings
from models.vocabulary import Role
from notifications import compose
from notifications.outbox import enqueue


@task(task_run_name="{reference}: notices of ceasing the plan")
def notify_cease(reference: str) -> list[str]:
    """The decision to cease, with the mediation and appeal dates (reg 31(2), 33; HESC r20); then, once the
    plan has ceased, the notice that it has."""
    sent = []
    with session() as s:
        case = casework.get_case(s, reference)
        step = casework.find_step(s, case, "plan.cease")
        if step is None:
            return sent
        context = {"council": settings().council_name, "decided_on": step.started_on.isoformat(),
                   "mediation_by": step.details["mediation_contact_by"], "appeal_by": step.due_on.isoformat(),
                   "due": step.due_on.isoformat(), "action": "decision to cease the EHC plan"}
        enqueue_family(s, case, "cease_decision", step.started_on, context)
        sent.append("cease_decision")
        if case.closed_reason == "plan ceased":
            context = {"council": settings().council_name, "ceased_on": case.closed_on.isoformat(),
                       "action": "EHC plan ceased"}
            enqueue_family(s, case, "plan_ceased", case.closed_on, context)
            sent.append("plan_ceased")
    return sent


@task(task_run_name="{reference}: notices of the transfer to another council")
def notify_transfer(reference: str) -> list[str]:
    """Once the plan is sent (reg 15(2)): the new council gets it with its own limits (reg 15(4)-(5)), and
    the family is told who is responsible from now on."""
    with session() as s:
        case = casework.get_case(s, reference)
        step = casework.find_step(s, case, "transfer.send_plan")
        if step is None or step.status != "done":
            return []
        context = {"council": settings().council_name, "to_council": step.details["to_council"],
                   "transferred_on": step.completed_on.isoformat(), "notify_by": step.details["new_la_notify_by"],
                   "review_by": step.details["new_la_review_by"], "action": "EHC plan transferred"}
        enqueue(s, idempotency_key=f"notice:plan_transfer:case:{case.id}", kind="plan_transfer",
                recipient_role="new_council", recipient_email=step.details["to_email"], on=step.completed_on,
                context=context, case=case, step=step)
        enqueue_family(s, case, "transfer_family", step.completed_on, context)
    return ["plan_transfer", "transfer_family"]


def enqueue_family(s, case, kind: str, on, context: dict) -> None:
    """The family's notice, to the people `notifications.compose` chooses (or onto the cannot_notify queue)."""
    compose.write(s, [Notice(NoticeKind(kind), on, (Recipient(Role.FAMILY),), case_id=case.id, facts=context)])
