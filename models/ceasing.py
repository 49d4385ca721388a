"""Ceasing a plan (SEND Regs reg 29-31, CFA s45): the council's decision, notified with the mediation and
appeal dates, and, once the appeal window has closed or an appeal has ended, the plan ceasing and the case
closing. Each act returns the family's notice."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from models import statutory, text
from models.appeals import appeal_window_closes
from models.cases import Case
from models.casework import LA, add_step, close_case, complete_step, find_step, move_stage
from models.errors import InputError
from models.notice import Notice, NoticeKind, Recipient
from models.review_cycle import not_after_today
from models.vocabulary import CaseStatus, ClosedReason, Role, Stage, StepKey, StepKind, StepStatus


def begin_cease(s: Session, case: Case, on: dt.date, actor: str, reasons: str | None,
                today: dt.date | None = None) -> list[Notice]:
    """The council notifies its decision to cease the plan (reg 29-31). The plan stays in force until the
    appeal window closes or an appeal ends (CFA s45); step `plan.cease` falls due when the window closes.
    Returns the decision's notice, with its `reasons` (else the statutory test, CFA s45(1)(b)) and the
    mediation and appeal dates (reg 31(2), 33; HESC r20)."""
    not_after_today(on, today)
    reasons = text.reasons(reasons)
    if case.status != CaseStatus.PLAN_IN_FORCE:
        raise InputError("REF", f"{case.reference} has no plan in force")
    if on < case.plan_issued_on:
        raise InputError("--on", f"{on} is before the plan was issued ({case.plan_issued_on})")
    if find_step(s, case, StepKey.PLAN_CEASE) is not None:
        raise InputError("REF", f"{case.reference} already has a decision to cease")
    mediation_by = statutory.deadline("mediation.contact", on).due
    step = add_step(s, case, key=StepKey.PLAN_CEASE, kind=StepKind.CEASE, rule_id="appeal.register", role=LA,
                    start=on, details={"reasons": reasons, "mediation_contact_by": mediation_by.isoformat()})
    move_stage(s, case, Stage.CEASING, actor, "decision to cease the plan notified", on, reasons=reasons)
    return [Notice(NoticeKind.CEASE_DECISION, on, (Recipient(Role.FAMILY),), case_id=case.id, facts={
        "decided_on": on.isoformat(), "reasons": reasons, "mediation_by": mediation_by.isoformat(),
        "appeal_by": step.due_on.isoformat(),
        "due": step.due_on.isoformat(), "action": "decision to cease the EHC plan"})]


def cease_plan(s: Session, case: Case, on: dt.date, actor: str, appeal_concluded: bool = False,
               today: dt.date | None = None) -> list[Notice]:
    """The plan ceases: after the appeal window closes with no appeal, or once an appeal has ended
    (CFA s45(3)). The case closes; returns the family's notice that the plan has ceased."""
    not_after_today(on, today)
    step = find_step(s, case, StepKey.PLAN_CEASE)
    if step is None or step.status != StepStatus.OPEN:
        raise InputError("REF", f"{case.reference} has no decision to cease (`ehc plan cease`)")
    closes = appeal_window_closes(s, case)  # appeal.register, moved by a certificate; an appeal's end
    if closes is None:
        raise InputError("--on", "an appeal against the decision to cease is pending: the plan stays in force "
                                 "until it ends (CFA s45)")
    if on <= closes and not appeal_concluded:
        raise InputError("--on", f"the plan stays in force until the appeal window closes on {closes} "
                                 "(CFA s45); give --appeal-concluded if an appeal has ended")
    complete_step(s, step, on, actor, case, appeal_concluded=appeal_concluded)
    close_case(s, case, on, actor, ClosedReason.PLAN_CEASED, "plan ceased", appeal_concluded=appeal_concluded)
    return [Notice(NoticeKind.PLAN_CEASED, on, (Recipient(Role.FAMILY),), case_id=case.id,
                   facts={"ceased_on": on.isoformat(), "action": "EHC plan ceased"})]
