"""Outbox and escalation tables: every message and every escalation is a row before it is an action."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.cases import utcnow


class OutboxMessage(SQLModel, table=True):
    """A message to send. The unique `idempotency_key` (e.g. `step:42:reminder:1`) makes a second write of the
    same message a no-op, so retries and concurrent workers cannot double-send."""

    __tablename__ = "notification_outbox"
    __table_args__ = (sa.Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    step_id: int | None = Field(default=None, foreign_key="step.id")
    kind: str  # template name: advice_request, reminder, due_today, overdue, escalation, dco_digest, ...
    recipient_role: str
    recipient_email: str
    subject: str
    body_text: str
    body_html: str
    on: dt.date  # the calendar day the message is for
    status: str = "pending"  # pending | sending | sent | failed
    attempts: int = 0
    next_attempt_at: dt.datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    provider: str | None = None
    provider_message_id: str | None = None
    sent_at: dt.datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    last_error: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))


class Escalation(SQLModel, table=True):
    """A slipping step on a queue (dco, social_care_manager, principal_ep, sen_team_manager). At most one open
    escalation per step; its tier rises while the step stays overdue."""

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
