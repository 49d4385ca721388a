"""Benchmark: the review scheduler's daily opening pass over 25,000 / 50,000 / 100,000 plans in force, on SQLite
and PostgreSQL (goal: ≤ 2 s at 25,000 plans).

Each plan's next cycle is planned every day (anchor, 12-month period, early years, phase transfer from the year
group) to see whether it falls due; on most days none does. Printed per size and database: the pass when
nothing opens (the daily case) and the pass on the day a sixth of the plans open (a term start), each beside
its floor measured in the same run: the one read every pass needs (each plan in force with its open annual step
and its child, plain rows), and for the term start that read plus one bulk INSERT of the reviews it opened.
No Prefect: `open_due_reviews` is timed as a plain function. Starting each opened review's `annual-review` run
(`start_review_runs`) is Prefect's part, measured by `benchmarks.review_runs`.

    python -m benchmarks.review_scheduler            # both databases (PostgreSQL where 127.0.0.1:5432 answers)
    EHC_BENCH_SIZES=25000 python -m benchmarks.review_scheduler
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import sqlalchemy as sa

from benchmarks.directory import load_directory
from benchmarks.table import Clock, print_table
from models import db, statutory
from models.cases import AuditEvent, Case, Child, Step
from models.db import session
from models.review import Review
from models.vocabulary import CaseStatus, Stage, StepKind, StepStatus, annual_review_key
from tasks.review import open_due_reviews

SIZES = tuple(int(n) for n in os.environ.get("EHC_BENCH_SIZES", "25000,50000,100000").split(","))
POSTGRES_URL = os.environ.get("EHC_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TERM_START, QUIET = dt.date(2024, 4, 1), dt.date(2024, 4, 2)  # the summer term starts: autumn's reviews open
SETTING = "Oakfield Primary"  # the demo directory's SENCO


def load(url: str, plans: int, first: int = 1) -> None:
    """Plans in force issued over 2024 (plain INSERTs: loading, not what is measured), a third at a setting;
    numbered from `first` (children, cases and references)."""
    children, cases, steps = [], [], []
    for i in range(plans):
        n = first + i
        issued = dt.date(2024, 1 + i % 12, 1 + i % 28)
        children.append({"id": n, "name": f"bench {n}", "name_key": f"bench {n}",
                         "date_of_birth": dt.date(2008 + i % 15, 1 + i % 12, 1 + i % 28)})
        cases.append({"id": n, "reference": f"EHC-2023-{n:05d}", "child_id": n, "kind": "needs_assessment",
                      "stage": Stage.PLAN_IN_FORCE, "status": CaseStatus.PLAN_IN_FORCE, "rule_set": "eng-2014.2",
                      "requested_on": dt.date(2023, 6, 1), "requester": "parent", "flags": [],
                      "plan_issued_on": issued})
        due = statutory.deadline("review.annual", issued).due
        steps.append({"case_id": n, "key": annual_review_key(1), "kind": StepKind.ANNUAL_REVIEW,
                      "rule_id": "review.annual", "role": "la", "started_on": issued, "due_on": due, "target_on": due,
                      "disapplied": False, "status": StepStatus.OPEN,
                      "details": {"setting": SETTING} if i % 3 == 0 else {}})
    with session(url) as s:
        conn = s.connection()
        for table, rows in ((Child, children), (Case, cases), (Step, steps)):
            for i in range(0, len(rows), 5000):
                conn.execute(sa.insert(table.__table__), rows[i:i + 5000])
    if url.startswith("postgresql"):
        with db.engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))


def floor(url: str) -> tuple[float, float]:
    """The one read every pass needs, as plain rows: the best of three (the machine is shared)."""
    c, st, ch = Case.__table__.c, Step.__table__.c, Child.__table__.c
    query = (sa.select(c.id, c.reference, st.key, st.started_on, st.due_on, st.details, ch.date_of_birth,
                       ch.year_group_offset)
             .select_from(Case.__table__).join(Step.__table__, st.case_id == c.id)
             .join(Child.__table__, ch.id == c.child_id)
             .where(c.status == CaseStatus.PLAN_IN_FORCE, st.kind == StepKind.ANNUAL_REVIEW,
                    st.status == StepStatus.OPEN))
    clocks = []
    for _ in range(3):
        with session(url) as s, Clock() as clock:
            s.connection().execute(query).all()
        clocks.append(clock)
    return min(c.wall for c in clocks), min(c.cpu for c in clocks)


def insert_floor(url: str) -> tuple[float, float]:
    """One bulk INSERT of the reviews the term start opened (read back, removed, inserted again, removed)."""
    columns = [c for c in Review.__table__.c if c.name != "id"]
    with session(url) as s:
        rows = [dict(r._mapping) for r in s.connection().execute(sa.select(*columns))]
    with session(url) as s:
        s.connection().execute(sa.delete(Review.__table__))
    with session(url) as s, Clock() as clock:
        for i in range(0, len(rows), 5000):
            s.connection().execute(sa.insert(Review.__table__), rows[i:i + 5000])
    return clock.wall, clock.cpu


def undo_the_term_start(url: str) -> None:
    """Remove what the term start wrote, so the next size starts from plans in force alone."""
    with session(url) as s:
        conn = s.connection()
        conn.execute(sa.delete(Review.__table__))
        conn.execute(sa.delete(Step.__table__).where(Step.__table__.c.kind != StepKind.ANNUAL_REVIEW))
        conn.execute(sa.delete(AuditEvent.__table__))
        conn.execute(sa.update(Case.__table__).values(stage=Stage.PLAN_IN_FORCE))


def timed(on: dt.date) -> tuple[Clock, int]:
    os.environ["EHC_TODAY"] = on.isoformat()
    with Clock() as clock:
        opened = open_due_reviews.fn()
    return clock, len(opened)


def bench(url: str, plans: int) -> dict:
    os.environ["EHC_DATABASE_URL"] = url
    db.upgrade(url)
    load_directory(url)
    load(url, plans)
    read = floor(url)
    busy, opened = timed(TERM_START)
    quiet, none = timed(QUIET)  # the next morning: the plans that opened have an open review
    assert none == 0, none
    written = insert_floor(url)
    undo_the_term_start(url)
    return {"quiet": quiet.wall, "busy": busy.wall, "opened": opened, "read": read[0],
            "busy_floor": read[0] + written[0], "quiet_cpu": quiet.cpu, "busy_cpu": busy.cpu, "read_cpu": read[1],
            "busy_floor_cpu": read[1] + written[1]}


def postgres_url(schema: str) -> str:
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def main() -> None:
    results: dict[tuple[str, int], dict] = {}
    with_postgres = db.server_answers(POSTGRES_URL) or "EHC_BENCH_POSTGRES_URL" in os.environ
    for plans in SIZES:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            results["SQLite", plans] = bench(url, plans)
            db.dispose_engine(url)
        if with_postgres:
            schema = f"ehc_bench_reviews_{os.getpid()}"
            admin = sa.create_engine(POSTGRES_URL)
            with admin.begin() as conn:
                conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
            try:
                results["PostgreSQL", plans] = bench(postgres_url(schema), plans)
            finally:
                db.dispose_engine(postgres_url(schema))
                with admin.begin() as conn:
                    conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()
    if not with_postgres:
        print("PostgreSQL: 127.0.0.1:5432 does not answer; SQLite only")
    opened = {plans: results["SQLite", plans]["opened"] for plans in SIZES}
    databases = ("SQLite", "PostgreSQL")
    print("\nReview scheduler's daily pass (`open_due_reviews`), seconds; floor measured in the same run")
    print_table("Quiet day, nothing opens (floor: the one read of the plans in force)",
                [(f"{plans:,} plans", *(_cell(results.get((d, plans)), "quiet", "read") for d in databases),
                  _goal(results, plans, "quiet")) for plans in SIZES])
    print_table("Term start, a sixth open (floor: that read + one bulk INSERT of the reviews opened)",
                [(f"{plans:,} plans, {opened[plans]:,} open",
                  *(_cell(results.get((d, plans)), "busy", "busy_floor") for d in databases),
                  _goal(results, plans, "busy")) for plans in SIZES])
    print_table("The same in CPU seconds of this process (what the code costs, whatever else the machine runs; "
                "PostgreSQL's server not counted): quiet day, then term start",
                [(f"{plans:,} plans, {day}", *(_cell(results.get((d, plans)), f"{figure}_cpu", f"{floor_}_cpu")
                                               for d in databases), "")
                 for day, figure, floor_ in (("quiet", "quiet", "read"), ("term start", "busy", "busy_floor"))
                 for plans in SIZES])


def _goal(results: dict, plans: int, figure: str) -> str:
    if plans != 25_000:
        return ""
    worst = max(r[figure] for (_, n), r in results.items() if n == plans)
    return f"≤ 2 s: {'met' if worst <= 2 else 'MISSED'}"


def _cell(result: dict | None, figure: str, floor_: str) -> tuple[float | None, float | None]:
    return (result[figure], result[floor_]) if result else (None, None)


if __name__ == "__main__":
    main()
