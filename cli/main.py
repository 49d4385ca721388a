"""`ehc`: the command line of the EHC pathway engine. Every command group is put together here, explicitly.

Groups are loaded only when a command of theirs runs: `ehc deadline` answers without loading Prefect, which the
flow and watch commands need. `ehc --help` (and `app`, for tests) has them all."""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable

import typer

from cli.common import OneLineErrors, input_errors

GROUPS = {  # a command → the group that defines it
    "deadline": "clock", "timeline": "clock", "year-group": "clock",
    "db": "db",
    "case": "assessment", "advice": "assessment", "meeting": "assessment", "draft": "assessment",
    "setting": "assessment", "final": "assessment", "exception": "assessment",
    "plan": "plan", "review": "reviews",
    "watch": "watch", "queue": "watch", "outbox": "watch",
    "demo": "demo", "simulate": "simulate",
    "report": "report",
    "serve": "serve",
    "mediation": "disagreement", "appeal": "disagreement", "complaint": "disagreement", "dispute": "disagreement",
    "cease-review": "disagreement",
    "person": "people", "contact": "people", "caseload": "people", "cannot-notify": "people",
    "import": "sen2", "export": "sen2",
    "letters": "letters",
}


def _group(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True)


def _clock(app: typer.Typer) -> None:
    from cli import deadlines

    app.command("deadline")(deadlines.deadline)
    app.command("timeline")(deadlines.timeline)
    app.command("year-group")(deadlines.year_group)


def _db(app: typer.Typer) -> None:
    from models import db

    db_app = _group("The case store's schema.")
    app.add_typer(db_app, name="db")

    @db_app.command("upgrade")
    @input_errors
    def upgrade() -> None:
        """Apply every migration to the store named by EHC_DATABASE_URL (default: ./ehc.db)."""
        typer.echo(f"case store at revision {db.upgrade()}")


def _assessment(app: typer.Typer) -> None:
    from cli import cases, events, people

    case_app = _group("Open and read EHC cases, decide whether to assess, start a case's run.")
    case_app.command("open")(cases.open_)
    case_app.command("show")(cases.show)
    case_app.command("decide")(events.decide)
    case_app.command("start")(events.start_run)
    case_app.command("assign")(people.case_assign)
    case_app.command("setting")(people.case_setting)
    app.add_typer(case_app, name="case")
    events.setting_app.command("import")(people.setting_import)
    for name, sub in (("advice", events.advice_app), ("meeting", events.meeting_app), ("draft", events.draft_app),
                      ("setting", events.setting_app), ("final", events.final_app),
                      ("exception", events.exception_app)):
        app.add_typer(sub, name=name)


def _plan(app: typer.Typer) -> None:
    from cli import events, reviews

    plan_app = _group("The plan: the decision whether to issue one (reg 10), ceasing it (reg 29-31), its transfer "
                      "to another council (reg 15).")
    plan_app.command("decide")(events.plan_decide)
    for name, fn in (("cease", reviews.cease), ("ceased", reviews.ceased), ("transfer-out", reviews.transfer_out),
                     ("transferred", reviews.transferred)):
        plan_app.command(name)(fn)
    app.add_typer(plan_app, name="plan")


def _reviews(app: typer.Typer) -> None:
    from cli import reviews

    app.add_typer(reviews.app, name="review")


def _watch(app: typer.Typer) -> None:
    from cli.watch import outbox_app, queue_app, watch

    app.command("watch")(watch)
    app.add_typer(queue_app, name="queue")
    app.add_typer(outbox_app, name="outbox")


def _people(app: typer.Typer) -> None:
    from cli import people

    app.add_typer(people.person_app, name="person")
    app.add_typer(people.contact_app, name="contact")
    app.add_typer(people.cannot_notify_app, name="cannot-notify")
    app.command("caseload")(people.caseload_command)


def _demo(app: typer.Typer) -> None:
    from cli import demo

    app.command("demo")(demo.demo_command(_whole_app))


def _simulate(app: typer.Typer) -> None:
    from cli import simulate

    app.command("simulate")(simulate.simulate)


def _letters(app: typer.Typer) -> None:
    from cli import letters

    app.add_typer(letters.app, name="letters")


def _report(app: typer.Typer) -> None:
    from cli import report

    app.command("report")(report.report)


def _serve(app: typer.Typer) -> None:
    from cli import serve

    app.command("serve")(serve.serve)


def _disagreement(app: typer.Typer) -> None:
    from cli import disagreement

    for name, sub in (("mediation", disagreement.mediation_app), ("appeal", disagreement.appeal_app),
                      ("complaint", disagreement.complaint_app), ("dispute", disagreement.dispute_app),
                      ("cease-review", disagreement.cease_review_app)):
        app.add_typer(sub, name=name)


def _sen2(app: typer.Typer) -> None:
    from cli import sen2

    app.add_typer(sen2.import_app, name="import")
    app.add_typer(sen2.export_app, name="export")


BUILDERS = {"clock": _clock, "db": _db, "assessment": _assessment, "plan": _plan, "reviews": _reviews,
            "watch": _watch, "people": _people, "demo": _demo, "simulate": _simulate, "report": _report,
            "serve": _serve, "disagreement": _disagreement, "sen2": _sen2, "letters": _letters}


def _commands_by_name() -> None:
    """EHC statutory pathway: clocks, cases, flows."""


def build(groups: Iterable[str] | None = None) -> typer.Typer:
    """The `ehc` app with the named command groups (all of them when None)."""
    wanted = set(BUILDERS) if groups is None else set(groups)
    app = typer.Typer(help="EHC statutory pathway: clocks, cases, flows.", no_args_is_help=True,
                      pretty_exceptions_enable=False, cls=OneLineErrors)
    app.callback()(_commands_by_name)  # a group even when one command is loaded (`ehc demo`)
    for name, builder in BUILDERS.items():
        if name in wanted:
            builder(app)
    return app


def main() -> None:
    """The `ehc` script: load only the group of the command given."""
    group = GROUPS.get(sys.argv[1]) if len(sys.argv) > 1 else None
    build(None if group is None else [group])()


@functools.cache
def _whole_app() -> typer.Typer:
    return build()


def __getattr__(name: str):
    if name == "app":  # the whole command line, built once, e.g. for typer's CliRunner in tests
        return _whole_app()
    raise AttributeError(name)
