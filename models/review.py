"""The review table, one cycle of one plan in force (CFA s44) from its anchor to the council's decision, and
its named queries: a case's reviews, the open ones, a cycle's steps, the term's reviews by setting and the
SENCO's term list, and the card a caseworker sees."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models import bulk
from models.cases import Case, Step, utcnow
from models.contacts import contact_for
from models.errors import InputError
from models.notice import Notice, NoticeKind, Recipient
from models.school_terms import term_of
from models.vocabulary import ReviewStage, ReviewStatus, Role, annual_review_key, review_key


class Review(SQLModel, table=True):
    """One review cycle of one plan: from its anchor (plan issued, then the previous meeting) to the
    council's decision and, where it amends, the amended final plan. Personal data stays in `child`."""

    __table_args__ = (sa.UniqueConstraint("case_id", "cycle", name="uq_review_case_cycle"),
                      sa.Index("ix_review_status_meeting_by", "status", "meeting_by_on"),
                      sa.Index("ix_review_case_status", "case_id", "status"))  # a case's open review

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id")
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
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))


KEPT = "reviews"  # `bulk.kept`: each case's reviews, by case id


# --- named queries ---------------------------------------------------------------------------------


def reviews_by_case(s: Session, case_ids: list[int] | set[int]) -> dict[int, list[Review]]:
    """Each case's reviews by cycle, read once a session (`bulk.kept_by_case`: `open_review` forgets the case's
    when it adds one, a bulk insert forgets all). Their status and dates are the session's own objects', pending
    changes included, as a query after its autoflush would give."""
    return bulk.kept_by_case(s, KEPT, case_ids, lambda batch: s.exec(
        select(Review).where(bulk.among(s, col(Review.case_id), batch)).order_by(Review.cycle)))


def reviews_of(s: Session, case: Case) -> list[Review]:
    return reviews_by_case(s, [case.id])[case.id]


def current_review(s: Session, case: Case) -> Review | None:
    """The case's latest review cycle, open or not."""
    reviews = reviews_of(s, case)
    return reviews[-1] if reviews else None


def get_review(s: Session, case: Case, cycle: int | None = None) -> Review:
    """The given cycle's review, or the current open one; InputError when there is none."""
    found = [r for r in reviews_of(s, case) if (r.cycle == cycle if cycle else r.status == ReviewStatus.OPEN)]
    if found:
        return found[-1]
    what = f"review {cycle}" if cycle else "open review"
    raise InputError("REF", f"{case.reference} has no {what} (open one with `ehc review open`)")


def cycle_steps(s: Session, review: Review) -> list[Step]:
    """The steps of one cycle: its 12-month period and every `review:<cycle>:<part>`."""
    return list(s.exec(select(Step).where(
        Step.case_id == review.case_id,
        sa.or_(Step.key == annual_review_key(review.cycle), col(Step.key).like(review_key(review.cycle, "%"))),
    ).order_by(Step.id)))


def open_reviews(s: Session) -> list[tuple[Case, Review]]:
    return list(s.exec(select(Case, Review).join(Review, Review.case_id == Case.id)
                       .where(Review.status == ReviewStatus.OPEN).order_by(Case.id)).all())


def tie_runs(s: Session, runs: dict[int, str]) -> None:
    """Record each cycle's one `annual-review` run (review id → Prefect flow run id), in one statement."""
    if runs:
        s.execute(sa.update(Review), [{"id": review_id, "flow_run_id": run_id} for review_id, run_id in runs.items()])


def reviews_due_in_term(s: Session, on: dt.date) -> dict[str, list[sa.Row]]:
    """Open reviews whose meeting falls due in the term containing `on`, by setting: plain rows (reference,
    cycle, dates, PfA, phase transfer), read with the term's dates in the query (a daily pass: no ORM objects)."""
    _, start, end = term_of(on)
    rows = s.connection().execute(
        sa.select(Case.reference, Review.cycle, Review.meeting_by_on, Review.annual_due_on, Review.pfa_required,
                  Review.phase_transfer, Review.setting)
        .join(Review, Review.case_id == Case.id)
        .where(Review.status == ReviewStatus.OPEN, col(Review.meeting_by_on).between(start, end))
        .order_by(Case.id, Review.cycle))
    by_setting: dict[str, list[sa.Row]] = {}
    for row in rows:
        by_setting.setdefault(row.setting or "", []).append(row)
    return by_setting


def term_lists(s: Session, on: dt.date) -> list[Notice]:
    """Each setting's SENCO is told the references and dates of its reviews due in the term containing `on`;
    the notice's occasion names the term and the setting, so a daily scheduler sends each list once."""
    label, first, last = term_of(on)
    notices = []
    for setting, items in reviews_due_in_term(s, on).items():
        senco = contact_for(s, Role.SENCO, setting or None)
        rows = [{"reference": r.reference, "cycle": r.cycle, "meeting_by": r.meeting_by_on.isoformat(),
                 "annual_due": r.annual_due_on.isoformat(), "pfa": r.pfa_required,
                 "phase_transfer": r.phase_transfer or ""} for r in items]
        notices.append(Notice(NoticeKind.REVIEW_LIST, on, (Recipient(Role.SENCO, contact_id=senco.id),),
                              occasion=f"{label}:{setting or 'no setting'}",
                              facts={"term": label, "setting": setting, "first": first.isoformat(),
                                     "last": last.isoformat(), "rows": rows, "action": f"annual reviews due {label}"}))
    return notices


def card(case: Case, review: Review, steps: list[Step]) -> dict:
    """What the caseworker sees of a review outside the store: reference, stage and dates, nothing personal."""
    return {
        "reference": case.reference,
        "cycle": review.cycle,
        "stage": review.stage,
        "status": review.status,
        "early_years": review.early_years,
        "pfa_required": review.pfa_required,
        "phase_transfer": review.phase_transfer,
        "dates": {
            "anchor": review.anchor_on, "meeting_by": review.meeting_by_on, "meeting": review.meeting_on,
            "annual_due": review.annual_due_on, "transfer_due": review.transfer_due_on,
            "representations_close": review.representations_close_on,
            "amended_final_due": review.amended_final_due_on,
            "amended_final_latest": review.amended_final_latest_on,
        },
        "steps": [{"key": st.key, "rule": st.rule_id, "role": st.role, "due": st.due_on, "status": st.status,
                   "completed_on": st.completed_on} for st in steps],
    }
