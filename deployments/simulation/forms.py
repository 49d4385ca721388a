"""A drawn act as the typed form (`tasks`) a caseworker's `ehc` command records; a clock exception directly, as
`ehc exception add` records it (it wakes no run: the run's wait is unchanged)."""

from __future__ import annotations

from sqlmodel import Session

from deployments.simulation.national import PFA, Act
from models import casework
from models.review import get_review
from models.vocabulary import ReviewPart, StepStatus, review_key
from tasks.advice import AdviceReceived
from tasks.coproduction import DecisionToIssue, MeetingHeld
from tasks.plan import DraftIssued, FinalIssued
from tasks.request import DecisionToAssess
from tasks.review import (
    AmendedPlanIssued,
    InvitationsSent,
    ReviewDecisionMade,
    ReviewMeetingHeld,
    ReviewReportSent,
    ScheduleReviewMeeting,
)
from tasks.transfer import PlanCeased
from tasks.waiting import CaseEvent

FORMS: dict[str, type[CaseEvent]] = {form.__name__: form for form in (
    DecisionToAssess, AdviceReceived, MeetingHeld, DecisionToIssue, DraftIssued, FinalIssued, ScheduleReviewMeeting,
    InvitationsSent, ReviewMeetingHeld, ReviewReportSent, ReviewDecisionMade, AmendedPlanIssued, PlanCeased)}
ABSENCE = "absence"
NEXT_SETTING = "Riverside Academy"  # the demo council's secondary: where a phase transfer moves the child
NAME_NEXT_SETTING = (ReviewDecisionMade.__name__, AmendedPlanIssued.__name__)  # they complete a cycle (reg 18)


def _transfer_open(s: Session, reference: str) -> bool:
    """Whether the case's open review is a phase transfer still to name the next setting (reg 18(1))."""
    case = casework.get_case(s, reference)
    review = get_review(s, case)
    step = casework.find_step(s, case, review_key(review.cycle, ReviewPart.PHASE_TRANSFER))
    return step is not None and step.status == StepStatus.OPEN


def event_for(s: Session, reference: str, act: Act, actor: str) -> CaseEvent | None:
    """The act's typed event (recorded by the caller in the same transaction, then its run woken); a clock
    exception is recorded here and gives None."""
    if act.form == ABSENCE:
        casework.add_exception(s, casework.get_case(s, reference), kind=ABSENCE, start=act.fields["start"],
                               end=act.fields["end"], actor=actor, evidence_note="family away from the area")
        return None
    fields = {"on": act.on, **act.fields}
    if act.form == ReviewMeetingHeld.__name__:
        fields.update(PFA)
    if act.form in NAME_NEXT_SETTING and _transfer_open(s, reference):
        fields["next_setting"] = NEXT_SETTING
    return FORMS[act.form](reference=reference, **fields)
