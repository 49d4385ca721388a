"""Reading a CSV a council loads (its directory, DfE's establishments): rows by number, each checked alone.

A bad row is reported with its row number and field, and nothing of it is written; the good rows are."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from models.errors import InputError


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: list[tuple[int, InputError]] = field(default_factory=list)  # (row number in the file, what is wrong)

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def read_rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, row) of a CSV with a header; UTF-8, or Windows-1252 as DfE's downloads come."""
    if not path.is_file():
        raise InputError("FILE", "no such file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [name for name in required if name not in (reader.fieldnames or [])]
    if missing:
        raise InputError("FILE", f"no column {missing[0]!r}")
    for number, row in enumerate(reader, start=2):  # row 1 is the header
        yield number, {k: (v or "").strip() for k, v in row.items() if k is not None}


def import_rows(rows: Iterator[tuple[int, dict[str, str]]], write: Callable[[dict[str, str]], str],
                savepoint: Callable) -> ImportReport:
    """Write each row through `write` (which says added, updated or unchanged) in a savepoint of its own, so a
    row refused half-way leaves nothing behind."""
    report = ImportReport()
    for number, row in rows:
        try:
            with savepoint():
                report.count(write(row))
        except InputError as exc:
            report.bad.append((number, exc))
    return report
