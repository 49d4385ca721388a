"""The appealable decisions of a case and the day each was notified: the start of the family's mediation
(reg 33) and appeal (Tribunal rule 20(1)(c)) windows. Read from the steps that recorded the decisions."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from models.cases import Case, Step
from models.casework import case_steps, find_step
from models.errors import InputError
from models.vocabulary import AppealGround, ReviewDecision, StepKey, StepKind, StepStatus

GROUNDS = tuple(AppealGround)
AFTER_APPEAL_NO_PLAN = ("tribunal.not_to_issue", "unopposed.not_to_issue")  # a notice that no plan will be issued


def ground_of(value: str, field: str = "--against") -> AppealGround:
    if value not in GROUNDS:
        raise InputError(field, f"must be one of {', '.join(GROUNDS)}")
    return AppealGround(value)


def _notified(step: Step | None) -> dt.date | None:
    if step is None or step.status != StepStatus.DONE:
        return None
    notice_on = step.details.get("notice_on")
    return dt.date.fromisoformat(notice_on) if notice_on else step.completed_on


def _refused(s: Session, case: Case, key: StepKey, detail: str) -> dt.date | None:
    step = find_step(s, case, key)
    return _notified(step) if step is not None and step.details.get(detail) is False else None


def notice_on(s: Session, case: Case, ground: AppealGround, field: str = "--against") -> dt.date:
    """The day the decision appealed against was notified; a case with no such decision is an input error."""
    if ground == AppealGround.REFUSAL_TO_ASSESS:
        on = _refused(s, case, StepKey.ASSESS_DECISION, "assess")  # reg 5(3)
    elif ground == AppealGround.REFUSAL_TO_ISSUE:  # reg 10(1), or after an order or a concession to assess
        after_appeal = [st.completed_on for st in case_steps(s, case) if st.rule_id in AFTER_APPEAL_NO_PLAN
                        and st.status == StepStatus.DONE and st.details.get("issue") is not True]
        on = max([d for d in (_refused(s, case, StepKey.PLAN_DECISION, "issue"), *after_appeal) if d], default=None)
    elif ground in (AppealGround.CONTENTS, AppealGround.SCHOOL):
        on = case.plan_issued_on  # the final (or amended) plan, reg 13(2), 22(3)
    elif ground == AppealGround.CEASE:
        cease = find_step(s, case, StepKey.PLAN_CEASE)  # reg 31: opened on the decision's notice
        on = cease.started_on if cease is not None else None
    else:  # a review's decision not to amend (reg 20(10))
        decided = [st for st in case_steps(s, case) if st.kind == StepKind.REVIEW_DECISION
                   and st.status == StepStatus.DONE and st.details.get("decision") == ReviewDecision.MAINTAIN]
        on = max((st.completed_on for st in decided), default=None)
    if on is None:
        raise InputError(field, f"{case.reference} has no decision of the kind {ground} to disagree with")
    return on
