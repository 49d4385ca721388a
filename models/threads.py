"""What a disagreement's run waits on, as the store says: the conditions `<thread>:<n>:<what>` the typed events
of `tasks.disagreement` name (`<n>`: the case's latest mediation, appeal, complaint or dispute, the one its acts
are recorded on), and which threads expect a run of their own.

A thread waits while its latest row is in a status that awaits the act (an appeal lodged awaits the council's
response, whether or not the Tribunal has directed a date), or while a step of it is open (an order's limits,
an agreement's acts). A case closed by a refusal can still have an appeal pending, so the case's status plays
no part here."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import statutory
from models.appeals import Appeal
from models.cases import Case, Step
from models.complaints import Complaint
from models.disputes import Dispute
from models.mediation import Mediation
from models.vocabulary import (
    AppealStatus,
    ComplaintStatus,
    DisputeStatus,
    MediationStatus,
    StepStatus,
    Thread,
)

N = "<n>"  # in a condition: the thread's latest number
TABLES = {Thread.MEDIATION: Mediation, Thread.APPEAL: Appeal, Thread.COMPLAINT: Complaint, Thread.DISPUTE: Dispute}


class Condition(NamedTuple):
    """The statuses of the thread's row that await the act, and the steps (`<thread>:<n>:<prefix>…`) it closes."""

    statuses: tuple[str, ...]
    steps: tuple[str, ...] = ()
    held_not_certified: bool = False  # a mediation held awaits its certificate (reg 39)


CONDITIONS = {
    "mediation:<n>:held": Condition((MediationStatus.WANTED,), ("held",)),
    "mediation:<n>:certificate": Condition((), held_not_certified=True),
    "mediation:<n>:acts": Condition((), ("act:",)),  # the acts of an agreement (reg 42)
    "appeal:<n>:response": Condition((AppealStatus.LODGED,), ("response",)),
    "appeal:<n>:decision": Condition((AppealStatus.RESPONDED,)),
    "appeal:<n>:limits": Condition((), ("tribunal.", "unopposed.")),  # an order's or a concession's (reg 44-45)
    "complaint:<n>:acknowledge": Condition((ComplaintStatus.RECEIVED,), ("acknowledge",)),
    "complaint:<n>:respond": Condition((ComplaintStatus.ACKNOWLEDGED,), ("respond",)),
    "complaint:<n>:ombudsman": Condition((ComplaintStatus.ESCALATED,)),
    "dispute:<n>:resolve": Condition((DisputeStatus.RAISED, DisputeStatus.ESCALATED), ("resolve", "disputes_process")),
}


def is_thread_condition(key: str) -> bool:
    return N in key


def latest(s: Session, case: Case, thread: str):
    """The case's latest mediation, appeal, complaint or dispute, or None."""
    table = TABLES[Thread(thread)]
    return s.exec(select(table).where(table.case_id == case.id).order_by(col(table.n).desc())).first()


def _open_steps(s: Session, case: Case, prefix: str, parts: tuple[str, ...]) -> list[Step]:
    """The open steps `<prefix><part>…` for any of `parts`."""
    if not parts:
        return []
    steps = s.exec(select(Step).where(Step.case_id == case.id, Step.status == StepStatus.OPEN,
                                      col(Step.key).startswith(prefix)))
    return [st for st in steps if st.key.removeprefix(prefix).startswith(parts)]


def waits(s: Session, case: Case, key: str) -> tuple[bool, dt.date | None]:
    """Whether the case's latest thread named by `key` waits on it, and the date at stake."""
    thread = key.partition(":")[0]
    cond = CONDITIONS[key]
    row = latest(s, case, thread)
    if row is None:
        return False, None
    steps = _open_steps(s, case, f"{thread}:{row.n}:", cond.steps)
    due = min((st.due_on for st in steps), default=None)
    if cond.held_not_certified:  # due 3 working days after the mediation (mediation.certificate_after, reg 39)
        if row.held_on is None or row.certificate_on is not None:
            return False, None
        return True, statutory.deadline("mediation.certificate_after", row.held_on, rule_set=case.rule_set).due
    if cond.statuses:
        return row.status in cond.statuses, due or getattr(row, "hearing_on", None)
    return bool(steps), due


class Expected(NamedTuple):
    reference: str
    thread: Thread
    n: int


def expecting_runs(s: Session, case_ids: set[int] | None = None) -> list[Expected]:
    """Each case's latest thread of each kind that still waits on an act: each should have its run waiting or
    working (all cases, or those among `case_ids`)."""
    found = []
    for thread, table in TABLES.items():
        t, c = table.__table__.c, Case.__table__.c
        newest = sa.select(t.case_id, sa.func.max(t.n).label("n")).group_by(t.case_id).subquery()
        query = sa.select(c.id, c.reference, newest.c.n).join(newest, newest.c.case_id == c.id)
        if case_ids is not None:
            query = query.where(c.id.in_(case_ids))
        for case_id, reference, n in s.connection().execute(query.order_by(c.id)):
            case = s.get(Case, case_id)
            if any(waits(s, case, key)[0] for key in CONDITIONS if key.startswith(f"{thread}:")):
                found.append(Expected(reference, thread, n))
    return found
