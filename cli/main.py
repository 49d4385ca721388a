"""`ehc`: the command line of the EHC pathway engine.

Commands come in groups, each imported only when a command of it runs: `ehc deadline` answers without
loading Prefect, which the flow and watch commands need. `ehc --help` (and `app`, for tests) has them all."""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable

import typer

from cli.common import OneLineErrors, input_errors

GROUPS = {
    "deadline": "clock", "timeline": "clock", "year-group": "clock",
    "db": "db",
    "case": "events", "advice": "events", "meeting": "events", "draft": "events", "setting": "events",
    "final": "events", "exception": "events",
    "plan": "reviews", "review": "reviews",
    "watch": "watch", "queue": "watch", "outbox": "watch",
    "demo": "demo",
}


def _clock(app: typer.Typer) -> None:
    from cli import deadlines

    app.command("deadline")(deadlines.deadline)
    app.command("timeline")(deadlines.timeline)
    app.command("year-group")(deadlines.year_group)


def _db(app: typer.Typer) -> None:
    from models import db

    db_app = typer.Typer(help="The case store's schema.", no_args_is_help=True)
    app.add_typer(db_app, name="db")

    @db_app.command("upgrade")
    @input_errors
    def upgrade() -> None:
        """Apply every migration to the store named by EHC_DATABASE_URL (default: ./ehc.db)."""
        typer.echo(f"case store at revision {db.upgrade()}")


def _events_and_reviews(app: typer.Typer, reviews_too: bool) -> None:
    from cli import cases, events

    app.add_typer(cases.app, name="case")
    events.register(app)
    if reviews_too:
        from cli import reviews

        app.add_typer(reviews.app, name="review")
        present = {command.name for command in events.plan_app.registered_commands}  # shared: add each once
        for name, fn in (("cease", reviews.cease), ("ceased", reviews.ceased), ("transfer-out", reviews.transfer_out),
                         ("transferred", reviews.transferred)):
            if name not in present:
                events.plan_app.command(name)(fn)


def _watch(app: typer.Typer) -> None:
    from cli.watch import outbox_app, queue_app, watch

    app.command("watch")(watch)
    app.add_typer(queue_app, name="queue")
    app.add_typer(outbox_app, name="outbox")


def _demo(app: typer.Typer) -> None:
    from cli import demo

    app.command("demo")(demo.demo)


def _commands_by_name() -> None:
    """EHC statutory pathway: clocks, cases, flows."""


def build(groups: Iterable[str] | None = None) -> typer.Typer:
    """The `ehc` app with the named command groups (all of them when None)."""
    wanted = set(GROUPS.values()) if groups is None else set(groups)
    app = typer.Typer(help="EHC statutory pathway: clocks, cases, flows.", no_args_is_help=True,
                      pretty_exceptions_enable=False, cls=OneLineErrors)
    app.callback()(_commands_by_name)  # a group even when one command is loaded (`ehc demo`)
    if "clock" in wanted:
        _clock(app)
    if "events" in wanted or "reviews" in wanted:
        _events_and_reviews(app, reviews_too="reviews" in wanted)
    if "watch" in wanted:
        _watch(app)
    if "demo" in wanted:
        _demo(app)
    if "db" in wanted:
        _db(app)
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
