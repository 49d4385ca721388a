"""The needs assessment in the store: each caseworker event (CFA s36-s39, SEND Regs 2014 regs 4-13) and each
consequence the flow draws from it, as named changes.

An event completes an open step and is dated; the flow's consequences (advice requests, notices, the plan in
force) are idempotent: a step by its key, a message by its outbox key. Dates come from the events, never from a
clock, so a resumed or repeated run writes the same rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, func, select

from models import review_cycle, statutory
from models.cases import AuditEvent, Case, Step
from models.casework import (
    LA,
    add_step,
    audit,
    cancel_step,
    case_exceptions,
    case_steps,
    child_of,
    complete_step,
    compute_due,
    find_step,
    get_case,
    move_stage,
    open_steps,
)
from models.contacts import ADVICE_ROLES, FAMILY, contact_for, family_email
from models.errors import InputError
from models.settings import settings
from notifications.outbox import enqueue

REQUIRED_SOURCES = ("parent", "education", "health", "social_care", "ep")  # reg 6(1)(a)-(e)
FLAG_SOURCES = ("hi", "vi", "pfa")  # reg 6(1)(f); preparation for adulthood from Year 9, reg 6(1)(h)
PFA_YEAR = 9
SOURCE_LABELS = {
    "parent": "parent's or young person's",
    "education": "educational",
    "health": "health",
    "social_care": "social care",
    "ep": "educational psychologist's",
    "hi": "hearing impairment teacher's",
    "vi": "vision impairment teacher's",
    "pfa": "preparation for adulthood",
    "adult_social_care": "adult social care",
}
FLOW_ACTOR = "needs-assessment flow"
REJECTED = "input rejected"
REFUSALS = {
    "not_to_assess": ("assess.decision", "decision not to carry out an EHC needs assessment (reg 5(3))"),
    "not_to_issue": ("plan.decision", "decision not to issue an EHC plan (reg 10(1))"),
}


@dataclass(frozen=True)
class Waiting:
    """Whether the case still waits on an event, how far it has come, and the dates at stake."""

    open: bool
    progress: int
    stage: str
    due: dt.date | None
    final_due: dt.date | None


def open_step(s: Session, case: Case, key: str, field: str = "REF") -> Step:
    """The open step an event completes; an event for a stage that is not open is an input error."""
    step = find_step(s, case, key)
    if step is None or step.status != "open":
        state = "is already done" if step is not None else "is not open"
        raise InputError(field, f"{key} {state} on {case.reference} (stage {case.stage}, status {case.status})")
    return step


def _not_after_today(on: dt.date, today: dt.date, field: str = "--on") -> None:
    if on > today:
        raise InputError(field, f"{on} is in the future")


def _not_before(on: dt.date, earlier: dt.date | None, what: str, field: str = "--on") -> None:
    if earlier is not None and on < earlier:
        raise InputError(field, f"{on} is before {what} ({earlier})")


def progress(s: Session, case: Case) -> int:
    """A count that grows with every event recorded or rejected: the flow keys its suspensions on it."""
    done = s.exec(select(func.count()).select_from(Step).where(Step.case_id == case.id, Step.status != "open")).one()
    rejected = s.exec(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.case_id == case.id, AuditEvent.action == REJECTED)).one()
    return done + rejected


def reject_input(s: Session, case: Case, actor: str, what: str, error: InputError) -> None:
    audit(s, case, actor, REJECTED, event=what, field=error.field, rule=error.rule)


def waiting(s: Session, reference: str, key: str) -> Waiting:
    """Whether the case waits on `key` (a step key, or `advice` for every advice step)."""
    case = get_case(s, reference)
    final = find_step(s, case, "plan.final")
    final_due = final.due_on if final else compute_due(s, case, "plan.final", case.requested_on).due
    if key == "advice":
        steps = outstanding_advice(s, case)
        is_open = bool(steps) and case.status == "open"
        due = min((st.due_on for st in steps), default=None)
    else:
        step = find_step(s, case, key)
        is_open = step is not None and step.status == "open" and case.status == "open"
        due = step.due_on if step else None
    return Waiting(is_open, progress(s, case), case.stage, due, final_due)


# --- decision whether to assess (reg 4-5) ------------------------------------------------------------


def decide_to_assess(s: Session, reference: str, assess: bool, on: dt.date, today: dt.date, actor: str) -> Step:
    """Record the decision whether to assess, notified on `on` (reg 5(1): within 6 weeks of the request)."""
    case = get_case(s, reference)
    step = open_step(s, case, "assess.decision")
    _not_after_today(on, today)
    _not_before(on, case.requested_on, "the request")
    return complete_step(s, step, on, actor, case, assess=assess)


def decision(s: Session, reference: str, key: str) -> bool | None:
    """The recorded outcome of a decision step (`assess.decision`, `plan.decision`), or None if not made."""
    step = find_step(s, get_case(s, reference), key)
    if step is None or step.status != "done":
        return None
    return bool(step.details.get("assess", step.details.get("issue")))


def appeal_rights(case: Case, notice_on: dt.date) -> dict[str, dt.date]:
    """The family's last days to contact a mediation adviser (reg 33) and to appeal (Tribunal rule 20(1)(c))."""
    return {"mediation_by": statutory.deadline("mediation.contact", notice_on, rule_set=case.rule_set).due,
            "appeal_by": statutory.deadline("appeal.register", notice_on, rule_set=case.rule_set).due}


def close_refused(s: Session, reference: str, refusal: str) -> dict:
    """Close the case on a refusal, with the notice's date and the family's mediation and appeal deadlines
    (reg 5(3), 10(1); mediation reg 33, appeal Tribunal rule 20(1)(c))."""
    key, what = REFUSALS[refusal]
    case = get_case(s, reference)
    step = find_step(s, case, key)
    notice_on = step.completed_on
    rights = appeal_rights(case, notice_on)
    dates = {"notice_on": notice_on.isoformat(), "mediation_contact_by": rights["mediation_by"].isoformat(),
             "appeal_register_by": rights["appeal_by"].isoformat()}
    enqueue(s, idempotency_key=f"notice:{refusal}:case:{case.id}", kind="family_notice", recipient_role=FAMILY,
            recipient_email=family_email(s, case), on=notice_on, case=case, step=step,
            context={"council": settings().council_name, "action": what, "due": None,
                     "lines": [], **rights})
    if case.status != "closed":
        for open_ in open_steps(s, case):
            cancel_step(s, open_, FLOW_ACTOR, f"case closed: {what}")
        step.details = {**step.details, **dates}
        s.add(step)
        case.status, case.closed_on, case.closed_reason = "closed", notice_on, refusal
        move_stage(s, case, "closed", FLOW_ACTOR, f"case closed: {what}", notice_on, **dates)
    return dates


# --- advice (reg 6-8) -------------------------------------------------------------------------------


def advice_sources(s: Session, case: Case, on: dt.date) -> list[str]:
    """The advice the case needs (reg 6(1)): the usual five, plus what its flags ask for, plus preparation for
    adulthood from Year 9 (reg 6(1)(h))."""
    child = child_of(s, case)
    sources = list(REQUIRED_SOURCES) + [f for f in FLAG_SOURCES if f in case.flags and f != "pfa"]
    year = statutory.year_group(child.date_of_birth, on, child.year_group_offset)
    if "pfa" in case.flags or year >= PFA_YEAR:
        sources.append("pfa")
    return sources


def start_assessment(s: Session, reference: str) -> list[str]:
    """On a decision to assess: the 20-week limit opens as a step (reg 13(2)) and the stage moves to advice."""
    case = get_case(s, reference)
    decided = find_step(s, case, "assess.decision")
    add_step(s, case, key="plan.final", kind="final_plan", rule_id="plan.final", role=LA, start=case.requested_on)
    if case.stage == "decision_to_assess":
        move_stage(s, case, "advice", FLOW_ACTOR, "decided to assess", decided.completed_on)
    return advice_sources(s, case, decided.completed_on)


def request_advice(s: Session, reference: str, source: str) -> int:
    """Ask one source for advice (reg 6(1)); its 6 weeks run from the day the request is received, taken as
    the day it is sent, the decision day, until the adviser says otherwise (reg 8(1)). Returns the step id."""
    case = get_case(s, reference)
    sent_on = find_step(s, case, "assess.decision").completed_on
    role = ADVICE_ROLES[source]
    contact = None if role == FAMILY else contact_for(s, role)
    step = add_step(s, case, key=f"advice:{source}", kind="advice", rule_id="advice.provide", role=role,
                    start=sent_on, source=source, organisation=contact.organisation if contact else None,
                    contact_id=contact.id if contact else None)
    enqueue(s, idempotency_key=f"advice_request:step:{step.id}", kind="advice_request", recipient_role=role,
            recipient_email=contact.email if contact else family_email(s, case), on=sent_on, case=case,
            step=step, context={"council": settings().council_name, "source_label": SOURCE_LABELS[source],
                                "due": step.due_on, "action": "advice request"})
    return step.id


def outstanding_advice(s: Session, case: Case) -> list[Step]:
    return list(s.exec(select(Step).where(Step.case_id == case.id, Step.kind == "advice", Step.status == "open")
                       .order_by(Step.id)))


def advice_received(s: Session, reference: str, source: str, on: dt.date, today: dt.date, actor: str,
                    request_received_on: dt.date | None = None) -> Step:
    """Record advice returned (reg 8). If the adviser received the request later than it was sent, its 6 weeks
    run from that day instead (reg 8(1))."""
    case = get_case(s, reference)
    if source not in ADVICE_ROLES:
        raise InputError("--source", f"must be one of {', '.join(ADVICE_ROLES)}")
    step = open_step(s, case, f"advice:{source}", "--source")
    _not_after_today(on, today)
    if request_received_on is not None:
        _not_before(request_received_on, step.started_on, "the day the request was sent", "--request-received-on")
        _not_after_today(request_received_on, today, "--request-received-on")
        d = compute_due(s, case, step.rule_id, request_received_on, step.details.get("facts"), step)
        step.started_on, step.due_on, step.target_on, step.disapplied = (request_received_on, d.due, d.target,
                                                                         d.disapplied)
    _not_before(on, step.started_on, "the request for advice", "--on")
    return complete_step(s, step, on, actor, case, late=on > step.due_on)


# --- co-production and the decision whether to issue (reg 9-10) --------------------------------------


def open_coproduction(s: Session, reference: str) -> dt.date:
    """All advice in: the co-production meeting and the decision whether to issue (week 16, reg 10(1)) open."""
    case = get_case(s, reference)
    last = max(st.completed_on for st in s.exec(select(Step).where(Step.case_id == case.id, Step.kind == "advice")))
    add_step(s, case, key="coproduction.meeting", kind="coproduction_meeting", rule_id="plan.not_to_issue",
             role=LA, start=case.requested_on, details={"advice_complete_on": last.isoformat()})
    add_step(s, case, key="plan.decision", kind="decision_to_issue", rule_id="plan.not_to_issue", role=LA,
             start=case.requested_on)
    if case.stage == "advice":
        move_stage(s, case, "coproduction", FLOW_ACTOR, "all advice received", last)
    return last


def meeting_held(s: Session, reference: str, on: dt.date, attended: list[str], child_views_captured: bool,
                 today: dt.date, actor: str) -> Step:
    """Record the co-production meeting: who attended by role, and whether the child's or young person's own
    views were captured (CFA s19(a)-(c))."""
    case = get_case(s, reference)
    step = open_step(s, case, "coproduction.meeting")
    if not attended:
        raise InputError("--attended", "name at least one role that attended")
    _not_after_today(on, today)
    _not_before(on, statutory.parse_date(step.details["advice_complete_on"], "advice_complete_on"),
                "the last advice received")
    return complete_step(s, step, on, actor, case, attended=sorted(set(attended)),
                         child_views_captured=child_views_captured)


def decide_to_issue(s: Session, reference: str, issue: bool, on: dt.date, today: dt.date, actor: str) -> Step:
    """Record the decision whether to issue a plan; a refusal's notice is due by week 16 (reg 10(1))."""
    case = get_case(s, reference)
    step = open_step(s, case, "plan.decision")
    meeting = find_step(s, case, "coproduction.meeting")
    if meeting is None or meeting.status != "done":
        raise InputError("REF", f"the co-production meeting of {reference} is not yet recorded")
    _not_after_today(on, today)
    _not_before(on, meeting.completed_on, "the co-production meeting")
    return complete_step(s, step, on, actor, case, issue=issue)


def open_drafting(s: Session, reference: str) -> dt.date:
    """A decision to issue: the draft is due in time to leave the full 15 days before week 20 (reg 13)."""
    case = get_case(s, reference)
    decided_on = find_step(s, case, "plan.decision").completed_on
    add_step(s, case, key="plan.draft", kind="draft_plan", rule_id="plan.draft_latest", role=LA,
             start=case.requested_on, details={"decided_on": decided_on.isoformat()})
    if case.stage == "coproduction":
        move_stage(s, case, "draft_plan", FLOW_ACTOR, "decided to issue a plan", decided_on)
    return decided_on


# --- draft and final plan (reg 11-14, CFA s39) -------------------------------------------------------


def draft_issued(s: Session, reference: str, on: dt.date, setting_requested: str | None,
                 personal_budget_requested: bool, today: dt.date, actor: str) -> Step:
    """Record the draft plan served on the family: 15 days for representations begin (reg 13(1)); a requested
    setting is consulted (CFA s39(2), 15 days)."""
    case = get_case(s, reference)
    step = open_step(s, case, "plan.draft")
    _not_after_today(on, today)
    _not_before(on, statutory.parse_date(step.details["decided_on"], "decided_on"), "the decision to issue")
    complete_step(s, step, on, actor, case, setting_requested=setting_requested,
                  personal_budget_requested=personal_budget_requested)
    add_step(s, case, key="plan.draft_representations", kind="draft_representations",
             rule_id="plan.draft_representations", role=FAMILY, start=on)
    if setting_requested:
        contact = contact_for(s, "senco", setting_requested)  # the requested setting's own SENCO
        add_step(s, case, key="plan.setting_consultation:1", kind="setting_consultation",
                 rule_id="plan.setting_consultation", role="senco", start=on, organisation=setting_requested,
                 contact_id=contact.id)
    move_stage(s, case, "representations", actor, "draft plan issued", on)
    return step


def draft_notices(s: Session, reference: str) -> int:
    """Tell the family the draft is served and until when they may comment; consult the requested setting."""
    case = get_case(s, reference)
    draft = find_step(s, case, "plan.draft")
    reps = find_step(s, case, "plan.draft_representations")
    enqueue(s, idempotency_key=f"notice:draft_plan:case:{case.id}", kind="family_notice", recipient_role=FAMILY,
            recipient_email=family_email(s, case), on=draft.completed_on, case=case, step=reps,
            context={"council": settings().council_name, "action": "draft EHC plan issued (reg 13(1))",
                     "due": reps.due_on, "mediation_by": None, "appeal_by": None,
                     "lines": [f"You may comment, ask for a meeting, or ask for a school or college to be "
                               f"named, until {reps.due_on} (15 days, reg 13(1))."]})
    sent = 1
    consultation = find_step(s, case, "plan.setting_consultation:1")
    if consultation is not None:
        contact = contact_for(s, "senco", consultation.organisation)
        enqueue(s, idempotency_key=f"setting_consultation:step:{consultation.id}", kind="setting_consultation",
                recipient_role="senco", recipient_email=contact.email, on=consultation.started_on, case=case,
                step=consultation, context={"council": settings().council_name, "due": consultation.due_on,
                                            "action": "consultation on naming a setting"})
        sent += 1
    return sent


def setting_replied(s: Session, reference: str, on: dt.date, today: dt.date, actor: str) -> Step:
    """Record the consulted setting's reply (CFA s39(2))."""
    case = get_case(s, reference)
    step = open_step(s, case, "plan.setting_consultation:1")
    _not_after_today(on, today)
    return complete_step(s, step, on, actor, case)


def final_issued(s: Session, reference: str, on: dt.date, today: dt.date, actor: str) -> Step:
    """Record the final plan sent (reg 13(2): within 20 weeks of the request). The council may not finalise
    while the family's 15 days for representations run (reg 13(1)), nor while a consulted setting's do."""
    case = get_case(s, reference)
    step = open_step(s, case, "plan.final")
    reps = find_step(s, case, "plan.draft_representations")
    if reps is None:
        raise InputError("REF", f"no draft plan has been issued on {reference}")
    _not_after_today(on, today)
    if on <= reps.due_on:
        raise InputError("--on", f"the family's representations on the draft run until {reps.due_on} (reg 13(1))")
    consultation = find_step(s, case, "plan.setting_consultation:1")
    if consultation is not None and consultation.status == "open":
        if on <= consultation.due_on:
            raise InputError("--on", f"the setting's consultation runs until {consultation.due_on} (CFA s39(2))")
        cancel_step(s, consultation, actor, "final plan issued without the setting's reply", no_reply=True)
    complete_step(s, reps, reps.due_on, actor, case)  # the family's window closed on its last day
    return complete_step(s, step, on, actor, case)


def put_plan_in_force(s: Session, reference: str) -> dt.date:
    """The final plan is in force; its first annual review falls within 12 months of its issue (CFA s44(1))."""
    case = get_case(s, reference)
    issued_on = find_step(s, case, "plan.final").completed_on
    draft = find_step(s, case, "plan.draft")
    review_cycle.put_plan_in_force(s, case, issued_on, FLOW_ACTOR, setting=draft.details.get("setting_requested"))
    enqueue(s, idempotency_key=f"notice:final_plan:case:{case.id}", kind="family_notice", recipient_role=FAMILY,
            recipient_email=family_email(s, case), on=issued_on, case=case,
            context={"council": settings().council_name, "action": "final EHC plan issued (reg 13(2))",
                     "due": None, "lines": [], **appeal_rights(case, issued_on)})
    return issued_on


# --- reading a case back ----------------------------------------------------------------------------


def _late(step: Step) -> bool:
    """Done after its statutory date, or, where an exception set the limit aside, after the working target."""
    limit = step.target_on if step.disapplied and step.target_on else step.due_on
    return bool(step.completed_on and step.completed_on > limit)


def timeline(s: Session, reference: str) -> dict:
    """The case's steps against their statutory dates, its exceptions and its outcome: no personal data."""
    case = get_case(s, reference)
    return {
        "reference": case.reference, "stage": case.stage, "status": case.status, "requested_on": case.requested_on,
        "closed_reason": case.closed_reason, "plan_issued_on": case.plan_issued_on,
        "steps": [{"key": st.key, "rule": st.rule_id, "started": st.started_on, "due": st.due_on,
                   "target": st.target_on, "disapplied": st.disapplied, "status": st.status,
                   "done": st.completed_on, "late": _late(st),
                   **{k: st.details[k] for k in ("notice_on", "mediation_contact_by", "appeal_register_by")
                      if k in st.details}}
                  for st in case_steps(s, case)],
        "exceptions": [{"kind": e.kind, "from": e.start_on, "to": e.end_on,
                        "regulation": statutory.EXCEPTION_REGULATIONS[e.kind], "note": e.evidence_note}
                       for e in case_exceptions(s, case)],
    }

