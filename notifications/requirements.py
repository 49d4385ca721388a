"""What each notice must say, by the regulation that requires it: the notice table of the README, in code.

Every statutory notice is one template (`notifications/templates/<template>.txt|.html`); its `Requirement` names
who receives it, when, and its required elements. An element is a phrase the rendered notice must carry and,
where the element is a fact (a date, the reasons, a contact), the key of the wording context whose value it must
carry too, so `missing` can ask of any rendered notice "does it say everything its regulation requires?".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.errors import InputError
from models.notice import NoticeKind
from models.vocabulary import Role


@dataclass(frozen=True)
class Element:
    what: str  # what the law requires the notice to say
    phrase: str  # words the rendered notice carries
    key: str | None = None  # the wording context's key (dotted for `council_details.x`) whose value it carries
    contact: str | None = None  # the council's own detail (`models.council`) it states, which must be configured


@dataclass(frozen=True)
class Requirement:
    notice: str
    regulation: str
    to: str  # who receives it, as the law names them
    roles: tuple[Role, ...]  # the recipients' roles, as the notice names them
    when: str
    elements: tuple[Element, ...]


SENDIASS = Element("where to get free, impartial information, advice and support (SENDIASS)", "SENDIASS",
                   "sendiass", contact="sendiass")
SUPPORT = Element("where to get free, impartial information, advice and support (SENDIASS)",
                  "Free, impartial information, advice and support", contact="sendiass")
MEDIATION_ADVISER = Element("the mediation adviser's contact details", "Mediation adviser:",
                            contact="mediation_adviser")  # as the disagreement notices word it
SEN_TEAM = Element("who to contact at the council", "SEN team", "sen_team")
REASONS = Element("the reasons for the decision", "The reasons for this decision", "reasons")
RIGHTS = (  # a decision the family may appeal: the right, its deadline and the reg 32 information
    Element("the right of appeal to the First-tier Tribunal (SEND) and its deadline (Tribunal rule 20(1)(c))",
            "appeal to the First-tier Tribunal", "appeal_by"),
    Element("that a mediation certificate is needed before appealing (reg 32; CFA s55)",
            "you must have a mediation certificate"),
    Element("the 2 months to contact the mediation adviser (reg 33)", "contact the mediation adviser by",
            "mediation_by"),
    Element("the mediation adviser's contact details (reg 32)", "The mediation adviser:", "mediation_adviser",
            contact="mediation_adviser"),
    Element("the council's contact for mediation (reg 32)", "To ask the council for mediation",
            "council_mediation_contact"),
    Element("the disagreement resolution services, open whether or not there is an appeal (CFA s57)",
            "disagreement resolution"),
    SENDIASS,
)
FAMILY = (Role.FAMILY,)
TOLD_OF_REQUEST = (Role.DCO, Role.SOCIAL_CARE, Role.SENCO)  # reg 4(1): health body, social care, the setting

REQUIRED: dict[str, Requirement] = {  # template → what its notice must say
    "considering_assessment": Requirement(
        "request received: the council is considering whether to assess", "reg 4(1)", "the parent or young person",
        FAMILY, "on the request",
        (Element("that the council is considering whether an EHC needs assessment is necessary",
                 "considering whether an EHC needs assessment is necessary"),
         Element("the right to express views, orally or in writing", "express your views"),
         Element("the right to submit evidence", "send us evidence"),
         Element("when the decision is due (6 weeks, reg 5(1))", "decide by", "decision_by"), SENDIASS, SEN_TEAM)),
    "request_copy": Requirement(
        "request received, to those reg 4(1) names", "reg 4(1)",
        "the health commissioning body, the council's social care officers, the child's school or college",
        TOLD_OF_REQUEST, "on the request",
        (Element("that the council is considering whether an EHC needs assessment is necessary",
                 "considering whether an EHC needs assessment is necessary"),
         Element("the day of the request", "received on", "requested_on"),
         Element("when the decision is due", "decide by", "decision_by"))),
    "to_assess": Requirement(
        "decision to assess", "reg 5(1)", "the parent or young person", FAMILY, "within 6 weeks of the request",
        (Element("the decision to carry out an EHC needs assessment", "decided to carry out an EHC needs assessment"),
         Element("that advice will be sought (reg 6)", "ask for advice"),
         Element("when the plan, or a decision not to issue one, is due", "by", "final_by"), SENDIASS, SEN_TEAM)),
    "not_to_assess": Requirement(
        "decision not to assess", "reg 5(1), 5(3); CFA s36(9)", "the parent or young person", FAMILY,
        "within 6 weeks of the request",
        (Element("the decision not to carry out an EHC needs assessment",
                 "decided not to carry out an EHC needs assessment"), REASONS, *RIGHTS, SEN_TEAM)),
    "assessment_decision_copy": Requirement(
        "the decision whether to assess, to those told of the request", "reg 5(2)",
        "those reg 4(1) names", TOLD_OF_REQUEST, "with the family's notice",
        (Element("the decision, either way", "decided", "decision"),
         Element("the day it was made", "on", "decided_on"))),
    "advice_request": Requirement(
        "request for advice", "reg 6(1), 7", "the parent or young person, and each adviser: education, health, "
        "social care, an educational psychologist, others as the case needs",
        (Role.FAMILY, Role.SENCO, Role.DCO, Role.SOCIAL_CARE, Role.EDUCATIONAL_PSYCHOLOGIST),
        "on the decision to assess",
        (Element("the advice asked for", "advice", "source_label"),
         Element("the 6 weeks to provide it (reg 8(1))", "Due by", "due"))),
    "not_to_issue": Requirement(
        "decision not to issue a plan", "reg 10(1)", "the parent or young person", FAMILY,
        "within 16 weeks of the request",
        (Element("the decision not to issue an EHC plan", "decided not to issue an EHC plan"), REASONS, *RIGHTS,
         SEN_TEAM)),
    "not_to_issue_copy": Requirement(
        "decision not to issue, to those told of the request", "reg 10(2)", "those reg 4(1) names",
        TOLD_OF_REQUEST, "with the family's notice",
        (Element("the decision not to issue an EHC plan", "decided not to issue an EHC plan"),
         Element("the day it was made", "on", "decided_on"))),
    "draft_plan": Requirement(
        "draft plan", "reg 13(1); CFA s38", "the parent or young person", FAMILY, "in time for the 20 weeks",
        (Element("at least 15 days to make representations", "at least 15 days", "representations_by"),
         Element("the right to ask for a particular school or college to be named",
                 "ask for a particular school or college"),
         Element("the right to ask for a meeting", "ask for a meeting"),
         Element("the right to ask for a personal budget", "personal budget"),
         Element("where information about schools and colleges is published (the Local Offer)", "Local Offer",
                 "local_offer"), SENDIASS, SEN_TEAM)),
    "setting_consultation": Requirement(
        "consultation on naming a setting", "CFA s39(2)", "the school or college asked for", (Role.SENCO,),
        "with the draft plan",
        (Element("the consultation on naming the setting", "consults you on naming your setting"),
         Element("the 15 days to reply", "Reply by", "due"))),
    "final_plan": Requirement(
        "final plan", "reg 13(2); CFA s39(8)", "the parent or young person", FAMILY,
        "within 20 weeks of the request",
        (Element("the final EHC plan", "final EHC plan"), Element("the day it was issued", "issued on", "issued_on"),
         *RIGHTS, SEN_TEAM)),
    "final_plan_copy": Requirement(
        "final plan, to the named setting and the health body", "reg 14(2)",
        "the school or college named in the plan; the responsible commissioning body", (Role.SENCO, Role.DCO),
        "with the family's final plan",
        (Element("a copy of the finalised EHC plan", "copy of the finalised EHC plan"),
         Element("the day it was issued", "issued on", "issued_on"))),
    "review_invitation": Requirement(
        "annual review meeting invitation", "reg 20(3)-(4)",
        "the parent or young person, the setting, the health body, social care",
        (Role.FAMILY, Role.SENCO, Role.DCO, Role.SOCIAL_CARE),
        "at least 2 weeks before the meeting",
        (Element("the date of the review meeting", "review meeting on", "meeting_on"),
         Element("at least two weeks' notice (reg 20(3))", "two weeks"),
         Element("that advice is circulated two weeks before (reg 20(4))", "circulated"), SENDIASS)),
    "review_maintain": Requirement(
        "review decision: maintain the plan as it is", "reg 20(10)", "the parent or young person", FAMILY,
        "within 4 weeks of the meeting",
        (Element("the decision to keep the plan as it is", "keep EHC plan"), REASONS,
         Element("when the next review is due", "next review is due by", "next_review_due"), *RIGHTS)),
    "review_amend": Requirement(
        "review decision: amend the plan", "reg 20(10), 22(2)", "the parent or young person", FAMILY,
        "within 4 weeks of the meeting",
        (Element("the proposed amendments and the evidence for them", "proposed amendments and the evidence"),
         REASONS,
         Element("15 days to make representations", "15 days", "representations_close"),
         Element("the right to ask for a particular school or college to be named",
                 "ask for a particular school or college"),
         Element("the right to ask for a meeting", "ask for a meeting"),
         Element("when the amended plan is due (reg 22(3))", "amended plan will be issued by", "amended_final_due"),
         SENDIASS)),
    "amended_plan": Requirement(
        "amended plan", "reg 22(3)", "the parent or young person", FAMILY, "within 8 weeks of the proposals",
        (Element("the amended EHC plan", "amended EHC plan"), Element("the day it was issued", "issued on",
                                                                      "issued_on"), *RIGHTS)),
    "not_to_amend": Requirement(
        "decision not to amend after proposing to", "reg 22(4)", "the parent or young person", FAMILY,
        "within 8 weeks of the proposals",
        (Element("the decision not to amend the plan", "decided not to amend"), REASONS, *RIGHTS)),
    "cease_decision": Requirement(
        "decision to cease the plan", "reg 29-31, 32; CFA s45", "the parent or young person", FAMILY,
        "on the decision",
        (Element("the decision to cease to maintain the plan", "decided to cease to maintain"), REASONS,
         Element("that the plan stays in force while an appeal is possible", "stays in force"), *RIGHTS)),
    "plan_ceased": Requirement(
        "plan ceased", "CFA s45", "the parent or young person", FAMILY, "when no appeal is left",
        (Element("the day the plan ceased", "ceased on", "ceased_on"),
         Element("that a new assessment may be asked for", "new needs assessment"), SENDIASS)),
    "plan_transfer": Requirement(
        "plan transferred, to the new council", "reg 15(2), (4)-(5)", "the new council", (Role.NEW_COUNCIL,),
        "on the move date",
        (Element("the transfer date", "on", "transferred_on"),
         Element("the new council's 6 weeks to tell the family (reg 15(4))", "within 6 weeks", "notify_by"),
         Element("its review date (reg 15(5))", "review the plan by", "review_by"))),
    "transfer_family": Requirement(
        "plan transferred, to the family", "reg 15", "the parent or young person", FAMILY, "on the move date",
        (Element("the council now responsible", "to", "to_council"),
         Element("when it must tell them whether it will assess", "must tell you by", "notify_by"),
         Element("when it must review the plan", "review it by", "review_by"), SENDIASS)),
    # disagreement resolution (CFA s51-57; SEND Regs 2014 reg 32-45): worded in `compose._disagreement`
    "mediation_arranging": Requirement(
        "mediation to be arranged", "reg 36-37", "the parent or young person", FAMILY,
        "when the council is told mediation is wanted (within `mediation.held`)",
        (Element("what the mediation is about", "you want mediation about"),
         Element("the day by which the council must arrange it (30 days)", "must arrange it to take place by"),
         Element("the right of appeal and its deadline", "You may appeal to the First-tier Tribunal"),
         MEDIATION_ADVISER)),
    "mediation_health": Requirement(
        "mediation of health issues, to the ICB", "reg 36", "the health commissioning body (via the DCO)",
        (Role.DCO,), "within 3 working days of being told health issues are in dispute (`mediation.health_notify`)",
        (Element("that health issues are in dispute and the ICB arranges their mediation",
                 "health issues are in dispute"),
         Element("the day by which it must take place", "to take place by"))),
    "mediation_certificate": Requirement(
        "mediation certificate issued", "reg 34, 39", "the parent or young person", FAMILY,
        "on the certificate's day",
        (Element("that a certificate was issued, and when", "A mediation certificate was issued on"),
         Element("the right of appeal and its deadline (moved by the certificate)",
                 "You may appeal to the First-tier Tribunal"),
         MEDIATION_ADVISER)),
    "mediation_agreement": Requirement(
        "what was agreed at mediation", "reg 42", "the parent or young person", FAMILY, "on the agreement",
        (Element("each agreed act and its day (`mediation.agreement_act`)", "will do what was agreed"),
         Element("what to do if an agreed act is not done", "If an agreed act is not done"))),
    "appeal_lodged": Requirement(
        "an appeal registered", "HESC Tribunal Procedure Rules r20", "the parent or young person", FAMILY,
        "when the council learns of it",
        (Element("the decision appealed against and the day registered", "The council knows of your appeal against"),
         SUPPORT)),
    "appeal_conceded": Requirement(
        "the council will not oppose the appeal", "reg 45", "the parent or young person", FAMILY,
        "on notifying the Tribunal (`unopposed.*` from then)",
        (Element("that the council will not oppose the appeal", "will not oppose your appeal"), SUPPORT)),
    "appeal_decided": Requirement(
        "the end of an appeal: an order, dismissed or withdrawn", "reg 44", "the parent or young person", FAMILY,
        "on the Tribunal's decision (an order's `tribunal.*` limits from then)",
        (Element("the outcome of the appeal and what the council will do", "your appeal"),)),
    "complaint_acknowledged": Requirement(
        "a complaint acknowledged", "the council's complaints procedure (local targets, not law)",
        "the parent or young person", FAMILY, "by the acknowledgement target (`EHC_COMPLAINT_ACK_DAYS`)",
        (Element("the day the complaint was received", "received your complaint on"),
         Element("the day the council will respond by, and that it is a local target", "will respond by"),
         SUPPORT)),
    "complaint_response": Requirement(
        "the council's response to a complaint", "the council's complaints procedure", "the parent or young person",
        FAMILY, "by the response target (`EHC_COMPLAINT_RESPONSE_DAYS`)",
        (Element("the finding", "Your complaint of"),
         Element("the right to go to the Local Government and Social Care Ombudsman", "Ombudsman"))),
    "dispute_raised": Requirement(
        "a dispute with health or social care raised or escalated", "the council's disputes process (CFA s25-26)",
        "the health commissioning body or social care", (Role.DCO, Role.SOCIAL_CARE), "on raising or escalating it",
        (Element("what is in dispute", "disagree over the"),
         Element("the day to resolve it by, and that it is a local target", "Please resolve it by"))),
    "dispute_resolved": Requirement(
        "a dispute resolved", "the council's disputes process", "the health commissioning body or social care",
        (Role.DCO, Role.SOCIAL_CARE), "on resolving it",
        (Element("that it was resolved, and when", "was resolved on"),)),
}
NOT_NOTICES = (NoticeKind.REVIEW_ADVICE_REQUEST, NoticeKind.REVIEW_LIST, NoticeKind.REMINDER, NoticeKind.DUE_TODAY,
               NoticeKind.OVERDUE, NoticeKind.STILL_OVERDUE, NoticeKind.ESCALATION,
               NoticeKind.DCO_DIGEST)  # chases and working lists, or (reg 21(6)) worded as the advice request


CONTACT_SETTINGS = {"sendiass": "EHC_COUNCIL_SENDIASS", "mediation_adviser": "EHC_COUNCIL_MEDIATION_ADVISER"}
EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org")  # RFC 2606
RESERVED_TLDS = ("example", "invalid", "localhost", "test")  # RFC 2606, 6761
HOSTS = re.compile(r"(?:@|://)([A-Za-z0-9.-]+)")  # the host of an email or a web address


def placeholder(value: str) -> bool:
    """Whether a contact gives an email or web address at a domain reserved for examples (RFC 2606, 6761)."""
    for host in HOSTS.findall(value):
        host = host.strip(".").lower()
        if host.rpartition(".")[2] in RESERVED_TLDS or any(host == d or host.endswith(f".{d}")
                                                              for d in EXAMPLE_DOMAINS):
            return True
    return False


def unstated(template: str, details: dict, demo: bool) -> InputError | None:
    """Why a notice cannot be sent as the law requires: a council contact it must state (SENDIASS, the mediation
    adviser) is not configured, or, outside the demo, is an example address. None when it can be."""
    requirement = REQUIRED.get(template)
    for element in requirement.elements if requirement else ():
        value, setting = details.get(element.contact), CONTACT_SETTINGS.get(element.contact or "")
        if setting is None:
            continue
        if not value:
            return InputError(setting, f"not set: the notice '{requirement.notice}' must give {element.what} "
                                       f"({requirement.regulation}); set the council's own (name and contact)")
        if not demo and placeholder(value):
            return InputError(setting, f"gives an example address, which only the demo may state: the notice "
                                       f"'{requirement.notice}' must give the council's own")
    return None


def value_of(context: dict, key: str):
    """A context value by key, dotted for a nested one (`council_details.sendiass`)."""
    value = context
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def missing(template: str, context: dict, text: str) -> list[str]:
    """What a rendered notice leaves out of what its regulation requires (empty when it says everything)."""
    flat = " ".join(text.split())
    gaps = []
    for element in REQUIRED[template].elements:
        value = value_of(context, element.key) if element.key else None
        if element.phrase not in flat or (element.key and (not value or " ".join(str(value).split()) not in flat)):
            gaps.append(element.what)
    return gaps


def table() -> str:
    """The README's notice table, from `REQUIRED`."""
    rows = ["| notice | regulation | who receives it | what it must say | when |", "|---|---|---|---|---|"]
    for template, r in REQUIRED.items():
        says = "; ".join(e.what for e in r.elements)
        rows.append(f"| {r.notice} (`{template}`) | {r.regulation} | {r.to} | {says} | {r.when} |")
    return "\n".join(rows)
