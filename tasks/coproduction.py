"""Co-production: the meeting with the family and the decision whether to issue a plan (CFA s19; reg 10)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from prefect import task
from pydantic import Field

from models import assessment
from models.db import session
from models.vocabulary import StepKey, YesNo
from tasks.waiting import ONCE_PER_RUN, CaseEvent


class MeetingHeld(CaseEvent):
    """The co-production meeting: when, who attended (by role), whether the child's or young person's own
    views were captured (CFA s19(a)-(c))."""

    waits_on: ClassVar[str] = StepKey.COPRODUCTION_MEETING
    title: ClassVar[str] = "co-production meeting held"
    regulation: ClassVar[str] = "before week 16"
    command: ClassVar[str] = "ehc meeting held {ref} --on DATE --attended ROLE ... --child-views|--no-child-views"

    on: dt.date
    attended: list[str]
    child_views_captured: YesNo = Field(description="Were the child's or young person's own views captured?")

    def record(self, s, on_today, actor):
        return assessment.meeting_held(s, self.reference, self.on, self.attended,
                                       self.child_views_captured == YesNo.YES, on_today, actor)


class DecisionToIssue(CaseEvent):
    """Whether the council will issue an EHC plan; a decision not to must be notified by week 16 (reg 10(1))."""

    waits_on: ClassVar[str] = StepKey.PLAN_DECISION
    title: ClassVar[str] = "decide whether to issue a plan"
    regulation: ClassVar[str] = "reg 10(1), week 16"
    command: ClassVar[str] = "ehc plan decide {ref} --issue yes|no --on DATE"

    issue: YesNo = Field(description="Will the council issue an EHC plan? (no default)")
    on: dt.date

    def record(self, s, on_today, actor):
        return assessment.decide_to_issue(s, self.reference, self.issue == YesNo.YES, self.on, on_today, actor)


@task(name="open co-production", task_run_name="{reference} open co-production", cache_policy=ONCE_PER_RUN)
def open_coproduction(reference: str) -> dt.date:
    """All advice is in: open the meeting and the week-16 decision."""
    with session() as s:
        return assessment.open_coproduction(s, reference)
