"""The draft and final plan (SEND Regs 2014 reg 11-14; CFA s39), and the plan in force (CFA s44)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from prefect import task
from pydantic import Field

from models import assessment
from models.db import session
from models.vocabulary import StepKey, YesNo, setting_consultation_key
from notifications import compose
from tasks.waiting import ONCE_PER_RUN, CaseEvent


class DraftIssued(CaseEvent):
    """The draft plan served on the family (reg 11): their 15 days for representations begin (reg 13(1)). Name
    the school or college they asked for, if any, and whether they asked for a personal budget."""

    waits_on: ClassVar[str] = StepKey.PLAN_DRAFT
    title: ClassVar[str] = "draft plan issued"
    regulation: ClassVar[str] = "reg 13, week 20 less 15 days"
    command: ClassVar[str] = "ehc draft issued {ref} --on DATE [--setting NAME] [--personal-budget]"

    on: dt.date
    setting_requested: str | None = None
    personal_budget_requested: YesNo = Field(description="Did the family ask for a personal budget?")

    def record(self, s, on_today, actor):
        return assessment.draft_issued(s, self.reference, self.on, self.setting_requested,
                                       self.personal_budget_requested == YesNo.YES, on_today, actor)


class SettingReplied(CaseEvent):
    """The consulted school or college replied (CFA s39(2), 15 days)."""

    waits_on: ClassVar[str] = setting_consultation_key()
    title: ClassVar[str] = "setting replied"
    regulation: ClassVar[str] = "CFA s39(2), 15 days"
    command: ClassVar[str] = "ehc setting replied {ref} --on DATE"

    on: dt.date

    def record(self, s, on_today, actor):
        return assessment.setting_replied(s, self.reference, self.on, on_today, actor)


class FinalIssued(CaseEvent):
    """The final plan sent to the family, the named setting and the health commissioner (reg 13(2), week 20)."""

    waits_on: ClassVar[str] = StepKey.PLAN_FINAL
    title: ClassVar[str] = "final plan issued"
    regulation: ClassVar[str] = "reg 13(2), week 20"
    command: ClassVar[str] = "ehc final issued {ref} --on DATE"

    on: dt.date

    def record(self, s, on_today, actor):
        return assessment.final_issued(s, self.reference, self.on, on_today, actor)


@task(name="open drafting", task_run_name="{reference} open drafting", cache_policy=ONCE_PER_RUN)
def open_drafting(reference: str) -> dt.date:
    with session() as s:
        return assessment.open_drafting(s, reference)


@task(name="send draft notices", task_run_name="{reference} draft notices", cache_policy=ONCE_PER_RUN)
def send_draft_notices(reference: str) -> int:
    """The family's notice of the draft and its 15 days; the setting's consultation, through the outbox."""
    with session() as s:
        return len(compose.write(s, assessment.draft_notices(s, reference)))


@task(name="put plan in force", task_run_name="{reference} plan in force", cache_policy=ONCE_PER_RUN)
def put_plan_in_force(reference: str) -> int:
    """The plan is in force, with its first annual review due (CFA s44(1)); the final plan's notice goes."""
    with session() as s:
        return len(compose.write(s, assessment.put_plan_in_force(s, reference)))
