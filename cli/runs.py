"""After a command has recorded its act (the store is the truth), it talks to Prefect: to wake, start or end the
case's run. That never undoes or fails the act: without a Prefect API (`PREFECT_API_URL` unset, where Prefect
would start a temporary server of its own that reaches no runner), or with one that does not answer, one
warning line says what picks the run up instead, and the command exits 0."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import httpx
from prefect.exceptions import PrefectException

from cli.common import err_console
from tasks import waiting

UNREACHABLE = (httpx.HTTPError, OSError, TimeoutError, RuntimeError, PrefectException)
T = TypeVar("T")


def warn(text: str) -> None:
    err_console.print(f"warning: {text}", markup=False, highlight=False, soft_wrap=True)


def reach(reference: str, call: Callable[[], T], catch_up: str, *, unset: T | None = None,
          unreached: T | None = None) -> T | None:
    """`call()`; with one warning line instead, `unset` when the Prefect API is not set and `unreached` when it
    does not answer. `catch_up` says what brings the run in line later."""
    if not waiting.api_configured():
        warn(f"the Prefect run of {reference} was not woken: PREFECT_API_URL is not set; {catch_up}")
        return unset
    try:
        return call()
    except UNREACHABLE as exc:
        warn(f"the Prefect run of {reference} was not resumed ({type(exc).__name__}); {catch_up}")
        return unreached
