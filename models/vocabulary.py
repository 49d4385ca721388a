"""The engine's one vocabulary: stages, statuses, step kinds, step keys, roles, queues and advice sources.

Every layer names these through the enums and key builders below, never by hand-spelled strings. The values
are what the store holds (a `StrEnum` compares equal to its value), so a name changes here or nowhere.
"""

from __future__ import annotations

from enum import StrEnum


class CaseKind(StrEnum):
    NEEDS_ASSESSMENT = "needs_assessment"


class CaseStatus(StrEnum):
    OPEN = "open"  # a request or assessment in progress
    PLAN_IN_FORCE = "plan_in_force"
    CLOSED = "closed"


class Stage(StrEnum):
    """Where a case stands (its `stage`; the `stage:` tag of its run)."""

    REQUEST = "request"
    DECISION_TO_ASSESS = "decision_to_assess"
    ADVICE = "advice"
    COPRODUCTION = "coproduction"
    DRAFT_PLAN = "draft_plan"
    REPRESENTATIONS = "representations"
    FINAL_PLAN = "final_plan"
    PLAN_IN_FORCE = "plan_in_force"
    REVIEW = "review"
    CEASING = "ceasing"
    TRANSFERRING_OUT = "transferring_out"
    TRIBUNAL_ORDER = "tribunal_order"  # a refused case re-opened by the Tribunal's order (reg 44) or a concession
    CLOSED = "closed"


ASSESSMENT_STAGES = (Stage.REQUEST, Stage.DECISION_TO_ASSESS, Stage.ADVICE, Stage.COPRODUCTION, Stage.DRAFT_PLAN,
                     Stage.REPRESENTATIONS)  # in order; any other stage is past the needs assessment


class ClosedReason(StrEnum):
    NOT_TO_ASSESS = "not_to_assess"  # reg 5(1)
    NOT_TO_ISSUE = "not_to_issue"  # reg 10(1)
    WITHDRAWN = "withdrawn"
    PLAN_CEASED = "plan ceased"  # CFA s45
    TRANSFERRED = "transferred"  # reg 15: the plan is the new council's


class Requester(StrEnum):
    PARENT = "parent"
    YOUNG_PERSON = "young-person"
    SETTING = "setting"
    OTHER = "other"


class StepStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class StepKind(StrEnum):
    DECISION_TO_ASSESS = "decision_to_assess"
    ADVICE = "advice"
    COPRODUCTION_MEETING = "coproduction_meeting"
    DECISION_TO_ISSUE = "decision_to_issue"
    DRAFT_PLAN = "draft_plan"
    DRAFT_REPRESENTATIONS = "draft_representations"
    SETTING_CONSULTATION = "setting_consultation"
    FINAL_PLAN = "final_plan"
    ANNUAL_REVIEW = "annual_review"
    REVIEW_MEETING = "review_meeting"
    REVIEW_INVITATIONS = "review_invitations"
    REVIEW_ADVICE_CIRCULATED = "review_advice_circulated"
    REVIEW_ADVICE = "review_advice"
    REVIEW_REPORT = "review_report"
    REVIEW_DECISION = "review_decision"
    AMENDED_PLAN = "amended_plan"
    PHASE_TRANSFER = "phase_transfer"
    CEASE = "cease"
    TRANSFER_OUT = "transfer_out"
    STALLED = "stalled"  # nothing open that anyone owes: on the SEN team manager's queue (models.invariant)
    MEDIATION = "mediation"  # arranging, and acting on, a mediation (reg 32-42)
    APPEAL = "appeal"  # the council's response to an appeal (Tribunal directions)
    TRIBUNAL_ORDER = "tribunal_order"  # an order's limit (reg 44)
    UNOPPOSED_APPEAL = "unopposed_appeal"  # a conceded appeal's limit (reg 45)
    COMPLAINT = "complaint"  # the council's own response targets (local, not law)
    DISPUTE = "dispute"  # council and health or social care disagree over provision or funding
    CEASE_REVIEW = "cease_review"  # a prompt to consider ceasing: 25, or left education (CFA s45-46)


class StepKey(StrEnum):
    """The fixed step keys of a case; the keys that carry a source or a cycle are built by the functions below."""

    ASSESS_DECISION = "assess.decision"
    PLAN_FINAL = "plan.final"
    COPRODUCTION_MEETING = "coproduction.meeting"
    PLAN_DECISION = "plan.decision"
    PLAN_DRAFT = "plan.draft"
    DRAFT_REPRESENTATIONS = "plan.draft_representations"
    PLAN_CEASE = "plan.cease"
    TRANSFER_SEND_PLAN = "transfer.send_plan"
    CASE_STALLED = "case.stalled"


class ReviewPart(StrEnum):
    """What a step of a review cycle is (`review:<cycle>:<part>`)."""

    MEETING = "meeting"
    INVITATIONS = "invitations"
    ADVICE_CIRCULATED = "advice_circulated"
    REPORT = "report"
    DECISION = "decision"
    AMENDED_FINAL = "amended_final"
    PHASE_TRANSFER = "phase_transfer"


ADVICE_PREFIX = "advice:"
ANNUAL_REVIEW_PREFIX = "review.annual:"
REVIEW_PREFIX = "review:"
SETTING_CONSULTATION_PREFIX = "plan.setting_consultation:"


def advice_key(source: str) -> str:
    """`advice:<source>`: the request for one source's advice (reg 6(1))."""
    return f"{ADVICE_PREFIX}{AdviceSource(source)}"


def setting_consultation_key(n: int = 1) -> str:
    return f"{SETTING_CONSULTATION_PREFIX}{n}"


def annual_review_key(cycle: int) -> str:
    """`review.annual:<cycle>`: the 12-month period of a review cycle (CFA s44(1))."""
    return f"{ANNUAL_REVIEW_PREFIX}{cycle}"


def annual_review_cycle(key: str) -> int:
    if not key.startswith(ANNUAL_REVIEW_PREFIX):
        raise ValueError(f"{key!r} is not an annual review key")
    return int(key.removeprefix(ANNUAL_REVIEW_PREFIX))


def review_key(cycle: int, part: str) -> str:
    """`review:<cycle>:<part>`, or `review:<cycle>:advice:<source>` for a piece of review advice."""
    return f"{REVIEW_PREFIX}{cycle}:{part}"


def review_advice_key(cycle: int, source: str) -> str:
    return review_key(cycle, advice_key(source))


MEDIATION_PREFIX = "mediation:"
APPEAL_PREFIX = "appeal:"
COMPLAINT_PREFIX = "complaint:"
DISPUTE_PREFIX = "dispute:"
CEASE_REVIEW_KEY = "cease.review_prompt"


def mediation_key(n: int, part: str) -> str:
    """`mediation:<n>:<part>`: a step of the case's n-th mediation (`held`, `health_notify`, `act:<i>`)."""
    return f"{MEDIATION_PREFIX}{n}:{part}"


def appeal_key(n: int, part: str) -> str:
    """`appeal:<n>:<part>`: a step of the case's n-th appeal (`response`, or an order's or concession's limit)."""
    return f"{APPEAL_PREFIX}{n}:{part}"


def complaint_key(n: int, part: str) -> str:
    """`complaint:<n>:<part>`: `acknowledge` or `respond`."""
    return f"{COMPLAINT_PREFIX}{n}:{part}"


def dispute_key(n: int, part: str) -> str:
    """`dispute:<n>:<part>`: `resolve` (between the services) or `disputes_process` (once escalated)."""
    return f"{DISPUTE_PREFIX}{n}:{part}"


class Role(StrEnum):
    """Who must act on a step, or who a message goes to."""

    LA = "la"  # the council's own steps, chased with the SEN caseworkers
    FAMILY = "family"  # the parent, or the young person
    SEN_CASEWORKER = "sen_caseworker"
    SEN_TEAM_MANAGER = "sen_team_manager"
    SENCO = "senco"
    DCO = "dco"
    SOCIAL_CARE = "social_care"
    SOCIAL_CARE_MANAGER = "social_care_manager"
    EDUCATIONAL_PSYCHOLOGIST = "educational_psychologist"
    PRINCIPAL_EP = "principal_ep"
    HI_TEACHER = "hi_teacher"
    VI_TEACHER = "vi_teacher"
    CAREERS_ADVISER = "careers_adviser"
    ADULT_SOCIAL_CARE = "adult_social_care"
    NEW_COUNCIL = "new_council"


class PersonRole(StrEnum):
    """The people of a case (`person.role`): who holds parental responsibility, the young person, their social
    worker."""

    PARENT = "parent"
    CARER = "carer"
    YOUNG_PERSON = "young-person"
    SOCIAL_WORKER = "social-worker"


PARENTAL_ROLES = (PersonRole.PARENT, PersonRole.CARER)  # those with parental responsibility (CFA s83(2))


class Prefers(StrEnum):
    """How a person asked to be written to."""

    EMAIL = "email"
    POST = "post"


class Channel(StrEnum):
    """How an outbox row goes out: an email the dispatcher sends, or a letter to print and post."""

    EMAIL = "email"
    LETTER = "letter"


class Queue(StrEnum):
    """The escalation queues."""

    DCO = "dco"
    SOCIAL_CARE_MANAGER = "social_care_manager"
    PRINCIPAL_EP = "principal_ep"
    SEN_TEAM_MANAGER = "sen_team_manager"


class AdviceSource(StrEnum):
    """The advice a needs assessment seeks (reg 6(1)(a)-(h)) and a review from Year 9 may flag (reg 21(6))."""

    PARENT = "parent"
    EDUCATION = "education"
    HEALTH = "health"
    SOCIAL_CARE = "social_care"
    EP = "ep"
    HI = "hi"
    VI = "vi"
    PFA = "pfa"
    ADULT_SOCIAL_CARE = "adult_social_care"


REQUIRED_SOURCES = (AdviceSource.PARENT, AdviceSource.EDUCATION, AdviceSource.HEALTH, AdviceSource.SOCIAL_CARE,
                    AdviceSource.EP)  # reg 6(1)(a)-(e)
CASE_FLAGS = (AdviceSource.HI, AdviceSource.VI, AdviceSource.PFA, AdviceSource.ADULT_SOCIAL_CARE)  # advice a case
# may ask for beyond the usual: reg 6(1)(f) sensory; preparation for adulthood (careers) and adult social care
PFA_SOURCES = (AdviceSource.ADULT_SOCIAL_CARE, AdviceSource.PFA)  # sought for a review from Year 9 (reg 21(6))

ADVICE_ROLES = {  # advice source → the role asked for it
    AdviceSource.PARENT: Role.FAMILY,
    AdviceSource.EDUCATION: Role.SENCO,
    AdviceSource.HEALTH: Role.DCO,
    AdviceSource.SOCIAL_CARE: Role.SOCIAL_CARE,
    AdviceSource.EP: Role.EDUCATIONAL_PSYCHOLOGIST,
    AdviceSource.HI: Role.HI_TEACHER,
    AdviceSource.VI: Role.VI_TEACHER,
    AdviceSource.PFA: Role.CAREERS_ADVISER,
    AdviceSource.ADULT_SOCIAL_CARE: Role.ADULT_SOCIAL_CARE,
}

ADVICE_LABELS = {  # one label per source: "<label> advice"
    AdviceSource.PARENT: "parent's or young person's",
    AdviceSource.EDUCATION: "educational",
    AdviceSource.HEALTH: "health",
    AdviceSource.SOCIAL_CARE: "social care",
    AdviceSource.EP: "educational psychology",
    AdviceSource.HI: "hearing impairment",
    AdviceSource.VI: "vision impairment",
    AdviceSource.PFA: "careers (preparation for adulthood)",
    AdviceSource.ADULT_SOCIAL_CARE: "adult social care",
}


class ReviewStatus(StrEnum):
    OPEN = "open"
    COMPLETE = "complete"


class ReviewStage(StrEnum):
    OPENED = "opened"
    MEETING_SCHEDULED = "meeting_scheduled"
    MEETING_HELD = "meeting_held"
    AMENDMENT_PROPOSED = "amendment_proposed"
    COMPLETE = "complete"
    CLOSED = "closed"  # ended with its case (ceased, transferred)


class ReviewDecision(StrEnum):
    """The council's decision after a review meeting (reg 20(10))."""

    MAINTAIN = "maintain"
    AMEND = "amend"
    CEASE = "cease"


class PhaseTransfer(StrEnum):
    """A transfer between phases (reg 18): `review.phase_transfer` with transfer=other|post16, or
    `review.post16_transfer` for a post-16 move at another time."""

    OTHER = "other"
    POST16 = "post16"
    POST16_MOVE = "post16_move"


class QueueAct(StrEnum):
    """What the person on a queue does with an item on the queue's form: an explicit choice per item."""

    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    LEAVE = "leave"


class YesNo(StrEnum):
    """An explicit answer on a form: it has no default, so submitting without choosing is refused."""

    YES = "yes"
    NO = "no"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class MediationIssue(StrEnum):
    """What a mediation is about (reg 32-37): the health body takes part for health issues."""

    EDUCATION = "education"
    HEALTH = "health"
    SOCIAL_CARE = "social_care"


class MediationStatus(StrEnum):
    WANTED = "wanted"  # the family told the adviser it wants mediation; the council (and ICB) arrange it
    HELD = "held"
    NOT_ARRANGED = "not_arranged"  # the council could not arrange it within 30 days
    DECLINED = "declined"  # the family does not want mediation (a certificate lets it appeal)
    CERTIFIED = "certified"  # the certificate is issued: the appeal may be registered


class CertificateKind(StrEnum):
    """The mediation certificate and the limit its issue runs under (`mediation.certificate_<kind>`)."""

    DECLINED = "declined"
    NOT_ARRANGED = "not_arranged"
    AFTER = "after"


class AppealGround(StrEnum):
    """What an appeal to the First-tier Tribunal (SEND) is against (CFA s51(2))."""

    REFUSAL_TO_ASSESS = "refusal-to-assess"
    REFUSAL_TO_ISSUE = "refusal-to-issue"
    CONTENTS = "contents"
    SCHOOL = "school"
    CEASE = "cease"
    REFUSAL_TO_AMEND = "refusal-to-amend"


class AppealStatus(StrEnum):
    LODGED = "lodged"
    RESPONDED = "responded"
    CONCEDED = "conceded"  # the council will not oppose it (reg 45)
    DISMISSED = "dismissed"
    ORDERED = "ordered"  # the Tribunal ordered the council to act (reg 44)
    WITHDRAWN = "withdrawn"


APPEAL_PENDING = (AppealStatus.LODGED, AppealStatus.RESPONDED)  # not yet ended


class AppealOutcome(StrEnum):
    """How the Tribunal ended an appeal (`ehc appeal decided --outcome`)."""

    DISMISSED = "dismissed"
    ORDER = "order"
    WITHDRAWN = "withdrawn"


class TribunalOrder(StrEnum):
    """What the Tribunal ordered the council to do (reg 44)."""

    ASSESS = "assess"
    MAKE_PLAN = "make-plan"
    AMEND = "amend"
    SCHOOL = "school"
    CONTINUE = "continue"
    CONTINUE_AMENDED = "continue-amended"


class ComplaintStatus(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    RESPONDED = "responded"  # the council's response: upheld, partly upheld or not
    ESCALATED = "escalated"  # to the Local Government and Social Care Ombudsman
    CLOSED = "closed"  # the Ombudsman's decision recorded


class ComplaintFinding(StrEnum):
    UPHELD = "upheld"
    PARTLY_UPHELD = "partly-upheld"
    NOT_UPHELD = "not-upheld"


class DisputeParty(StrEnum):
    """Who the council disagrees with over a case (the disputes protocol of its local offer)."""

    HEALTH = "health"
    SOCIAL_CARE = "social_care"


class DisputeSubject(StrEnum):
    PROVISION = "provision"
    FUNDING = "funding"


class Thread(StrEnum):
    """A disagreement's thread on a case: each of a case's mediations, appeals, complaints and disputes has a
    Prefect run of its own, named `EHC-YYYY-NNNNN appeal 1` (`flows.disagreement`)."""

    MEDIATION = "mediation"
    APPEAL = "appeal"
    COMPLAINT = "complaint"
    DISPUTE = "dispute"


class DisputeStatus(StrEnum):
    RAISED = "raised"
    ESCALATED = "escalated"  # to the disputes process (senior officers of both services)
    RESOLVED = "resolved"
