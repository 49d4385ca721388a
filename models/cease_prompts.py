"""Prompts to consider ceasing a plan (CFA s45-46): a young person who has reached 25 (the plan may be kept to
the end of the academic year in which they turned 25, s46; SEND Regs 2014 reg 46), or who has left education
or training. Each prompt
is a step of the council's, chased by the deadline watch until the council has considered it (and, if it
decides to cease, notified that decision: reg 29-31)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import Session

from models.cases import Case, Child, Step
from models.casework import add_step, audit, complete_step, get_case, not_in_future, open_step
from models.errors import InputError
from models.vocabulary import CEASE_REVIEW_KEY, CaseStatus, Role, StepKey, StepKind

AGE = 25
AGED_25, LEFT_EDUCATION = "reached 25", "left education or training"


class Due(NamedTuple):
    case_id: int
    reference: str
    date_of_birth: dt.date


def end_of_academic_year_turning(dob: dt.date, age: int = AGE) -> dt.date:
    """The end of the academic year in which `dob` reaches `age`: the first 31 July on or after the birthday.
    CFA s46(2) leaves "academic year" to regulations, not to the school year of EA 1996 s579 (which ends with
    the start of the first term after July, the 31 August of `statutory.academic_year`): SEND Regs 2014
    reg 46(1)(a) ends it on 31 July for a young person at an institution in the further education sector. An
    apprenticeship's ends earlier or later (reg 46(1)(b): when the training ends, at the latest the day before
    26), which the caseworker knows and the store does not; the prompt is due by the further education date."""
    try:
        birthday = dob.replace(year=dob.year + age)
    except ValueError:  # 29 February: the birthday is 1 March in a common year
        birthday = dt.date(dob.year + age, 3, 1)
    end = dt.date(birthday.year, 7, 31)
    return end if end >= birthday else dt.date(birthday.year + 1, 7, 31)


def due_prompts(s: Session, on: dt.date) -> list[Due]:
    """Plans in force of young people aged 25 or over on `on` with no prompt yet and no decision to cease: one
    query over every case."""
    c, ch, st = Case.__table__.c, Child.__table__.c, Step.__table__.c
    latest_dob = dt.date(on.year - AGE, on.month, on.day) if (on.month, on.day) != (2, 29) else \
        dt.date(on.year - AGE, 2, 28)
    prompted = sa.select(st.id).where(st.case_id == c.id, st.key.in_([CEASE_REVIEW_KEY, StepKey.PLAN_CEASE]))
    query = (sa.select(c.id, c.reference, ch.date_of_birth).join(Child.__table__, ch.id == c.child_id)
             .where(c.status == CaseStatus.PLAN_IN_FORCE, ch.date_of_birth <= latest_dob, ~sa.exists(prompted))
             .order_by(c.id))
    return [Due(*row) for row in s.exec(query)]


def _prompt(s: Session, case: Case, on: dt.date, due: dt.date, reason: str, actor: str) -> Step:
    step = add_step(s, case, key=CEASE_REVIEW_KEY, kind=StepKind.CEASE_REVIEW, role=Role.LA, start=on, due=due,
                    details={"reason": reason, "action": f"consider ceasing the plan: {reason} (CFA s45-46)"})
    audit(s, case, actor, "cease review prompted", on=on, reason=reason, due=step.due_on.isoformat())
    return step


def prompt_aged_25(s: Session, on: dt.date, actor: str) -> list[Step]:
    """A prompt for each young person due one on `on`, due at the end of the academic year they turned 25."""
    return [_prompt(s, s.get(Case, due.case_id), on, max(on, end_of_academic_year_turning(due.date_of_birth)),
                    AGED_25, actor) for due in due_prompts(s, on)]


def left_education(s: Session, reference: str, on: dt.date, today: dt.date, actor: str) -> Step:
    """The young person left education or training on `on` (CFA s45(1)(b)): the council considers ceasing now."""
    case = get_case(s, reference)
    if case.status != CaseStatus.PLAN_IN_FORCE:
        raise InputError("REF", f"{reference} has no plan in force")
    not_in_future(on, today)
    return _prompt(s, case, on, on, LEFT_EDUCATION, actor)


def considered(s: Session, reference: str, on: dt.date, today: dt.date, actor: str) -> Step:
    """The council considered ceasing the plan (a decision to cease, if any, is notified with `ehc plan cease`)."""
    case = get_case(s, reference)
    step = open_step(s, case, CEASE_REVIEW_KEY)
    not_in_future(on, today)
    return complete_step(s, step, on, actor, case)
