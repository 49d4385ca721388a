"""`ehc review …` (annual reviews, preparation for adulthood, phase transfers), and the commands that end a plan
with this council (`cease`, `ceased`, `transfer_out`, `transferred`, registered on `ehc plan` by `cli.main`).

Each command records its typed event with its notices in one transaction (`tasks.waiting.record`), then wakes
the case's `annual-review` run if it waits for that act, or, when the case has closed, lets it end. A Prefect
server that is down loses nothing: the daily review scheduler catches the run up. `--no-run` only records."""

from __future__ import annotations

from collections.abc import Callable

import typer
from sqlmodel import Session

from cli.common import date_arg, input_errors, print_json
from cli.runs import reach
from models import review_cycle
from models.casework import find_step, get_case
from models.db import session
from models.errors import InputError
from models.review import Review, card, current_review, cycle_steps
from models.settings import settings, today
from models.vocabulary import PFA_SOURCES, PhaseTransfer, ReviewDecision, ReviewPart, StepKey, advice_key, review_key
from tasks.review import (
    AdviceCirculated,
    AmendedPlanIssued,
    InvitationsSent,
    NotToAmend,
    PhaseTransferRecorded,
    ReviewAdviceReceived,
    ReviewDecisionMade,
    ReviewEvent,
    ReviewMeetingHeld,
    ReviewReportSent,
    ScheduleReviewMeeting,
    catch_up_case,
    start_review,
)
from tasks.transfer import CeaseDecided, PlanCeased, PlanTransferred, TransferOutBegun
from tasks.waiting import record, wake

app = typer.Typer(help="Annual reviews of EHC plans (CFA s44; reg 18, 20-22).", no_args_is_help=True)

REF = typer.Argument(..., metavar="REF")
ON = typer.Option(..., "--on", help="YYYY-MM-DD")
REASONS = typer.Option(None, "--reasons", help="the decision's reasons, stated in its notice to the family")
NO_RUN = typer.Option(False, "--no-run", help="only record it; the daily review scheduler catches the run up")


def _one_of(value: str, allowed, field_name: str) -> str:
    """Checked before the event is built: its Literal would refuse it with a traceback."""
    if value not in tuple(allowed):
        raise InputError(field_name, f"must be one of {', '.join(allowed)}")
    return value


CATCH_UP = "the review scheduler catches it up"


def _wake(event: ReviewEvent) -> None:
    """Resume the review run if it waits for this act, or if the store has moved past what it waits for (the
    case closed); prints how the run took it."""
    def woken() -> str:
        outcome = wake(event)
        return "resumed" if outcome == "suspended" and catch_up_case(event.reference) else outcome

    outcome = reach(event.reference, woken, CATCH_UP)
    if outcome is not None:
        typer.echo(f"{event.reference}: review run {outcome}")


def _act(event: ReviewEvent, no_run: bool, said: Callable[[Session], str]) -> None:
    """Record the act with its notices, say what the store now holds, then wake the run."""
    record(event, settings().actor)
    with session() as s:
        typer.echo(said(s))
    if not no_run:
        _wake(event)


def _review(s: Session, reference: str) -> Review:
    return current_review(s, get_case(s, reference))


@app.command("open")
@input_errors
def open_(reference: str = REF, setting: str = typer.Option(None, "--setting", help="the setting that convenes it"),
          no_run: bool = NO_RUN) -> None:
    """Open the plan's next review now and start its run (the scheduler otherwise opens it a term ahead)."""
    with session() as s:
        review = review_cycle.open_review(s, get_case(s, reference), today(), settings().actor, setting=setting)
    typer.echo(f"{reference}: review {review.cycle} open; meeting by {review.meeting_by_on}, "
               f"period ends {review.annual_due_on}")
    if no_run:
        return
    reach(reference, lambda: start_review(reference, review.cycle), CATCH_UP)


@app.command("schedule")
@input_errors
def schedule(reference: str = REF, on: str = ON, no_run: bool = NO_RUN) -> None:
    """Fix the meeting date: invitations and advice are due 2 weeks before it (reg 20(3)-(4))."""
    def said(s):
        review = _review(s, reference)
        return (f"{reference}: review {review.cycle} meeting on {review.meeting_on}"
                + (" (preparation for adulthood)" if review.pfa_required else ""))

    _act(ScheduleReviewMeeting(reference=reference, on=date_arg(on, "--on")), no_run, said)


def _pre_meeting(event: ReviewEvent, key: str, no_run: bool) -> None:
    def said(s):
        case = get_case(s, event.reference)
        step = find_step(s, case, review_key(current_review(s, case).cycle, key))
        return f"{event.reference}: {step.key} done {step.completed_on} (due {step.due_on})"

    _act(event, no_run, said)


@app.command("invitations")
@input_errors
def invitations(reference: str = REF, on: str = ON, no_run: bool = NO_RUN) -> None:
    """Invitations to the meeting sent (reg 20(3), 21(3))."""
    _pre_meeting(InvitationsSent(reference=reference, on=date_arg(on, "--on")), ReviewPart.INVITATIONS, no_run)


@app.command("circulated")
@input_errors
def circulated(reference: str = REF, on: str = ON, no_run: bool = NO_RUN) -> None:
    """Advice and information circulated to everyone invited (reg 20(4), 21(4))."""
    _pre_meeting(AdviceCirculated(reference=reference, on=date_arg(on, "--on")), ReviewPart.ADVICE_CIRCULATED,
                 no_run)


@app.command("advice")
@input_errors
def advice(reference: str = REF, source: str = typer.Option(..., "--source", help=" | ".join(PFA_SOURCES)),
           on: str = ON, no_run: bool = NO_RUN) -> None:
    """Preparation-for-adulthood advice received (reg 21(6))."""
    source = _one_of(source, PFA_SOURCES, "--source")
    _pre_meeting(ReviewAdviceReceived(reference=reference, source=source, on=date_arg(on, "--on")),
                 advice_key(source), no_run)


@app.command("meeting")
@input_errors
def meeting(
    reference: str = REF,
    on: str = ON,
    pfa_employment: str = typer.Option(None, "--pfa-employment", help="outcome for employment (Year 9 on)"),
    pfa_independent_living: str = typer.Option(None, "--pfa-independent-living"),
    pfa_community: str = typer.Option(None, "--pfa-community", help="community participation"),
    pfa_health: str = typer.Option(None, "--pfa-health"),
    no_run: bool = NO_RUN,
) -> None:
    """The review meeting was held; from Year 9 with the four preparation-for-adulthood outcomes."""
    def said(s):
        review = _review(s, reference)
        return f"{reference}: review {review.cycle} met {review.meeting_on}; report and decision now due"

    _act(ReviewMeetingHeld(reference=reference, on=date_arg(on, "--on"), pfa_employment=pfa_employment,
                           pfa_independent_living=pfa_independent_living, pfa_community=pfa_community,
                           pfa_health=pfa_health), no_run, said)


@app.command("report")
@input_errors
def report(reference: str = REF, on: str = ON, no_run: bool = NO_RUN) -> None:
    """The review report was sent to everyone invited (reg 20(7))."""
    def said(s):
        review = _review(s, reference)
        return f"{reference}: review {review.cycle} report sent {review.report_on}"

    _act(ReviewReportSent(reference=reference, on=date_arg(on, "--on")), no_run, said)


@app.command("decide")
@input_errors
def decide(
    reference: str = REF,
    decision: str = typer.Option(..., "--decision", help=" | ".join(ReviewDecision)),
    on: str = ON,
    reasons: str | None = REASONS,
    notice_on: str = typer.Option(None, "--notice-on", help="amendment notice sent, if not the same day"),
    next_setting: str = typer.Option(None, "--next-setting", help="named for a phase transfer (reg 18)"),
    no_run: bool = NO_RUN,
) -> None:
    """The council's decision, notified to the family with its reasons (reg 20(10))."""
    def said(s):
        review = _review(s, reference)
        return (f"{reference}: review {review.cycle} decision {review.decision} {review.decided_on}"
                + (f"; amended plan due {review.amended_final_due_on}" if review.decision == ReviewDecision.AMEND
                   else ""))

    event = ReviewDecisionMade(reference=reference, decision=_one_of(decision, ReviewDecision, "--decision"),
                               on=date_arg(on, "--on"), reasons=reasons,
                               notice_on=date_arg(notice_on, "--notice-on") if notice_on else None,
                               next_setting=next_setting)
    _act(event, no_run, said)


@app.command("amend")
@input_errors
def amend(reference: str = REF, on: str = ON,
          next_setting: str = typer.Option(None, "--next-setting", help="named for a phase transfer (reg 18)"),
          no_run: bool = NO_RUN) -> None:
    """The amended final plan was issued (reg 22(3))."""
    def said(s):
        review = _review(s, reference)
        return f"{reference}: review {review.cycle} amended plan issued {review.amended_final_on}"

    _act(AmendedPlanIssued(reference=reference, on=date_arg(on, "--on"), next_setting=next_setting), no_run, said)


@app.command("not-amend")
@input_errors
def not_amend(reference: str = REF, on: str = ON,
              reasons: str = typer.Option(..., "--reasons", help="stated in the family's notice (reg 22(4))"),
              no_run: bool = NO_RUN) -> None:
    """Having proposed amendments, the council decided not to amend the plan (reg 22(4))."""
    def said(s):
        review = _review(s, reference)
        return f"{reference}: review {review.cycle} decision not to amend {on}; the plan stays as it was"

    _act(NotToAmend(reference=reference, on=date_arg(on, "--on"), reasons=reasons), no_run, said)


@app.command("transfer")
@input_errors
def transfer(reference: str = REF, kind: str = typer.Option(..., "--kind", help=" | ".join(PhaseTransfer)),
             on: str = typer.Option(..., "--on", help="the transfer date"), no_run: bool = NO_RUN) -> None:
    """Record a phase transfer the engine does not infer: infant to junior, middle school, a post-16 move."""
    def said(s):
        review = _review(s, reference)
        return f"{reference}: review {review.cycle} phase transfer {kind}; plan final by {review.transfer_due_on}"

    _act(PhaseTransferRecorded(reference=reference, kind=_one_of(kind, PhaseTransfer, "--kind"),
                               transfer_on=date_arg(on, "--on")), no_run, said)


@app.command("show")
@input_errors
def show(reference: str = REF) -> None:
    """The current review: stage, dates and steps (JSON; no personal data)."""
    with session() as s:
        case = get_case(s, reference)
        review = current_review(s, case)
        if review is None:
            raise InputError("REF", f"{reference} has no review yet")
        print_json(card(case, review, cycle_steps(s, review)))


# --- ending the plan with this council: registered on `ehc plan` by cli.main ---------------------------


@input_errors
def cease(reference: str = REF, on: str = ON, reasons: str | None = REASONS, no_run: bool = NO_RUN) -> None:
    """The council's decision to cease the plan, notified to the family (reg 29-31)."""
    def said(s):
        step = find_step(s, get_case(s, reference), StepKey.PLAN_CEASE)
        return f"{reference}: decision to cease notified {step.started_on}; appeal window closes {step.due_on}"

    _act(CeaseDecided(reference=reference, on=date_arg(on, "--on"), reasons=reasons), no_run, said)


@input_errors
def ceased(reference: str = REF, on: str = ON,
           appeal_concluded: bool = typer.Option(False, "--appeal-concluded", help="an appeal has ended"),
           no_run: bool = NO_RUN) -> None:
    """The plan ceases (CFA s45): after the appeal window, or once an appeal has ended. The case closes."""
    _act(PlanCeased(reference=reference, on=date_arg(on, "--on"), appeal_concluded=appeal_concluded), no_run,
         lambda s: f"{reference}: plan ceased; case closed")


@input_errors
def transfer_out(
    reference: str = REF,
    aware_on: str = typer.Option(..., "--aware-on", help="the day we learnt of the move"),
    move_on: str = typer.Option(..., "--move-on", help="the day of the move"),
    to_council: str = typer.Option(..., "--to-council"),
    to_email: str = typer.Option(..., "--to-email", help="the new council's SEN team"),
) -> None:
    """The family is moving to another council: the plan must be sent to it (reg 15(2))."""
    def said(s):
        step = find_step(s, get_case(s, reference), StepKey.TRANSFER_SEND_PLAN)
        return f"{reference}: plan to be sent to {step.details['to_council']} by {step.due_on}"

    _act(TransferOutBegun(reference=reference, aware_on=date_arg(aware_on, "--aware-on"),
                          move_on=date_arg(move_on, "--move-on"), to_council=to_council, to_email=to_email),
         True, said)  # nothing to wake: the review, if any, carries on until the plan is sent


@input_errors
def transferred(reference: str = REF, on: str = ON, no_run: bool = NO_RUN) -> None:
    """The plan was sent to the new council: it is theirs now, and the case closes (reg 15)."""
    def said(s):
        step = find_step(s, get_case(s, reference), StepKey.TRANSFER_SEND_PLAN)
        return (f"{reference}: transferred; the new council notifies by {step.details['new_la_notify_by']} "
                f"and reviews by {step.details['new_la_review_by']}")

    _act(PlanTransferred(reference=reference, on=date_arg(on, "--on")), no_run, said)
