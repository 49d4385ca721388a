"""`ehc`: the command line of the EHC pathway engine."""

from __future__ import annotations

import typer

from cli import cases, deadlines, demo, events, reviews
from cli.common import OneLineErrors, input_errors
from cli.watch import outbox_app, queue_app, watch
from models import db

app = typer.Typer(help="EHC statutory pathway: clocks, cases, flows.", no_args_is_help=True,
                  pretty_exceptions_enable=False, cls=OneLineErrors)
app.command("deadline")(deadlines.deadline)
app.command("timeline")(deadlines.timeline)
app.command("year-group")(deadlines.year_group)
app.add_typer(cases.app, name="case")
app.command("watch")(watch)
app.add_typer(queue_app, name="queue")
app.add_typer(outbox_app, name="outbox")
events.register(app)
reviews.register(app, events.plan_app)
app.command("demo")(demo.demo)

db_app = typer.Typer(help="The case store's schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@input_errors
def upgrade() -> None:
    """Apply every migration to the store named by EHC_DATABASE_URL (default: ./ehc.db)."""
    typer.echo(f"case store at revision {db.upgrade()}")
