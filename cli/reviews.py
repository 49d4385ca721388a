"""`ehc review …` (annual reviews, preparation for adulthood, phase transfers) and `ehc plan cease|ceased|
transfer-out|transferred` (ending a plan with this council).

Each act is written to the store first; then the review's one `annual-review` run carries on (or, for
ceasing and transfer, the notice task runs), unless `--no-run` leaves that to the daily scheduler."""

from __future__ import annotations

import datetime as dt

import typer

from cli.common import date_arg, input_errors, print_json
from models import casework, reviews
from models.db import session
from models.errors import InputError
from models.settings import settings, today

app = typer.Typer(help="Annual reviews of EHC plans (CFA s44; reg 18, 20-22).", no_args_is_help=True)

REF = typer.Argument(..., metavar="REF")
ON = typer.Option(..., "--on", help="YYYY-MM-DD")
NO_RUN = typer.Option(False, "--no-run", help="only record it; the daily review scheduler carries the run on")


def _past(value: str, field_name: str = "--on") -> dt.date:
    on = date_arg(value, field_name)
    if on > today():
        raise InputError(field_name, f"{on} is in the future (today is {today()})")
    return on


def _act(reference: str, fn, *args, **kwargs):
    with session() as s:
        return fn(s, casework.get_case(s, reference), *args, actor=settings().actor, **kwargs)


def _carry_on(reference: str, no_run: bool) -> None:
    if not no_run:
        from flows.annual_review import advance  # Prefect loads only when a run is wanted

        advance(reference)


@app.command("open")
@input_errors
def open_(reference: str = REF, setting: str = typer.Option(None, "--setting", help="the setting that convenes it"),
          no_run: bool = NO_RUN) -> None:
    """Open the plan's next review now (the scheduler otherwise opens it at the start of its term)."""
    review = _act(reference, reviews.open_review, today(), setting=setting)
    typer.echo(f"{reference}: review {review.cycle} open; meeting by {review.meeting_by_on}, "
               f"period ends {review.annual_due_on}")
    _carry_on(reference, no_run)


@app.command("schedule")
@input_errors
def schedule(reference: str = REF, on: str = ON, no_run: bool = NO_RUN) -> None:
    """Fix the meeting date: invitations and advice are due 2 weeks before it (reg 20(3)-(4))."""
    review = _act(reference, reviews.schedule_meeting, date_arg(on, "--on"), on=today())
    typer.echo(f"{reference}: review {review.cycle} meeting on {review.meeting_on}"
               + (" (preparation for adulthood)" if review.pfa_required else ""))
    _carry_on(reference, no_run)


def _pre_meeting(reference: str, what: str, on: str, no_run: bool) -> None:
    step = _act(reference, reviews.record_pre_meeting, what, _past(on))
    typer.echo(f"{reference}: {step.key} done {step.completed_on} (due {step.due_on})")
    _carry_on(reference, no_run)


@app.command("invitations")
@input_errors
def invitations(reference: str = REF, on: str = ON, no_run: bool = NO_RUN) -> None:
    """Invitations to the meeting sent (reg 20(3), 21(3))."""
    _pre_meeting(reference, "invitations", on, no_run)


@app.command("circulated")
@input_errors
def circulated(reference: str = REF, on: str = ON, no_run: bool = NO_RUN) -> None:
    """Advice and information circulated to everyone invited (reg 20(4), 21(4))."""
    _pre_meeting(reference, "advice_circulated", on, no_run)


@app.command("advice")
@input_errors
def advice(reference: str = REF, source: str = typer.Option(..., "--source", help="adult_social_care | pfa"),
           on: str = ON, no_run: bool = NO_RUN) -> None:
    """Preparation-for-adulthood advice received (reg 21(6))."""
    if source not in reviews.PFA_ADVICE:
        raise InputError("--source", f"must be one of {', '.join(reviews.PFA_ADVICE)}")
    _pre_meeting(reference, f"advice:{source}", on, no_run)


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
    review = _act(reference, reviews.record_meeting, _past(on), pfa_employment=pfa_employment,
                  pfa_independent_living=pfa_independent_living, pfa_community=pfa_community, pfa_health=pfa_health)
    typer.echo(f"{reference}: review {review.cycle} met {review.meeting_on}; report and decision now due")
    _carry_on(reference, no_run)


@app.command("report")
@input_errors
def report(reference: str = REF, on: str = ON, no_run: bool = NO_RUN) -> None:
    """The review report was sent to everyone invited (reg 20(7))."""
    review = _act(reference, reviews.record_report, _past(on))
    typer.echo(f"{reference}: review {review.cycle} report sent {review.report_on}")
    _carry_on(reference, no_run)


@app.command("decide")
@input_errors
def decide(
    reference: str = REF,
    decision: str = typer.Option(..., "--decision", help="maintain | amend | cease"),
    on: str = ON,
    notice_on: str = typer.Option(None, "--notice-on", help="amendment notice sent, if not the same day"),
    next_setting: str = typer.Option(None, "--next-setting", help="named for a phase transfer (reg 18)"),
    no_run: bool = NO_RUN,
) -> None:
    """The council's decision, notified to the family (reg 20(10))."""
    review = _act(reference, reviews.decide, decision, _past(on),
                  notice_on=_past(notice_on, "--notice-on") if notice_on else None, next_setting=next_setting)
    typer.echo(f"{reference}: review {review.cycle} decision {review.decision} {review.decided_on}"
               + (f"; amended plan due {review.amended_final_due_on}" if review.decision == "amend" else ""))
    _carry_on(reference, no_run)


@app.command("amend")
@input_errors
def amend(reference: str = REF, on: str = ON,
          next_setting: str = typer.Option(None, "--next-setting", help="named for a phase transfer (reg 18)"),
          no_run: bool = NO_RUN) -> None:
    """The amended final plan was issued (reg 22(3))."""
    review = _act(reference, reviews.issue_amended_plan, _past(on), next_setting=next_setting)
    typer.echo(f"{reference}: review {review.cycle} amended plan issued {review.amended_final_on}")
    _carry_on(reference, no_run)


@app.command("transfer")
@input_errors
def transfer(reference: str = REF, kind: str = typer.Option(..., "--kind", help="other | post16 | post16_move"),
             on: str = typer.Option(..., "--on", help="the transfer date"), no_run: bool = NO_RUN) -> None:
    """Record a phase transfer the engine does not infer: infant to junior, middle school, a post-16 move."""
    review = _act(reference, reviews.record_transfer, kind, date_arg(on, "--on"), on=today())
    typer.echo(f"{reference}: review {review.cycle} phase transfer {kind}; plan final by {review.transfer_due_on}")
    _carry_on(reference, no_run)


@app.command("show")
@input_errors
def show(reference: str = REF) -> None:
    """The current review: stage, dates and steps (JSON; no personal data)."""
    with session() as s:
        case = casework.get_case(s, reference)
        review = reviews.current_review(s, case)
        if review is None:
            raise InputError("REF", f"{reference} has no review yet")
        print_json(reviews.card(case, review, reviews.cycle_steps(s, review)))


# --- ending the plan with this council ------------------------------------------------------------


def cease(reference: str = REF, on: str = ON, reason: str = typer.Option(..., "--reason"),
          no_run: bool = NO_RUN) -> None:
    """The council's decision to cease the plan, notified to the family (reg 29-31)."""
    step = _act(reference, reviews.begin_cease, _past(on), reason=reason)
    typer.echo(f"{reference}: decision to cease notified {step.started_on}; appeal window closes {step.due_on}")
    _notices(reference, "cease", no_run)


def ceased(reference: str = REF, on: str = ON,
           appeal_concluded: bool = typer.Option(False, "--appeal-concluded", help="an appeal has ended"),
           no_run: bool = NO_RUN) -> None:
    """The plan ceases (CFA s45): after the appeal window, or once an appeal has ended. The case closes."""
    _act(reference, reviews.cease_plan, _past(on), appeal_concluded=appeal_concluded)
    typer.echo(f"{reference}: plan ceased; case closed")
    _notices(reference, "cease", no_run)


def transfer_out(
    reference: str = REF,
    aware_on: str = typer.Option(..., "--aware-on", help="the day we learnt of the move"),
    move_on: str = typer.Option(..., "--move-on", help="the day of the move"),
    to_council: str = typer.Option(..., "--to-council"),
    to_email: str = typer.Option(..., "--to-email", help="the new council's SEN team"),
) -> None:
    """The family is moving to another council: the plan must be sent to it (reg 15(2))."""
    step = _act(reference, reviews.begin_transfer_out, aware_on=_past(aware_on, "--aware-on"),
                move_on=date_arg(move_on, "--move-on"), to_council=to_council, to_email=to_email)
    typer.echo(f"{reference}: plan to be sent to {to_council} by {step.due_on}")


def transferred(reference: str = REF, on: str = ON, no_run: bool = NO_RUN) -> None:
    """The plan was sent to the new council: it is theirs now, and the case closes (reg 15)."""
    limits = _act(reference, reviews.plan_transferred, _past(on))
    typer.echo(f"{reference}: transferred; the new council notifies by {limits['new_la_notify_by']} "
               f"and reviews by {limits['new_la_review_by']}")
    _notices(reference, "transfer", no_run)


def _notices(reference: str, what: str, no_run: bool) -> None:
    """The notices as a task of their own (the plan may have no review under way); then the current review's
    run, if any, closes with the case."""
    if no_run:
        return
    from tasks.transfer import notify_cease, notify_transfer

    (notify_cease if what == "cease" else notify_transfer)(reference)
    _carry_on(reference, no_run)


def register(main: typer.Typer, plan_app: typer.Typer) -> None:
    """`ehc review …`, and the plan's end on `ehc plan` (which the needs assessment shares)."""
    main.add_typer(app, name="review")
    present = {command.name for command in plan_app.registered_commands}  # plan_app is shared: add each once
    for name, fn in (("cease", cease), ("ceased", ceased), ("transfer-out", transfer_out),
                     ("transferred", transferred)):
        if name not in present:
            plan_app.command(name)(input_errors(fn))
