"""`ehc watch`, `ehc queue …`, `ehc outbox …`: the deadline watch, its escalation queues and the outbox."""

from __future__ import annotations

import datetime as dt

import typer

from cli.common import ID_RANGE, date_arg, input_errors, print_json
from models import escalation
from models.db import session
from models.deadline_watch import REPEAT_EVERY, undo_sweep
from models.errors import InputError
from models.outbox import failed_messages
from models.settings import settings, today
from notifications.backends import Backend, configured_backend
from notifications.dispatch import dispatch, retry_failed
from tasks.watch import run_watch

queue_app = typer.Typer(help="Escalation queues: dco, social_care_manager, principal_ep, sen_team_manager.",
                        no_args_is_help=True)
outbox_app = typer.Typer(help="Messages waiting, sent and failed.", no_args_is_help=True)




def _send(backend: Backend) -> None:
    report = dispatch(backend)
    typer.echo(f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}")
    if report.halted:
        typer.echo(f"stopped: {report.halted}; resuming from {report.resume_at:%Y-%m-%d %H:%M:%S} UTC")


def _who(by: str | None) -> str:
    """`--by`, or EHC_ACTOR when it is not given; given empty, refused."""
    if by is None:
        return settings().actor
    if not by.strip():
        raise InputError("--by", "must name who (leave it out for EHC_ACTOR)")
    return by.strip()


def _watch_day(as_of: str | None, undo: bool) -> dt.date:
    """The watch's day: today unless `--as-of` says otherwise, never after today (a mistyped year would send
    escalations years early) and never empty (an unset variable in a cron line). Undoing may name any day."""
    if as_of is None:
        if undo:
            raise InputError("--as-of", "give the day of the watch to undo")
        return today()
    on = date_arg(as_of, "--as-of")
    if not undo and on > today():
        raise InputError("--as-of", f"must not be after today ({today().isoformat()}); to undo a watch that ran "
                                    f"for a wrong day: ehc watch --undo --as-of DAY")
    return on


@input_errors
def watch(
    as_of: str = typer.Option(None, "--as-of", help="YYYY-MM-DD, not after today; default today (or EHC_TODAY)"),
    send: bool = typer.Option(True, "--send/--no-send", help="send the outbox through EHC_MAIL_BACKEND"),
    undo: bool = typer.Option(False, "--undo", help="forget the watch that ran for --as-of (a wrong day): its "
                              "unsent messages and the escalations it opened or raised"),
) -> None:
    """Chase every open step for one day: reminders, due today, overdue, escalations, the DCO's digest."""
    on = _watch_day(as_of, undo)
    if undo:
        with session() as s:
            done = undo_sweep(s, on, today(), REPEAT_EVERY, settings().actor)
        typer.echo(f"{on}: watch undone; messages removed {done.messages_removed} (already sent "
                   f"{done.messages_already_sent}); escalations removed {done.escalations_removed}, lowered "
                   f"{done.escalations_lowered}")
        return
    backend = configured_backend() if send else None  # a bad setting is refused before the watch writes anything
    from flows.reconcile import reconcile_all  # with the Prefect API: each case's run in line with the store

    report = run_watch(on)
    reconciled = reconcile_all(on)
    sent = ", ".join(f"{kind} {n}" for kind, n in sorted(report.messages.items())) or "none"
    typer.echo(f"{on}: {report.swept} open steps due within the reminder horizon; {report.chases} to chase; "
               f"messages: {sent}; escalations opened {report.escalations_opened}, raised "
               f"{report.escalations_raised}; DCO digest {'yes' if report.digest else 'no'}")
    runs = ", ".join(f"{what} {n}" for what, n in sorted(reconciled["runs"].items())) or "none"
    typer.echo(f"runs: {runs if reconciled['prefect'] else 'Prefect API not reached, left for the next pass'}; "
               f"stalled cases flagged {reconciled['stalled']}, recovered {reconciled['recovered']}")
    if backend is not None:
        _send(backend)


@queue_app.command("show")
@input_errors
def show(
    queue: str = typer.Argument(..., help="dco | social_care_manager | principal_ep | sen_team_manager"),
    all_items: bool = typer.Option(False, "--all", help="include resolved items"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The items on a queue, oldest first, by case reference."""
    with session() as s:
        items = escalation.queue_items(s, queue, all_items)
    if as_json:
        print_json([item._asdict() for item in items])
        return
    typer.echo(f"queue {queue}: {len(items)} item(s)")
    for i in items:
        state = f"resolved by {i.resolved_by}" if i.resolved_by else (
            f"acknowledged by {i.acknowledged_by}" if i.acknowledged_by else "new")
        typer.echo(f"{i.id}\t{i.reference}\t{i.step}\tdue {i.due_on}\ttier {i.tier}\topened {i.opened_on}\t{state}")


@queue_app.command("ack")
@input_errors
def ack(escalation_id: int = typer.Argument(..., metavar="ID", **ID_RANGE),
        by: str = typer.Option(None, "--by", help="who (default EHC_ACTOR)")) -> None:
    """Acknowledge an item: someone is on it."""
    with session() as s:
        item = escalation.acknowledge(s, escalation_id, _who(by))
    typer.echo(f"escalation {item.id} acknowledged by {item.acknowledged_by}")


@queue_app.command("resolve")
@input_errors
def resolve(escalation_id: int = typer.Argument(..., metavar="ID", **ID_RANGE),
            note: str = typer.Option(..., "--note", help="what was done"),
            by: str = typer.Option(None, "--by", help="who (default EHC_ACTOR)")) -> None:
    """Resolve an item with a note of what was done."""
    with session() as s:
        item = escalation.resolve(s, escalation_id, _who(by), note)
    typer.echo(f"escalation {item.id} resolved by {item.resolved_by}")


@outbox_app.command("failed")
@input_errors
def failed(as_json: bool = typer.Option(False, "--json")) -> None:
    """Messages the provider refused, with the reason (no addresses, no bodies)."""
    with session() as s:
        rows = failed_messages(s)
    if as_json:
        print_json([row._asdict() for row in rows])
        return
    typer.echo(f"{len(rows)} failed message(s)")
    for r in rows:
        typer.echo(f"{r.id}\t{r.reference or '-'}\t{r.kind}\tto {r.recipient_role}\t{r.attempts} attempt(s)"
                   f"\t{r.reason}")


@outbox_app.command("send")
@input_errors
def send_pending() -> None:
    """Send every message that is due through EHC_MAIL_BACKEND (default: files in EHC_MAIL_FOLDER)."""
    _send(configured_backend())


@outbox_app.command("retry")
@input_errors
def retry(message_ids: list[int] = typer.Argument(None, metavar="[ID]...", **ID_RANGE)) -> None:
    """Queue failed messages again once the cause is fixed (all of them when no ID is given)."""
    with session() as s:
        count = retry_failed(s, message_ids)
    typer.echo(f"{count} message(s) queued again")
