"""The request and the decision whether to assess (CFA s36; SEND Regs 2014 reg 4-5)."""

from __future__ import annotations

import datetime as dt

from prefect import task
from prefect.cache_policies import NO_CACHE

from models import assessment
from models.casework import get_case
from models.db import session
from tasks.waiting import ONCE_PER_RUN, CaseEvent


class DecisionToAssess(CaseEvent):
    """Whether the council will carry out an EHC needs assessment, and the day the decision was notified
    (reg 5(1): within 6 weeks of the request)."""

    assess: bool
    on: dt.date

    def record(self, s, on_today, actor) -> None:
        assessment.decide_to_assess(s, self.reference, self.assess, self.on, on_today, actor)


@task(name="read stage", task_run_name="{reference} read stage", cache_policy=NO_CACHE)
def read_stage(reference: str) -> str:
    """Where the case stands in the store (opened by `ehc case open`): the stage each execution starts from."""
    with session() as s:
        return get_case(s, reference).stage


@task(name="read decision", task_run_name="{reference} read {key}", cache_policy=NO_CACHE)
def read_decision(reference: str, key: str) -> bool | None:
    with session() as s:
        return assessment.decision(s, reference, key)


@task(name="close refused", task_run_name="{reference} close: {refusal}", cache_policy=ONCE_PER_RUN)
def close_refused(reference: str, refusal: str) -> dict:
    """Close the case with the refusal notice, and the family's mediation and appeal deadlines (reg 33, r20)."""
    with session() as s:
        return assessment.close_refused(s, reference, refusal)
