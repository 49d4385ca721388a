"""What every `ehc` command shares: bad input → one line naming the field and the rule, exit status 2."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable

import typer
from rich.console import Console
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # typer 0.29 vendors click (pinned exactly)
from typer.core import TyperGroup

from models.errors import InputError
from models.statutory import parse_date

console = Console()
err_console = Console(stderr=True)
BAD_INPUT = 2
ID_RANGE = {"min": 1, "max": 2**63 - 1}  # a row id; a larger number would overflow the database's integer


def fail(field_name: str, rule: str) -> None:
    raise InputError(field_name, rule)


def input_errors(fn: Callable) -> Callable:
    """Turn an InputError into `error: FIELD: RULE` on stderr and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(BAD_INPUT) from None

    return wrapper


def _one_line(exc: UsageError) -> typer.Exit:
    param = getattr(exc, "param", None)
    if param is not None:
        field_name = param.opts[0] if param.param_type_name == "option" else (param.metavar or param.name.upper())
    else:
        field_name = getattr(exc, "option_name", None) or "arguments"
    err_console.print(f"error: {field_name}: {exc.format_message()}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(BAD_INPUT)


class OneLineErrors(TyperGroup):
    """The top-level group: a missing, unknown or malformed option is one line on stderr and exit status 2 too,
    not click's usage box. No arguments still prints the help."""

    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except NoArgsIsHelpError:
            raise
        except UsageError as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except NoArgsIsHelpError:
            raise
        except UsageError as exc:
            raise _one_line(exc) from None


def date_arg(value: str, field_name: str) -> dt.date:
    return parse_date(value, field_name)


def print_json(data) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))
