"""`ehc report`: the SEND service's indicators for a period, from the case store (the quarterly report by hand)."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import date_arg, fail, input_errors, print_json
from tasks.report import build_report, markdown, write_files


@input_errors
def report(
    from_: str = typer.Option(..., "--from", help="first day of the period, YYYY-MM-DD (included)"),
    to: str = typer.Option(..., "--to", help="last day of the period, YYYY-MM-DD (included)"),
    as_json: bool = typer.Option(False, "--json", help="every indicator beside the previous period and last year"),
    out: Path = typer.Option(None, "--out", help="also write report.json, indicators.csv and four PNG charts here"),
) -> None:
    """Count every indicator for [--from, --to]: requests, plans within 20 weeks, advice, reviews, escalations."""
    first, last = date_arg(from_, "--from"), date_arg(to, "--to")
    if first > last:
        fail("--to", f"{last} is before --from {first}")
    data = build_report(first, last)
    if as_json:
        print_json(data)
    else:
        typer.echo(markdown(data), nl=False)
    if out is not None:
        written = write_files(data, out)
        typer.echo(f"wrote {len(written)} files to {out}", err=as_json)
