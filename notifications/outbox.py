"""The notification outbox: a message is a row before it is an email.

`enqueue` is the only way to send anything. Its idempotency key (e.g. `advice_request:step:17`,
`reminder:step:17:2025-02-07`) is unique in the table, so a retried task, a resumed flow or two workers at once
write the message once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models.cases import Case, Step
from models.notices import OutboxMessage
from notifications.render import render


def find(s: Session, idempotency_key: str) -> OutboxMessage | None:
    return s.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)).first()


def enqueue(s: Session, **message) -> OutboxMessage:
    """Write a message to the outbox once; a second call with the same key returns the first row unchanged."""
    return enqueue_once(s, **message)[0]


def enqueue_once(
    s: Session,
    *,
    idempotency_key: str,
    kind: str,
    recipient_role: str,
    recipient_email: str,
    on: dt.date,
    context: dict,
    case: Case | None = None,
    step: Step | None = None,
) -> tuple[OutboxMessage, bool]:
    """`enqueue`, saying whether this call wrote the row (False: an earlier or a concurrent writer did), so a
    report counts only its own messages."""
    existing = find(s, idempotency_key)
    if existing is not None:
        return existing, False
    rendered = render(kind, {"reference": case.reference if case else None, **context})
    message = OutboxMessage(
        idempotency_key=idempotency_key,
        case_id=case.id if case else None,
        step_id=step.id if step else None,
        kind=kind,
        recipient_role=recipient_role,
        recipient_email=recipient_email,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        on=on,
    )
    try:
        with s.begin_nested():
            s.add(message)
    except IntegrityError:
        winner = find(s, idempotency_key)
        if winner is None:  # not a duplicate key: a real fault, which must not pass for a sent message
            raise
        return winner, False  # another worker wrote the same key between our read and our insert
    return message, True
