"""The benchmarks' council directory: the demo's (`deployments/demo`), so each message has someone to go to
rather than landing on the cannot_notify queue."""

from __future__ import annotations

from deployments.demo import DIRECTORY, SETTINGS
from models.contacts import import_contacts
from models.db import session
from models.schools import import_gias


def load_directory(url: str | None = None) -> None:
    with session(url) as s:
        import_gias(s, SETTINGS, "benchmark")
        import_contacts(s, DIRECTORY, "benchmark")
