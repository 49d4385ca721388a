"""Advice and information for the assessment (SEND Regs 2014 reg 6-8): one request per source, each with its
own 6 weeks, and each piece of advice as it arrives."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from prefect import task

from models import assessment
from models.db import session
from models.vocabulary import AdviceSource
from models.waiting import ADVICE
from notifications import compose
from tasks.waiting import ONCE_PER_RUN, CaseEvent


class AdviceReceived(CaseEvent):
    """A piece of advice returned (reg 8). If the adviser received the request later than it was sent, give
    that day: its 6 weeks run from it."""

    waits_on: ClassVar[str] = ADVICE  # the run moves on once the last advice is in
    title: ClassVar[str] = "advice received"
    regulation: ClassVar[str] = "reg 8(1)"
    command: ClassVar[str] = "ehc advice received {ref} --source SOURCE --on DATE"

    source: AdviceSource
    on: dt.date
    request_received_on: dt.date | None = None

    def record(self, s, on_today, actor):
        return assessment.advice_received(s, self.reference, self.source, self.on, on_today, actor,
                                          self.request_received_on)


@task(name="start assessment", task_run_name="{reference} start assessment", cache_policy=ONCE_PER_RUN)
def start_assessment(reference: str) -> list[str]:
    """Open the 20-week limit and the advice stage; returns the sources to ask (reg 6(1))."""
    with session() as s:
        return assessment.start_assessment(s, reference)


@task(name="request advice", task_run_name="{reference} request advice: {source}", cache_policy=ONCE_PER_RUN)
def request_advice(reference: str, source: str) -> int:
    """One request for advice, through the outbox: sent once, however often the flow runs this."""
    with session() as s:
        return len(compose.write(s, assessment.request_advice(s, reference, source)))
