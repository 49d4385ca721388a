"""`ehc letters pending|printed`: the print queue of letters to people who prefer post (the group is built in
`cli.main`)."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import ID_RANGE, input_errors, print_json
from models.council import council_details
from models.db import session
from models.settings import settings
from notifications import letters

app = typer.Typer(help="Letters to people who prefer post: the print queue (EHC_LETTER_FOLDER).",
                  no_args_is_help=True)


@app.command("pending")
@input_errors
def pending(folder: Path | None = typer.Option(None, "--dir", help="where to write the PDFs (EHC_LETTER_FOLDER)"),
            as_json: bool = typer.Option(False, "--json")) -> None:
    """Write each letter waiting to be printed as a PDF addressed for a DL window envelope; list them."""
    config = settings()
    with session() as s:
        written = letters.write_pending(s, folder or Path(config.letter_folder), council_details(config))
        rows = [{"id": m.id, "reference": ref, "kind": m.kind, "on": m.on, "pdf": str(path)}
                for m, ref, path in written]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['id']}  {row['reference'] or '-'}  {row['kind']}  {row['on']}  {row['pdf']}")
    typer.echo(f"{len(rows)} letter(s) to print; then `ehc letters printed ID…`")


@app.command("printed")
@input_errors
def printed(ids: list[int] = typer.Argument(..., metavar="ID…", help="the letters printed and posted",
                                            **ID_RANGE)) -> None:
    """Record letters as printed and posted (sent); an id that is not a waiting letter is refused."""
    with session() as s:
        count = letters.mark_printed(s, ids)
    typer.echo(f"{count} letter(s) recorded as posted")
