"""The request and the decision whether to assess (CFA s36; SEND Regs 2014 reg 4-5)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from prefect import task
from pydantic import Field

from models import assessment
from models.casework import get_case
from models.db import session
from models.vocabulary import ClosedReason, StepKey, YesNo
from notifications import compose
from tasks.waiting import ONCE_PER_RUN, CaseEvent


class DecisionToAssess(CaseEvent):
    """Whether the council will carry out an EHC needs assessment, and the day the decision was notified
    (reg 5(1): within 6 weeks of the request)."""

    waits_on: ClassVar[str] = StepKey.ASSESS_DECISION
    title: ClassVar[str] = "decide whether to assess"
    regulation: ClassVar[str] = "reg 5(1)"
    command: ClassVar[str] = "ehc case decide {ref} --assess yes|no --on DATE"

    assess: YesNo = Field(description="Will the council carry out an EHC needs assessment? (no default)")
    on: dt.date

    def record(self, s, on_today, actor):
        return assessment.decide_to_assess(s, self.reference, self.assess == YesNo.YES, self.on, on_today,
                                           actor)


def read_stage(reference: str) -> str:
    """Where the case stands in the store (opened by `ehc case open`): the stage each execution starts from.
    Read by the flow itself, not as a task: a read changes nothing, and each task run is server calls."""
    with session() as s:
        return get_case(s, reference).stage


def read_decision(reference: str, key: StepKey) -> bool | None:
    """The recorded outcome of `assess.decision` or `plan.decision` (read by the flow itself, as above)."""
    with session() as s:
        return assessment.decision(s, reference, key)


@task(name="close refused", task_run_name="{reference} close: {refusal}", cache_policy=ONCE_PER_RUN)
def close_refused(reference: str, refusal: ClosedReason) -> int:
    """Close the case with the refusal notice, and the family's mediation and appeal deadlines (reg 33, r20)."""
    with session() as s:
        return len(compose.write(s, assessment.close_refused(s, reference, refusal)))
