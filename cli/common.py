"""What every `ehc` command shares: bad input → one line naming the field and the rule, exit status 2."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable

import typer
from rich.console import Console

from models.errors import InputError
from models.statutory import parse_date

console = Console()
err_console = Console(stderr=True)
BAD_INPUT = 2


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


def date_arg(value: str, field_name: str) -> dt.date:
    return parse_date(value, field_name)


def print_json(data) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))
