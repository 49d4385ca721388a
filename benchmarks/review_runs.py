"""Benchmark: the review scheduler's Prefect part at a term start, starting the `annual-review` run of each review
it opened (`start_review_runs`: 250 / 500 / 1,000 open reviews; ~2,900 at 25,000 plans).

Per size and database (the case store and the Prefect server both on SQLite, then both on PostgreSQL where
127.0.0.1:5432 answers): `start_review_runs` (read the open reviews and their cards, create every run many at
a time with its name, tags, parameters and idempotency key, tie every cycle to its run in one statement), beside
its floor measured in the same run: as many bare runs of the same deployment created through the same client at
the same concurrency (a name and the parameters; no tags, no idempotency key, no store). Then, on as many other
reviews, `start_review` one review at a time, as the scheduler started them before. No runner: the runs stay
Scheduled, so only their creation is timed.

    python -m benchmarks.review_runs                    # both databases
    EHC_BENCH_REVIEWS=250 python -m benchmarks.review_runs
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import tempfile
from pathlib import Path

import sqlalchemy as sa
from prefect import get_client
from prefect.utilities.asyncutils import run_coro_as_sync

from benchmarks.directory import load_directory
from benchmarks.needs_assessment_overhead import POSTGRES_URL, prefect_database
from benchmarks.review_scheduler import load, postgres_url
from benchmarks.table import Clock, print_table
from deployments.server import prefect_server
from flows.annual_review import annual_review
from models import db, review_cycle
from models.cases import Case
from models.db import session
from tasks.review import start_review, start_review_runs
from tasks.waiting import ANNUAL_REVIEW, CONCURRENT_STARTS

SIZES = tuple(int(n) for n in os.environ.get("EHC_BENCH_REVIEWS", "250,500,1000").split(","))
TERM_START = dt.date(2025, 1, 6)  # the spring term starts, after every plan was issued


def open_reviews(first: int, count: int) -> list[str]:
    """`count` plans in force, numbered from `first`, each with its next review open and no run yet."""
    load(os.environ["EHC_DATABASE_URL"], count, first=first)
    with session() as s:
        cases = s.scalars(sa.select(Case).where(Case.id >= first, Case.id < first + count)).all()
        for case in cases:
            review_cycle.open_review(s, case, TERM_START, "benchmark")
        return [case.reference for case in cases]


def bare_creates(count: int, tag: str) -> None:
    """The floor: `count` runs of the same deployment through one client, `CONCURRENT_STARTS` in flight."""

    async def create_all() -> None:
        in_flight = asyncio.Semaphore(CONCURRENT_STARTS)
        async with get_client() as client:
            deployment = (await client.read_deployment_by_name(f"{ANNUAL_REVIEW}/{ANNUAL_REVIEW}")).id

            async def create(i: int) -> None:
                async with in_flight:
                    await client.create_flow_run_from_deployment(
                        deployment, name=f"bare {tag} {i}", parameters={"reference": f"BARE-{i}", "cycle": 1})

            await asyncio.gather(*(create(i) for i in range(count)))

    run_coro_as_sync(create_all())


def bench(kind: str, folder: Path) -> dict[int, dict]:
    """Every size on one case store and one Prefect server of `kind`."""
    if kind == "sqlite":
        store = f"sqlite:///{folder / 'ehc.db'}"
    else:
        store = postgres_url(f"ehc_bench_runs_{os.getpid()}")
        with sa.create_engine(POSTGRES_URL).begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA ehc_bench_runs_{os.getpid()}"))
    os.environ["EHC_DATABASE_URL"] = store
    os.environ["EHC_TODAY"] = TERM_START.isoformat()
    db.upgrade(store)
    load_directory(store)
    url, admin, _ = prefect_database(kind, folder)
    results, first = {}, 1
    try:
        with prefect_server(url, folder / f"prefect-server-{kind}.log"):
            annual_review.to_deployment(name=ANNUAL_REVIEW).apply()
            for size in SIZES:
                open_reviews(first, size)
                with Clock() as batch:
                    started = start_review_runs.fn()
                assert len(started) == size and start_review_runs.fn() == []
                with Clock() as floor:
                    bare_creates(size, f"{kind} {size}")
                singles = open_reviews(first + size, size)
                with Clock() as one_by_one:
                    for reference in singles:
                        start_review(reference, 1)
                first += 2 * size
                results[size] = {"batch": batch, "floor": floor, "one": one_by_one}
    finally:
        db.dispose_engine(store)
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {sa.make_url(url).database} WITH (FORCE)"))
            admin.dispose()
        if kind == "postgresql":
            with sa.create_engine(POSTGRES_URL).begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA IF EXISTS ehc_bench_runs_{os.getpid()} CASCADE"))
    return results


def main() -> None:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    for handler in ("CONSOLE", "CONSOLE_FLOW_RUNS"):
        os.environ[f"PREFECT_LOGGING_HANDLERS_{handler}_LEVEL"] = "WARNING"
    kinds = ["sqlite"] + (["postgresql"] if db.server_answers(POSTGRES_URL) else [])
    results = {}
    for kind in kinds:
        with tempfile.TemporaryDirectory() as folder:
            results[kind] = bench(kind, Path(folder))
    if "postgresql" not in results:
        print("PostgreSQL: 127.0.0.1:5432 does not answer; SQLite only")

    def cell(kind: str, size: int, figure: str, floor: str = "floor") -> tuple[float | None, float | None]:
        r = results.get(kind, {}).get(size)
        return (r[figure].wall, r[floor].wall) if r else (None, None)

    def rate(size: int, figure: str) -> str:
        return "; ".join(f"{k}: {size / r[size][figure].wall:,.0f} runs/s" for k, r in results.items())

    print(f"\nStarting the open reviews' runs at a term start, seconds ({CONCURRENT_STARTS} creations in flight); "
          "floor measured in the same run")
    print_table("`start_review_runs` (floor: as many bare runs created through the client at the same concurrency)",
                [(f"{size:,} reviews", cell("sqlite", size, "batch"), cell("postgresql", size, "batch"),
                  rate(size, "batch")) for size in SIZES])
    print_table("`start_review` one review at a time, as before (floor: `start_review_runs` of as many)",
                [(f"{size:,} reviews", cell("sqlite", size, "one", "batch"), cell("postgresql", size, "one", "batch"),
                  rate(size, "one")) for size in SIZES])
    print_table("The same in CPU seconds of this process (the servers not counted): `start_review_runs` beside "
                "its floor",
                [(f"{size:,} reviews", *((r[size]["batch"].cpu, r[size]["floor"].cpu) if (r := results.get(k))
                                         else (None, None) for k in ("sqlite", "postgresql")), "")
                 for size in SIZES])


if __name__ == "__main__":
    main()
