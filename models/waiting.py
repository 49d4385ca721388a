"""What a case waits on, as the store says: the condition a suspended run is keyed on, and how far the case
has come (the count its suspensions are keyed by)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from models import threads
from models.cases import AuditEvent, Case, Step
from models.casework import audit, compute_due, find_step, get_case
from models.errors import InputError
from models.review import Review, current_review
from models.vocabulary import ADVICE_PREFIX, CaseStatus, ReviewStatus, StepKey, StepKind, StepStatus, annual_review_key

REJECTED = "input rejected"
ADVICE = "advice"  # the condition "some advice is still outstanding"
SCHEDULE = ":schedule"  # `review:{cycle}:schedule`: the review's meeting has no date yet


@dataclass(frozen=True)
class Waiting:
    """Whether the case still waits on an act, how far it has come, and the dates at stake."""

    open: bool
    progress: int
    stage: str
    due: dt.date | None
    limit_label: str | None = None  # the limit that matters most while it waits (the 20 weeks, the review period)
    limit_due: dt.date | None = None


def progress(s: Session, case: Case) -> int:
    """A count that grows with every act recorded or rejected: the flows key their suspensions on it."""
    done = s.exec(select(func.count()).select_from(Step).where(Step.case_id == case.id,
                                                               Step.status != StepStatus.OPEN)).one()
    rejected = s.exec(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.case_id == case.id, AuditEvent.action == REJECTED)).one()
    scheduled = s.exec(select(func.count()).select_from(Review).where(Review.case_id == case.id,
                                                                      col(Review.meeting_on).is_not(None))).one()
    return done + rejected + scheduled


def reject_input(s: Session, case: Case, actor: str, what: str, error: InputError) -> None:
    audit(s, case, actor, REJECTED, event=what, field=error.field, rule=error.rule)


def waiting(s: Session, reference: str, key: str) -> Waiting:
    """Whether the case waits on `key`: a step key; `advice` for every advice step; a review key with `{cycle}`
    for the case's current review cycle, `review:{cycle}:schedule` while its meeting has no date; a
    disagreement's `<thread>:<n>:<what>` (`models.threads`), its stage shown as the thread."""
    case = get_case(s, reference)
    closed = case.status == CaseStatus.CLOSED
    if threads.is_thread_condition(key):  # a disagreement's; a case closed by a refusal may still have one
        is_open, due = threads.waits(s, case, key)
        return Waiting(is_open, progress(s, case), key.partition(":")[0], due)
    if "{cycle}" in key:
        review = current_review(s, case)
        if review is None:
            return Waiting(False, progress(s, case), case.stage, None)
        key = key.format(cycle=review.cycle)
        annual = find_step(s, case, annual_review_key(review.cycle))
        limit = ("review period ends (CFA s44(1))", annual.due_on if annual else review.annual_due_on)
        if key.endswith(SCHEDULE):
            meeting = find_step(s, case, key.removesuffix(SCHEDULE) + ":meeting")
            is_open = review.status == ReviewStatus.OPEN and review.meeting_on is None and not closed
            return Waiting(is_open, progress(s, case), case.stage, meeting.due_on if meeting else None, *limit)
    else:
        final = find_step(s, case, StepKey.PLAN_FINAL)
        limit = ("20-week limit for the final plan (reg 13(2))",
                 final.due_on if final else compute_due(s, case, "plan.final", case.requested_on).due)
    if key == ADVICE:
        steps = list(s.exec(select(Step).where(Step.case_id == case.id, Step.kind == StepKind.ADVICE,
                                               col(Step.key).startswith(ADVICE_PREFIX),
                                               Step.status == StepStatus.OPEN)))
        is_open = bool(steps) and not closed
        due = min((st.due_on for st in steps), default=None)
    else:
        step = find_step(s, case, key)
        is_open = step is not None and step.status == StepStatus.OPEN and not closed
        due = step.due_on if step else None
    return Waiting(is_open, progress(s, case), case.stage, due, *limit)
