"""`ehc import sen2` and `ehc export sen2`: the DfE SEN2 person-level return in and out of the case store."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import BAD_INPUT, err_console, fail, input_errors
from models.db import session
from models.sen2.dump import export_return
from models.sen2.load import import_return
from models.settings import settings, today

import_app = typer.Typer(help="Bring records into the case store.", no_args_is_help=True)
export_app = typer.Typer(help="Write returns from the case store.", no_args_is_help=True)


@import_app.command("sen2")
@input_errors
def import_sen2(
    file: Path = typer.Argument(..., metavar="FILE.xml", help="an SEN2 return (2024 XSD)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="check and count only; write nothing"),
) -> None:
    """Import an SEN2 return: each person a child, each request a case at its stage. The good persons are
    written; each fault of a bad one is one line on stderr (no personal data) and the exit status is 2."""
    if not file.is_file():
        fail("FILE.xml", f"no file {file}")
    with session() as s:
        result = import_return(s, file.read_bytes(), today(), settings().actor, dry_run=dry_run)
        if dry_run:
            s.rollback()
    refused = len({f.person for f in result.faults})
    cases = ", ".join(f"{n} {what}" for what, n in sorted(result.cases.items())) or "none written"
    verb = "would import" if dry_run else "imported"
    typer.echo(f"{verb} {result.persons} persons: {result.new} new, {result.updated} updated, {result.unchanged} "
               f"unchanged, {refused} refused; cases: {cases}")
    for fault in result.faults:
        err_console.print(f"error: {fault}", markup=False, highlight=False, soft_wrap=True)
    if result.faults:
        raise typer.Exit(BAD_INPUT)


@export_app.command("sen2")
@input_errors
def export_sen2(
    collection_year: int = typer.Option(..., "--collection-year", help="YYYY: the January census's year"),
    out: Path = typer.Option(..., "--out", help="the XML file to write"),
    lea: str = typer.Option(None, "--lea", help="the council's 3-digit LA code (default: the imported return's)"),
) -> None:
    """Write the SEN2 return for a collection year from the store, valid against the 2024 XSD."""
    if not 2014 <= collection_year <= 2100:
        fail("--collection-year", "must be a year from 2014")
    if lea is not None and not (len(lea) == 3 and lea.isdigit()):
        fail("--lea", "must be 3 digits")
    with session() as s:
        data, persons, left_out = export_return(s, collection_year, lea)
    out.write_bytes(data)
    typer.echo(f"wrote {persons} persons to {out}" + (
        f"; left out {left_out} plans issued in the engine naming no setting (SEN2 needs the plan's PlanDetail)"
        if left_out else ""))
