"""Transfer of a plan to another council when the family moves (SEND Regs reg 15): the plan is sent on the
move date, or within 15 working days of our becoming aware (reg 15(2)); it becomes the new council's, and
our case closes with the notices to the new council and to the family."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from models import statutory
from models.addresses import validate_email
from models.cases import Case, Step
from models.casework import LA, add_step, close_case, complete_step, find_step, move_stage
from models.errors import InputError
from models.notice import Notice, NoticeKind, Recipient
from models.review import Review
from models.review_cycle import not_after_today
from models.text import COUNCIL_MAX, clean
from models.vocabulary import CaseStatus, ClosedReason, Role, Stage, StepKey, StepKind, StepStatus


def begin_transfer_out(s: Session, case: Case, *, aware_on: dt.date, move_on: dt.date, to_council: str,
                       to_email: str, actor: str, today: dt.date | None = None) -> Step:
    """The family moves to another council's area: the plan must be sent to it on the move date, or within
    15 working days of our becoming aware (reg 15(2))."""
    not_after_today(aware_on, today, "--aware-on")
    if case.status != CaseStatus.PLAN_IN_FORCE:
        raise InputError("REF", f"{case.reference} has no plan in force")
    to_council = clean(to_council, "--to-council", COUNCIL_MAX)
    under_way = find_step(s, case, StepKey.TRANSFER_SEND_PLAN)
    if under_way is not None:
        raise InputError("REF", f"{case.reference} already has a transfer to {under_way.details['to_council']} "
                                "under way: record it sent (`ehc plan transferred`) before another")
    to_email = validate_email(to_email, "--to-email")
    step = add_step(s, case, key=StepKey.TRANSFER_SEND_PLAN, kind=StepKind.TRANSFER_OUT, rule_id="transfer.send_plan",
                    role=LA, start=aware_on, facts={"move_date": move_on.isoformat()},
                    details={"to_council": to_council.strip(), "to_email": to_email})
    move_stage(s, case, Stage.TRANSFERRING_OUT, actor, "transfer to another council", aware_on,
               to_council=to_council.strip(), move_on=move_on.isoformat())
    return step


def plan_transferred(s: Session, case: Case, on: dt.date, actor: str, today: dt.date | None = None) -> list[Notice]:
    """The plan is sent to the new council (reg 15(2)); it becomes theirs, and our case closes. The new
    council's limits go on the step: tell the family within 6 weeks (reg 15(4)); review by the later of 12
    months from the last review and 3 months from the transfer (reg 15(5)). Returns the notices to the new
    council, with the plan, and to the family."""
    not_after_today(on, today)
    step = find_step(s, case, StepKey.TRANSFER_SEND_PLAN)
    if step is None or step.status != StepStatus.OPEN:
        raise InputError("REF", f"{case.reference} has no transfer in progress (`ehc plan transfer-out`)")
    last = max([r.meeting_on for r in s.exec(select(Review).where(Review.case_id == case.id, Review.meeting_held))]
               + [case.plan_issued_on])
    limits = {
        "new_la_notify_by": statutory.deadline("transfer.new_la_notify", on).due.isoformat(),
        "new_la_review_by": statutory.deadline("transfer.review", on, facts={"last_review": last.isoformat()})
        .due.isoformat(),
    }
    to_council = step.details["to_council"]
    complete_step(s, step, on, actor, case, **limits)
    close_case(s, case, on, actor, ClosedReason.TRANSFERRED, f"transferred to {to_council}", to_council=to_council)
    facts = {"to_council": to_council, "transferred_on": on.isoformat(), "notify_by": limits["new_la_notify_by"],
             "review_by": limits["new_la_review_by"], "action": "EHC plan transferred"}
    return [Notice(NoticeKind.PLAN_TRANSFER, on, (Recipient(Role.NEW_COUNCIL, email=step.details["to_email"]),),
                   case_id=case.id, step_id=step.id, facts=facts),
            Notice(NoticeKind.TRANSFER_FAMILY, on, (Recipient(Role.FAMILY),), case_id=case.id, facts=facts)]
