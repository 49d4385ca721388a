"""`ehc simulate`: a council's year through the engine (`deployments.simulation`), with a progress bar, the
report checked against what was drawn, where the time went, and the command that opens the Prefect UI on it."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.common import console, date_arg, input_errors
from deployments.simulation.national import Profile
from deployments.simulation.options import Options

QUIET = {"PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING", "PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL":
         "WARNING", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}  # run logs go to the Prefect UI, not the terminal

DEFAULTS = Options()
CHECKED = (("requests", "requests received"), ("refused", "decided not to assess"), ("assessed", "decided to assess"),
           ("new_plans", "new plans issued"), ("new_plans_within_20_weeks", "of them within 20 weeks"),
           ("pct_within_20_weeks", "% within 20 weeks"),
           ("pct_within_20_weeks_excluding_exceptions", "% within 20 weeks, excluding exceptions"))


@input_errors
def simulate(
    requests: int = typer.Option(DEFAULTS.requests, "--requests", help="requests for assessment in the year"),
    plans: int = typer.Option(DEFAULTS.plans, "--plans", help="plans in force at the start (their SEN2 return)"),
    start: str = typer.Option(DEFAULTS.start.isoformat(), "--start", help="YYYY-MM-DD: the first day"),
    days: int = typer.Option(DEFAULTS.days, "--days", help="days simulated; it ends on the Monday after"),
    seed: int = typer.Option(DEFAULTS.seed, "--seed", help="the same seed gives the same store and report"),
    live_days: int = typer.Option(DEFAULTS.live_days, "--live-days",
                                  help="the last days through the real Prefect runs (0: none, no Prefect)"),
    within_20_weeks: float = typer.Option(DEFAULTS.profile.within_20_weeks * 100, "--within-20-weeks",
                                          help="the share of new plans to issue within 20 weeks, % (national 45.9; the "
                                               "nearest the year's plans can come to it)"),
    folder: Path = typer.Option(DEFAULTS.folder, "--dir", help="where the simulation keeps its stores"),
) -> None:
    """A council's year through the engine: requests, advice on drawn days, reviews, the scheduler and the
    deadline watch every day, the last weeks through the real Prefect runs; it ends on a Monday morning."""
    o = Options(requests=requests, plans=plans, start=date_arg(start, "--start"), days=days, seed=seed,
                live_days=live_days, folder=folder,
                profile=dataclasses.replace(Profile(), within_20_weeks=within_20_weeks / 100))
    o.check()
    for name, value in QUIET.items():  # read when Prefect is first imported, next
        os.environ.setdefault(name, value)
    from deployments.simulation.year import Simulation

    total = (o.end - o.start).days + 1
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("days"),
                  TimeElapsedColumn(), console=console, transient=False) as bar:
        task = bar.add_task("setting up", total=total)
        report = Simulation(o, lambda what, done: bar.update(task, description=what, completed=done)).run()
    print_report(report, o)


def print_report(r: dict, o: Options) -> None:
    """The store's figures beside what was drawn and the national figure; in flight; where the time went."""
    table = Table(title=f"{r['period']['first']} … {r['period']['last']}, seed {o.seed}: the store "
                        "(models.indicators) against what was drawn", title_justify="left")
    for heading in ("", "store", "drawn", "national 2024"):
        table.add_column(heading, justify="right" if heading else "left")
    for key, label in CHECKED:
        national = r["national"].get(key)
        table.add_row(label, _shown(r["store"][key]), _shown(r["drawn"][key]), _shown(national))
    console.print(table)
    same = all(r["store"][k] == r["drawn"][k] for k, _ in CHECKED)
    console.print(("the store's figures are what was drawn" if same else "[red]the store differs from what was drawn"),
                  highlight=False)
    if r["refused_acts"]:
        console.print(f"[red]{len(r['refused_acts'])} drawn acts refused by the engine[/red], the first: "
                      f"{r['refused_acts'][0]}", highlight=False)
    flight = r["in_flight"]
    console.print(f"In flight on {r['period']['last']} (a Monday): {flight['requests']} requests, "
                  f"{flight['reviews']} reviews open; reviews due in the year {r['store']['reviews_due']}, "
                  f"{r['store']['reviews_on_time']} on time; plans in force {r['store']['plans_in_force']}",
                  highlight=False)
    if r["runs"]:
        states = ", ".join(f"{k}: {v}" for k, v in r["runs"]["states"].items())
        console.print(f"Runs: {states}; executions in this process {r['runs']['executions']}", highlight=False)
    from deployments.simulation.year import store_parts  # imported with Prefect, once QUIET is set (above)

    s = r["seconds"]
    console.print(f"{r['cases_per_minute']} cases a minute (requests and reviews); {s['total']:.0f} s: Prefect "
                  f"{s['prefect']:.0f} s, the store {s['store']:.0f} s ({store_parts(s)}), our code {s['ours']:.0f} s"
                  + "".join(f"; {k} {v:.0f} s" for k, v in s.items() if k.startswith("prefect: ")), highlight=False)
    folder = o.folder.resolve()
    if o.live_days:
        console.print("Open the Prefect UI on it (a caseworker's Monday: Runs, filter Suspended; the queues under "
                      "Artifacts), then http://127.0.0.1:4200:", highlight=False)
        console.print(f"  EHC_DATABASE_URL=sqlite:///{folder / 'ehc.db'} EHC_TODAY={r['period']['last']} "
                      f"ehc serve --dir {folder}", highlight=False, soft_wrap=True)


def _shown(value) -> str:
    return "" if value is None else str(value)
