"""Escalation queues: a slipping step goes to the person who can unblock it, who acknowledges and resolves it.

Routing: health advice → the designated clinical officer (`dco`); social care → the social care team manager;
educational psychology → the principal educational psychologist; the council's own steps and everything else
→ the SEN team manager. At most one open escalation per step; its tier rises while the step stays overdue."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from models import bulk
from models.cases import AuditEvent, Case, Step, utcnow
from models.errors import InputError
from models.text import NAME_MAX, NOTE_MAX, clean
from models.vocabulary import Queue, QueueAct, Role, StepStatus

QUEUE_BY_ROLE = {
    Role.DCO: Queue.DCO,
    Role.SOCIAL_CARE: Queue.SOCIAL_CARE_MANAGER,
    Role.EDUCATIONAL_PSYCHOLOGIST: Queue.PRINCIPAL_EP,
}
DEFAULT_QUEUE = Queue.SEN_TEAM_MANAGER
KEPT = "escalations"  # `bulk.kept`: each case's open escalations, by case id
QUEUES = tuple(Queue)


class Escalation(SQLModel, table=True):
    """A slipping step on a queue, opened when it becomes overdue and raised a tier each week it stays so."""

    __table_args__ = (
        sa.Index(
            "uq_escalation_open_step",
            "step_id",
            unique=True,
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        ),
        sa.Index("ix_escalation_queue_resolved", "queue", "resolved_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    queue: str
    case_id: int = Field(foreign_key="case.id", index=True)
    step_id: int = Field(foreign_key="step.id")
    tier: int = 1
    opened_on: dt.date
    opened_at: dt.datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))
    acknowledged_at: dt.datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    acknowledged_by: str | None = None
    resolved_at: dt.datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    resolved_by: str | None = None
    resolution_note: str | None = None


def queue_for(role: str) -> Queue:
    """The queue that hears about a step of `role` when it slips."""
    return QUEUE_BY_ROLE.get(role, DEFAULT_QUEUE)


def check_queue(queue: str) -> Queue:
    if queue not in QUEUES:
        raise InputError("QUEUE", f"unknown queue {queue!r} (one of {', '.join(QUEUES)})")
    return Queue(queue)


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
        bulk.kept(s, KEPT).pop(case_id, None)  # read again with this one (`open_escalations`)
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


class Wanted(NamedTuple):
    queue: str
    case_id: int
    step_id: int
    tier: int


def escalate_many(s: Session, wanted: list[Wanted], on: dt.date) -> dict[int, tuple[int, str | None]]:
    """`escalate` for many steps in a few statements: per step, its open escalation's id and "opened", "raised"
    or None. Opening is one bulk `INSERT … ON CONFLICT DO NOTHING` on the open-escalation index, so a concurrent
    run that opened it first wins; raising is one `UPDATE … WHERE tier < :tier` per tier."""
    if not wanted:
        return {}
    s.flush()
    bulk.kept(s, KEPT).clear()  # past the ORM: read again (`open_escalations`)
    e = Escalation.__table__
    rows = [{"queue": w.queue, "case_id": w.case_id, "step_id": w.step_id, "tier": w.tier, "opened_on": on,
             "opened_at": utcnow()} for w in wanted]
    opened = bulk.insert_new(s, e, rows, ["step_id"], (e.c.step_id,), index_where=e.c.resolved_at.is_(None))
    changes: dict[int, str | None] = {step_id: "opened" for step_id, in opened}
    by_tier: dict[int, list[int]] = {}
    for w in wanted:
        if w.step_id not in changes:
            by_tier.setdefault(w.tier, []).append(w.step_id)
    for tier, step_ids in by_tier.items():
        for batch in bulk.batches(s, step_ids):
            raised = s.execute(sa.update(e).where(bulk.among(s, e.c.step_id, batch), e.c.resolved_at.is_(None),
                                                  e.c.tier < tier).values(tier=tier).returning(e.c.step_id))
            changes.update({step_id: "raised" for step_id in raised.scalars()})
    step_ids = [w.step_id for w in wanted]
    ids = {}
    for batch in bulk.batches(s, step_ids):
        ids.update(s.execute(sa.select(e.c.step_id, e.c.id).where(bulk.among(s, e.c.step_id, batch),
                                                                  e.c.resolved_at.is_(None))).all())
    return {step_id: (ids[step_id], changes.get(step_id)) for step_id in step_ids}


def open_escalations(s: Session, case_ids: list[int]) -> dict[int, list[Escalation]]:
    """Each case's open escalations, read once a session (`bulk.kept_by_case`: opening one or many forgets them)
    without flushing first: an escalation is flushed when opened (`escalate`, `escalate_many`) and when removed,
    so none pending can change what this finds."""
    with s.no_autoflush:
        by_case = bulk.kept_by_case(s, KEPT, case_ids, lambda batch: s.exec(select(Escalation).where(
            bulk.among(s, col(Escalation.case_id), batch), col(Escalation.resolved_at).is_(None))))
    return {cid: [item for item in items if item.resolved_at is None] for cid, items in by_case.items()}


def resolve_step_escalations(s: Session, step: Step, actor: str) -> list[Escalation]:
    """Completing or cancelling a step resolves its open escalation: the queue empties itself when the work is
    done or no longer due."""
    open_items = [item for item in open_escalations(s, [step.case_id])[step.case_id] if item.step_id == step.id]
    for item in open_items:
        item.resolved_at, item.resolved_by = utcnow(), actor
        item.resolution_note = (f"{step.key} done on {step.completed_on}" if step.status == StepStatus.DONE
                                else f"{step.key} {step.status}: {step.details.get('cancelled', '')}".rstrip(": "))
        s.add(item)
    return open_items


def _item(s: Session, escalation_id: int) -> Escalation:
    item = s.get(Escalation, escalation_id)
    if item is None:
        raise InputError("ID", f"no escalation {escalation_id}")
    return item


def _audit(s: Session, item: Escalation, actor: str, action: str, **detail) -> None:
    s.add(AuditEvent(case_id=item.case_id, actor=actor, action=action,
                     detail={"escalation": item.id, "queue": item.queue, **detail}))


def acknowledge(s: Session, escalation_id: int, by: str) -> Escalation:
    """Someone on the queue has picked the item up; a second acknowledgement keeps the first."""
    by = clean(by, "--by", NAME_MAX)
    item = _item(s, escalation_id)
    if item.resolved_at is not None:
        raise InputError("ID", f"escalation {escalation_id} is already resolved")
    if item.acknowledged_at is None:
        item.acknowledged_at, item.acknowledged_by = utcnow(), by
        s.add(item)
        _audit(s, item, by, "escalation acknowledged")
    return item


def resolve(s: Session, escalation_id: int, by: str, note: str) -> Escalation:
    """Close the item with a note of what was done; the watch opens a new one if the step stays overdue."""
    if not note.strip():
        raise InputError("--note", "must say what was done")
    by, note = clean(by, "--by", NAME_MAX), clean(note, "--note", NOTE_MAX)
    item = _item(s, escalation_id)
    if item.resolved_at is not None:
        raise InputError("ID", f"escalation {escalation_id} is already resolved")
    if item.acknowledged_at is None:
        item.acknowledged_at, item.acknowledged_by = utcnow(), by
    item.resolved_at, item.resolved_by, item.resolution_note = utcnow(), by, note.strip()
    s.add(item)
    _audit(s, item, by, "escalation resolved", note=item.resolution_note)
    return item


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
        .where(Escalation.queue == check_queue(queue))
        .order_by(Escalation.opened_on, Escalation.id)
    )
    if not include_resolved:
        query = query.where(col(Escalation.resolved_at).is_(None))
    return [QueueItem(*row) for row in s.exec(query)]


def act_on_queue(s: Session, queue: str, choices: dict[int, str], by: str, note: str | None) -> dict[str, int]:
    """The acts chosen on a queue's form, all or nothing: each item acknowledged or resolved (with the note) in the
    name of `by`. An item already resolved is passed over (the same answer recorded twice changes nothing); an item
    of another queue is refused. Returns how many were acknowledged, resolved and passed over."""
    done = {"acknowledged": 0, "resolved": 0, "passed over": 0}
    wanted = {QueueAct(act) for act in choices.values()}
    if QueueAct.RESOLVE in wanted and not (note or "").strip():
        raise InputError("note", "must say what was done for each item you resolve")
    for escalation_id, act in sorted(choices.items()):
        if act == QueueAct.LEAVE:
            continue
        item = _item(s, escalation_id)
        if item.queue != queue:
            raise InputError("ID", f"escalation {escalation_id} is not on the {queue} queue")
        if item.resolved_at is not None:
            done["passed over"] += 1
        elif act == QueueAct.RESOLVE:
            resolve(s, escalation_id, by, note or "")
            done["resolved"] += 1
        elif item.acknowledged_at is None:
            acknowledge(s, escalation_id, by)
            done["acknowledged"] += 1
        else:
            done["passed over"] += 1
    return done
