"""Case store tables: the child or young person, the case, its steps, contacts, clock exceptions, audit.

Personal data lives only in `child` (name, date of birth) and `person` (the family, `models.people`);
everything that leaves the store (Prefect runs, logs, email subjects, errors) identifies a case by its reference.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from models.vocabulary import CaseStatus

CLOSED = CaseStatus.CLOSED


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def name_key(name: str) -> str:
    """A name as a caseworker compares it: trimmed, runs of whitespace as one space, case and Unicode form
    ignored (`"probe  Child"` is `"Probe Child"`)."""
    return " ".join(unicodedata.normalize("NFC", name).split()).casefold()


def _name_key_default(context) -> str:
    return name_key(context.get_current_parameters()["name"])


class Child(SQLModel, table=True):
    """The child or young person (0-25). The only table that holds their name and date of birth.

    One row per child: `(name_key, date_of_birth)` is unique, so two openings at once cannot make two."""

    __table_args__ = (sa.UniqueConstraint("name_key", "date_of_birth", name="uq_child_name_key_dob"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    name_key: str | None = Field(default=None, sa_column=Column(sa.String, nullable=False, default=_name_key_default))
    date_of_birth: dt.date
    year_group_offset: int = 0  # out-of-year-group placement (spec §4)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))


class Contact(SQLModel, table=True):
    """Who is asked for advice or chased: a role in an organisation with a working email address."""

    id: int | None = Field(default=None, primary_key=True)
    role: str = Field(index=True)
    organisation: str
    email: str
    name: str | None = None


class Case(SQLModel, table=True):
    """One EHC case: from the request for assessment to the plan in force and its reviews. At most one case
    of a child is not closed (a partial unique index, so it holds under concurrent openings)."""

    __table_args__ = (
        sa.Index("uq_case_open_child", "child_id", unique=True,
                 sqlite_where=sa.text(f"status != '{CLOSED}'"), postgresql_where=sa.text(f"status != '{CLOSED}'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, index=True)  # EHC-YYYY-NNNNN
    child_id: int = Field(foreign_key="child.id", index=True)
    kind: str = "needs_assessment"
    stage: str = "request"
    status: str = Field(default="open", index=True)  # open | plan_in_force | closed
    rule_set: str
    requested_on: dt.date
    requester: str  # parent | young-person | setting | other
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    plan_issued_on: dt.date | None = None
    closed_on: dt.date | None = None
    closed_reason: str | None = None
    caseworker_email: str | None = Field(default=None, index=True)  # the named caseworker, chased for the LA's steps
    current_setting_urn: int | None = None  # DfE URN of the setting the child attends (`models.schools`)
    requested_setting_urn: int | None = None  # the setting the family asked to be named in the plan
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))


class Step(SQLModel, table=True):
    """Something due on a case: what, from whom, by when (from `models.statutory`), and whether it is done.

    `key` names the step within its case (`assess.decision`, `advice:health`) so creating it twice is a
    no-op."""

    __table_args__ = (
        sa.UniqueConstraint("case_id", "key", name="uq_step_case_key"),
        sa.Index("ix_step_status_due_on", "status", "due_on"),
        sa.Index("ix_step_case_status", "case_id", "status"),  # a case's open steps: not every open step's
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id")
    key: str
    kind: str  # decision_to_assess, advice, coproduction_meeting, draft_plan, final_plan, ...
    rule_id: str | None = None  # identifier in statutory-timescales.md
    source: str | None = None  # advice source: parent, education, health, social_care, ep, ...
    role: str  # who must act
    organisation: str | None = None
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    started_on: dt.date
    due_on: dt.date
    target_on: dt.date | None = None
    disapplied: bool = False
    status: str = "open"  # open | done | cancelled
    completed_on: dt.date | None = None
    details: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))


class ClockException(SQLModel, table=True):
    """A period that may set a statutory limit aside (spec §3), with the evidence for it."""

    __tablename__ = "clock_exception"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    step_id: int | None = Field(default=None, foreign_key="step.id")
    kind: str  # closure | personal | absence | missed_appointment
    start_on: dt.date
    end_on: dt.date
    evidence_note: str = ""
    facts: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    recorded_by: str
    recorded_at: dt.datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))


class AuditEvent(SQLModel, table=True):
    """Append-only: who did what, when, moving a case from which stage to which."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    at: dt.datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))
    on: dt.date | None = None  # the calendar date the act took effect, where it has one
    actor: str
    action: str
    from_stage: str | None = None
    to_stage: str | None = None
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
