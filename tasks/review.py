"""The annual review's acts as typed events, one form each, recorded from the Prefect UI (a suspended
`annual-review` run's form) or by `ehc review …`; and the tasks of the review runs and their daily scheduler:
open the reviews falling due, start each cycle's run, catch up runs the store has moved past, send each SENCO
the term's list, and the table of open reviews (each plan's own dates are on its case card, `tasks.case_card`)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal

from prefect import get_client, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType

from models import bulk, review_cycle, review_decision
from models.case_card import CardFacts, read_cards
from models.casework import get_case
from models.db import session
from models.errors import InputError
from models.review import get_review, open_reviews, term_lists, tie_runs
from models.settings import settings, today
from models.vocabulary import (
    REVIEW_PREFIX,
    AdviceSource,
    PhaseTransfer,
    ReviewDecision,
    ReviewPart,
    ReviewStatus,
    Stage,
    advice_key,
    review_key,
)
from models.waiting import SCHEDULE
from notifications import compose
from tasks.waiting import ANNUAL_REVIEW, CaseEvent, RunStart, case_run, catch_up, run_start, start_all

CYCLE = "{cycle}"  # in `waits_on`: the case's current review cycle
PAGE = 200  # the API's largest page


class ReviewEvent(CaseEvent):
    """An act on a plan's review; the case's `annual-review` run is the one that may wait for it."""

    flow: ClassVar[str] = ANNUAL_REVIEW


class ScheduleReviewMeeting(ReviewEvent):
    """The day the review meeting will be held: invitations and advice are due 2 weeks before it
    (reg 20(3)-(4)); from Year 9 the advice the case flags is requested (reg 21(6))."""

    on: dt.date
    waits_on: ClassVar[str] = f"{REVIEW_PREFIX}{CYCLE}{SCHEDULE}"  # the meeting has no date yet
    title: ClassVar[str] = "fix the review meeting date"
    regulation: ClassVar[str] = "SEND Code of Practice 9.169"
    command: ClassVar[str] = "ehc review schedule {ref} --on DATE"

    def record(self, s, on_today, actor):
        return review_cycle.schedule_meeting(s, get_case(s, self.reference), self.on, actor, on=on_today)


class _PreMeeting(ReviewEvent):
    """Something done before the meeting; no run waits for it (the run waits for the meeting)."""

    on: dt.date
    waits_on: ClassVar[str] = review_key(CYCLE, ReviewPart.MEETING)
    part: ClassVar[str]

    def record(self, s, on_today, actor):
        review_cycle.record_pre_meeting(s, get_case(s, self.reference), self.part, self.on, actor, today=on_today)
        return []


class InvitationsSent(_PreMeeting):
    """The invitations to the meeting go out, each with its notice (reg 20(3), 21(3))."""

    part: ClassVar[str] = ReviewPart.INVITATIONS
    title: ClassVar[str] = "invitations sent"
    regulation: ClassVar[str] = "reg 20(3)"
    command: ClassVar[str] = "ehc review invitations {ref} --on DATE"

    def record(self, s, on_today, actor):
        return review_cycle.send_invitations(s, get_case(s, self.reference), self.on, actor, today=on_today)


class AdviceCirculated(_PreMeeting):
    """Advice and information circulated to everyone invited (reg 20(4), 21(4))."""

    part: ClassVar[str] = ReviewPart.ADVICE_CIRCULATED
    title: ClassVar[str] = "advice circulated"
    regulation: ClassVar[str] = "reg 20(4)"
    command: ClassVar[str] = "ehc review circulated {ref} --on DATE"


class ReviewAdviceReceived(ReviewEvent):
    """Preparation-for-adulthood advice received (reg 21(6))."""

    source: Literal[AdviceSource.ADULT_SOCIAL_CARE, AdviceSource.PFA]
    on: dt.date
    waits_on: ClassVar[str] = review_key(CYCLE, ReviewPart.MEETING)
    title: ClassVar[str] = "preparation-for-adulthood advice received"
    regulation: ClassVar[str] = "reg 21(6)"
    command: ClassVar[str] = "ehc review advice {ref} --source SOURCE --on DATE"

    def record(self, s, on_today, actor):
        review_cycle.record_pre_meeting(s, get_case(s, self.reference), advice_key(self.source), self.on, actor,
                                        today=on_today)
        return []


class ReviewMeetingHeld(ReviewEvent):
    """The review meeting was held; in or beyond Year 9 with the four preparation-for-adulthood outcomes
    (reg 20(5)-(6), 21(6))."""

    on: dt.date
    pfa_employment: str | None = None
    pfa_independent_living: str | None = None
    pfa_community: str | None = None
    pfa_health: str | None = None
    waits_on: ClassVar[str] = review_key(CYCLE, ReviewPart.MEETING)
    title: ClassVar[str] = "review meeting held"
    regulation: ClassVar[str] = "reg 20(5)-(6)"
    command: ClassVar[str] = "ehc review meeting {ref} --on DATE [--pfa-employment TEXT …]"

    def record(self, s, on_today, actor):
        pfa = {name: getattr(self, name) for name in review_cycle.PFA_OUTCOMES}
        review_cycle.record_meeting(s, get_case(s, self.reference), self.on, actor, today=on_today, **pfa)
        return []


class ReviewReportSent(ReviewEvent):
    """The review report was sent to everyone invited (reg 20(7)); no run waits for it."""

    on: dt.date
    waits_on: ClassVar[str] = review_key(CYCLE, ReviewPart.REPORT)
    title: ClassVar[str] = "review report sent"
    regulation: ClassVar[str] = "reg 20(7)"
    command: ClassVar[str] = "ehc review report {ref} --on DATE"

    def record(self, s, on_today, actor):
        review_cycle.record_report(s, get_case(s, self.reference), self.on, actor, today=on_today)
        return []


class ReviewDecisionMade(ReviewEvent):
    """The council's decision to maintain, amend or cease the plan, notified to the family (reg 20(10)).
    Amend: the notice of the proposed amendments (if not sent the same day). Maintain: for a phase transfer,
    the next setting (reg 18)."""

    decision: Literal[ReviewDecision.MAINTAIN, ReviewDecision.AMEND, ReviewDecision.CEASE]
    on: dt.date
    reasons: str | None = None  # stated in the family's notice
    notice_on: dt.date | None = None
    next_setting: str | None = None
    waits_on: ClassVar[str] = review_key(CYCLE, ReviewPart.DECISION)
    title: ClassVar[str] = "review decision"
    regulation: ClassVar[str] = "reg 20(10), 4 weeks from the meeting"
    command: ClassVar[str] = "ehc review decide {ref} --decision maintain|amend|cease --on DATE --reasons TEXT"

    def record(self, s, on_today, actor):
        case = get_case(s, self.reference)
        if self.decision == ReviewDecision.MAINTAIN:
            return review_decision.maintain(s, case, self.on, actor, next_setting=self.next_setting,
                                            reasons=self.reasons, today=on_today)
        if self.decision == ReviewDecision.AMEND:
            return review_decision.amend(s, case, self.on, actor, notice_on=self.notice_on, reasons=self.reasons,
                                         today=on_today)
        return review_decision.cease(s, case, self.on, actor, reasons=self.reasons, today=on_today)


class AmendedPlanIssued(ReviewEvent):
    """The amended final plan was issued (reg 22(3)); for a phase transfer it names the next setting (reg 18)."""

    on: dt.date
    next_setting: str | None = None
    waits_on: ClassVar[str] = review_key(CYCLE, ReviewPart.AMENDED_FINAL)
    title: ClassVar[str] = "amended plan issued"
    regulation: ClassVar[str] = "reg 22(3), 8 weeks from the amendment notice"
    command: ClassVar[str] = "ehc review amend {ref} --on DATE [--next-setting NAME]"

    def record(self, s, on_today, actor):
        return review_decision.issue_amended_plan(s, get_case(s, self.reference), self.on, actor,
                                                  next_setting=self.next_setting, today=on_today)


class NotToAmend(ReviewEvent):
    """Having proposed amendments, the council decided not to amend the plan, with its reasons (reg 22(4)); the
    run waiting for the amended plan is caught up by it."""

    on: dt.date
    reasons: str
    waits_on: ClassVar[str] = review_key(CYCLE, ReviewPart.AMENDED_FINAL)
    title: ClassVar[str] = "decision not to amend"
    regulation: ClassVar[str] = "reg 22(4), within the 8 weeks of the amended plan"
    command: ClassVar[str] = "ehc review not-amend {ref} --on DATE --reasons TEXT"

    def record(self, s, on_today, actor):
        return review_decision.not_to_amend(s, get_case(s, self.reference), self.on, actor, self.reasons,
                                            today=on_today)


class PhaseTransferRecorded(ReviewEvent):
    """A phase transfer the engine does not infer: infant to junior, middle school, a post-16 move at another
    time (reg 18(1)-(2)); no run waits for it."""

    kind: Literal[PhaseTransfer.OTHER, PhaseTransfer.POST16, PhaseTransfer.POST16_MOVE]
    transfer_on: dt.date
    waits_on: ClassVar[str] = review_key(CYCLE, ReviewPart.PHASE_TRANSFER)
    title: ClassVar[str] = "phase transfer recorded"
    regulation: ClassVar[str] = "reg 18"
    command: ClassVar[str] = "ehc review transfer {ref} --kind KIND --on DATE"

    def record(self, s, on_today, actor):
        review_cycle.record_transfer(s, get_case(s, self.reference), self.kind, self.transfer_on, actor, on=on_today)
        return []


WAITS = (ScheduleReviewMeeting, ReviewMeetingHeld, ReviewDecisionMade, AmendedPlanIssued)  # in order: what a
# cycle's run suspends for


def review_open(reference: str, cycle: int) -> bool:
    """Whether the cycle is still open (read by the flow itself: a read changes nothing)."""
    with session() as s:
        return get_review(s, get_case(s, reference), cycle).status == ReviewStatus.OPEN


def review_start(facts: CardFacts, cycle: int, on: dt.date) -> RunStart:
    """The cycle's `annual-review` run: `REF review N`, on the review stage, given the cycle."""
    return run_start(facts, on, ANNUAL_REVIEW, name=f"{facts.reference} review {cycle}", stage=Stage.REVIEW,
                     cycle=cycle)


def start_reviews(reviews: list[tuple[int, int, int]]) -> list[FlowRun]:
    """Start each cycle's one `annual-review` run (a second start returns the first), many at once, and tie
    every cycle to its run in one transaction (`reviews`: review id, case id, cycle). A run that failed to
    start is raised once the others are tied; the next pass starts it."""
    with session() as s:
        facts = read_cards(s, {case_id for _, case_id, _ in reviews})
    on = today()
    runs = start_all([review_start(facts[case_id], cycle, on) for _, case_id, cycle in reviews])
    started = {review_id: run for (review_id, _, _), run in zip(reviews, runs, strict=True)
               if isinstance(run, FlowRun)}
    with session() as s:
        tie_runs(s, {review_id: str(run.id) for review_id, run in started.items()})
    failed = [run for run in runs if isinstance(run, BaseException)]
    if failed:
        raise failed[0]
    return list(started.values())


def start_review(reference: str, cycle: int) -> FlowRun:
    """Start the cycle's one `annual-review` run (a second start returns the first) and tie the cycle to it."""
    with session() as s:
        review = get_review(s, get_case(s, reference), cycle)
        ids = (review.id, review.case_id, cycle)
    (run,) = start_reviews([ids])
    return run


def catch_up_case(reference: str) -> bool:
    """Resume the case's review run if it is suspended on an act the store no longer waits on."""
    run = case_run(reference, ANNUAL_REVIEW)
    return run is not None and run.state.is_paused() and catch_up(run, WAITS)


@task(task_run_name="open reviews falling due", cache_policy=NO_CACHE)
def open_due_reviews() -> list[tuple[str, int]]:
    """Open every plan's next review a term ahead of the term its meeting falls due in."""
    with bulk.collector_paused(), session() as s:
        return review_cycle.open_due_reviews(s, today(), settings().actor)


@task(task_run_name="start the runs of open reviews", cache_policy=NO_CACHE)
def start_review_runs() -> list[tuple[str, int]]:
    """Start a run for each open review that has none (opened by the scheduler, or with `--no-run`), many at
    once, and tie them all to their cycles in one transaction."""
    with session() as s:
        waiting = [(c.reference, r.cycle, (r.id, c.id, r.cycle)) for c, r in open_reviews(s) if r.flow_run_id is None]
    start_reviews([review for _, _, review in waiting])
    return [(reference, cycle) for reference, cycle, _ in waiting]


@task(task_run_name="catch up review runs", cache_policy=NO_CACHE)
def catch_up_review_runs() -> int:
    """Resume each suspended review run whose store has moved past the act it waits for."""
    suspended: list[FlowRun] = []
    with get_client(sync_client=True) as client:
        while batch := client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[ANNUAL_REVIEW])),
                flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
                    type=FlowRunFilterStateType(any_=[StateType.PAUSED]))),
                limit=PAGE, offset=len(suspended)):
            suspended += batch
    return sum(_caught_up(run) for run in suspended)


def _caught_up(run: FlowRun) -> bool:
    try:
        return catch_up(run, WAITS)
    except InputError as exc:  # a run of a case this store does not hold (another store's, or a test's)
        get_run_logger().warning("%s passed over: %s", run.name, exc)
        return False


@task(task_run_name="send each SENCO the reviews due this term", cache_policy=NO_CACHE)
def send_term_lists() -> int:
    """Once a term: each setting's SENCO gets the references and dates of the reviews due in the term (a
    daily run writes each list once). Returns the number of lists due this term."""
    with session() as s:
        notices = term_lists(s, today())
        compose.write(s, notices)
    return len(notices)


@task(task_run_name="{reference}: review {cycle} as it ends", cache_policy=NO_CACHE)
def review_outcome(reference: str, cycle: int) -> dict:
    """The review's status and stage, and the case's stage, as the run ends (the case card shows the rest)."""
    with session() as s:
        case = get_case(s, reference)
        review = get_review(s, case, cycle)
        return {"status": review.status, "stage": review.stage, "case_stage": case.stage}


@task(task_run_name="show open reviews", cache_policy=NO_CACHE)
def show_open_reviews() -> int:
    """One table of every open review: reference, cycle, stage, dates (the caseload at a glance)."""
    with session() as s:
        rows = [{"reference": c.reference, "cycle": r.cycle, "stage": r.stage,
                 "meeting_by": r.meeting_by_on.isoformat(), "meeting": _iso(r.meeting_on) or "",
                 "annual_due": r.annual_due_on.isoformat(), "transfer_due": _iso(r.transfer_due_on) or "",
                 "pfa": r.pfa_required} for c, r in open_reviews(s)]
    create_table_artifact(key="open-reviews", table=rows or [{"reference": "none"}],
                          description=f"Open reviews on {today()}")
    return len(rows)


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None
