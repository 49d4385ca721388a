"""The `cannot_notify` queue: a notice that has nobody it can reach (no parent recorded, no address, no
caseworker, nobody in the directory), kept for the case's named caseworker instead of sent anywhere.

Each item carries the notice's outbox key, so writing the same notice again adds nothing; it names the case by
reference, the role and the reason, never a person's details. Recording and resolving are audited."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from models.addresses import validate_email
from models.cases import AuditEvent, Case, Step, utcnow
from models.errors import InputError
from models.text import NOTE_MAX, clean


class CannotNotify(SQLModel, table=True):
    __tablename__ = "cannot_notify"

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True)  # the outbox key the notice would have had
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    step_id: int | None = Field(default=None, foreign_key="step.id")
    kind: str  # the template
    recipient_role: str
    reason: str
    caseworker_email: str | None = Field(default=None, index=True)  # whose queue: the case's caseworker then
    on: dt.date
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))
    resolved_at: dt.datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    resolved_by: str | None = None
    resolution_note: str | None = None


def record(s: Session, *, key: str, case: Case | None, step: Step | None, kind: str, role: str, reason: str,
           on: dt.date, actor: str) -> CannotNotify | None:
    """Put a notice nobody can be sent on the queue once; None when it is there already."""
    if s.exec(select(CannotNotify.id).where(CannotNotify.idempotency_key == key)).first() is not None:
        return None
    item = CannotNotify(idempotency_key=key, case_id=case.id if case else None, step_id=step.id if step else None,
                        kind=kind, recipient_role=role, reason=reason, on=on,
                        caseworker_email=case.caseworker_email if case else None)
    try:
        with s.begin_nested():
            s.add(item)
    except IntegrityError:  # a concurrent run put it there first
        return None
    s.add(AuditEvent(case_id=item.case_id, actor=actor, action="cannot notify", on=on,
                     detail={"kind": kind, "role": role, "reason": reason}))
    return item


class Item(NamedTuple):
    id: int
    reference: str | None
    kind: str
    recipient_role: str
    reason: str
    caseworker: str | None
    on: dt.date


def items(s: Session, caseworker: str | None = None) -> list[Item]:
    """The open items, oldest first, for one caseworker (by the case's caseworker now) or all of them."""
    worker = sa.func.coalesce(Case.caseworker_email, CannotNotify.caseworker_email)
    query = (select(CannotNotify.id, Case.reference, CannotNotify.kind, CannotNotify.recipient_role,
                    CannotNotify.reason, worker, CannotNotify.on)
             .join(Case, Case.id == CannotNotify.case_id, isouter=True)
             .where(col(CannotNotify.resolved_at).is_(None))
             .order_by(CannotNotify.on, CannotNotify.id))
    if caseworker is not None:  # given empty or mistyped: refused, not an empty list
        query = query.where(worker == validate_email(caseworker, "--caseworker"))
    return [Item(*row) for row in s.exec(query)]


def resolve(s: Session, item_id: int, by: str, note: str) -> CannotNotify:
    """Close an item with what was done (the family reached another way, their details added)."""
    if not note.strip():
        raise InputError("--note", "must say what was done")
    note = clean(note, "--note", NOTE_MAX)
    item = s.get(CannotNotify, item_id)
    if item is None or item.resolved_at is not None:
        raise InputError("ID", f"no open cannot_notify item {item_id}")
    item.resolved_at, item.resolved_by, item.resolution_note = utcnow(), by, note.strip()
    s.add(item)
    s.add(AuditEvent(case_id=item.case_id, actor=by, action="cannot notify resolved",
                     detail={"item": item.id, "note": item.resolution_note}))
    return item
