"""`ehc demo`: scripted cases driven through the real needs-assessment flow, with an injected clock.

It starts its own Prefect server (its database kept in the demo folder) and a runner serving the deployment,
opens the cases, then walks a calendar day by day: on each day that has events it sets `EHC_TODAY`, gives the
events through the same `ehc` commands a caseworker uses, and waits until every case's run has caught up.
Weeks pass in seconds because nothing sleeps until a date: a waiting case is a suspended run."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
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
PERSONAL = {"--child-name", "--dob"}  # options whose values stay out of error messages
WIDE = 120  # the timeline's columns, when the output is not a wide terminal
Ehc = Callable[[list[str]], str]  # runs one `ehc` command, returns its output; raises if it fails


@dataclass(frozen=True)
class Script:
    """A case and what happens to it, day by day. Event arguments use `{ref}` for the case reference."""

    story: str
    child_name: str
    dob: str
    requested_on: str
    events: dict[str, list[list[str]]] = field(default_factory=dict)
    flags: tuple[str, ...] = ()


def _advice(on: str, sources=("parent", "education", "health", "social_care", "ep")) -> list[list[str]]:
    return [["advice", "received", "{ref}", "--source", src, "--on", on] for src in sources]


def _meeting(on: str) -> list[str]:
    return ["meeting", "held", "{ref}", "--on", on, "--attended", "parent", "--attended", "senco",
            "--attended", "educational_psychologist", "--child-views"]


ON_TIME = Script("on time: final plan in week 19", "Amara Okonjo-Demo", "2015-03-14", "2026-01-05", {
    "2026-02-09": [["case", "decide", "{ref}", "--assess", "yes", "--on", "2026-02-09"]],
    "2026-03-16": _advice("2026-03-16"),
    "2026-03-30": [_meeting("2026-03-30")],
    "2026-04-06": [["plan", "decide", "{ref}", "--issue", "yes", "--on", "2026-04-06"]],
    "2026-04-13": [["draft", "issued", "{ref}", "--on", "2026-04-13", "--setting", "Oakfield Primary"]],
    "2026-04-20": [["setting", "replied", "{ref}", "--on", "2026-04-20"]],
    "2026-05-15": [["final", "issued", "{ref}", "--on", "2026-05-15"]],
})
LATE_HEALTH = Script("health advice late", "Benedikt Lowry-Demo", "2016-07-02", "2026-01-05", {
    "2026-02-09": [["case", "decide", "{ref}", "--assess", "yes", "--on", "2026-02-09"]],
    "2026-03-16": _advice("2026-03-16", ("parent", "education", "social_care", "ep")),
    "2026-04-13": _advice("2026-04-13", ("health",)),
    "2026-04-20": [_meeting("2026-04-20")],
    "2026-04-27": [["plan", "decide", "{ref}", "--issue", "yes", "--on", "2026-04-27"]],
    "2026-05-04": [["draft", "issued", "{ref}", "--on", "2026-05-04"]],
    "2026-05-22": [["final", "issued", "{ref}", "--on", "2026-05-22"]],
})
REFUSED = Script("refused to assess", "Cerys Pennant-Demo", "2017-11-20", "2026-01-05", {
    "2026-02-09": [["case", "decide", "{ref}", "--assess", "no", "--on", "2026-02-09"]],
})
ABSENCE = Script("family away: 20-week limit set aside", "Dawit Haile-Demo", "2012-05-30", "2026-01-05", {
    "2026-02-09": [["case", "decide", "{ref}", "--assess", "yes", "--on", "2026-02-09"]],
    "2026-02-16": [["exception", "add", "{ref}", "absence", "2026-02-16", "2026-03-29",
                    "--note", "family away from the area (evidence on file)"]],
    "2026-04-13": _advice("2026-04-13", ("parent", "education", "health", "social_care", "ep", "pfa")),
    "2026-04-20": [_meeting("2026-04-20")],
    "2026-04-27": [["plan", "decide", "{ref}", "--issue", "yes", "--on", "2026-04-27"]],
    "2026-06-01": [["draft", "issued", "{ref}", "--on", "2026-06-01"]],
    "2026-06-22": [["final", "issued", "{ref}", "--on", "2026-06-22"]],
})
DEMO_SCRIPTS = (ON_TIME, LATE_HEALTH, REFUSED, ABSENCE)


def drive(scripts: tuple[Script, ...], ehc: Ehc, say: Callable[[str], None] = lambda _: None) -> dict[str, str]:
    """Open each case, start its run, then give every scripted event on its day; returns story → reference.
    Between days it waits until every run has caught up with the store, so each day starts from rest."""
    from deployments.needs_assessment import settle_cases

    refs: dict[str, str] = {}
    days = sorted({sc.requested_on for sc in scripts} | {d for sc in scripts for d in sc.events})
    for day in days:
        os.environ["EHC_TODAY"] = day
        for sc in scripts:
            if sc.requested_on == day:
                flags = [a for f in sc.flags for a in ("--flag", f)]
                refs[sc.story] = ehc(["case", "open", "--child-name", sc.child_name, "--dob", sc.dob,
                                      "--requested-on", sc.requested_on, "--requester", "parent", *flags]).strip()
                ehc(["case", "start", refs[sc.story]])
                say(f"{day}  {refs[sc.story]} request received ({sc.story})")
            for args in sc.events.get(day, []):
                line = ehc([a.format(ref=refs[sc.story]) for a in args]).strip()
                say(f"{day}  {line}")
        settle_cases(list(refs.values()))
    return refs


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


def cli_runner() -> Ehc:
    """Run `ehc` commands in this process (each as a caseworker would type it)."""
    from typer.testing import CliRunner

    from cli.main import app

    runner = CliRunner()

    def ehc(args: list[str]) -> str:
        result = runner.invoke(app, args)
        if result.exit_code != 0:  # the command without the child's name and birth date (`case open`)
            shown = ["…" if before in PERSONAL else a for before, a in zip(["", *args], args, strict=False)]
            raise RuntimeError(f"ehc {' '.join(shown)} failed ({result.exit_code}): {result.output.strip()}")
        return result.stdout

    return ehc


@input_errors
def demo(folder: Path = typer.Option(Path(".ehc-demo"), "--dir", help="where the demo keeps its stores")) -> None:
    """Four scripted cases through the real needs-assessment flow, weeks passing in seconds."""
    from deployments.needs_assessment import serving
    from deployments.server import prefect_server

    folder = folder.resolve()
    if folder.exists() and any(f.name not in DEMO_FILES for f in folder.iterdir()):
        raise InputError("--dir", f"{folder} holds files the demo did not write; give an empty or new folder")
    shutil.rmtree(folder, ignore_errors=True)  # an earlier demo's stores
    folder.mkdir(parents=True)
    os.environ["EHC_DATABASE_URL"] = f"sqlite:///{folder / 'ehc.db'}"
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    for handler in ("CONSOLE", "CONSOLE_FLOW_RUNS"):  # run logs go to the Prefect UI, not this terminal
        os.environ[f"PREFECT_LOGGING_HANDLERS_{handler}_LEVEL"] = "WARNING"
    started = dt.datetime.now()
    console.print(f"[bold]EHC needs assessment demo[/bold]: stores in {folder}")
    server = prefect_server(f"sqlite+aiosqlite:///{folder / 'prefect.db'}", folder / "prefect-server.log")
    with server as api, serving():
        console.print(f"Prefect server {api}; runner serving the needs-assessment deployment")
        refs = drive(DEMO_SCRIPTS, cli_runner(), say=lambda line: console.print(line, highlight=False))
    os.environ.pop("EHC_TODAY", None)
    for story, ref in refs.items():
        print_timeline(ref, story)
    seconds = (dt.datetime.now() - started).total_seconds()
    console.print(f"\n{len(refs)} cases, {seconds:.0f} s. Open the Prefect UI on these runs (then "
                  "http://127.0.0.1:4200/runs, filter by tag case:EHC-…):")
    console.print(f"  PREFECT_SERVER_DATABASE_CONNECTION_URL=sqlite+aiosqlite:///{folder / 'prefect.db'} "
                  "prefect server start", highlight=False, soft_wrap=True)
    console.print(f"(the demo server's own log: {folder / 'prefect-server.log'})", highlight=False)
