"""A notice: what an act implies someone must be told, as a plain value.

A caseworker's act (a decision, advice recorded, a plan issued) and the deadline watch return notices; they
never write the outbox. `notifications.compose` turns each notice into outbox rows: the wording, the address
of each recipient, and the idempotency key that makes writing it twice a no-op.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from models.vocabulary import Role


class NoticeKind(StrEnum):
    """Every kind of message the engine sends; each has its wording in `notifications/templates/`."""

    ADVICE_REQUEST = "advice_request"  # reg 6(1), 7
    REFUSAL_TO_ASSESS = "not_to_assess"  # reg 5(3)
    REFUSAL_TO_ISSUE = "not_to_issue"  # reg 10(1)
    DRAFT_PLAN = "draft_plan"  # reg 13(1)
    SETTING_CONSULTATION = "setting_consultation"  # CFA s39(2)
    FINAL_PLAN = "final_plan"  # reg 13(2)
    REVIEW_ADVICE_REQUEST = "review_advice_request"  # reg 21(6)
    REVIEW_DECISION = "review_decision"  # reg 20(10)
    REVIEW_LIST = "review_list"  # the term's reviews, to a setting's SENCO
    CEASE_DECISION = "cease_decision"  # reg 29-31
    PLAN_CEASED = "plan_ceased"  # CFA s45
    PLAN_TRANSFER = "plan_transfer"  # reg 15(2), to the new council
    TRANSFER_FAMILY = "transfer_family"  # reg 15, to the family
    MEDIATION_ARRANGING = "mediation_arranging"  # reg 36-37: the family, when mediation is wanted
    MEDIATION_HEALTH = "mediation_health"  # reg 36: the ICB, when health issues are in dispute
    MEDIATION_CERTIFICATE = "mediation_certificate"  # reg 34, 39: the family, with the appeal date it moves
    MEDIATION_AGREEMENT = "mediation_agreement"  # reg 42: the family, the agreement's acts and their dates
    APPEAL_LODGED = "appeal_lodged"  # CFA s51: the family, the council's acknowledgement
    APPEAL_CONCEDED = "appeal_conceded"  # reg 45: the family, what the council will do by when
    APPEAL_DECIDED = "appeal_decided"  # reg 44: the family, the outcome and what the council will do by when
    COMPLAINT_ACKNOWLEDGED = "complaint_acknowledged"  # the council's complaints procedure (local, not law)
    COMPLAINT_RESPONSE = "complaint_response"  # with the right to go to the Ombudsman
    DISPUTE_RAISED = "dispute_raised"  # to the ICB or social care: a dispute over provision or funding
    DISPUTE_RESOLVED = "dispute_resolved"
    REMINDER = "reminder"  # the watch's tiers (project practice)
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    STILL_OVERDUE = "still_overdue"
    ESCALATION = "escalation"
    DCO_DIGEST = "dco_digest"


@dataclass(frozen=True)
class Recipient:
    """Who a notice goes to, by role; `contact_id` names a directory entry (a setting's own SENCO), `email` an
    address given with the act (the new council's SEN team), `person_id` one of the case's people (the family,
    expanded by `notifications.compose`)."""

    role: Role
    contact_id: int | None = None
    email: str | None = None
    person_id: int | None = None


@dataclass(frozen=True)
class Notice:
    """One notice. `occasion` tells apart notices of one kind on the same case or step (a review's cycle, the
    day a tier fell due, an escalation's level, a term and setting); `facts` are what the wording needs."""

    kind: NoticeKind
    on: dt.date
    recipients: tuple[Recipient, ...]
    case_id: int | None = None
    step_id: int | None = None
    occasion: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
