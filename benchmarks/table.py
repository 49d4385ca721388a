"""The one table every benchmark prints: size | SQLite figure | floor | ratio | PostgreSQL figure | floor | ratio |
goal, each figure beside its floor measured in the same run (a blank where a database was not measured)."""

from __future__ import annotations

import time

HEADER = ("size", "SQLite s", "floor s", "ratio", "PostgreSQL s", "floor s", "ratio", "goal")


def _figures(pair: tuple[float | None, float | None]) -> tuple[str, str, str]:
    figure, floor = pair
    if figure is None:
        return "-", "-", "-"
    return f"{figure:.3f}", f"{floor:.3f}", f"{figure / floor:.1f}×" if floor else "-"


def print_table(title: str, rows: list[tuple]) -> None:
    """`rows`: (size, (SQLite figure, floor), (PostgreSQL figure, floor), goal), seconds."""
    cells = [HEADER] + [(size, *_figures(sqlite), *_figures(postgres), goal) for size, sqlite, postgres, goal in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADER))]
    print(f"\n{title}\n")
    for row in cells:
        print(" | ".join(cell.ljust(w) if i in (0, 7) else cell.rjust(w) for i, (cell, w) in
                         enumerate(zip(row, widths, strict=True))))


class Clock:
    """Wall-clock seconds and this process's CPU seconds of a `with` block. On a machine shared with other work the
    wall clock waits for a core; the CPU seconds are what the code itself costs (a database server's own work, on
    PostgreSQL, is not in them)."""

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_) -> None:
        self.wall, self.cpu = time.perf_counter() - self._wall, time.process_time() - self._cpu
