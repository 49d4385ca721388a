"""Benchmark: the review scheduler's daily opening pass over 1,000 / 2,000 / 4,000 plans in force (SQLite).

Each plan's next cycle is planned every day (anchor, 12-month period, early years, phase transfer from the
year group) to see whether it falls due; on most days almost none does. Printed per size: the pass when
nothing opens (the daily case), the pass on the day a sixth open (a term start), and milliseconds per plan,
so the growth is visible side by side, beside the floor: reading the plans in force and their children alone,
one query, without planning a cycle. No Prefect: `open_due_reviews` is timed as a plain function.

    python -m benchmarks.review_scheduler
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from pathlib import Path

from sqlmodel import select

from benchmarks.directory import load_directory
from models import db, review_cycle
from models.cases import Case, Child, Step
from models.db import session
from models.vocabulary import CaseStatus, StepKind, StepStatus
from tasks.review import open_due_reviews

SIZES = (1_000, 2_000, 4_000)


def load(url: str, plans: int) -> None:
    with session(url) as s:
        for i in range(plans):
            child = Child(name=f"bench {i}", date_of_birth=dt.date(2008 + i % 15, 1 + i % 12, 1 + i % 28))
            s.add(child)
            s.flush()
            case = Case(reference=f"EHC-2023-{i + 1:05d}", child_id=child.id, rule_set="eng-2014.2",
                        requested_on=dt.date(2023, 6, 1), requester="parent", flags=[])
            s.add(case)
            s.flush()
            review_cycle.put_plan_in_force(s, case, dt.date(2024, 1 + i % 12, 1 + i % 28), "bench")


def timed(on: str) -> tuple[float, int]:
    os.environ["EHC_TODAY"] = on
    start = time.perf_counter()
    opened = open_due_reviews.fn()
    return time.perf_counter() - start, len(opened)


def floor() -> float:
    """The one read every pass needs, each plan in force with its open annual step and its child: the best of
    three (the machine is shared)."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        with session() as s:
            s.exec(select(Case, Step, Child).join(Step, Step.case_id == Case.id)
                   .join(Child, Child.id == Case.child_id)
                   .where(Case.status == CaseStatus.PLAN_IN_FORCE, Step.kind == StepKind.ANNUAL_REVIEW,
                          Step.status == StepStatus.OPEN)).all()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    print(f"{'plans':>6} {'floor s':>8} {'quiet day s':>12} {'ms/plan':>8} {'term start s':>13} {'opened':>7}")
    for plans in SIZES:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            os.environ["EHC_DATABASE_URL"] = url
            db.upgrade(url)
            load_directory(url)
            load(url, plans)
            busy, opened = timed("2024-04-01")  # summer term starts: reviews due in the autumn open
            quiet, none = timed("2024-04-02")
            assert none == 0
            print(f"{plans:>6} {floor():>8.2f} {quiet:>12.2f} {1000 * quiet / plans:>8.2f} {busy:>13.2f} {opened:>7}")
            db.dispose_engine(url)


if __name__ == "__main__":
    main()
