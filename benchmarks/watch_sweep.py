"""Benchmark: the deadline watch's daily sweep over 25,000 / 50,000 / 100,000 open steps, on SQLite and PostgreSQL.

The store holds a council's worth of work at 100k: ~25,000 plans in force (a review cycle each: the annual
review, its meeting, invitations and advice, spread over the coming year) and ~4,000 assessments in progress
(the decision, four advice requests and the final plan, requests spread over the last 20 weeks); of the steps
past their date, 20% are still open (late). Printed, per
size and database: one indexed SELECT of the steps due within the reminder horizon (the floor of the obvious design,
which reads them all), the watch's sweep (distinct due dates from the index, then only the steps whose tier fell
due since the last run, and each one's tier of the day), their ratio
(goal ≤ 3×, ≤ 1 s), and at each size the whole watch day (sweep + writing the day's messages and escalations)
against its floor, one bulk INSERT of the same message rows (goal ≤ 2 s at 100k); and what the watch then shows
(the store side): the cases whose card and tags changed since yesterday's pass, their cards read, and every
caseworker's caseload, against one SELECT of every open step (what the caseload must read at least).

    python -m benchmarks.watch_sweep            # both databases (PostgreSQL where 127.0.0.1:5432 answers)
    EHC_BENCH_SIZES=25000 python -m benchmarks.watch_sweep
    EHC_BENCH_POSTGRES_URL=postgresql+psycopg://… python -m benchmarks.watch_sweep
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from benchmarks.directory import load_directory
from benchmarks.table import Clock, print_table
from models import db, deadline_watch, statutory
from models.case_card import CARDS_SHOWN, changed_since_cards, read_cards, record_cards_shown
from models.caseload import caseload
from models.cases import AuditEvent, Case, Child, Step
from models.db import session
from models.deadline_watch import last_sweep, record_sweep
from models.escalation import Escalation
from models.outbox import OutboxMessage
from tasks.watch import run_watch

ON = statutory.parse_date("2026-03-02", "on")  # a Monday
SIZES = tuple(int(n) for n in os.environ.get("EHC_BENCH_SIZES", "25000,50000,100000").split(","))
PLANS_PER_100K, ASSESSMENTS_PER_100K = 25_000, 4_000
REPEATS = 7
LATE_SHARE = 0.2  # of steps past their date, the share still open (SEN2 2024: ~54% of plans late at 20 weeks)
POSTGRES_URL = os.environ.get("EHC_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DATABASES = ("SQLite", "PostgreSQL")
ADVICE = (("health", "dco"), ("social_care", "social_care"), ("ep", "educational_psychologist"),
          ("education", "senco"))


def day(offset: int):
    return statutory.within_days(ON, offset)


def statutory_date(rule_id: str, start):
    """A step's statutory date, from the engine by its identifier (as the store gets it)."""
    return statutory.deadline(rule_id, start).due


def add_cases(url: str, plans: int, assessments: int, first: int, rng: random.Random) -> None:
    """Bulk-insert cases and their open steps (plain INSERTs: this is loading, not what is measured)."""
    children, cases, steps = [], [], []
    for n in range(first, first + plans + assessments):
        in_force = n - first < plans
        children.append({"id": n, "name": f"Bench Child {n}", "date_of_birth": day(-rng.randint(4 * 365, 18 * 365))})
        requested = day(-rng.randint(150, 3000) if in_force else -rng.randint(0, 140))
        cases.append({"id": n, "reference": f"EHC-2026-{n:05d}", "child_id": n,
                      "kind": "needs_assessment", "stage": "plan_in_force" if in_force else "assessment",
                      "status": "plan_in_force" if in_force else "open", "rule_set": statutory.RULE_SET,
                      "requested_on": requested, "requester": "parent", "flags": []})
        if in_force:  # a review cycle (CFA s44, reg 20): meeting ≤ A−28, invitations and advice 2 weeks before
            annual = day(rng.randint(-45, 365))
            meeting = statutory.within_days(annual, -rng.randint(28, 70))
            rows = [("review.annual:1", "annual_review", "review.annual", "la", None, annual),
                    ("review:1:meeting", "review_meeting", "review.meeting_latest", "senco", None, meeting),
                    ("review:1:invitations", "review_invitations", "review.invitations", "senco", None,
                     statutory_date("review.invitations", meeting)),
                    ("review:1:advice", "review_advice", "review.advice_circulated", "senco", None,
                     statutory_date("review.advice_circulated", meeting))]
            start = statutory.within_days(annual, -365)
        else:  # requests over the last 20 weeks: decision at 6 weeks, advice 6 weeks after asking, final at 20
            rows = [("assess.decision", "decision_to_assess", "assess.decision", "la", None,
                     statutory_date("assess.decision", requested))]
            for source, role in ADVICE:
                asked = statutory.within_days(requested, rng.randint(28, 45))
                rows.append((f"advice:{source}", "advice", "advice.provide", role, source,
                             statutory_date("advice.provide", asked)))
            rows.append(("plan.final", "final_plan", "plan.final", "la", None, statutory_date("plan.final", requested)))
            start = requested
        for key, kind, rule_id, role, source, due in rows:
            if due < ON and rng.random() > LATE_SHARE:  # most steps are done by their date; the rest are late
                continue
            steps.append({"case_id": n, "key": key, "kind": kind, "rule_id": rule_id, "source": source,
                          "role": role, "started_on": start, "due_on": due, "target_on": due, "disapplied": False,
                          "status": "open", "details": {}})
    with session(url) as s:
        conn = s.connection()
        conn.execute(sa.insert(Child.__table__), children)
        conn.execute(sa.insert(Case.__table__), cases)
        conn.execute(sa.insert(Step.__table__), steps)
    if url.startswith("postgresql"):
        with db.engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE step"))  # what autovacuum does in a live store


def horizon():
    return statutory.within_days(ON, deadline_watch.horizon(deadline_watch.reminder_days_by_kind()))


def baseline(url: str) -> tuple[float, int]:
    """One indexed SELECT of the open steps due within the horizon, every row fetched."""
    st = Step.__table__.c
    query = sa.select(st.id, st.case_id, st.kind, st.role, st.started_on, st.due_on).where(
        st.status == "open", st.due_on <= horizon())
    times = []
    for _ in range(REPEATS):
        with session(url) as s:
            began = time.perf_counter()
            rows = s.connection().execute(query).all()
            times.append(time.perf_counter() - began)
    return statistics.median(times), len(rows)


def sweep(url: str) -> tuple[float, int, int]:
    """The watch's sweep, as `run_watch` does it first: which steps get which tier today."""
    times = []
    for _ in range(REPEATS):
        with session(url) as s:
            began = time.perf_counter()
            rows, chases = deadline_watch.sweep(s, ON, last_sweep(s, ON))
            times.append(time.perf_counter() - began)
    return statistics.median(times), rows, len(chases)


def forget_the_day(url: str) -> None:
    """Remove what a watch of ON wrote (its messages, escalations and sweep record): the next size runs it afresh."""
    with session(url) as s:
        conn = s.connection()
        conn.execute(sa.delete(OutboxMessage.__table__))
        conn.execute(sa.delete(Escalation.__table__))
        a = AuditEvent.__table__.c
        conn.execute(sa.delete(AuditEvent.__table__).where(a.action == deadline_watch.SWEPT, a.on == ON))


def watch_day(url: str) -> tuple[float, int, float, float, float]:
    """The whole day: sweep, the day's messages (worded, written once) and escalations, and its floor: one bulk
    INSERT of the same message rows. Run once per size (it writes), then forgotten. Wall and CPU seconds."""
    with Clock() as day_:
        report = run_watch(ON, url)
    columns = [c for c in OutboxMessage.__table__.c if c.name != "id"]
    with session(url) as s:
        rows = [dict(r._mapping) for r in s.connection().execute(sa.select(*columns))]
    forget_the_day(url)
    with session(url) as s, Clock() as floor:
        s.connection().execute(sa.insert(OutboxMessage.__table__), rows)
    forget_the_day(url)
    return day_.wall, sum(report.messages.values()), floor.wall, day_.cpu, floor.cpu


def shown(url: str) -> tuple[int, float, int, float, float]:
    """The store side of what the watch shows, the day after a pass: the changed cases and their cards, then the
    caseloads of every caseworker (one read); the floor, one SELECT of every open step. Median of REPEATS."""
    a, st = AuditEvent.__table__.c, Step.__table__.c
    with session(url) as s:
        record_cards_shown(s, day(-1), s.connection().execute(sa.select(sa.func.max(a.id))).scalar() or 0)
    cards, loads, floors = [], [], []
    for _ in range(REPEATS):
        with session(url) as s:
            began = time.perf_counter()
            changed, _ = changed_since_cards(s, ON)
            read_cards(s, changed)
            cards.append(time.perf_counter() - began)
            began = time.perf_counter()
            rows = caseload(s, ON)
            loads.append(time.perf_counter() - began)
            began = time.perf_counter()
            s.connection().execute(sa.select(st.case_id, st.key, st.due_on, st.role, st.disapplied)
                                   .where(st.status == "open")).all()
            floors.append(time.perf_counter() - began)
    with session(url) as s:
        s.connection().execute(sa.delete(AuditEvent.__table__).where(a.action == CARDS_SHOWN))
    return len(changed), statistics.median(cards), len(rows), statistics.median(loads), statistics.median(floors)


def bench(label: str, url: str) -> list[tuple]:
    rng = random.Random(2026)
    results, days, loaded, next_id = [], [], 0, 1
    load_directory(url)
    with session(url) as s:  # Friday's run happened: Monday catches up on the weekend's tiers
        record_sweep(s, day(-3), 10**9)
    for size in SIZES:
        scale = (size - loaded) / 100_000
        plans, assessments = round(PLANS_PER_100K * scale), round(ASSESSMENTS_PER_100K * scale)
        add_cases(url, plans, assessments, next_id, rng)
        next_id += plans + assessments
        with session(url) as s:
            open_steps = s.connection().execute(sa.select(sa.func.count()).select_from(Step.__table__).where(
                Step.__table__.c.status == "open")).scalar_one()
        loaded = size
        floor, due_rows = baseline(url)
        swept, read, chases = sweep(url)
        results.append((label, open_steps, floor, swept, due_rows, read, chases))
        days.append((label, open_steps, *watch_day(url), *shown(url)))
    return results, days


def main() -> None:
    rows, days = [], []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        r, d = bench("SQLite", url)
        rows += r
        days += d
        db.dispose_engine(url)
    if db.server_answers(POSTGRES_URL) or "EHC_BENCH_POSTGRES_URL" in os.environ:
        schema = f"ehc_bench_{os.getpid()}"
        admin = sa.create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        try:
            r, d = bench("PostgreSQL", url)
            rows += r
            days += d
        finally:
            db.dispose_engine(url)
            with admin.begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
    else:
        print("PostgreSQL: 127.0.0.1:5432 does not answer; SQLite only")
    by = {(r[0], r[1]): r for r in rows}
    sizes = list(dict.fromkeys(r[1] for r in rows))
    print(f"\nThe deadline watch on {ON} (a Monday after Friday's run), seconds; floors measured in the same run")
    print_table(f"The sweep: which open steps get which tier (median of {REPEATS}; floor: one indexed SELECT of every "
                "open step within the reminder horizon; goal ≤ 1 s and ≤ 3× the floor)",
                [(f"{steps:,} steps, {by.get(('SQLite', steps), by.get(('PostgreSQL', steps)))[6]:,} to chase",
                  *(((r[3], r[2]) if (r := by.get((d, steps))) else (None, None)) for d in DATABASES),
                  "≤ 1 s, ≤ 3×") for steps in sizes])
    day_by = {(d[0], d[1]): d for d in days}
    print_table("The whole watch day: sweep + the day's messages worded and written once + escalations (run once "
                "per size; floor: one bulk INSERT of the same message rows)",
                [(f"{steps:,} steps, {day_by.get(('SQLite', steps), day_by.get(('PostgreSQL', steps)))[3]:,} messages",
                  *(((d[2], d[4]) if (d := day_by.get((db_, steps))) else (None, None)) for db_ in DATABASES),
                  _goal(day_by, steps)) for steps in sizes])
    print_table("The same watch day in CPU seconds of this process (what the code costs, whatever else the machine "
                "runs; PostgreSQL's server not counted)",
                [(f"{steps:,} steps", *(((d[5], d[6]) if (d := day_by.get((db_, steps))) else (None, None))
                                        for db_ in DATABASES), "") for steps in sizes])
    print_table("What the watch then shows, store side, the day after a pass (median of 7): every caseworker's "
                "caseload (floor: one SELECT of every open step); the last column: finding and reading the changed "
                "cases' cards",
                [(f"{steps:,} steps, {day_by.get(('SQLite', steps), day_by.get(('PostgreSQL', steps)))[7]:,} "
                  "changed cases", *(((d[10], d[11]) if (d := day_by.get((db_, steps))) else (None, None))
                                     for db_ in DATABASES),
                  " / ".join(f"{db_} cards {d[8]:.3f} s" for db_ in DATABASES if (d := day_by.get((db_, steps)))))
                 for steps in sizes])


def _goal(day_by: dict, steps: int) -> str:
    if steps < 90_000:
        return ""
    worst = max(d[2] for (_, n), d in day_by.items() if n == steps)
    return f"≤ 2 s: {'met' if worst <= 2 else 'MISSED'}"

if __name__ == "__main__":
    main()
