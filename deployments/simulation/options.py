"""What `ehc simulate` is asked to simulate, checked (no Prefect here: the command reads its defaults)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from deployments.simulation.national import Profile
from models.errors import InputError

OWN_FILES = {"ehc.db", "ehc.db-journal", "prefect.db", "prefect.db-wal", "prefect.db-shm", "prefect.db-journal",
             "prefect-server.log", "server.log", "outbox-mail", "letters", "reports"}  # what a simulation writes


@dataclass(frozen=True)
class Options:
    """What to simulate (`ehc simulate`'s options)."""

    requests: int = 30
    plans: int = 30
    start: dt.date = dt.date(2025, 12, 1)
    days: int = 364
    seed: int = 1
    live_days: int = 7
    folder: Path = Path(".ehc-sim")
    profile: Profile = Profile()

    @property
    def end(self) -> dt.date:
        """The Monday morning it ends on: `start + days`, moved on to a Monday."""
        end = self.start + dt.timedelta(days=self.days)
        return end + dt.timedelta(days=(7 - end.weekday()) % 7)

    def check(self) -> None:
        """InputError naming the first option out of range."""
        for name, value, low, high in (("--requests", self.requests, 0, 100_000), ("--plans", self.plans, 0, 200_000),
                                       ("--days", self.days, 7, 3 * 366), ("--seed", self.seed, 0, 2**63 - 1),
                                       ("--live-days", self.live_days, 0, self.days)):
            if not low <= value <= high:
                raise InputError(name, f"must be from {low} to {high}")
        if not dt.date(2019, 1, 1) <= self.start <= dt.date(2026, 1, 31):
            raise InputError("--start", "must fall in 2019-01-01 … 2026-01-31 (the bank holidays the engine knows "
                                        "run to 2027, and a year must fit)")
        if not 0 < self.profile.within_20_weeks < 1:
            raise InputError("--within-20-weeks", "must be a share between 0 and 100 percent, exclusive")
        folder = self.folder.resolve()
        if folder.exists() and not folder.is_dir():
            raise InputError("--dir", f"{folder} is a file, not a folder")
        if folder.exists() and any(f.name not in OWN_FILES for f in folder.iterdir()):
            raise InputError("--dir", f"{folder} holds files the simulation did not write; give an empty or new folder")
