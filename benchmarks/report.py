"""Benchmark: the quarterly report for a council with 25,000 plans and 4,000 assessments a year, SQLite and PostgreSQL.

The store holds 25,000 plans issued before the history starts, each with its review cycles of the last two years
and more (the annual review, its meeting and decision, a `review` row; Year 9 on for a fifth, a phase transfer
for a tenth), and 27 months of requests at 4,000 a year taken through the decision, five pieces of advice, the
co-production meeting, the draft and the final plan (a fifth refused, some withdrawn, the latest still open),
and an escalation for each late step. Printed per database: the rows loaded and the median of 5 reports for
Q3 2026 (every indicator for the quarter, the quarter before and the same quarter of 2025, and the charts'
series), beside the goal (≤ 5 s).

    python -m benchmarks.report            # both databases (PostgreSQL where 127.0.0.1:5432 answers)
    EHC_BENCH_POSTGRES_URL=postgresql+psycopg://… python -m benchmarks.report
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from models import db, indicators, statutory
from models.cases import Case, Child, Step
from models.db import session
from models.escalation import Escalation
from models.review import Review
from tasks.report import build_report

ON = statutory.parse_date("2026-10-01", "on")  # the first working day after Q3 2026
QUARTER = indicators.quarter_before(ON)
PLANS, ASSESSMENTS_A_YEAR, HISTORY_DAYS = 25_000, 4_000, 820
REPEATS, GOAL_S = 5, 5.0
POSTGRES_URL = os.environ.get("EHC_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ADVICE = (("parent", "family"), ("education", "senco"), ("health", "dco"), ("social_care", "social_care"),
          ("ep", "educational_psychologist"))
PFA = {"pfa_employment": "work", "pfa_independent_living": "travel", "pfa_community": "club", "pfa_health": "GP"}


@functools.cache
def due(rule_id: str, start: dt.date) -> dt.date:
    """A step's statutory date, from the engine by its identifier (cached: starts repeat across cases)."""
    return statutory.deadline(rule_id, start).due


def day(offset: int) -> dt.date:
    return ON + dt.timedelta(days=offset)


def at(d: dt.date) -> dt.datetime:
    return dt.datetime.combine(d, dt.time(12), dt.UTC)


class Load:
    """Rows to bulk-insert (plain INSERTs: this is loading, not what is measured)."""

    def __init__(self, rng: random.Random):
        self.rng, self.children, self.cases, self.steps, self.reviews, self.escalations = rng, [], [], [], [], []

    def case(self, requested: dt.date, **kw) -> int:
        n = len(self.cases) + 1
        self.children.append({"id": n, "name": f"Bench Child {n}", "date_of_birth": dt.date(2012, 1, 1)})
        self.cases.append({"id": n, "reference": f"EHC-{requested.year}-{n:05d}", "child_id": n,
                           "kind": "needs_assessment", "stage": "request", "status": "open",
                           "rule_set": statutory.RULE_SET, "requested_on": requested, "requester": "parent",
                           "flags": [], "plan_issued_on": None, "closed_on": None, "closed_reason": None, **kw})
        return n

    def step(self, case_id: int, key: str, kind: str, started: dt.date, due_on: dt.date, done: dt.date | None,
             role: str = "la", source: str | None = None, details: dict | None = None, disapplied: bool = False):
        """A step done on `done` (open if that is still to come); late and open past its date: an escalation."""
        finished = done is not None and done < ON
        self.steps.append({"id": len(self.steps) + 1, "case_id": case_id, "key": key, "kind": kind,
                           "rule_id": None, "source": source, "role": role, "started_on": started, "due_on": due_on,
                           "target_on": due_on, "disapplied": disapplied, "status": "done" if finished else "open",
                           "completed_on": done if finished else None, "details": details or {}})
        if role != "family" and (done is None or done > due_on) and due_on < ON - dt.timedelta(days=1):
            self.escalations.append({"queue": "dco" if role == "dco" else "sen_team_manager", "case_id": case_id,
                                     "step_id": len(self.steps), "tier": 1, "opened_on": due_on + dt.timedelta(days=1),
                                     "resolved_at": at(done) if finished else None})
        return finished

    def assessment(self) -> None:
        """A request of the last 27 months, as far as it has got by ON."""
        rng = self.rng
        requested = day(-rng.randint(1, HISTORY_DAYS))
        decided = requested + dt.timedelta(days=rng.randint(20, 50))
        case = self.case(requested)
        assess = rng.random() < 0.8
        if rng.random() < 0.02 and decided < ON:
            self.cases[-1].update(status="closed", closed_on=decided, closed_reason=indicators.WITHDRAWN)
            return
        if not self.step(case, "assess.decision", "decision_to_assess", requested, due("assess.decision", requested),
                         decided, details={"assess": assess}) or not assess:
            if decided < ON:
                self.cases[-1].update(status="closed", closed_on=decided, closed_reason="not_to_assess")
            return
        advice_due = due("advice.provide", decided)
        given = [self.step(case, f"advice:{source}", "advice", decided, advice_due,
                           decided + dt.timedelta(days=rng.randint(25, 60)), role, source,
                           disapplied=rng.random() < 0.03) for source, role in ADVICE]
        final_due = due("plan.final", requested)
        issued = requested + dt.timedelta(days=rng.randint(110, 230))
        if all(given):
            meeting, draft = issued - dt.timedelta(days=rng.randint(25, 45)), issued - dt.timedelta(days=21)
            self.step(case, "coproduction.meeting", "coproduction_meeting", requested, final_due, meeting,
                      details={"child_views_captured": rng.random() < 0.7})
            self.step(case, "plan.draft", "draft_plan", requested, final_due, draft,
                      details={"personal_budget_requested": rng.random() < 0.1})
        if self.step(case, "plan.final", "final_plan", requested, final_due, issued if all(given) else None,
                     disapplied=rng.random() < 0.08):
            self.cases[-1].update(status="plan_in_force", stage="plan_in_force", plan_issued_on=issued)

    def plan(self) -> None:
        """A plan issued before the history starts, with its review cycles since two years before ON."""
        rng = self.rng
        issued = day(-rng.randint(900, 3000))
        case = self.case(issued - dt.timedelta(days=140), status="plan_in_force", stage="plan_in_force",
                         plan_issued_on=issued)
        anchor, cycle = issued, 1
        while True:
            annual_due = due("review.annual", anchor)
            if annual_due >= day(-HISTORY_DAYS):
                break
            anchor, cycle = annual_due - dt.timedelta(days=rng.randint(30, 60)), cycle + 1
        while annual_due < ON:
            meeting = annual_due - dt.timedelta(days=rng.randint(5, 80))
            decided = meeting + dt.timedelta(days=rng.randint(5, 40))
            pfa, transfer = rng.random() < 0.2, rng.random() < 0.1
            self.step(case, f"review.annual:{cycle}", "annual_review", anchor, annual_due, decided)
            self.step(case, f"review:{cycle}:meeting", "review_meeting", anchor, annual_due - dt.timedelta(days=28),
                      meeting, role="senco")
            self.step(case, f"review:{cycle}:decision", "review_decision", meeting, meeting + dt.timedelta(days=28),
                      decided)
            transfer_due = annual_due - dt.timedelta(days=rng.randint(0, 60)) if transfer else None
            if transfer:
                self.step(case, f"review:{cycle}:phase_transfer", "phase_transfer", anchor, transfer_due, decided)
            outcomes = PFA if pfa and rng.random() < 0.9 else dict.fromkeys(PFA)
            self.reviews.append({"case_id": case, "cycle": cycle, "status": "complete", "stage": "complete",
                                 "anchor_on": anchor, "annual_due_on": annual_due, "meeting_latest_on": annual_due,
                                 "meeting_by_on": annual_due, "early_years": False, "opened_on": anchor,
                                 "meeting_on": meeting, "meeting_held": True, "pfa_required": pfa, **outcomes,
                                 "decision": "maintain", "decided_on": decided, "completed_on": decided,
                                 "phase_transfer": "other" if transfer else None, "transfer_due_on": transfer_due,
                                 "version": 1, "seen_version": 1})
            anchor, cycle = meeting, cycle + 1
            annual_due = due("review.annual", anchor)
        self.step(case, f"review.annual:{cycle}", "annual_review", anchor, annual_due, None)


def load(url: str) -> dict[str, int]:
    rng = random.Random(2026)
    rows = Load(rng)
    for _ in range(PLANS):
        rows.plan()
    for _ in range(round(ASSESSMENTS_A_YEAR * HISTORY_DAYS / 365)):
        rows.assessment()
    with session(url) as s:
        conn = s.connection()
        for table, data in ((Child, rows.children), (Case, rows.cases), (Step, rows.steps), (Review, rows.reviews),
                            (Escalation, rows.escalations)):
            for start in range(0, len(data), 20_000):
                conn.execute(sa.insert(table.__table__), data[start:start + 20_000])
    if url.startswith("postgresql"):
        with db.engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))  # what autovacuum does in a live store
    return {"cases": len(rows.cases), "steps": len(rows.steps), "reviews": len(rows.reviews),
            "escalations": len(rows.escalations)}


def bench(label: str, url: str) -> tuple:
    loaded = load(url)
    times = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        report = build_report(QUARTER.first, QUARTER.last, url)
        times.append(time.perf_counter() - began)
    figures = report["indicators"]
    return label, loaded, statistics.median(times), max(times), {
        k: figures[k]["value"] for k in ("requests", "new_plans", "pct_within_20_weeks", "plans_in_force",
                                         "reviews_due", "escalations_open_at_end")}


def main() -> None:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        results.append(bench("SQLite", url))
        db.dispose_engine(url)
    if db.server_answers(POSTGRES_URL) or "EHC_BENCH_POSTGRES_URL" in os.environ:
        schema = f"ehc_bench_report_{os.getpid()}"
        admin = sa.create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        try:
            results.append(bench("PostgreSQL", url))
        finally:
            db.dispose_engine(url)
            with admin.begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
    else:
        print("PostgreSQL: 127.0.0.1:5432 does not answer; SQLite only")
    print(f"\nQuarterly report for {QUARTER.first} to {QUARTER.last}, with the quarter before and the same quarter "
          f"a year earlier (median of {REPEATS}; goal ≤ {GOAL_S:.0f} s)\n")
    print(f"{'database':<11} {'cases':>7} {'steps':>8} {'reviews':>8} {'escal.':>7} {'report s':>9} {'max s':>6} "
          f"{'goal':>5}  figures")
    for label, n, median, worst, figures in results:
        ok = "met" if median <= GOAL_S else "MISSED"
        print(f"{label:<11} {n['cases']:>7,} {n['steps']:>8,} {n['reviews']:>8,} {n['escalations']:>7,} "
              f"{median:>9.3f} {worst:>6.3f} {ok:>5}  {figures}")


if __name__ == "__main__":
    main()
