"""The deadline watch's algorithm: which open steps to chase today, at which tier, and what slips onto a queue.

For each open step the tier of the day comes from `statutory.chase_tier`: reminders (10 and 3 days before by
default, per step kind in `EHC_REMINDER_DAYS`), due today, overdue (which opens an escalation), then still
overdue every 7 days at a rising tier, until the step is done or a clock exception sets its limit aside.
A run chases the tiers that fell due since the previous run (so Monday catches up on the weekend, and a
step created since then gets its latest tier). The watch returns notices; `notifications.compose` keys them
(tier, step, day), so any overlap between runs writes nothing twice.

Set-based: the sweep reads plain rows of the `(status, due_on)` index, never 100,000 ORM objects.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models import statutory
from models.cases import AuditEvent, Step
from models.errors import InputError
from models.escalation import Escalation, Wanted, escalate_many, queue_for, queue_items
from models.notice import Notice, NoticeKind, Recipient
from models.outbox import OutboxMessage
from models.settings import settings
from models.vocabulary import OutboxStatus, Queue, Role, StepKind, StepStatus

SWEPT = "deadline watch swept"
WATCH_ACTOR = "deadline-watch"
DEFAULT_REMINDER_DAYS = (10, 3)
KIND_REMINDER_DAYS = {StepKind.ANNUAL_REVIEW: (56, 28, 10)}  # a review needs arranging weeks ahead (reg 20(3))
REPEAT_EVERY = 7
OVERDUE_TIERS = ("overdue", "still_overdue")
TIER_NOTICES = {kind.value: kind for kind in (NoticeKind.REMINDER, NoticeKind.DUE_TODAY, NoticeKind.OVERDUE,
                                              NoticeKind.STILL_OVERDUE)}  # `statutory.chase_tier`'s tiers


class OpenStep(NamedTuple):
    id: int
    case_id: int
    kind: str
    role: str
    started_on: dt.date
    due_on: dt.date
    contact_id: int | None  # the directory entry asked (a setting's own SENCO): chased there too


class Sweep(NamedTuple):
    on: dt.date
    max_step_id: int


@dataclass(frozen=True)
class DueChase:
    """A tier that fell due for a step and has not been sent by an earlier run."""

    step: OpenStep
    chase: statutory.Chase


@dataclass
class WatchReport:
    on: dt.date
    swept: int = 0
    chases: int = 0
    messages: dict[str, int] = field(default_factory=dict)
    escalations_opened: int = 0
    escalations_raised: int = 0
    digest: bool = False

    def count(self, kind: str) -> None:
        self.messages[kind] = self.messages.get(kind, 0) + 1


# --- named queries ----------------------------------------------------------------------------------


def _chased(due_by: dt.date | None = None):
    """Open steps (due on or before `due_by`) that the watch chases: not the family's (their windows are rights,
    not duties) and not set aside by a clock exception (the law then says "as soon as practicable")."""
    st = Step.__table__.c
    due = [st.due_on <= due_by] if due_by else []
    return [st.status == StepStatus.OPEN, *due, st.disapplied.is_(False), st.role != Role.FAMILY]


def open_due_dates(s: Session, due_by: dt.date) -> list[dt.date]:
    """The distinct due dates of open steps: a few hundred dates, read from the `(status, due_on)` index alone
    (a superset of the chased steps' dates; `steps_to_chase` applies the rest)."""
    st = Step.__table__.c
    query = sa.select(st.due_on).where(st.status == StepStatus.OPEN, st.due_on <= due_by).distinct()
    return list(s.connection().execute(query).scalars())


def steps_to_chase(s: Session, due_by: dt.date, wanted: dict[tuple[str, ...] | None, list[dt.date]] | None = None,
                   newer_than: int | None = None) -> list[OpenStep]:
    """The steps to chase, as plain rows. With `wanted`, only those due on the listed dates (per group of step
    kinds; the key None stands for every other kind) or created after step `newer_than`."""
    st = Step.__table__.c
    columns = (st.id, st.case_id, st.kind, st.role, st.started_on, st.due_on, st.contact_id)
    if wanted is None:
        query = sa.select(*columns).where(*_chased(due_by))
    else:  # one index seek per date (`status = 'open' AND due_on IN …`), not a scan of the whole horizon
        special = [kind for kinds in wanted if kinds for kind in kinds]
        parts = [sa.select(*columns).where(*_chased(), st.due_on.in_(dates),
                                           st.kind.in_(kinds) if kinds else st.kind.not_in(special))
                 for kinds, dates in wanted.items() if dates]
        if newer_than is not None:
            # steps created since the last run, by the primary key's range: `coalesce` keeps SQLite's planner off
            # the status index, which would read every open step
            parts.append(sa.select(*columns).where(st.id > newer_than,
                                                   sa.func.coalesce(st.status, "") == StepStatus.OPEN,
                                                   st.disapplied.is_(False), st.role != Role.FAMILY))
        if not parts:
            return []
        query = sa.union(*parts) if len(parts) > 1 else parts[0]
    return s.connection().execute(query).all()  # rows with the fields of OpenStep, not ORM objects


def last_sweep(s: Session, before: dt.date) -> Sweep | None:
    """The latest sweep for a day before `before`: tiers that fell due after it are the ones still to send."""
    event = s.exec(
        select(AuditEvent)
        .where(col(AuditEvent.case_id).is_(None), AuditEvent.action == SWEPT, col(AuditEvent.on) < before)
        .order_by(col(AuditEvent.on).desc(), col(AuditEvent.id).desc())
    ).first()
    return Sweep(event.on, int(event.detail["max_step_id"])) if event else None


def max_step_id(s: Session) -> int:
    return s.exec(select(func.max(Step.id))).one() or 0


def record_sweep(s: Session, on: dt.date, max_step: int, **counts) -> None:
    s.add(AuditEvent(case_id=None, actor=WATCH_ACTOR, action=SWEPT, on=on, detail={"max_step_id": max_step, **counts}))


# --- the algorithm -----------------------------------------------------------------------------------


def reminder_days_by_kind() -> dict[str, tuple[int, ...]]:
    configured = {kind: tuple(days) for kind, days in settings().reminder_days.items()}
    for kind, days in configured.items():
        if not days or any(d <= 0 for d in days):
            raise InputError("EHC_REMINDER_DAYS", f"{kind}: give one or more whole days before the due date")
    return {**KIND_REMINDER_DAYS, **configured}


def horizon(by_kind: dict[str, tuple[int, ...]]) -> int:
    """The longest reminder horizon, in days: no step due later than today + this is chased today."""
    return max(max(days) for days in (DEFAULT_REMINDER_DAYS, *by_kind.values()))


def due_chases(rows: list[OpenStep], on: dt.date, since: Sweep | None,
               by_kind: dict[str, tuple[int, ...]]) -> list[DueChase]:
    """The tiers to send on `on`: per step its latest tier, if it fell due after the previous run's day (or the
    step is newer than that run). Pure: rows in, chases out."""
    chase_tier, since_on, newest = statutory.chase_tier, since.on if since else None, since.max_step_id if since else 0
    due = []
    for row in rows:
        chase = chase_tier(row.due_on, on, by_kind.get(row.kind, DEFAULT_REMINDER_DAYS), REPEAT_EVERY, row.started_on)
        if chase is not None and (since_on is None or chase.on > since_on or row.id > newest):
            due.append(DueChase(row, chase))
    return due


def sweep(s: Session, on: dt.date, since: Sweep | None) -> tuple[int, list[DueChase]]:
    """The tiers to send on `on`. Set-based: first the distinct due dates within the longest reminder horizon
    (index only), then only the steps due on a date whose tier fell due since the previous run, or created since
    it. Returns the rows read and the chases."""
    by_kind = reminder_days_by_kind()
    due_by = statutory.within_days(on, horizon(by_kind))
    if since is None:  # the first run: every step gets its latest tier
        rows = steps_to_chase(s, due_by)
    else:
        dates = open_due_dates(s, due_by)
        groups: dict[tuple[int, ...], list[str]] = {}
        for kind, days in by_kind.items():
            groups.setdefault(tuple(days), []).append(kind)

        def fell_due(days: tuple[int, ...]) -> list[dt.date]:
            chases = ((d, statutory.chase_tier(d, on, days, REPEAT_EVERY)) for d in dates)
            return [d for d, chase in chases if chase is not None and chase.on > since.on]

        wanted = {None: fell_due(DEFAULT_REMINDER_DAYS), **{tuple(k): fell_due(days) for days, k in groups.items()}}
        rows = steps_to_chase(s, due_by, wanted, since.max_step_id)
    return len(rows), due_chases(rows, on, since, by_kind)


def chase(s: Session, on: dt.date, chases: list[DueChase], report: WatchReport) -> list[Notice]:
    """The notice of each chase and, once a step is overdue, its escalation opened or raised (with a notice to
    the queue, except the DCO's, who hears in one daily digest instead). Escalations are written in bulk."""
    chases = sorted(chases, key=lambda c: c.step.id)  # one order for every run: concurrent runs never deadlock
    notices = [Notice(TIER_NOTICES[c.chase.tier], on, (Recipient(c.step.role, c.step.contact_id),),
                      case_id=c.step.case_id, step_id=c.step.id, occasion=c.chase.on.isoformat(),
                      facts={"tier": c.chase.level})
               for c in chases]
    overdue = [c for c in chases if c.chase.tier in OVERDUE_TIERS]
    items = escalate_many(s, [Wanted(queue_for(c.step.role), c.step.case_id, c.step.id, c.chase.level)
                              for c in overdue], on)
    for c in overdue:
        item_id, change = items[c.step.id]
        report.escalations_opened += change == "opened"
        report.escalations_raised += change == "raised"
        queue = queue_for(c.step.role)
        if change and queue != Queue.DCO:
            notices.append(Notice(NoticeKind.ESCALATION, on, (Recipient(queue),), case_id=c.step.case_id,
                                  step_id=c.step.id, occasion=str(c.chase.level),
                                  facts={"tier": c.chase.level, "queue": queue, "escalation_id": item_id,
                                         "responsible": c.step.role}))
    return notices


def dco_digest(s: Session, on: dt.date) -> Notice | None:
    """One message a day to the designated clinical officer listing the open health escalations."""
    items = queue_items(s, Queue.DCO)
    if not items:
        return None
    return Notice(NoticeKind.DCO_DIGEST, on, (Recipient(Role.DCO),), facts={"items": [i._asdict() for i in items]})


# --- undoing a watch that ran for a wrong day ----------------------------------------------------


WATCH_KINDS = (NoticeKind.REMINDER, NoticeKind.DUE_TODAY, NoticeKind.OVERDUE, NoticeKind.ESCALATION,
               NoticeKind.DCO_DIGEST)
UNSENT = (OutboxStatus.PENDING, OutboxStatus.FAILED)
UNDONE = "deadline watch undone"


class Undone(NamedTuple):
    sweeps: int
    messages_removed: int
    messages_already_sent: int
    escalations_removed: int
    escalations_lowered: int


def _watch_messages(on: dt.date):
    """The outbox rows a sweep for `on` wrote: its tiers, its escalation notices and its DCO digest, all dated
    `on` (a still-overdue tier is written with the overdue wording). Messages an act wrote that day are of other
    kinds."""
    c = OutboxMessage.__table__.c
    return sa.and_(c.on == on, c.kind.in_(WATCH_KINDS))


def undo_sweep(s: Session, on: dt.date, today: dt.date, repeat_every: int, actor: str) -> Undone:
    """Forget the deadline watch that ran for `on` (a mistyped `--as-of`), so the next real day's watch chases
    again: its sweep record goes, with the messages it wrote that are not sent yet; the open escalations it
    opened go, and those it raised (the DCO's carry no notice, so all of theirs) fall back to the tier of the
    latest remaining sweep up to today. Messages
    already sent stay (they cannot be recalled) and are counted. The undoing is itself audited."""
    events = list(s.exec(select(AuditEvent).where(col(AuditEvent.case_id).is_(None), AuditEvent.action == SWEPT,
                                                  AuditEvent.on == on)))
    if not events:
        raise InputError("--as-of", f"no deadline watch ran for {on.isoformat()}")
    c = OutboxMessage.__table__.c
    sent = s.connection().execute(sa.select(func.count()).where(_watch_messages(on), c.status.not_in(UNSENT))).one()[0]
    raised = set(s.connection().execute(sa.select(c.step_id).where(_watch_messages(on),
                                                                   c.kind == NoticeKind.ESCALATION)).scalars())
    removed = s.connection().execute(sa.delete(OutboxMessage).where(_watch_messages(on), c.status.in_(UNSENT)))
    opened = list(s.exec(select(Escalation).where(Escalation.opened_on == on, col(Escalation.resolved_at).is_(None))))
    for item in opened:
        s.delete(item)
    for event in events:
        s.delete(event)
    s.flush()
    kept = s.exec(select(func.max(AuditEvent.on)).where(col(AuditEvent.case_id).is_(None), AuditEvent.action == SWEPT,
                                                        col(AuditEvent.on) <= today)).one()
    lowered = 0
    rows = s.exec(select(Escalation, Step.due_on).join(Step, Step.id == Escalation.step_id)
                  .where(col(Escalation.resolved_at).is_(None),
                         sa.or_(col(Escalation.step_id).in_(raised), Escalation.queue == Queue.DCO)))
    for item, due_on in rows:
        chase = statutory.chase_tier(due_on, kept, repeat_every=repeat_every) if kept else None
        tier = max(chase.level, 1) if chase and chase.tier in OVERDUE_TIERS else 1
        if item.tier > tier:
            item.tier, lowered = tier, lowered + 1
            s.add(item)
    undone = Undone(len(events), removed.rowcount, sent, len(opened), lowered)
    s.add(AuditEvent(case_id=None, actor=actor, action=UNDONE, on=on, detail=undone._asdict()))
    return undone
