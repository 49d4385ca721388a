"""The outbox table and its named queries: every message is a row before it is an email."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, select

from models import bulk
from models.cases import Case, utcnow
from models.vocabulary import Channel, OutboxStatus


class OutboxMessage(SQLModel, table=True):
    """A message to send. The unique `idempotency_key` (built by `notifications.compose.key`) makes a second
    write of the same message a no-op, so retries and concurrent workers cannot double-send."""

    __tablename__ = "notification_outbox"
    __table_args__ = (sa.Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    step_id: int | None = Field(default=None, foreign_key="step.id")
    kind: str  # the template: advice_request, reminder, due_today, overdue, escalation, dco_digest, ...
    recipient_role: str
    recipient_email: str | None  # None for a letter
    channel: str = Channel.EMAIL  # a letter waits for printing: the dispatcher sends email only
    postal_address: str | None = None
    subject: str
    body_text: str
    body_html: str
    on: dt.date  # the calendar day the message is for
    status: str = OutboxStatus.PENDING
    attempts: int = 0
    next_attempt_at: dt.datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    provider: str | None = None
    provider_message_id: str | None = None
    sent_at: dt.datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    last_error: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))


def find(s: Session, idempotency_key: str) -> OutboxMessage | None:
    return s.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)).first()


def existing_keys(s: Session, keys: list[str]) -> set[str]:
    """Which of these outbox keys are written already (one query per batch of keys)."""
    found: set[str] = set()
    column = OutboxMessage.__table__.c.idempotency_key
    for batch in bulk.batches(s, keys):
        found.update(s.connection().execute(sa.select(column).where(bulk.among(s, column, batch))).scalars())
    return found


class Written(NamedTuple):
    id: int
    idempotency_key: str
    kind: str


def insert_new(s: Session, rows: list[dict]) -> list[Written]:
    """Insert the rows whose key is not in the outbox yet, in bulk (`INSERT … ON CONFLICT DO NOTHING`), and return
    those inserted: a row a concurrent writer inserted first is skipped, never doubled, never an error."""
    if not rows:
        return []
    s.flush()  # what the act changed goes first (a row's case and step)
    c = OutboxMessage.__table__.c
    return [Written(*row) for row in bulk.insert_new(s, OutboxMessage.__table__, rows, ["idempotency_key"],
                                                     (c.id, c.idempotency_key, c.kind))]


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
        .where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.id)
    )
    return [FailedMessage(*row) for row in s.exec(query)]
