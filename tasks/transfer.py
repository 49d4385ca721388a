"""The acts that end a plan's life with the council, as typed events: the decision to cease a plan and its
ceasing (reg 29-31, CFA s45), and its transfer to another council (reg 15). Each is recorded with its notices
in one transaction (`tasks.waiting.record`); no run waits for them, but the case's review run, if any, ends
with the case. Phase transfers (reg 18) are part of the review (`tasks.review`)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from models import ceasing, transfer_out
from models.casework import get_case
from models.vocabulary import StepKey
from tasks.review import ReviewEvent


class CeaseDecided(ReviewEvent):
    """The council's decision to cease the plan, notified to the family with the mediation and appeal dates
    (reg 29-31, 33)."""

    on: dt.date
    reasons: str | None = None  # stated in the family's notice; else the statutory test (CFA s45(1)(b))
    waits_on: ClassVar[str] = StepKey.PLAN_CEASE
    title: ClassVar[str] = "decision to cease the plan"
    regulation: ClassVar[str] = "reg 29-31"
    command: ClassVar[str] = "ehc plan cease {ref} --on DATE --reasons TEXT"

    def record(self, s, on_today, actor):
        return ceasing.begin_cease(s, get_case(s, self.reference), self.on, actor, reasons=self.reasons,
                                   today=on_today)


class PlanCeased(ReviewEvent):
    """The plan ceases after the appeal window, or once an appeal has ended (CFA s45); the case closes."""

    on: dt.date
    appeal_concluded: bool = False
    waits_on: ClassVar[str] = StepKey.PLAN_CEASE
    title: ClassVar[str] = "plan ceased"
    regulation: ClassVar[str] = "CFA 2014 s45"
    command: ClassVar[str] = "ehc plan ceased {ref} --on DATE [--appeal-concluded]"

    def record(self, s, on_today, actor):
        return ceasing.cease_plan(s, get_case(s, self.reference), self.on, actor,
                                  appeal_concluded=self.appeal_concluded, today=on_today)


class TransferOutBegun(ReviewEvent):
    """The family is moving to another council's area: the plan must be sent to it (reg 15(2))."""

    aware_on: dt.date
    move_on: dt.date
    to_council: str
    to_email: str
    waits_on: ClassVar[str] = StepKey.TRANSFER_SEND_PLAN
    title: ClassVar[str] = "transfer to another council"
    regulation: ClassVar[str] = "reg 15(2)"
    command: ClassVar[str] = ("ehc plan transfer-out {ref} --aware-on DATE --move-on DATE --to-council NAME "
                              "--to-email ADDRESS")

    def record(self, s, on_today, actor):
        transfer_out.begin_transfer_out(s, get_case(s, self.reference), aware_on=self.aware_on,
                                        move_on=self.move_on, to_council=self.to_council, to_email=self.to_email,
                                        actor=actor, today=on_today)
        return []


class PlanTransferred(ReviewEvent):
    """The plan was sent to the new council: it is theirs now, and the case closes (reg 15)."""

    on: dt.date
    waits_on: ClassVar[str] = StepKey.TRANSFER_SEND_PLAN
    title: ClassVar[str] = "plan sent to the new council"
    regulation: ClassVar[str] = "reg 15(2)"
    command: ClassVar[str] = "ehc plan transferred {ref} --on DATE"

    def record(self, s, on_today, actor):
        return transfer_out.plan_transferred(s, get_case(s, self.reference), self.on, actor, today=on_today)
