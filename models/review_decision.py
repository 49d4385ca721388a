"""The council's decision after a review meeting (SEND Regs reg 20(10); R (L) v Devon CC), as its three
outcomes: `maintain` the plan, `amend` it (the proposed amendments, then `issue_amended_plan`, reg 22), or
`cease` it (`models.ceasing`, reg 29-31). Each returns the notice it implies; a phase-transfer review names
the next setting when the cycle completes (reg 18)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from models import statutory, text
from models.cases import Case, Step
from models.casework import LA, add_step, complete_step, find_step, move_stage
from models.ceasing import begin_cease
from models.errors import InputError
from models.notice import Notice, NoticeKind, Recipient
from models.review import Review
from models.review_cycle import met, not_after_today
from models.text import NAME_MAX, optional
from models.vocabulary import (
    ReviewDecision,
    ReviewPart,
    ReviewStage,
    ReviewStatus,
    Role,
    Stage,
    StepKind,
    StepStatus,
    annual_review_key,
    review_key,
)


def _decidable(s: Session, case: Case, on: dt.date, today: dt.date | None) -> Review:
    """The open review, met and not yet decided, with a decision on or after its meeting."""
    not_after_today(on, today)
    review = met(s, case)
    if review.decision:
        raise InputError("--decision", f"review {review.cycle} was already decided ({review.decision})")
    if on < review.meeting_on:
        raise InputError("--on", f"{on} is before the review meeting ({review.meeting_on})")
    return review


def _decided(s: Session, case: Case, review: Review, decision: ReviewDecision, on: dt.date, actor: str) -> None:
    """The decision ends the review's decision step and its 12-month period."""
    complete_step(s, find_step(s, case, review_key(review.cycle, ReviewPart.DECISION)), on, actor, case,
                  decision=decision)
    complete_step(s, find_step(s, case, annual_review_key(review.cycle)), on, actor, case, decision=decision)
    review.decision, review.decided_on = decision, on
    s.add(review)


def _next_cycle(s: Session, case: Case, review: Review) -> Step:
    """The next period of 12 months starts with this review's meeting (spec §7.3)."""
    return add_step(s, case, key=annual_review_key(review.cycle + 1), kind=StepKind.ANNUAL_REVIEW,
                    rule_id="review.annual", role=LA, start=review.meeting_on,
                    details={"setting": review.next_setting or review.setting} if review.setting else None)


def _finish(s: Session, case: Case, review: Review, on: dt.date, actor: str, next_setting: str | None) -> None:
    """The cycle completes; a phase-transfer review must name the next setting, which the next cycle is
    held at."""
    next_setting = optional(next_setting, "--next-setting", NAME_MAX)
    transfer = find_step(s, case, review_key(review.cycle, ReviewPart.PHASE_TRANSFER))
    if transfer is not None and transfer.status == StepStatus.OPEN:
        if not (next_setting or "").strip():
            raise InputError("--next-setting", "a phase-transfer review must name the next setting (reg 18(1))")
        complete_step(s, transfer, on, actor, case, next_setting=next_setting.strip())
    if next_setting:
        review.next_setting = next_setting.strip()
        following = find_step(s, case, annual_review_key(review.cycle + 1))
        if following is not None:  # the amended plan names the setting the next review is held at
            following.details = {**following.details, "setting": review.next_setting}
            s.add(following)
    review.status, review.stage, review.completed_on = ReviewStatus.COMPLETE, ReviewStage.COMPLETE, on
    s.add(review)


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def _decision_notice(s: Session, case: Case, review: Review, reasons: str | None) -> Notice:
    """The family is told the decision to maintain or amend, with its reasons and what follows from it
    (reg 20(10))."""
    next_annual = find_step(s, case, annual_review_key(review.cycle + 1))
    return Notice(NoticeKind.REVIEW_DECISION, review.decided_on, (Recipient(Role.FAMILY),), case_id=case.id,
                  occasion=str(review.cycle), facts={
                      "decision": review.decision, "cycle": review.cycle,
                      "action": f"annual review decision: {review.decision}",
                      "decided_on": review.decided_on.isoformat(), "reasons": reasons,
                      "representations_close": _iso(review.representations_close_on),
                      "amended_final_due": _iso(review.amended_final_due_on),
                      "next_review_due": _iso(next_annual.due_on if next_annual else None)})


def maintain(s: Session, case: Case, on: dt.date, actor: str, *, next_setting: str | None = None,
             reasons: str | None = None, today: dt.date | None = None) -> list[Notice]:
    """The plan stays as it is: the cycle completes and the next one runs from the meeting. The family's notice
    gives the `reasons` (else says the SEN team gives them on request) and the right of appeal."""
    reasons = text.reasons(reasons)
    review = _decidable(s, case, on, today)
    _finish(s, case, review, on, actor, next_setting)
    _decided(s, case, review, ReviewDecision.MAINTAIN, on, actor)
    _next_cycle(s, case, review)
    move_stage(s, case, Stage.PLAN_IN_FORCE, actor, f"review {review.cycle}: decision to maintain", on,
               cycle=review.cycle, decision=ReviewDecision.MAINTAIN, reasons=reasons)
    return [_decision_notice(s, case, review, reasons)]


def amend(s: Session, case: Case, on: dt.date, actor: str, *, notice_on: dt.date | None = None,
          reasons: str | None = None, today: dt.date | None = None) -> list[Notice]:
    """The proposed amendments go with the decision (notice date N, default the decision's day), with its
    `reasons`: 15 days for representations (reg 22(2)), and the amended final plan due 8 weeks after N
    (reg 22(3))."""
    reasons = text.reasons(reasons)
    review = _decidable(s, case, on, today)
    notice_on = notice_on or on
    not_after_today(notice_on, today, "--notice-on")
    if notice_on < on:
        raise InputError("--notice-on", "the amendment notice cannot precede the decision")
    _decided(s, case, review, ReviewDecision.AMEND, on, actor)
    review.amendment_notice_on = notice_on
    review.representations_close_on = statutory.deadline("amend.representations", notice_on).due
    review.amended_final_due_on = statutory.deadline("amend.final", notice_on).due
    review.amended_final_latest_on = statutory.deadline("amend.final_latest", review.meeting_on).due
    add_step(s, case, key=review_key(review.cycle, ReviewPart.AMENDED_FINAL), kind=StepKind.AMENDED_PLAN,
             rule_id="amend.final", role=LA, start=notice_on)
    review.stage = ReviewStage.AMENDMENT_PROPOSED
    _next_cycle(s, case, review)
    move_stage(s, case, Stage.REVIEW, actor, f"review {review.cycle}: decision to amend", on, cycle=review.cycle,
               decision=ReviewDecision.AMEND, reasons=reasons)
    return [_decision_notice(s, case, review, reasons)]


def cease(s: Session, case: Case, on: dt.date, actor: str, *, reasons: str | None = None,
          today: dt.date | None = None) -> list[Notice]:
    """The review completes with a decision to cease the plan; the ceasing notice, with its `reasons` (else the
    statutory test, CFA s45(1)(b)), is the decision's notice (reg 31, CFA s45)."""
    reasons = text.reasons(reasons)
    review = _decidable(s, case, on, today)
    _decided(s, case, review, ReviewDecision.CEASE, on, actor)
    move_stage(s, case, Stage.REVIEW, actor, f"review {review.cycle}: decision to cease", on, cycle=review.cycle,
               decision=ReviewDecision.CEASE)
    review.status, review.stage, review.completed_on = ReviewStatus.COMPLETE, ReviewStage.COMPLETE, on
    return begin_cease(s, case, on, actor, reasons=reasons, today=today)


def _proposed(s: Session, case: Case, on: dt.date, today: dt.date | None) -> Review:
    """The review whose amendments were proposed, once the 15 days for representations have run (reg 22(2)(c))."""
    not_after_today(on, today)
    review = s.exec(select(Review).where(Review.case_id == case.id,
                                         Review.stage == ReviewStage.AMENDMENT_PROPOSED)).first()
    if review is None:
        raise InputError("REF", f"{case.reference} has no amendment in progress")
    if on <= review.representations_close_on:
        raise InputError("--on", f"representations on the proposed amendments run until "
                                 f"{review.representations_close_on} (reg 22(2)(c))")
    return review


def issue_amended_plan(s: Session, case: Case, on: dt.date, actor: str, next_setting: str | None = None,
                       today: dt.date | None = None) -> list[Notice]:
    """The amended final plan is sent (reg 22(3)), not before the 15 days for representations have run
    (reg 22(2)(c)); for a phase transfer it names the next setting (reg 18). Returns the family's notice of the
    amended plan, with the right of appeal."""
    review = _proposed(s, case, on, today)
    _finish(s, case, review, on, actor, next_setting)
    complete_step(s, find_step(s, case, review_key(review.cycle, ReviewPart.AMENDED_FINAL)), on, actor, case)
    review.amended_final_on = on
    move_stage(s, case, Stage.PLAN_IN_FORCE, actor, f"review {review.cycle}: amended plan issued", on,
               cycle=review.cycle)
    return [Notice(NoticeKind.AMENDED_PLAN, on, (Recipient(Role.FAMILY),), case_id=case.id, occasion=str(review.cycle),
                   facts={"issued_on": on, "cycle": review.cycle, "setting": review.next_setting})]


def not_to_amend(s: Session, case: Case, on: dt.date, actor: str, reasons: str,
                 today: dt.date | None = None) -> list[Notice]:
    """Having proposed amendments, the council decides not to amend the plan (reg 22(4)), within the 8 weeks
    of the amended plan (reg 22(3)): the cycle completes with the plan as it was. Returns the family's notice,
    with the `reasons` and the right of appeal."""
    reasons = text.reasons(reasons)
    if reasons is None:
        raise InputError("--reasons", "a decision not to amend must give its reasons (reg 22(4))")
    review = _proposed(s, case, on, today)
    transfer = find_step(s, case, review_key(review.cycle, ReviewPart.PHASE_TRANSFER))
    if transfer is not None and transfer.status == StepStatus.OPEN:
        raise InputError("--reasons", "a phase-transfer review must amend the plan to name the next setting "
                                      "(reg 18(1)): issue the amended plan (`ehc review amend`)")
    _finish(s, case, review, on, actor, None)
    complete_step(s, find_step(s, case, review_key(review.cycle, ReviewPart.AMENDED_FINAL)), on, actor, case,
                  amended=False, reasons=reasons)
    move_stage(s, case, Stage.PLAN_IN_FORCE, actor, f"review {review.cycle}: decision not to amend", on,
               cycle=review.cycle, reasons=reasons)
    return [Notice(NoticeKind.NOT_TO_AMEND, on, (Recipient(Role.FAMILY),), case_id=case.id, occasion=str(review.cycle),
                   facts={"decided_on": on, "cycle": review.cycle, "reasons": reasons})]
