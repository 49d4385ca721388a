"""`ehc demo`: the scripted cases of `deployments/demo/cases.toml` driven through the real needs-assessment
flow, with an injected clock.

It starts its own Prefect server (its database kept in the demo folder) and a runner serving the deployment,
then hands the driver (`deployments.demo.drive`) a runner of the `ehc` command line, and prints each case's
timeline against its statutory dates."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from cli.common import console, input_errors
from models import assessment
from models.db import session
from models.errors import InputError

DEMO_FILES = {"ehc.db", "prefect.db", "prefect-server.log", "outbox-mail", "ehc.db-journal", "prefect.db-wal",
              "prefect.db-shm", "prefect.db-journal"}  # what a demo writes in its folder, removed by the next
PERSONAL = {"--child-name", "--dob", "--parent-name", "--parent-email", "--parent-address",
            "--parent-postcode"}  # options whose values stay out of error messages
WIDE = 120  # the timeline's columns, when the output is not a wide terminal
Ehc = Callable[[list[str]], str]  # runs one `ehc` command, returns its output; raises if it fails (as the driver)


def print_timeline(reference: str, story: str) -> None:
    """The case's steps against their statutory dates, exceptions and outcome."""
    with session() as s:
        t = assessment.timeline(s, reference)
    table = Table(title=f"{reference} · {story} · {t['status']}", title_justify="left")
    for heading in ("step", "rule", "started", "statutory date", "working target", "done", ""):
        table.add_column(heading)
    for st in t["steps"]:
        due = f"{st['due']}" + (" (set aside)" if st["disapplied"] else "")
        target = str(st["target"]) if st["target"] != st["due"] else ""
        mark = "LATE" if st["late"] else ("" if st["status"] == "done" else st["status"])
        if st["disapplied"] and st["done"] and st["done"] > st["due"] and not st["late"]:
            mark = "within target"
        table.add_row(st["key"], st["rule"] or "", str(st["started"]), due, target, str(st["done"] or ""), mark)
        if "notice_on" in st:
            table.add_row("  notice sent", "", "", st["notice_on"], "", "", "")
            table.add_row("  mediation.contact", "reg 33", "", st["mediation_contact_by"], "", "", "family")
            table.add_row("  appeal.register", "r20(1)(c)", "", st["appeal_register_by"], "", "", "family")
    out = console if console.width >= WIDE else Console(width=WIDE)
    out.print(table)
    for e in t["exceptions"]:
        out.print(f"  exception {e['kind']} {e['from']} … {e['to']}: {e['regulation']}", highlight=False)


def cli_runner(app: typer.Typer) -> Ehc:
    """Run `ehc` commands of `app` in this process (each as a caseworker would type it)."""
    from typer.testing import CliRunner

    runner = CliRunner()

    def ehc(args: list[str]) -> str:
        result = runner.invoke(app, args)
        if result.exit_code != 0:  # the command without the child's name and birth date (`case open`)
            shown = ["…" if before in PERSONAL else a for before, a in zip(["", *args], args, strict=False)]
            raise RuntimeError(f"ehc {' '.join(shown)} failed ({result.exit_code}): {result.output.strip()}")
        return result.stdout

    return ehc


def demo_command(whole_app: Callable[[], typer.Typer]) -> Callable:
    """The `ehc demo` command, driving the cases through `whole_app()` (the command line it belongs to)."""

    @input_errors
    def demo(folder: Path = typer.Option(Path(".ehc-demo"), "--dir", help="where the demo keeps its stores")) -> None:
        """Four scripted cases through the real needs-assessment flow, weeks passing in seconds."""
        run_demo(folder, cli_runner(whole_app()))

    return demo


def run_demo(folder: Path, ehc: Ehc) -> None:
    """Own Prefect server and runner, the scripted cases driven, their timelines printed, the UI command."""
    from deployments.demo import DEMO_COUNCIL, drive, load
    from deployments.needs_assessment import serving
    from deployments.server import prefect_server

    folder = folder.resolve()
    if folder.exists() and any(f.name not in DEMO_FILES for f in folder.iterdir()):
        raise InputError("--dir", f"{folder} holds files the demo did not write; give an empty or new folder")
    shutil.rmtree(folder, ignore_errors=True)  # an earlier demo's stores
    folder.mkdir(parents=True)
    os.environ["EHC_DATABASE_URL"] = f"sqlite:///{folder / 'ehc.db'}"
    os.environ.update(DEMO_COUNCIL)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    for handler in ("CONSOLE", "CONSOLE_FLOW_RUNS"):  # run logs go to the Prefect UI, not this terminal
        os.environ[f"PREFECT_LOGGING_HANDLERS_{handler}_LEVEL"] = "WARNING"
    started = dt.datetime.now()
    console.print(f"[bold]EHC needs assessment demo[/bold]: stores in {folder}")
    server = prefect_server(f"sqlite+aiosqlite:///{folder / 'prefect.db'}", folder / "prefect-server.log")
    with server as api, serving():
        console.print(f"Prefect server {api}; runner serving the needs-assessment deployment")
        refs = drive(tuple(load().values()), ehc, say=lambda line: console.print(line, highlight=False))
    os.environ.pop("EHC_TODAY", None)
    for story, ref in refs.items():
        print_timeline(ref, story)
    first = next(iter(refs.values()))
    for args in (["person", "list", first], ["case", "setting", first], ["caseload"]):  # the people, a school, the work
        console.print(f"\n[bold]ehc {' '.join(args)}[/bold]")
        console.print(ehc(args).rstrip(), highlight=False, soft_wrap=True)
    seconds = (dt.datetime.now() - started).total_seconds()
    console.print(f"\n{len(refs)} cases, {seconds:.0f} s. Open the Prefect UI on these runs (then "
                  "http://127.0.0.1:4200/runs, filter by tag case:EHC-…):")
    console.print(f"  PREFECT_SERVER_DATABASE_CONNECTION_URL=sqlite+aiosqlite:///{folder / 'prefect.db'} "
                  "prefect server start", highlight=False, soft_wrap=True)
    console.print(f"(the demo server's own log: {folder / 'prefect-server.log'})", highlight=False)
