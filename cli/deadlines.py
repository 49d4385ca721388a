"""`ehc deadline`, `ehc timeline`, `ehc year-group`: the clock engine from the command line."""

from __future__ import annotations

import typer
from rich.table import Table

from cli.common import console, date_arg, input_errors, print_json
from models import statutory
from models.errors import InputError, shown


def _counted(field_name: str, count):
    """A limit counted from a start so late that it would fall after 31 December 9999 is a bad start date."""
    try:
        return count()
    except OverflowError:
        raise InputError(field_name, "too late to count from: the limit would fall after 9999-12-31") from None


@input_errors
def deadline(
    rule_id: str = typer.Argument(..., metavar="RULE_ID", help="identifier in statutory-timescales.md"),
    start: str = typer.Option(..., "--start", help="YYYY-MM-DD: the day the clock starts"),
    exception: list[str] = typer.Option([], "--exception", help="KIND:FROM:TO (inclusive dates)"),
    fact: list[str] = typer.Option([], "--fact", help="NAME=VALUE, as §6 of the spec names"),
    rule_set: str = typer.Option(statutory.RULE_SET, "--rule-set", help="the rule set the case runs under"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Print the statutory date of RULE_ID from --start, for a case under --rule-set."""
    rule = statutory.rule(rule_id, rule_set)
    start_on = date_arg(start, "--start")
    exceptions = [statutory.parse_exception(e) for e in exception]
    facts = dict(statutory.parse_fact(f) for f in fact)
    result = _counted("--start", lambda: statutory.deadline(rule_id, start_on, exceptions, facts, rule_set))
    known = {*rule.facts, *rule.optional_facts, *(["head_advice_requested"] if statutory.CLOSURE in rule.exceptions
                                                   else [])}
    unknown = sorted(facts.keys() - known)  # a misspelt fact would otherwise be ignored and give a wrong date
    if unknown:
        accepted = ", ".join(sorted(known)) or "none"
        raise InputError("--fact", f"{rule_id} takes no fact {shown(unknown[0])} (it takes: {accepted})")
    for warning in result.warnings:  # on stderr, so the --json object stays exactly as documented
        typer.echo(f"warning: {warning}", err=True)
    if as_json:
        print_json(result.as_json())
        return
    line = f"{result.rule}: due {result.due.isoformat()}"
    if result.rule_set != rule_set:  # a limit first defined by a later set than the case's
        line += f" (rule set {result.rule_set})"
    if result.disapplied:
        line += (f" (disapplied by {', '.join(result.exceptions_applied)}: as soon as practicable;"
                 f" working target {result.target.isoformat()})")
    typer.echo(line)


@input_errors
def timeline(
    request_date: str = typer.Option(..., "--request-date", help="YYYY-MM-DD: the day the LA received the request"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Print every limit of the needs-assessment pathway that runs from the request date."""
    start_on = date_arg(request_date, "--request-date")
    result = _counted("--request-date", lambda: statutory.timeline(start_on))
    if as_json:
        print_json({rid: d.as_json() for rid, d in result.items()})
        return
    table = Table(title=f"Needs-assessment limits from {request_date}")
    for heading in ("rule", "due", "week", "what"):
        table.add_column(heading)
    for rid, d in sorted(result.items(), key=lambda item: item[1].due):
        days = (d.due - d.start).days
        table.add_row(rid, d.due.isoformat(), f"{days // 7}w{days % 7 and f' {days % 7}d' or ''}",
                      statutory.RULES[rid].summary)
    console.print(table)


@input_errors
def year_group(
    dob: str = typer.Option(..., "--dob", help="YYYY-MM-DD: date of birth"),
    on: str = typer.Option(..., "--on", help="YYYY-MM-DD: the date to tell the year group on"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Print the National Curriculum year group (Reception = 0) on a date."""
    born, day = date_arg(dob, "--dob"), date_arg(on, "--on")
    group = statutory.year_group(born, day)
    if as_json:
        print_json({"dob": born.isoformat(), "on": day.isoformat(), "year_group": group,
                    "pfa_required": group >= 9})
        return
    typer.echo(group)
