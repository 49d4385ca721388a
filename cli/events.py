"""`ehc` commands for the acts of a needs assessment: each records the typed event in the store (the truth) with
its notices, then wakes the case's suspended flow run so it carries on (`tasks.waiting`). A Prefect server that
is down loses nothing: the run reads the store when it next runs. The groups are put together in `cli.main`."""

from __future__ import annotations

import typer
from prefect.exceptions import ObjectNotFound

from cli.common import date_arg, input_errors
from cli.runs import UNREACHABLE, reach
from models import casework, statutory
from models.db import session
from models.errors import InputError
from models.settings import settings
from models.vocabulary import ADVICE_ROLES, YesNo
from tasks import waiting
from tasks.advice import AdviceReceived
from tasks.coproduction import DecisionToIssue, MeetingHeld
from tasks.plan import DraftIssued, FinalIssued, SettingReplied
from tasks.request import DecisionToAssess

REF = typer.Argument(..., metavar="REF", help="the case reference, EHC-YYYY-NNNNN")
ON = typer.Option(..., "--on", help="YYYY-MM-DD: the day it happened")
REASONS = typer.Option(None, "--reasons", help="a refusal's reasons, stated in its notice to the family")
SERVED = ("a case's run needs a Prefect server and the deployment served: `ehc serve`, or "
          "`python -m deployments.needs_assessment` with PREFECT_API_URL set")

advice_app = typer.Typer(help="Advice for the assessment (reg 6-8).", no_args_is_help=True)
meeting_app = typer.Typer(help="The co-production meeting.", no_args_is_help=True)
draft_app = typer.Typer(help="The draft plan (reg 11-13).", no_args_is_help=True)
setting_app = typer.Typer(help="Consulting the school or college (CFA s39).", no_args_is_help=True)
final_app = typer.Typer(help="The final plan (reg 13(2)).", no_args_is_help=True)
exception_app = typer.Typer(help="Clock exceptions (spec §3).", no_args_is_help=True)


def yes_no(value: str, field_name: str) -> YesNo:
    if value not in tuple(YesNo):
        raise InputError(field_name, "must be yes or no")
    return YesNo(value)


def record(event: waiting.CaseEvent, what: str) -> None:
    """Record the event and its notices in the store, then wake the case's run; prints one line."""
    waiting.record(event, settings().actor)
    typer.echo(f"{event.reference}: {what} (run {wake(event)})")


def wake(event: waiting.CaseEvent) -> str:
    """Wake the case's run after an act is recorded (`cli.runs.reach`: the act stands whatever Prefect says)."""
    return reach(event.reference, lambda: waiting.wake(event), "the next watch brings it in line",
                 unset="not woken", unreached="not reached")


@input_errors
def decide(reference: str = REF, assess: str = typer.Option(..., "--assess", help="yes | no"), on: str = ON,
           reasons: str | None = REASONS) -> None:
    """Record the decision whether to assess (reg 5(1), 6 weeks from the request)."""
    record(DecisionToAssess(reference=reference, assess=yes_no(assess, "--assess"), on=date_arg(on, "--on"),
                            reasons=reasons), f"decision to assess: {assess}")


@input_errors
def start_run(reference: str = REF) -> None:
    """Start the case's needs-assessment flow run (once; a second start shows the first)."""
    with session() as s:
        casework.get_case(s, reference)
    if not waiting.api_configured():
        raise InputError("PREFECT_API_URL", f"is not set; {SERVED}")
    try:
        run = waiting.start(reference)
    except ObjectNotFound:
        raise InputError("PREFECT_API_URL", f"has no needs-assessment deployment; {SERVED}") from None
    except UNREACHABLE as exc:
        raise InputError("PREFECT_API_URL", f"does not answer ({type(exc).__name__}); {SERVED}") from None
    typer.echo(f"{reference}: flow run {run.id}")


@advice_app.command("received")
@input_errors
def advice_received(
    reference: str = REF,
    source: str = typer.Option(..., "--source", help=" | ".join(ADVICE_ROLES)),
    on: str = ON,
    request_received_on: str | None = typer.Option(
        None, "--request-received-on", help="YYYY-MM-DD: if the adviser received the request after it was sent"),
) -> None:
    """Record a piece of advice returned (reg 8)."""
    received = date_arg(request_received_on, "--request-received-on") if request_received_on else None
    if source not in ADVICE_ROLES:  # before the form is built: its Literal would refuse it with a traceback
        raise InputError("--source", f"must be one of {', '.join(ADVICE_ROLES)}")
    record(AdviceReceived(reference=reference, source=source, on=date_arg(on, "--on"),
                          request_received_on=received), f"{source} advice received")


@meeting_app.command("held")
@input_errors
def meeting_held(
    reference: str = REF,
    on: str = ON,
    attended: list[str] = typer.Option(..., "--attended", help="a role that attended; repeat for each"),
    child_views: bool = typer.Option(..., "--child-views/--no-child-views",
                                     help="whether the child's or young person's own views were captured"),
) -> None:
    """Record the co-production meeting (CFA s19)."""
    record(MeetingHeld(reference=reference, on=date_arg(on, "--on"), attended=attended,
                       child_views_captured=YesNo.YES if child_views else YesNo.NO), "co-production meeting held")


@input_errors
def plan_decide(reference: str = REF, issue: str = typer.Option(..., "--issue", help="yes | no"), on: str = ON,
                reasons: str | None = REASONS) -> None:
    """Record the decision whether to issue a plan (a refusal is due by week 16, reg 10(1))."""
    record(DecisionToIssue(reference=reference, issue=yes_no(issue, "--issue"), on=date_arg(on, "--on"),
                           reasons=reasons), f"decision to issue: {issue}")


@draft_app.command("issued")
@input_errors
def draft_issued(
    reference: str = REF,
    on: str = ON,
    setting: str | None = typer.Option(None, "--setting", help="the school or college the family asked for"),
    personal_budget: bool = typer.Option(False, "--personal-budget", help="the family asked for a personal budget"),
) -> None:
    """Record the draft plan served (15 days for representations, reg 13(1))."""
    record(DraftIssued(reference=reference, on=date_arg(on, "--on"), setting_requested=setting,
                       personal_budget_requested=YesNo.YES if personal_budget else YesNo.NO), "draft plan issued")


@setting_app.command("replied")
@input_errors
def setting_replied(reference: str = REF, on: str = ON) -> None:
    """Record the consulted setting's reply (CFA s39(2))."""
    record(SettingReplied(reference=reference, on=date_arg(on, "--on")), "setting replied")


@final_app.command("issued")
@input_errors
def final_issued(reference: str = REF, on: str = ON) -> None:
    """Record the final plan sent (reg 13(2), week 20)."""
    record(FinalIssued(reference=reference, on=date_arg(on, "--on")), "final plan issued")


@exception_app.command("add")
@input_errors
def exception_add(
    reference: str = REF,
    kind: str = typer.Argument(..., metavar="KIND", help="closure | personal | absence | missed_appointment"),
    start_on: str = typer.Argument(..., metavar="FROM"),
    end_on: str = typer.Argument(..., metavar="TO"),
    note: str | None = typer.Option(None, "--note", help="the evidence"),
    fact: list[str] = typer.Option([], "--fact", help="NAME=VALUE, e.g. head_advice_requested=2025-07-18"),
) -> None:
    """Record a clock exception; the open limits it applies to are re-computed (reg 5(4), 8(2), 10(4))."""
    start, end = date_arg(start_on, "FROM"), date_arg(end_on, "TO")
    if end < start:
        raise InputError("TO", f"{end} is before {start}")
    facts = dict(statutory.parse_fact(f) for f in fact)
    with session() as s:
        case = casework.get_case(s, reference)
        casework.add_exception(s, case, kind=kind, start=start, end=end, actor=settings().actor,
                               evidence_note=note, facts=facts)
    typer.echo(f"{reference}: {kind} exception {start} … {end} recorded")
