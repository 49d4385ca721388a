"""The review table: one cycle of one plan in force (CFA s44), from its anchor to the council's decision."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.cases import utcnow
from models.vocabulary import ReviewStage, ReviewStatus


class Review(SQLModel, table=True):
    """One review cycle of one plan: from its anchor (plan issued, then the previous meeting) to the
    council's decision and, where it amends, the amended final plan. Personal data stays in `child`."""

    __table_args__ = (sa.UniqueConstraint("case_id", "cycle", name="uq_review_case_cycle"),
                      sa.Index("ix_review_status_meeting_by", "status", "meeting_by_on"))

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    cycle: int
    status: str = ReviewStatus.OPEN
    stage: str = ReviewStage.OPENED
    setting: str | None = None  # the setting that convenes the meeting (its SENCO gets the termly list)
    anchor_on: dt.date
    annual_due_on: dt.date  # review.annual
    meeting_latest_on: dt.date  # review.meeting_latest
    meeting_by_on: dt.date  # the earliest of meeting_latest, early years, phase-transfer meeting
    early_years: bool = False  # under 5 at the anchor: CoP 9.178 advises reviews every 3-6 months
    opened_on: dt.date
    meeting_on: dt.date | None = None  # scheduled, then held
    meeting_held: bool = False
    pfa_required: bool = False
    pfa_employment: str | None = None
    pfa_independent_living: str | None = None
    pfa_community: str | None = None
    pfa_health: str | None = None
    report_on: dt.date | None = None
    decision: str | None = None  # maintain | amend | cease
    decided_on: dt.date | None = None
    amendment_notice_on: dt.date | None = None
    representations_close_on: dt.date | None = None  # amend.representations
    amended_final_due_on: dt.date | None = None  # amend.final
    amended_final_latest_on: dt.date | None = None  # amend.final_latest
    amended_final_on: dt.date | None = None
    phase_transfer: str | None = None  # other | post16 | post16_move
    transfer_on: dt.date | None = None
    transfer_due_on: dt.date | None = None  # review.phase_transfer / review.post16_transfer
    next_setting: str | None = None
    completed_on: dt.date | None = None
    flow_run_id: str | None = None  # the cycle's one `annual-review` run
    version: int = 0  # bumped by every change; the run records what it has seen
    seen_version: int = -1
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))
