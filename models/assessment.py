"""The needs assessment in the store: each caseworker's act (CFA s36-s39, SEND Regs 2014 regs 4-13) and what
follows from it, as named changes that return their notices.

An act completes an open step, is dated, and writes what follows in the same transaction (advice requests, the
next steps, the plan in force, the case closed on a refusal), so an act recorded while Prefect is away still
leaves the case chased. What follows is idempotent (a step by its key, a message by its outbox key): the flow's
stage tasks call the same functions, and a resumed or repeated run writes nothing twice. Dates come from the
acts, never from a clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlmodel import Session, select

from models import review_cycle, statutory, text
from models.cases import Case, Step
from models.casework import (
    LA,
    add_step,
    cancel_step,
    case_exceptions,
    case_steps,
    child_of,
    close_case,
    complete_step,
    compute_due,
    find_step,
    get_case,
    move_stage,
    not_before,
    not_in_future,
    open_step,
)
from models.contacts import find_contact
from models.errors import InputError
from models.notice import Notice, NoticeKind, Recipient
from models.schools import settings_by_urn
from models.vocabulary import (
    ADVICE_ROLES,
    CASE_FLAGS,
    REQUIRED_SOURCES,
    AdviceSource,
    ClosedReason,
    Role,
    Stage,
    StepKey,
    StepKind,
    StepStatus,
    advice_key,
    setting_consultation_key,
)

FLOW_ACTOR = "needs-assessment flow"
REFUSALS = {  # the refusal → the decision step, its notice, its copy, and what it is (reg 5, 10)
    ClosedReason.NOT_TO_ASSESS: (StepKey.ASSESS_DECISION, NoticeKind.REFUSAL_TO_ASSESS,
                                 NoticeKind.ASSESSMENT_DECISION_COPY,
                                 "decision not to carry out an EHC needs assessment (reg 5(3))"),
    ClosedReason.NOT_TO_ISSUE: (StepKey.PLAN_DECISION, NoticeKind.REFUSAL_TO_ISSUE, NoticeKind.NOT_TO_ISSUE_COPY,
                                "decision not to issue an EHC plan (reg 10(1))"),
}
DECISIONS = {StepKey.ASSESS_DECISION: "assess", StepKey.PLAN_DECISION: "issue"}  # the detail each decision records
FAMILY = (Recipient(Role.FAMILY),)


# --- the request and the decision whether to assess (reg 4-5) ----------------------------------------


def _senco_of(s: Session, urn: int | None) -> Recipient | None:
    """The SENCO of a setting by URN, where the directory names one (never another setting's SENCO)."""
    setting = settings_by_urn(s, {urn}).get(urn) if urn else None
    if setting is None or setting.senco_contact_id is None:
        return None
    return Recipient(Role.SENCO, contact_id=setting.senco_contact_id)


def told_of_request(s: Session, case: Case) -> tuple[Recipient, ...]:
    """Those reg 4(1) names beside the family, told of the request and of the decisions on it (reg 5(2),
    10(2)): the health commissioning body (its DCO), the council's social care officers for children with
    SEN, and the child's school or college where the case names it."""
    setting = _senco_of(s, case.current_setting_urn)
    return (Recipient(Role.DCO), Recipient(Role.SOCIAL_CARE), *((setting,) if setting else ()))


def request_notices(s: Session, reference: str) -> list[Notice]:
    """On a request (reg 4(1)): the family is told the council is considering whether to assess, and of its
    rights to give views and evidence; those reg 4(1) names are told too."""
    case = get_case(s, reference)
    step = find_step(s, case, StepKey.ASSESS_DECISION)
    facts = {"requested_on": case.requested_on, "decision_by": step.due_on}
    return [Notice(NoticeKind.CONSIDERING_ASSESSMENT, case.requested_on, FAMILY, case_id=case.id, facts=facts),
            Notice(NoticeKind.REQUEST_COPY, case.requested_on, told_of_request(s, case), case_id=case.id,
                   facts=facts)]


def decide_to_assess(s: Session, reference: str, assess: bool, on: dt.date, today: dt.date,
                     actor: str, reasons: str | None = None) -> list[Notice]:
    """Record the decision whether to assess, notified on `on` (reg 5(1): within 6 weeks of the request). What
    follows is written with it, so the case is chased whether or not its run hears of it: a decision to
    assess is notified (reg 5(1)-(2)) and asks every source for advice (reg 6(1)); a refusal closes the case
    with its notice and its `reasons` (reg 5(3))."""
    case = get_case(s, reference)
    step = open_step(s, case, StepKey.ASSESS_DECISION)
    not_in_future(on, today)
    not_before(on, case.requested_on, "the request")
    complete_step(s, step, on, actor, case, assess=assess, **_reasons(reasons))
    if not assess:
        return close_refused(s, reference, ClosedReason.NOT_TO_ASSESS)
    return [*assessment_notices(s, reference),
            *(notice for source in start_assessment(s, reference) for notice in request_advice(s, reference, source))]


def _reasons(reasons: str | None) -> dict:
    reasons = text.reasons(reasons)
    return {"reasons": reasons} if reasons else {}


def assessment_notices(s: Session, reference: str) -> list[Notice]:
    """The decision to assess, to the family (reg 5(1)) and to those told of the request (reg 5(2))."""
    case = get_case(s, reference)
    decided = find_step(s, case, StepKey.ASSESS_DECISION)
    final = find_step(s, case, StepKey.PLAN_FINAL)
    on = decided.completed_on
    return [Notice(NoticeKind.DECISION_TO_ASSESS, on, FAMILY, case_id=case.id, step_id=decided.id,
                   facts={"decided_on": on, "final_by": final.due_on}),
            Notice(NoticeKind.ASSESSMENT_DECISION_COPY, on, told_of_request(s, case), case_id=case.id,
                   step_id=decided.id, facts={"decided_on": on, "assess": True,
                                              "decision": "to carry out an EHC needs assessment"})]


def decision(s: Session, reference: str, key: StepKey) -> bool | None:
    """The recorded outcome of a decision step (`assess.decision`, `plan.decision`), or None if not made. A done
    decision without its outcome is a fault of the store, never read as a refusal."""
    step = find_step(s, get_case(s, reference), key)
    if step is None or step.status != StepStatus.DONE:
        return None
    detail = DECISIONS[key]
    if not isinstance(step.details.get(detail), bool):
        raise ValueError(f"{step.key} of {reference} is done but records no {detail!r} outcome")
    return step.details[detail]


def appeal_rights(case: Case, notice_on: dt.date) -> dict[str, dt.date]:
    """The family's last days to contact a mediation adviser (reg 33) and to appeal (Tribunal rule 20(1)(c))."""
    return {"mediation_by": statutory.deadline("mediation.contact", notice_on, rule_set=case.rule_set).due,
            "appeal_by": statutory.deadline("appeal.register", notice_on, rule_set=case.rule_set).due}


def close_refused(s: Session, reference: str, refusal: ClosedReason) -> list[Notice]:
    """Close the case on a refusal, with the notice's date and the family's mediation and appeal deadlines
    (reg 5(3), 10(1); mediation reg 33, appeal Tribunal rule 20(1)(c)); returns the refusal notice, with the
    reasons the decision recorded, and its copy to those told of the request (reg 5(2), 10(2))."""
    key, kind, copy, what = REFUSALS[refusal]
    case = get_case(s, reference)
    step = find_step(s, case, key)
    notice_on = step.completed_on
    rights = appeal_rights(case, notice_on)
    dates = {"notice_on": notice_on.isoformat(), "mediation_contact_by": rights["mediation_by"].isoformat(),
             "appeal_register_by": rights["appeal_by"].isoformat()}
    step.details = {**step.details, **dates}
    s.add(step)
    close_case(s, case, notice_on, FLOW_ACTOR, refusal, what, **dates)
    facts = {**rights, "notice_on": notice_on, "reasons": step.details.get("reasons")}
    decided = {"decided_on": notice_on, "assess": False, "decision": what.split(" (")[0].removeprefix("decision ")}
    return [Notice(kind, notice_on, FAMILY, case_id=case.id, step_id=step.id, facts=facts),
            Notice(copy, notice_on, told_of_request(s, case), case_id=case.id, step_id=step.id, facts=decided)]


# --- advice (reg 6-8) -------------------------------------------------------------------------------


def advice_sources(s: Session, case: Case, on: dt.date) -> list[str]:
    """The advice the case needs (reg 6(1)), from its flags and its child (`sources_needed`)."""
    child = child_of(s, case)
    return sources_needed(case.flags, child.date_of_birth, on, child.year_group_offset)


def sources_needed(flags: Iterable[str], dob: dt.date, on: dt.date, year_group_offset: int = 0) -> list[str]:
    """The advice a case needs on the day (reg 6(1)): the usual five, plus what its flags ask for (sensory,
    adult social care), plus preparation for adulthood from Year 9 (reg 6(1)(h))."""
    flags = set(flags)
    sources = [*REQUIRED_SOURCES, *(f for f in CASE_FLAGS if f in flags and f != AdviceSource.PFA)]
    if AdviceSource.PFA in flags or statutory.pfa_required(dob, on, year_group_offset):
        sources.append(AdviceSource.PFA)
    return [str(source) for source in sources]


def start_assessment(s: Session, reference: str) -> list[str]:
    """On a decision to assess: the 20-week limit opens as a step (reg 13(2)) and the stage moves to advice."""
    case = get_case(s, reference)
    decided = find_step(s, case, StepKey.ASSESS_DECISION)
    add_step(s, case, key=StepKey.PLAN_FINAL, kind=StepKind.FINAL_PLAN, rule_id="plan.final", role=LA,
             start=case.requested_on)
    if case.stage == Stage.DECISION_TO_ASSESS:
        move_stage(s, case, Stage.ADVICE, FLOW_ACTOR, "decided to assess", decided.completed_on)
    return advice_sources(s, case, decided.completed_on)


def request_advice(s: Session, reference: str, source: str, sent_on: dt.date | None = None) -> list[Notice]:
    """Ask one source for advice (reg 6(1)); its 6 weeks run from the day the request is received, taken as
    the day it is sent (the decision day, or the day the council told the family it will assess under the
    Tribunal's order, `sent_on`) until the adviser says otherwise (reg 8(1)). Returns the request."""
    case = get_case(s, reference)
    sent_on = sent_on or find_step(s, case, StepKey.ASSESS_DECISION).completed_on
    role = ADVICE_ROLES[AdviceSource(source)]
    contact = None if role == Role.FAMILY else find_contact(s, role)  # nobody listed: the caseworker is asked
    step = add_step(s, case, key=advice_key(source), kind=StepKind.ADVICE, rule_id="advice.provide", role=role,
                    start=sent_on, source=source, organisation=contact.organisation if contact else None,
                    contact_id=contact.id if contact else None)
    return [Notice(NoticeKind.ADVICE_REQUEST, sent_on, (Recipient(role, contact_id=step.contact_id),),
                   case_id=case.id, step_id=step.id, facts={"action": "advice request"})]


def advice_received(s: Session, reference: str, source: str, on: dt.date, today: dt.date, actor: str,
                    request_received_on: dt.date | None = None) -> list[Notice]:
    """Record advice returned (reg 8). If the adviser received the request later than it was sent, its 6 weeks
    run from that day instead (reg 8(1)). With the last advice in, the co-production meeting and the decision
    whether to issue open."""
    case = get_case(s, reference)
    if source not in ADVICE_ROLES:
        raise InputError("--source", f"must be one of {', '.join(ADVICE_ROLES)}")
    step = open_step(s, case, advice_key(source), "--source")
    not_in_future(on, today)
    if request_received_on is not None:
        not_before(request_received_on, step.started_on, "the day the request was sent", "--request-received-on")
        not_in_future(request_received_on, today, "--request-received-on")
        d = compute_due(s, case, step.rule_id, request_received_on, step.details.get("facts"), step)
        step.started_on, step.due_on, step.target_on, step.disapplied = (request_received_on, d.due, d.target,
                                                                         d.disapplied)
    not_before(on, step.started_on, "the request for advice", "--on")
    complete_step(s, step, on, actor, case, late=on > step.due_on)
    if case.stage == Stage.TRIBUNAL_ORDER:  # an ordered assessment: the order's own limits are what come next
        return []
    if not s.exec(select(Step.id).where(Step.case_id == case.id, Step.kind == StepKind.ADVICE,
                                        Step.status == StepStatus.OPEN)).first():
        open_coproduction(s, reference)
    return []


def request_ordered_advice(s: Session, case: Case, on: dt.date) -> list[Notice]:
    """The council told the family on `on` that it will assess under the Tribunal's order or its own concession
    (`tribunal.assess`, `unopposed.assess`; reg 44-45): it asks every source for advice that day, as a decision
    to assess does (reg 6(1)). A source already asked in this case (a re-assessment after a refusal to issue)
    is not asked again here: its done step keeps the first advice."""
    sources = [src for src in advice_sources(s, case, on) if find_step(s, case, advice_key(src)) is None]
    return [notice for source in sources for notice in request_advice(s, case.reference, source, sent_on=on)]


# --- co-production and the decision whether to issue (reg 9-10) --------------------------------------


def open_coproduction(s: Session, reference: str) -> dt.date:
    """All advice in: the co-production meeting and the decision whether to issue (week 16, reg 10(1)) open."""
    case = get_case(s, reference)
    last = max(st.completed_on for st in s.exec(select(Step).where(Step.case_id == case.id,
                                                                   Step.kind == StepKind.ADVICE)))
    add_step(s, case, key=StepKey.COPRODUCTION_MEETING, kind=StepKind.COPRODUCTION_MEETING,
             rule_id="plan.not_to_issue", role=LA, start=case.requested_on,
             details={"advice_complete_on": last.isoformat()})
    add_step(s, case, key=StepKey.PLAN_DECISION, kind=StepKind.DECISION_TO_ISSUE, rule_id="plan.not_to_issue",
             role=LA, start=case.requested_on)
    if case.stage == Stage.ADVICE:
        move_stage(s, case, Stage.COPRODUCTION, FLOW_ACTOR, "all advice received", last)
    return last


def meeting_held(s: Session, reference: str, on: dt.date, attended: list[str], child_views_captured: bool,
                 today: dt.date, actor: str) -> list[Notice]:
    """Record the co-production meeting: who attended by role, and whether the child's or young person's own
    views were captured (CFA s19(a)-(c))."""
    case = get_case(s, reference)
    step = open_step(s, case, StepKey.COPRODUCTION_MEETING)
    attended = sorted({text.clean(role, "--attended", text.NAME_MAX) for role in attended})
    if not attended:
        raise InputError("--attended", "name at least one role that attended")
    not_in_future(on, today)
    not_before(on, statutory.parse_date(step.details["advice_complete_on"], "advice_complete_on"),
                "the last advice received")
    complete_step(s, step, on, actor, case, attended=attended, child_views_captured=child_views_captured)
    return []


def decide_to_issue(s: Session, reference: str, issue: bool, on: dt.date, today: dt.date,
                    actor: str, reasons: str | None = None) -> list[Notice]:
    """Record the decision whether to issue a plan: a decision to issue opens the draft (reg 13); a refusal closes
    the case with its notice and its `reasons`, due by week 16 (reg 10(1))."""
    case = get_case(s, reference)
    step = open_step(s, case, StepKey.PLAN_DECISION)
    meeting = find_step(s, case, StepKey.COPRODUCTION_MEETING)
    if meeting is None or meeting.status != StepStatus.DONE:
        raise InputError("REF", f"the co-production meeting of {reference} is not yet recorded")
    not_in_future(on, today)
    not_before(on, meeting.completed_on, "the co-production meeting")
    complete_step(s, step, on, actor, case, issue=issue, **_reasons(reasons))
    if not issue:
        return close_refused(s, reference, ClosedReason.NOT_TO_ISSUE)
    open_drafting(s, reference)
    return []


def open_drafting(s: Session, reference: str) -> dt.date:
    """A decision to issue: the draft is due in time to leave the full 15 days before week 20 (reg 13)."""
    case = get_case(s, reference)
    decided_on = find_step(s, case, StepKey.PLAN_DECISION).completed_on
    add_step(s, case, key=StepKey.PLAN_DRAFT, kind=StepKind.DRAFT_PLAN, rule_id="plan.draft_latest", role=LA,
             start=case.requested_on, details={"decided_on": decided_on.isoformat()})
    if case.stage == Stage.COPRODUCTION:
        move_stage(s, case, Stage.DRAFT_PLAN, FLOW_ACTOR, "decided to issue a plan", decided_on)
    return decided_on


# --- draft and final plan (reg 11-14, CFA s39) -------------------------------------------------------


def draft_issued(s: Session, reference: str, on: dt.date, setting_requested: str | None,
                 personal_budget_requested: bool, today: dt.date, actor: str) -> list[Notice]:
    """Record the draft plan served on the family: 15 days for representations begin (reg 13(1)); a requested
    setting is consulted (CFA s39(2), 15 days)."""
    case = get_case(s, reference)
    step = open_step(s, case, StepKey.PLAN_DRAFT)
    setting_requested = text.optional(setting_requested, "--setting", text.NAME_MAX)
    not_in_future(on, today)
    not_before(on, statutory.parse_date(step.details["decided_on"], "decided_on"), "the decision to issue")
    complete_step(s, step, on, actor, case, setting_requested=setting_requested,
                  personal_budget_requested=personal_budget_requested)
    add_step(s, case, key=StepKey.DRAFT_REPRESENTATIONS, kind=StepKind.DRAFT_REPRESENTATIONS,
             rule_id="plan.draft_representations", role=Role.FAMILY, start=on)
    if setting_requested:
        contact = find_contact(s, Role.SENCO, setting_requested)  # the requested setting's own SENCO
        add_step(s, case, key=setting_consultation_key(), kind=StepKind.SETTING_CONSULTATION,
                 rule_id="plan.setting_consultation", role=Role.SENCO, start=on, organisation=setting_requested,
                 contact_id=contact.id if contact else None)
    move_stage(s, case, Stage.REPRESENTATIONS, actor, "draft plan issued", on)
    return draft_notices(s, reference)


def draft_notices(s: Session, reference: str) -> list[Notice]:
    """Tell the family the draft is served and until when they may comment; consult the requested setting."""
    case = get_case(s, reference)
    draft = find_step(s, case, StepKey.PLAN_DRAFT)
    reps = find_step(s, case, StepKey.DRAFT_REPRESENTATIONS)
    final = find_step(s, case, StepKey.PLAN_FINAL)
    notices = [Notice(NoticeKind.DRAFT_PLAN, draft.completed_on, FAMILY, case_id=case.id, step_id=reps.id, facts={
        "served_on": draft.completed_on, "representations_by": reps.due_on, "final_by": final.due_on})]
    consultation = find_step(s, case, setting_consultation_key())
    if consultation is not None:
        notices.append(Notice(NoticeKind.SETTING_CONSULTATION, consultation.started_on,
                              (Recipient(Role.SENCO, contact_id=consultation.contact_id),), case_id=case.id,
                              step_id=consultation.id, facts={"due": consultation.due_on,
                                                              "action": "consultation on naming a setting"}))
    return notices


def setting_replied(s: Session, reference: str, on: dt.date, today: dt.date, actor: str) -> list[Notice]:
    """Record the consulted setting's reply (CFA s39(2))."""
    case = get_case(s, reference)
    step = open_step(s, case, setting_consultation_key())
    not_in_future(on, today)
    not_before(on, step.started_on, "the consultation")
    complete_step(s, step, on, actor, case)
    return []


def final_issued(s: Session, reference: str, on: dt.date, today: dt.date, actor: str) -> list[Notice]:
    """Record the final plan sent (reg 13(2): within 20 weeks of the request). The council may not finalise
    while the family's 15 days for representations run (reg 13(1)), nor while a consulted setting's do. The
    plan is then in force, with its first review due."""
    case = get_case(s, reference)
    step = open_step(s, case, StepKey.PLAN_FINAL)
    reps = find_step(s, case, StepKey.DRAFT_REPRESENTATIONS)
    if reps is None:
        raise InputError("REF", f"no draft plan has been issued on {reference}")
    not_in_future(on, today)
    if on <= reps.due_on:
        raise InputError("--on", f"the family's representations on the draft run until {reps.due_on} (reg 13(1))")
    consultation = find_step(s, case, setting_consultation_key())
    if consultation is not None and consultation.status == StepStatus.OPEN:
        if on <= consultation.due_on:
            raise InputError("--on", f"the setting's consultation runs until {consultation.due_on} (CFA s39(2))")
        cancel_step(s, consultation, actor, "final plan issued without the setting's reply", no_reply=True)
    complete_step(s, reps, reps.due_on, actor, case)  # the family's window closed on its last day
    complete_step(s, step, on, actor, case)
    return put_plan_in_force(s, reference)


def put_plan_in_force(s: Session, reference: str) -> list[Notice]:
    """The final plan is in force; its first annual review falls within 12 months of its issue (CFA s44(1)).
    Returns the final plan's notice to the family, with the right of appeal (reg 13(2)), and its copies to the
    setting it names and the health commissioning body (reg 14(2))."""
    case = get_case(s, reference)
    issued_on = find_step(s, case, StepKey.PLAN_FINAL).completed_on
    draft = find_step(s, case, StepKey.PLAN_DRAFT)
    return plan_in_force(s, case, issued_on, FLOW_ACTOR, draft.details.get("setting_requested"))


def plan_in_force(s: Session, case: Case, issued_on: dt.date, actor: str, setting: str | None = None) -> list[Notice]:
    """A final plan issued on `issued_on`, at the end of an assessment or under the Tribunal's order (reg 44-45):
    in force, its first review due (`review_cycle.put_plan_in_force`), and its notices (reg 13(2), 14(2))."""
    review_cycle.put_plan_in_force(s, case, issued_on, actor, setting=setting)
    named = _senco_of(s, case.requested_setting_urn or case.current_setting_urn)
    if named is None and setting:  # the setting named by name: its own SENCO where the directory has one
        contact = find_contact(s, Role.SENCO, setting)
        named = Recipient(Role.SENCO, contact_id=contact.id) if contact and contact.organisation == setting else None
    facts = {"issued_on": issued_on, "setting": setting}
    return [Notice(NoticeKind.FINAL_PLAN, issued_on, FAMILY, case_id=case.id,
                   facts={**facts, **appeal_rights(case, issued_on)}),
            Notice(NoticeKind.FINAL_PLAN_COPY, issued_on, (*((named,) if named else ()), Recipient(Role.DCO)),
                   case_id=case.id, facts=facts)]


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

