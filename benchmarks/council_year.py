"""Benchmark: a large council's year simulated (`ehc simulate`'s engine): 4,000 requests and 20,000 plans in force,
goal ≤ 15 minutes here. Printed beside the goal: the wall time, simulated cases a minute, where the time went
(Prefect, the store, our code), the machine's speed as a fixed piece of work of the same kind timed first
(`machine_reference`) and the year in multiples of it, and, when run smaller, the linear extrapolation to the full
size (a lower bound: the scheduler's and the watch's daily passes read the whole caseload each day).

    python -m benchmarks.council_year                              # 4,000 requests, 20,000 plans, no Prefect
    python -m benchmarks.council_year --requests 400 --plans 2000  # a tenth
    python -m benchmarks.council_year --live-days 7                # the last week through the real runs too
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

GOAL_MINUTES, FULL_REQUESTS, FULL_PLANS = 15.0, 4000, 20_000
REFERENCE_ACTS = 500


class _Row(DeclarativeBase):
    pass


class _Act(_Row):
    __tablename__ = "act"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    key: Mapped[str]
    details: Mapped[dict] = mapped_column(sa.JSON)
    on: Mapped[dt.date]


def machine_reference(folder: Path) -> float:
    """Seconds for a fixed piece of the year's own kind of work, so that a wall time here can be set against
    another machine's (the goal is in minutes "here"; machines differ by 2× from one day to the next): 500
    acts in one transaction on a scratch SQLite file, each in a savepoint that inserts three ORM rows, flushes,
    updates one and reads a case's rows back. The best of five."""
    engine = sa.create_engine(f"sqlite:///{folder / 'reference.db'}")
    _Row.metadata.create_all(engine)
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        with Session(engine) as s, s.begin():
            for n in range(REFERENCE_ACTS):
                with s.begin_nested():
                    rows = [_Act(case_id=n % 200, key=f"step:{n}:{i}", details={"n": n}, on=dt.date(2026, 1, 1))
                            for i in range(3)]
                    s.add_all(rows)
                    s.flush()
                    rows[0].details = {"n": n, "done": True}
                    s.execute(sa.select(_Act).where(_Act.case_id == n % 200)).scalars().all()
        best = min(best, time.perf_counter() - started)
    engine.dispose()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=FULL_REQUESTS)
    parser.add_argument("--plans", type=int, default=FULL_PLANS)
    parser.add_argument("--live-days", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for name in ("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL"):
        os.environ.setdefault(name, "WARNING")
    from deployments.simulation.options import Options
    from deployments.simulation.year import Simulation, store_parts

    with tempfile.TemporaryDirectory(prefix="ehc-council-year-") as tmp:
        reference = machine_reference(Path(tmp))
        o = Options(requests=args.requests, plans=args.plans, seed=args.seed, live_days=args.live_days,
                    folder=Path(tmp) / "sim")
        r = Simulation(o, lambda what, done: print(f"\r{done:4d} days  {what:<60}", end="", flush=True)).run()
    print()
    s = r["seconds"]
    scale = (FULL_REQUESTS + FULL_PLANS) / (args.requests + args.plans)
    print(f"council year, {dt.date.today()}: {args.requests} requests, {args.plans} plans in force, "
          f"{(o.end - o.start).days} days, live days {args.live_days}")
    print(f"  wall {s['total'] / 60:.1f} min (goal <= {GOAL_MINUTES:.0f} min at {FULL_REQUESTS} / {FULL_PLANS}); "
          f"{r['cases_per_minute']} cases a minute (requests and reviews opened)")
    print(f"  Prefect {s['prefect']:.0f} s, the store {s['store']:.0f} s ({store_parts(s)}), our code {s['ours']:.0f} s"
          + "".join(f"; {k} {v:.0f} s" for k, v in s.items() if k.startswith("prefect: ")))
    print(f"  machine reference {reference:.2f} s ({REFERENCE_ACTS:,} acts' worth of ORM writes in savepoints, "
          f"`machine_reference`): the year took {s['total'] / reference:,.0f} references")
    if scale != 1:
        print(f"  linear extrapolation to {FULL_REQUESTS} / {FULL_PLANS}: {s['total'] * scale / 60:.1f} min "
              f"({s['total'] * scale / 60 / GOAL_MINUTES:.2f}x the goal; a lower bound)")
    else:
        print(f"  {s['total'] / 60 / GOAL_MINUTES:.2f}x the goal")
    print(f"  within 20 weeks {r['store']['pct_within_20_weeks']}% (national {r['national']['pct_within_20_weeks']}%); "
          f"in flight at the end {r['in_flight']}; acts refused {len(r['refused_acts'])}")


if __name__ == "__main__":
    main()
