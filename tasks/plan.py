"""The draft and final plan (SEND Regs 2014 reg 11-14; CFA s39), and the plan in force (CFA s44)."""

from __future__ import annotations

import datetime as dt

from prefect import task

from models import assessment
from models.db import session
from tasks.waiting import ONCE_PER_RUN, CaseEvent


class DraftIssued(CaseEvent):
    """The draft plan served on the family (reg 11): their 15 days for representations begin (reg 13(1)). Name
    the school or college they asked for, if any, and whether they asked for a personal budget."""

    on: dt.date
    setting_requested: str | None = None
    personal_budget_requested: bool = False

    def record(self, s, on_today, actor) -> None:
        assessment.draft_issued(s, self.reference, self.on, self.setting_requested,
                                self.personal_budget_requested, on_today, actor)


class SettingReplied(CaseEvent):
    """The consulted school or college replied (CFA s39(2), 15 days)."""

    on: dt.date

    def record(self, s, on_today, actor) -> None:
        assessment.setting_replied(s, self.reference, self.on, on_today, actor)


class FinalIssued(CaseEvent):
    """The final plan sent to the family, the named setting and the health commissioner (reg 13(2), week 20)."""

    on: dt.date

    def record(self, s, on_today, actor) -> None:
        assessment.final_issued(s, self.reference, self.on, on_today, actor)


@task(name="open drafting", task_run_name="{reference} open drafting", cache_policy=ONCE_PER_RUN)
def open_drafting(reference: str) -> dt.date:
    with session() as s:
        return assessment.open_drafting(s, reference)


@task(name="send draft notices", task_run_name="{reference} draft notices", cache_policy=ONCE_PER_RUN)
def send_draft_notices(reference: str) -> int:
    """The family's notice of the draft and its 15 days; the setting's consultation, through the outbox."""
    with session() as s:
        return assessment.draft_notices(s, reference)


@task(name="put plan in force", task_run_name="{reference} plan in force", cache_policy=ONCE_PER_RUN)
def put_plan_in_force(reference: str) -> dt.date:
    """The plan is in force, with its first annual review due (CFA s44(1))."""
    with session() as s:
        return assessment.put_plan_in_force(s, reference)
