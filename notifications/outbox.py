"""The notification outbox: a message is a row before it is an email.

`enqueue` writes one message under its idempotency key (built by `notifications.compose.key`, which every
sender goes through); the key is unique in the table, so a retried task, a resumed flow or two workers at once
write the message once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models.cases import Case, Step
from models.outbox import OutboxMessage, find
from models.vocabulary import Channel
from notifications.render import render


def enqueue(
    s: Session,
    *,
    idempotency_key: str,
    kind: str,
    recipient_role: str,
    recipient_email: str | None,
    on: dt.date,
    context: dict,
    case: Case | None = None,
    step: Step | None = None,
    channel: str = Channel.EMAIL,
    postal_address: str | None = None,
) -> OutboxMessage:
    """Write a message to the outbox once; a second call with the same key returns the first row unchanged."""
    existing = find(s, idempotency_key)
    if existing is not None:
        return existing
    rendered = render(kind, {"reference": case.reference if case else None, **context})
    message = OutboxMessage(
        idempotency_key=idempotency_key,
        case_id=case.id if case else None,
        step_id=step.id if step else None,
        kind=kind,
        recipient_role=recipient_role,
        recipient_email=recipient_email,
        channel=channel,
        postal_address=postal_address,
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
        return winner  # another worker wrote the same key between our read and our insert
    return message
