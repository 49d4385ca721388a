"""Named queries of the deadline watch: the open steps to chase, its sweep log, the escalation queues, and
the messages that could not be sent.

Set-based: the sweep reads plain rows of the `(status, due_on)` index, never 100,000 ORM objects."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from models import statutory
from models.cases import AuditEvent, Case, Step, utcnow
from models.contacts import FAMILY
from models.errors import InputError
from models.notices import Escalation, OutboxMessage

SWEPT = "deadline watch swept"
WATCH_ACTOR = "deadline-watch"


class OpenStep(NamedTuple):
    id: int
    case_id: int
    kind: str
    role: str
    started_on: dt.date
    due_on: dt.date


class Sweep(NamedTuple):
    on: dt.date
    max_step_id: int


def _chased(due_by: dt.date | None = None):
    """Open steps (due on or before `due_by`) that the watch chases: not the family's (their windows are rights,
    not duties) and not set aside by a clock exception (the law then says "as soon as practicable")."""
    st = Step.__table__.c
    due = [st.due_on <= due_by] if due_by else []
    return [st.status == "open", *due, st.disapplied.is_(False), st.role != FAMILY]


def open_due_dates(s: Session, due_by: dt.date) -> list[dt.date]:
    """The distinct due dates of open steps: a few hundred dates, read from the `(status, due_on)` index alone
    (a superset of the chased steps' dates; `steps_to_chase` applies the rest)."""
    st = Step.__table__.c
    query = sa.select(st.due_on).where(st.status == "open", st.due_on <= due_by).distinct()
    return list(s.connection().execute(query).scalars())


def steps_to_chase(s: Session, due_by: dt.date, wanted: dict[tuple[str, ...] | None, list[dt.date]] | None = None,
                   newer_than: int | None = None) -> list[OpenStep]:
    """The steps to chase, as plain rows. With `wanted`, only those due on the listed dates (per group of step
    kinds; the key None stands for every other kind) or created after step `newer_than`."""
    st = Step.__table__.c
    columns = (st.id, st.case_id, st.kind, st.role, st.started_on, st.due_on)
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
            parts.append(sa.select(*columns).where(st.id > newer_than, sa.func.coalesce(st.status, "") == "open",
                                                   st.disapplied.is_(False), st.role != FAMILY))
        if not parts:
            return []
        query = sa.union(*parts) if len(parts) > 1 else parts[0]
    return s.connection().execute(query).all()  # rows with the fields of OpenStep, not ORM objects


def existing_keys(s: Session, keys: list[str]) -> set[str]:
    """Which of these outbox keys are written already (one query per thousand keys)."""
    found: set[str] = set()
    column = OutboxMessage.__table__.c.idempotency_key
    for i in range(0, len(keys), 1000):
        found.update(s.connection().execute(sa.select(column).where(column.in_(keys[i:i + 1000]))).scalars())
    return found


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


def open_escalation(s: Session, step_id: int) -> Escalation | None:
    query = select(Escalation).where(Escalation.step_id == step_id, col(Escalation.resolved_at).is_(None))
    return s.exec(query).first()


def escalate(s: Session, *, queue: str, case_id: int, step_id: int, tier: int,
             on: dt.date) -> tuple[Escalation, str | None]:
    """Open the step's escalation at `tier`, or raise the open one to it: says "opened", "raised" or None.

    At most one open escalation per step (a unique index): a concurrent run that opened it first wins."""
    current = open_escalation(s, step_id)
    if current is None:
        current = Escalation(queue=queue, case_id=case_id, step_id=step_id, tier=tier, opened_on=on)
        try:
            with s.begin_nested():
                s.add(current)
            return current, "opened"
        except IntegrityError:
            current = open_escalation(s, step_id)
    if current.tier >= tier:
        return current, None
    current.tier = tier
    s.add(current)
    return current, "raised"


def get_escalation(s: Session, escalation_id: int) -> Escalation | None:
    return s.get(Escalation, escalation_id)


def resolve_step_escalations(s: Session, step: Step, actor: str) -> list[Escalation]:
    """Completing or cancelling a step resolves its open escalation: the queue empties itself when the work is
    done or no longer due."""
    open_items = list(s.exec(select(Escalation).where(Escalation.step_id == step.id,
                                                      col(Escalation.resolved_at).is_(None))))
    for item in open_items:
        item.resolved_at, item.resolved_by = utcnow(), actor
        item.resolution_note = (f"{step.key} done on {step.completed_on}" if step.status == "done"
                                else f"{step.key} {step.status}: {step.details.get('cancelled', '')}".rstrip(": "))
        s.add(item)
    return open_items


class QueueItem(NamedTuple):
    id: int
    reference: str
    step: str
    due_on: dt.date
    tier: int
    opened_on: dt.date
    acknowledged_by: str | None
    resolved_by: str | None
    resolution_note: str | None


def queue_items(s: Session, queue: str, include_resolved: bool = False) -> list[QueueItem]:
    """A queue's items, oldest first, named by case reference and step (no personal data)."""
    query = (
        select(Escalation.id, Case.reference, Step.key, Step.due_on, Escalation.tier, Escalation.opened_on,
               Escalation.acknowledged_by, Escalation.resolved_by, Escalation.resolution_note)
        .join(Case, Case.id == Escalation.case_id)
        .join(Step, Step.id == Escalation.step_id)
        .where(Escalation.queue == queue)
        .order_by(Escalation.opened_on, Escalation.id)
    )
    if not include_resolved:
        query = query.where(col(Escalation.resolved_at).is_(None))
    return [QueueItem(*row) for row in s.exec(query)]


class FailedMessage(NamedTuple):
    id: int
    reference: str | None
    kind: str
    recipient_role: str
    attempts: int
    reason: str | None


def failed_messages(s: Session) -> list[FailedMessage]:
    """Messages the provider refused, by case reference and kind (never the address or the body)."""
    query = (
        select(OutboxMessage.id, Case.reference, OutboxMessage.kind, OutboxMessage.recipient_role,
               OutboxMessage.attempts, OutboxMessage.last_error)
        .join(Case, Case.id == OutboxMessage.case_id, isouter=True)
        .where(OutboxMessage.status == "failed")
        .order_by(OutboxMessage.id)
    )
    return [FailedMessage(*row) for row in s.exec(query)]


WATCH_TIERS = ("reminder", "due_today", "overdue", "still_overdue")
UNSENT = ("pending", "failed")
UNDONE = "deadline watch undone"


class Undone(NamedTuple):
    sweeps: int
    messages_removed: int
    messages_already_sent: int
    escalations_removed: int
    escalations_lowered: int


def _watch_messages(on: dt.date):
    """The outbox rows a sweep for `on` wrote: its tiers (`<tier>:step:<id>:<day>`), its escalation notices
    and its DCO digest, all dated `on`. Messages a caseworker's act wrote that day have other keys."""
    c = OutboxMessage.__table__.c
    keys = [c.idempotency_key.startswith(f"{tier}:step:") for tier in WATCH_TIERS]
    keys += [c.idempotency_key.startswith("escalation:step:"), c.idempotency_key == f"dco_digest:day:{on.isoformat()}"]
    return sa.and_(c.on == on, sa.or_(*keys))


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
    raised = set(s.connection().execute(sa.select(c.step_id).where(_watch_messages(on), c.kind == "escalation"))
                 .scalars())
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
                         sa.or_(col(Escalation.step_id).in_(raised), Escalation.queue == "dco")))
    for item, due_on in rows:
        chase = statutory.chase_tier(due_on, kept, repeat_every=repeat_every) if kept else None
        tier = max(chase.level, 1) if chase and chase.tier in ("overdue", "still_overdue") else 1
        if item.tier > tier:
            item.tier, lowered = tier, lowered + 1
            s.add(item)
    undone = Undone(len(events), removed.rowcount, sent, len(opened), lowered)
    s.add(AuditEvent(case_id=None, actor=actor, action=UNDONE, on=on, detail=undone._asdict()))
    return undone
