"""From notices to outbox rows: the one place that words a notice, finds its recipients' addresses and keys it.

Acts and the deadline watch return `models.notice.Notice` values; `write` turns them into rows of the outbox in
the caller's transaction, so an act and its messages commit together or not at all. Every idempotency key
format is built here (`key`): writing the same notice twice, from a retried task, a resumed run or two workers
at once, is a no-op.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import replace
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session

from models import bulk, cannot_notify, statutory
from models.assessment import appeal_rights
from models.cases import Case, Child, Contact, Step, utcnow
from models.contacts import find_contact
from models.council import council_details
from models.errors import InputError
from models.notice import Notice, NoticeKind, Recipient
from models.outbox import Written, existing_keys, insert_new
from models.people import Person, family_recipients, people_of, reach
from models.settings import Settings, settings
from models.vocabulary import ADVICE_LABELS, AppealOutcome, Channel, OutboxStatus, Role
from notifications.render import Renderer
from notifications.requirements import REQUIRED, RIGHTS, unstated

COMPOSE_ACTOR = "notices"  # who the audit says put a notice on the cannot_notify queue
PERSONAL_DATA = ("none", "name", "name_and_dob")  # EHC_PERSONAL_DATA_IN_MESSAGES: what a professional's body may say

TEMPLATES = {NoticeKind.STILL_OVERDUE: "overdue"}  # notice kind → template, where they differ
SUBJECTS = {  # a statutory notice's template → its subject (the case reference and this only: no personal data)
    "considering_assessment": "request for an EHC needs assessment received (reg 4)",
    "request_copy": "request for an EHC needs assessment received (reg 4(1))",
    "to_assess": "decision to carry out an EHC needs assessment (reg 5(1))",
    "not_to_assess": "decision not to carry out an EHC needs assessment (reg 5(1))",
    "assessment_decision_copy": "decision whether to carry out an EHC needs assessment (reg 5(2))",
    "not_to_issue": "decision not to issue an EHC plan (reg 10(1))",
    "not_to_issue_copy": "decision not to issue an EHC plan (reg 10(2))",
    "draft_plan": "draft EHC plan issued (reg 13(1))",
    "final_plan": "final EHC plan issued (reg 13(2))",
    "final_plan_copy": "final EHC plan issued (reg 14(2))",
    "review_invitation": "invitation to the annual review meeting (reg 20(3))",
    "review_maintain": "annual review decision: maintain (reg 20(10))",
    "review_amend": "annual review decision: amend (reg 22(2))",
    "amended_plan": "amended EHC plan issued (reg 22(3))",
    "not_to_amend": "decision not to amend the EHC plan (reg 22(4))",
    "cease_decision": "decision to cease the EHC plan (reg 31)",
    "plan_ceased": "EHC plan ceased (CFA s45)",
    "transfer_family": "EHC plan transferred (reg 15)",
}
APPEALABLE = {t for t, r in REQUIRED.items() if RIGHTS[0] in r.elements}  # notices carrying the right of appeal
UNSTATED_REASONS = "the SEN team will give them on request, quoting the reference above."  # the act gave none
STATED_REASONS = {  # a refusal's reasons where the act gave none: the statutory test it found not met
    "not_to_assess": "the council is not satisfied that the child or young person has or may have special "
                     "educational needs that may require special educational provision to be made through an EHC "
                     "plan (Children and Families Act 2014, s36(8)).",
    "not_to_issue": "the council found that it is not necessary for special educational provision to be made "
                    "in accordance with an EHC plan (Children and Families Act 2014, s37(1)).",
    "cease_decision": "the council found that it is no longer necessary for the EHC plan to be maintained "
                      "(Children and Families Act 2014, s45(1)(b)).",
}
ACTIONS = {  # a step's rule → what the chase asks for, and the law it cites
    "assess.decision": ("decision whether to assess", "SEND Regulations 2014, reg 5(1)"),
    "advice.provide": ("advice", "SEND Regulations 2014, reg 8(1)"),
    "plan.not_to_issue": ("notice of a decision not to issue a plan", "SEND Regulations 2014, reg 10(1)"),
    "plan.draft_latest": ("draft EHC plan", "SEND Regulations 2014, reg 13(1)-(2)"),
    "plan.final": ("final EHC plan", "SEND Regulations 2014, reg 13(2)"),
    "plan.setting_consultation": ("reply to the consultation on naming a setting", "CFA 2014, s39"),
    "review.annual": ("annual review of the EHC plan", "CFA 2014, s44(1)"),
    "review.meeting_latest": ("annual review meeting", "SEND Code of Practice 9.169"),
    "review.invitations": ("invitations to the review meeting", "SEND Regulations 2014, reg 20(3)"),
    "review.advice_circulated": ("advice circulated before the review meeting", "SEND Regulations 2014, reg 20(4)"),
    "review.report": ("review report", "SEND Regulations 2014, reg 20(7)"),
    "review.decision": ("review decision", "SEND Regulations 2014, reg 20(10)"),
    "review.phase_transfer": ("phase transfer review and amended plan", "SEND Regulations 2014, reg 18"),
    "amend.final": ("amended final EHC plan", "SEND Regulations 2014, reg 22(3)"),
    "reassess.decision": ("decision whether to re-assess", "SEND Regulations 2014, reg 25(1)"),
    "reassess.final": ("final plan after re-assessment", "SEND Regulations 2014, reg 27(2)"),
}
CHASES = (NoticeKind.REMINDER, NoticeKind.DUE_TODAY, NoticeKind.OVERDUE, NoticeKind.STILL_OVERDUE)
APPEAL_GROUNDS = {  # what an appeal or a mediation is about, as the family reads it (CFA s51(2))
    "refusal-to-assess": "the decision not to carry out an EHC needs assessment",
    "refusal-to-issue": "the decision not to issue an EHC plan",
    "contents": "the contents of the EHC plan",
    "school": "the school or other setting named in the EHC plan",
    "cease": "the decision to cease the EHC plan",
    "refusal-to-amend": "the decision not to amend the EHC plan after its review",
}
ORDERS = {  # what the Tribunal ordered (reg 44)
    "assess": "carry out an EHC needs assessment", "make-plan": "make and maintain an EHC plan",
    "amend": "amend the EHC plan", "school": "name a different school or other setting in the EHC plan",
    "continue": "continue to maintain the EHC plan",
    "continue-amended": "continue to maintain the EHC plan, amended",
}
FINDINGS = {"upheld": "upheld", "partly-upheld": "partly upheld", "not-upheld": "not upheld"}
PARTIES = {"health": "the Integrated Care Board (health)", "social_care": "children's social care"}
TRIBUNAL_RIGHT = ("You may appeal to the First-tier Tribunal (SEND); your appeal must reach it by {by} (Tribunal "
                  "Procedure Rules 2008, rules 12 and 20(1)(c)).")
OMBUDSMAN_RIGHT = ("If you remain dissatisfied, you may ask the Local Government and Social Care Ombudsman to look "
                   "at it (www.lgo.org.uk). A disagreement about the plan itself may go to mediation or the "
                   "First-tier Tribunal (SEND).")
LOCAL_TARGET = "(the council's own target, not a statutory limit)"


def key(notice: Notice, recipient: Recipient | None = None) -> str:
    """The outbox key of a notice (to one of its recipients, where it has several)."""
    kind = notice.kind
    if kind in (NoticeKind.ADVICE_REQUEST, NoticeKind.REVIEW_ADVICE_REQUEST):
        base = f"advice_request:step:{notice.step_id}"
    elif kind == NoticeKind.SETTING_CONSULTATION:
        base = f"setting_consultation:step:{notice.step_id}"
    elif kind in CHASES:
        base = f"{kind}:step:{notice.step_id}:{notice.occasion}"  # occasion: the day the tier fell due
    elif kind == NoticeKind.ESCALATION:
        base = f"escalation:step:{notice.step_id}:{notice.occasion}"  # occasion: the escalation's tier
    elif kind == NoticeKind.DCO_DIGEST:
        base = f"dco_digest:day:{notice.on.isoformat()}"
    elif kind == NoticeKind.REVIEW_LIST:
        base = f"review_list:{notice.occasion}"  # occasion: term and setting
    elif kind == NoticeKind.REVIEW_DECISION:
        base = f"notice:review_decision.{notice.occasion}:case:{notice.case_id}"  # occasion: the cycle
    else:
        base = f"notice:{kind}:case:{notice.case_id}"
        if notice.occasion:  # one of several of its kind on a case: a mediation's, an appeal's or a complaint's number
            base = f"{base}:{notice.occasion}"
    if recipient is None or len(notice.recipients) == 1:
        return base
    who = f"person:{recipient.person_id}" if recipient.person_id else recipient.contact_id or recipient.email or ""
    return f"{base}:to:{recipient.role}:{who}"


@functools.lru_cache(maxsize=4096)  # a watch day writes thousands of messages about a few hundred dates
def _long_date(d: dt.date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"


def _acts(acts) -> list[str]:
    return [f"{a['what'][:1].upper()}{a['what'][1:]}: by {_long_date(a['by'])}." for a in acts]


def _support(f: dict) -> list[str]:
    return [f"Free, impartial information, advice and support: {f['sendiass']}."] if f.get("sendiass") else []


def _disagreement(kind: NoticeKind, f: dict) -> tuple[str, list[str]]:
    """What a disagreement notice is about, and its lines: the right it carries and its deadline (CFA s51-57;
    SEND Regulations 2014, reg 32-45; Tribunal Procedure Rules 2008)."""
    about = APPEAL_GROUNDS.get(f.get("against", ""), "")
    if kind == NoticeKind.MEDIATION_ARRANGING:
        return "mediation to be arranged (SEND Regulations 2014, reg 36-37)", [
            f"You told the mediation adviser that you want mediation about {', '.join(f['issues'])}.".replace("_", " "),
            f"The council must arrange it to take place by {_long_date(f['held_by'])}; where health issues are in "
            "dispute the Integrated Care Board takes part.",
            TRIBUNAL_RIGHT.format(by=_long_date(f["appeal_by"])) + " That date moves to one month after the "
            "mediation certificate if that is later.",
            f"Mediation adviser: {f['mediation_adviser']}.", *_support(f)]
    if kind == NoticeKind.MEDIATION_HEALTH:
        return "mediation of health issues to arrange (SEND Regulations 2014, reg 36)", [
            "The family wants mediation and health issues are in dispute: the Integrated Care Board arranges their "
            f"mediation, to take place by {_long_date(f['held_by'])}.",
            "Please tell the SEN team who will attend for the Board."]
    if kind == NoticeKind.MEDIATION_CERTIFICATE:
        return "mediation certificate issued (SEND Regulations 2014, reg 34 and 39)", [
            f"A mediation certificate was issued on {_long_date(f['certificate_on'])}.",
            TRIBUNAL_RIGHT.format(by=_long_date(f["appeal_by"])), f"Mediation adviser: {f['mediation_adviser']}.",
            *_support(f)]
    if kind == NoticeKind.MEDIATION_AGREEMENT:
        return "what was agreed at mediation (SEND Regulations 2014, reg 42)", [
            "The council (or the Integrated Care Board, for health) will do what was agreed:", *_acts(f["acts"]),
            "If an agreed act is not done, you may complain to the council."]
    if kind == NoticeKind.APPEAL_LODGED:
        return "your appeal to the First-tier Tribunal (SEND)", [
            f"The council knows of your appeal against {about}, registered on {_long_date(f['lodged_on'])}.",
            "The council will respond to the Tribunal by the date the Tribunal sets.", *_support(f)]
    if kind == NoticeKind.APPEAL_CONCEDED:
        done = _acts(f["acts"]) or ["The decision is withdrawn: your EHC plan continues."]
        return "the council will not oppose your appeal (SEND Regulations 2014, reg 45)", [
            f"The council has told the Tribunal that it will not oppose your appeal against {about}.",
            *done, *_support(f)]
    if kind == NoticeKind.APPEAL_DECIDED:
        if f["outcome"] == AppealOutcome.ORDER:
            lines = [f"The Tribunal ordered the council to {ORDERS[f['order']]}. The council will do so within the "
                     "limits of SEND Regulations 2014, reg 44:", *_acts(f["acts"])]
        elif f["outcome"] == AppealOutcome.DISMISSED:
            lines = [f"The Tribunal dismissed your appeal against {about}."]
            if f.get("may_cease_on"):
                lines.append(f"The council may cease the EHC plan from {_long_date(f['may_cease_on'])}.")
        else:
            lines = [f"Your appeal against {about} was withdrawn."]
        return "the end of your appeal to the First-tier Tribunal (SEND)", lines
    if kind == NoticeKind.COMPLAINT_ACKNOWLEDGED:
        return "your complaint: acknowledged", [
            f"The council received your complaint on {_long_date(f['received_on'])} and will respond by "
            f"{_long_date(f['respond_by'])} {LOCAL_TARGET}.", *_support(f)]
    if kind == NoticeKind.COMPLAINT_RESPONSE:
        return "the council's response to your complaint", [
            f"Your complaint of {_long_date(f['received_on'])} is {FINDINGS[f['finding']]}; the council's "
            "letter gives its reasons.", OMBUDSMAN_RIGHT]
    party, subject = PARTIES[f["party"]], f["subject"]
    if kind == NoticeKind.DISPUTE_RAISED:
        stage = "escalated to the disputes process" if f["escalated"] else "raised"
        return f"dispute over {subject} {stage}", [
            f"The council and {party} disagree over the {subject} for this case.",
            f"Please resolve it by {_long_date(f['resolve_by'])} {LOCAL_TARGET}."]
    return f"dispute over {subject} resolved", [
        f"The dispute with {party} over the {subject} for this case was resolved on {_long_date(f['resolved_on'])}."]


DISAGREEMENT = (NoticeKind.MEDIATION_ARRANGING, NoticeKind.MEDIATION_HEALTH, NoticeKind.MEDIATION_CERTIFICATE,
                NoticeKind.MEDIATION_AGREEMENT, NoticeKind.APPEAL_LODGED, NoticeKind.APPEAL_CONCEDED,
                NoticeKind.APPEAL_DECIDED, NoticeKind.COMPLAINT_ACKNOWLEDGED, NoticeKind.COMPLAINT_RESPONSE,
                NoticeKind.DISPUTE_RAISED, NoticeKind.DISPUTE_RESOLVED)


class Delivery(NamedTuple):
    role: str
    channel: str
    email: str | None
    postal_address: str | None


class Unreachable(Exception):
    """Nobody a notice can be sent to: it goes on the `cannot_notify` queue with the reason (no personal data)."""


class _Addresses:
    """Who a `write` sends to, looked up once each: the directory by role, the case's people, their caseworker.

    The council's own steps (and roles with nobody in the directory) go to the case's named caseworker, else the
    directory's SEN caseworkers; the family's notices to the people `models.people.family_recipients` chooses."""

    def __init__(self, s: Session) -> None:
        self.s, self.cache, self.people, self.children = s, {}, {}, {}

    def contact(self, role: str) -> Contact | None:
        if role not in self.cache:
            self.cache[role] = find_contact(self.s, role)
        return self.cache[role]

    def caseworker(self, case: Case | None) -> Delivery:
        if case is not None and case.caseworker_email:
            return Delivery(Role.SEN_CASEWORKER, Channel.EMAIL, case.caseworker_email, None)
        team = self.contact(Role.SEN_CASEWORKER)
        if team is None:
            raise Unreachable("no caseworker named on the case and no SEN caseworker in the directory")
        return Delivery(Role.SEN_CASEWORKER, Channel.EMAIL, team.email, None)

    def load_people(self, case_ids: set[int]) -> None:
        wanted = case_ids - set(self.people)
        self.people.update(people_of(self.s, wanted))

    def family(self, case: Case | None, on: dt.date) -> tuple[list[Person], str | None]:
        """The people the family's notices go to on `on`, or why there is nobody."""
        if case is None:
            return [], "no case"
        self.load_people({case.id})
        if case.child_id not in self.children:
            self.children[case.child_id] = self.s.get(Child, case.child_id)
        return family_recipients(self.people[case.id], self.children[case.child_id], on)

    def address(self, recipient: Recipient, case: Case | None, on: dt.date) -> Delivery:
        """How a recipient is reached: an address given with the act, one of the case's people, the named
        contact, the directory's entry for the role, or the caseworker; raises Unreachable."""
        if recipient.email:
            return Delivery(recipient.role, Channel.EMAIL, recipient.email, None)
        if recipient.person_id is not None:
            person = next(p for p in self.people[case.id] if p.id == recipient.person_id)
            way = reach(person)
            if way is None:
                raise Unreachable(f"{person.role} (person {person.id}) has no email address and no postal address")
            return Delivery(recipient.role, *way)
        if recipient.role == Role.FAMILY:
            raise Unreachable(self.family(case, on)[1])
        if recipient.role in (Role.LA, Role.SEN_CASEWORKER):
            return self.caseworker(case)
        if recipient.contact_id is not None:
            cached = f"contact:{recipient.contact_id}"
            if cached not in self.cache:
                self.cache[cached] = self.s.get(Contact, recipient.contact_id)
            return Delivery(recipient.role, Channel.EMAIL, self.cache[cached].email, None)
        contact = self.contact(recipient.role)
        if contact is None:  # nobody in the directory for the role: the case's caseworker hears instead
            return self.caseworker(case)
        return Delivery(recipient.role, Channel.EMAIL, contact.email, None)


def _about_child(s: Session, case: Case | None, allowed: str) -> dict:
    """What a professional's message may say about the child: nothing unless the council's setting allows it."""
    if allowed == "none" or case is None:
        return {"child_name": None, "child_dob": None}
    child = s.get(Child, case.child_id)
    dob = _long_date(child.date_of_birth) if allowed == "name_and_dob" else None
    return {"child_name": child.name, "child_dob": dob}


def _chase_wording(step: Step, on: dt.date, level: int) -> dict:
    rule = statutory.RULES.get(step.rule_id or "")
    fallback = (rule.summary, rule.source) if rule else (
        step.details.get("action") or step.key.replace(".", " ").replace("_", " "), None)
    action, regulation = ACTIONS.get(step.rule_id or "", fallback)
    source_label = ADVICE_LABELS.get(step.source, step.source) if step.source else None
    if step.rule_id == "advice.provide" and source_label:
        action = f"{source_label} advice"
    return {"action": action, "regulation": regulation, "source_label": source_label, "due": _long_date(step.due_on),
            "tier": level, "days_overdue": (on - step.due_on).days, "days_left": (step.due_on - on).days,
            "organisation": step.organisation}


def wording(s: Session, config: Settings, notice: Notice, case: Case | None, step: Step | None) -> dict:
    """The template context of a notice: the council, what it is about, and the facts its act gave."""
    context = {"council": config.council_name, **notice.facts}
    if notice.kind in DISAGREEMENT:  # with the council's mediation adviser and SENDIASS (`models.council`)
        action, lines = _disagreement(notice.kind, {"mediation_adviser": config.council_mediation_adviser,
                                                    "sendiass": config.council_sendiass, **notice.facts})
        context = {"action": action, "lines": lines, "council": config.council_name}
    elif notice.kind in CHASES:
        context = {**_chase_wording(step, notice.on, int(notice.facts["tier"])), **context}
    elif notice.kind == NoticeKind.ESCALATION:  # the council's own steps are the SEN caseworkers'
        responsible = Role.SEN_CASEWORKER if notice.facts["responsible"] == Role.LA else notice.facts["responsible"]
        context = {**_chase_wording(step, notice.on, int(notice.facts["tier"])), **context, "responsible": responsible}
    elif notice.kind == NoticeKind.DCO_DIGEST:
        items = [{**i, "due": _long_date(i["due_on"]), "opened": _long_date(i["opened_on"]),
                  "acknowledged": i["acknowledged_by"] is not None} for i in notice.facts["items"]]
        context = {**context, "action": "overdue health advice", "due": _long_date(notice.on), "items": items}
    elif notice.kind in (NoticeKind.ADVICE_REQUEST, NoticeKind.REVIEW_ADVICE_REQUEST):
        context = {"source_label": ADVICE_LABELS[step.source], "due": step.due_on, **context}
    if any(r.role != Role.FAMILY for r in notice.recipients):
        context = {**_about_child(s, case, config.personal_data_in_messages), **context}
    return context


def template_of(notice: Notice) -> str:
    """The template a notice is worded with: a review decision's by its outcome (reg 20(10), 22(2))."""
    if notice.kind == NoticeKind.REVIEW_DECISION:
        return "review_maintain" if notice.facts.get("decision") == "maintain" else "review_amend"
    return TEMPLATES.get(notice.kind, str(notice.kind))


def sen_team(details: dict) -> str:
    """The council's SEN team as a notice names it: name, email, phone and postal address, as configured."""
    parts = [details["sen_team_email"], details["sen_team_phone"], details["address"], details["postcode"]]
    return ", ".join([f"{details['name']} SEN team", *(p for p in parts if p)])


def notice_wording(template: str, details: dict, context: dict) -> dict:
    """A statutory notice's context (`notifications.requirements`): its subject, the council's contacts, the
    reasons (the act's, else the test it found not met) and every date written out in full."""
    if template not in REQUIRED:
        return context
    contacts = {"sendiass": details["sendiass"], "mediation_adviser": details["mediation_adviser"],
                "council_mediation_contact": details["mediation_contact"] or sen_team(details),
                "sen_team": sen_team(details), "local_offer": details["local_offer"]
                or "ask the SEN team where the council publishes it"}
    dates = {k: _long_date(v) if isinstance(v, dt.date) and k != "due" else v  # `due`: as subjects give it
             for k, v in context.items()}
    dates["reasons"] = dates.get("reasons") or STATED_REASONS.get(template, UNSTATED_REASONS)
    return {"action": SUBJECTS.get(template, dates.get("action")), **contacts, **dates}


def _context(s: Session, config: Settings, details: dict, notice: Notice, case: Case | None,
             step: Step | None) -> dict:
    template = template_of(notice)
    context = {**wording(s, config, notice, case, step), "council_details": details}
    if case is not None and template in APPEALABLE and not context.get("appeal_by"):  # from the notice's day
        context = {**appeal_rights(case, notice.on), **context}
    return notice_wording(template, details, context)


def context_of(s: Session, notice: Notice) -> dict:
    """The wording context of one notice, as `write` renders it (for reading a notice back)."""
    config = settings()
    case = s.get(Case, notice.case_id) if notice.case_id else None
    step = s.get(Step, notice.step_id) if notice.step_id else None
    return {"reference": case.reference if case else None,
            **_context(s, config, council_details(config), notice, case, step)}


def check_personal_data(config: Settings) -> None:
    if config.personal_data_in_messages not in PERSONAL_DATA:
        raise InputError("EHC_PERSONAL_DATA_IN_MESSAGES", f"must be one of {', '.join(PERSONAL_DATA)}")


def expand_family(addresses: _Addresses, notice: Notice, case: Case | None) -> Notice:
    """A notice to the family, as one recipient per person told (two parents: two rows); left to the family as
    a whole where nobody can be told, so that it reaches the `cannot_notify` queue under its usual key."""
    if case is None or not any(r.role == Role.FAMILY and not r.email for r in notice.recipients):
        return notice
    people = addresses.family(case, notice.on)[0]
    recipients = []
    for r in notice.recipients:
        if r.role == Role.FAMILY and not r.email and people:
            recipients += [Recipient(Role.FAMILY, person_id=p.id) for p in people]
        else:
            recipients.append(r)
    return replace(notice, recipients=tuple(recipients))


def write(s: Session, notices: Iterable[Notice]) -> list[Written]:
    """Write each notice's outbox rows in the caller's transaction, in bulk; returns the rows this call wrote (a
    row whose key is already in the outbox, written by an earlier or a concurrent run, is not written again). A
    recipient nobody can reach goes on the `cannot_notify` queue instead, for the case's caseworker. A notice that
    must state a council contact not configured (or, outside the demo, an example address) is refused:
    InputError naming the setting, so the act is not recorded without the notice the law requires."""
    notices = list(notices)
    if not notices:
        return []
    config = settings()  # read once: building the settings costs milliseconds
    check_personal_data(config)
    details = council_details(config)
    cases = _by_id(s, Case, {n.case_id for n in notices if n.case_id})
    addresses = _Addresses(s)
    addresses.load_people(set(cases))
    notices = [expand_family(addresses, n, cases.get(n.case_id)) for n in notices]
    keyed = [(n, r, key(n, r)) for n in notices for r in n.recipients]
    written = existing_keys(s, [k for _, _, k in keyed])
    wanted = [(n, r, k) for n, r, k in keyed if k not in written]
    steps = _by_id(s, Step, {n.step_id for n, _, _ in wanted if n.step_id})
    rows, contexts, now, render = [], {}, utcnow(), Renderer()
    for notice, recipient, k in wanted:
        case, step = cases.get(notice.case_id), steps.get(notice.step_id)
        template = template_of(notice)
        problem = unstated(template, details, config.demo)
        if problem is not None:
            raise problem
        try:
            to = addresses.address(recipient, case, notice.on)
        except Unreachable as nobody:
            cannot_notify.record(s, key=k, case=case, step=step, kind=template, role=recipient.role,
                                 reason=str(nobody), on=notice.on, actor=COMPOSE_ACTOR)
            continue
        if id(notice) not in contexts:
            contexts[id(notice)] = _context(s, config, details, notice, case, step)
        rendered = render(template, {"reference": case.reference if case else None, **contexts[id(notice)]})
        rows.append({"idempotency_key": k, "case_id": notice.case_id, "step_id": notice.step_id, "kind": template,
                     "recipient_role": to.role, "recipient_email": to.email, "channel": to.channel,
                     "postal_address": to.postal_address, "subject": rendered.subject, "body_text": rendered.text,
                     "body_html": rendered.html, "on": notice.on, "status": OutboxStatus.PENDING, "attempts": 0,
                     "created_at": now})
    return insert_new(s, rows)


def _by_id(s: Session, table, ids: set[int]) -> dict:
    """Rows of `table` by id: the session's own objects where it holds them loaded (an act's case and steps,
    with what the act changed), the rest read as plain rows (a watch day reads thousands: no ORM objects)."""
    found = {}
    for i in ids:
        held = s.identity_map.get(identity_key(table, i))
        if held is not None and not sa.inspect(held).expired_attributes:
            found[i] = held
    c, rest = table.__table__.c, [i for i in ids if i not in found]
    for batch in bulk.batches(s, rest):
        found.update({row.id: row for row in s.connection().execute(sa.select(table.__table__)
                                                                    .where(bulk.among(s, c.id, batch)))})
    return found
