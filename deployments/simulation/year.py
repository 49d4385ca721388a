"""A council's year simulated through the engine: requests arriving, professionals answering on drawn days, the
review scheduler and the deadline watch every day, and the last weeks through the real Prefect runs.

**How it keeps the real flows at scale.** Every act goes through the code a caseworker's `ehc` command and the
Prefect form run (the typed form's `record`, `tasks.waiting.record_in`; a day's acts in one transaction), and each
day the review scheduler's and the deadline watch's own functions run on the store. The acts write everything that
follows from them (a decision to assess asks every adviser; the last advice opens the meeting), so the store is
complete without a run; a run reads the store and catches up (`tasks.waiting`). Through the year that is all there
is: a run's execution costs about a second of Prefect, ~7 per case, more than a large council's year can afford. For
the last `live_days` days a Prefect server of its own runs: the review scheduler and the deadline watch run as the
real flows (the watch's reconciliation starts the run of every case in flight, the scheduler each open review's),
and each act wakes the case's run, executed in this process as the runner would (from the top, until it suspends on
the next form). The year ends on a Monday morning after the 06:30 scheduler and the 07:00 watch.

Deterministic: the same options give the same store and the same report (drawn with `random.Random` from the
seed and each case's key, in a stable order; no wall clock but the store's recording times)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, func, select

from deployments.demo import DEMO_COUNCIL, DIRECTORY, SETTINGS
from deployments.simulation.forms import event_for
from deployments.simulation.live import Live
from deployments.simulation.national import (
    NATIONAL,
    Act,
    Pathway,
    ReviewDraw,
    arrivals,
    born,
    calibrate,
    case_rng,
    draw_request,
    draw_review,
)
from deployments.simulation.options import Options
from models import assessment, casework, db, indicators, people, statutory
from models.cases import Case, Child
from models.contacts import import_contacts
from models.db import session
from models.errors import InputError
from models.review import Review
from models.schools import import_gias
from models.sen2 import load as sen2_load
from models.sen2 import message
from models.sen2.tables import Sen2Request
from models.vocabulary import ASSESSMENT_STAGES, CaseKind, PersonRole, ReviewStatus
from notifications import compose
from tasks.review import open_due_reviews, send_term_lists
from tasks.waiting import record_in
from tasks.watch import run_watch

ACTOR = "simulated caseworker"
SCRATCH_CACHE_KIB = 256 * 1024


@dataclass
class Timings:
    """Seconds spent, by where: Prefect (its server, API calls, flow and task runs with what they run inside),
    the store (the import, the scheduler, the watch, the requests, the acts, the report's queries: each also kept
    as `store: <part>`), and our own code (drawing, the driver, the progress bar): the rest of the wall time."""

    seconds: Counter = field(default_factory=Counter)
    started: float = field(default_factory=time.perf_counter)

    @contextmanager
    def spent(self, part: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[part] += time.perf_counter() - t

    @contextmanager
    def store(self, part: str) -> Iterator[None]:
        """Time in the store, counted in total and as `store: <part>`."""
        with self.spent("store"), self.spent(f"store: {part}"):
            yield

    def total(self) -> float:
        return time.perf_counter() - self.started

    def by_part(self) -> dict[str, float]:
        total = self.total()
        return {"prefect": self.seconds["prefect"], "store": self.seconds["store"],
                "ours": total - self.seconds["prefect"] - self.seconds["store"], "total": total,
                **{k: v for k, v in sorted(self.seconds.items()) if k.startswith(("prefect: ", "store: "))}}


def store_parts(seconds: dict) -> str:
    """The store's time by part, as printed: "scheduler 90 s, watch 130 s, …"."""
    return ", ".join(f"{k.removeprefix('store: ')} {v:.0f} s" for k, v in seconds.items() if k.startswith("store: "))


@dataclass
class Drawn:
    """What the simulation drew, to check the store's figures against."""

    pathways: dict[str, Pathway] = field(default_factory=dict)
    reviews: dict[tuple[str, int], ReviewDraw] = field(default_factory=dict)
    refused_acts: list[str] = field(default_factory=list)  # acts the engine refused: none, or a bug to fix


Progress = Callable[[str, int], None]  # (what is happening, days done)


def prepare(o: Options) -> Path:
    """A fresh folder for the simulation's stores; the `EHC_` settings pointing at it, the council's details and
    directory loaded as a council loads its own."""
    o.check()
    folder = o.folder.resolve()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ.update(DEMO_COUNCIL)
    os.environ.update({"EHC_DATABASE_URL": f"sqlite:///{folder / 'ehc.db'}", "EHC_TODAY": o.start.isoformat(),
                       "EHC_MAIL_FOLDER": str(folder / "outbox-mail"), "EHC_LETTER_FOLDER": str(folder / "letters"),
                       "EHC_ACTOR": ACTOR})
    db.upgrade()
    sa.event.listen(db.engine(), "connect", _scratch_store)
    db.engine().dispose()
    with session() as s:
        import_gias(s, SETTINGS, ACTOR)
        import_contacts(s, DIRECTORY, ACTOR)
    return folder


def _scratch_store(conn, _record) -> None:
    """A scratch store: SQLite need not wait for the disk at each commit (a crash loses the run), and keeps up to
    256 MB of its pages in memory (a large council's year writes gigabytes, most of it the outbox; SQLite's
    default of 2 MB made every act read its index pages back from the file)."""
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute(f"PRAGMA cache_size=-{SCRATCH_CACHE_KIB}")


def plans_in_force(o: Options) -> bytes:
    """The council's caseload as its SEN2 return of January brings it: `plans` plans in force, each with its
    start and (three in four) its last review, so that every review falls due in the year simulated. SEN2
    carries no parents: `record_families` records them after the import."""
    rng = case_rng(o.seed, "plans in force")
    persons = []
    for i in range(1, o.plans + 1):
        due = o.start + dt.timedelta(days=rng.randint(20, min(o.days, 364)))  # the next review's 12 months end
        last = statutory.months_before(due, 12)
        dob = o.start - dt.timedelta(days=rng.randint(4 * 365, 17 * 365))
        reviewed = rng.random() < 0.75
        start = last - dt.timedelta(days=rng.randint(30, 900)) if reviewed else last
        received = start - dt.timedelta(days=rng.randint(100, 190))
        rec = {key: None for _, key, _ in message.SCALARS}
        rec.update(received_on=received, request_outcome="H", has_assessment=True, assessment_outcome="H",
                   week20=False, has_named_plan=True, start_on=start, pb=False, has_active_plans=True,
                   sen_needs=[[rng.choice(("ASD", "SLCN", "SEMH", "MLD", "SPLD")), 1]], placements=[])
        if reviewed:
            rec.update(review_meeting_on=last, review_outcome="M", last_review_on=last)
        urn = rng.choice(("100001", "100002"))
        for part, entry in (("plan", None), ("active", start)):
            rec["placements"].append({"urn": urn, "ukprn": None, "setting_type": "OLA", "setting_other": None,
                                      "rank": 1, "entry_on": entry, "leaving_on": None, "sen_unit": False,
                                      "resourced_provision": False, "res": None, "wbp": None, "part": part})
        fields = {"surname": f"Plan{i:05d}", "forename": "Simulated", "birth_date": dob, "sex": rng.choice("MF"),
                  "ethnicity": "WBRI", "postcode": "AB1 2DE", "upn": f"S{o.seed % 10**6:06d}{i:06d}", "uln": None,
                  "upn_unknown": None}
        persons.append((fields, [rec]))
    return message.write(message.Header(o.start.year, o.start, "990", "Y", "N"), persons)


def record_families(s: Session, until: dt.date) -> int:
    """The family of every imported case, as a council records it from its own case system beside the return,
    each through `people.add_person` (validated and audited as `ehc person add` records them): a parent for
    every child, and the young person themself where they are over compulsory school age by `until` (their
    notices go to them, CFA s83(2)). Made-up names and addresses, in reference order; returns how many."""
    imported = s.exec(select(Case, Child).join(Sen2Request, Sen2Request.case_id == Case.id)
                      .join(Child, Child.id == Case.child_id).order_by(Case.reference)).all()
    added = 0
    for n, (case, child) in enumerate(imported, 1):
        home = {"address": f"{n} Plan Street, Demoton", "postcode": "AB1 2DE"}
        people.add_person(s, case, ACTOR, role=PersonRole.PARENT, name=f"Simulated Parent P{n:05d}",
                          email=f"plan-parent{n:05d}@example.org", **home)
        added += 1
        if people.over_compulsory_school_age(child, until):
            people.add_person(s, case, ACTOR, role=PersonRole.YOUNG_PERSON, name=child.name,
                              email=f"young-person{n:05d}@example.org", **home)
            added += 1
    return added


class Simulation:
    """One simulated year (`run`), its draws and its timings."""

    def __init__(self, o: Options, progress: Progress = lambda _what, _days: None) -> None:
        self.o, self.progress, self.t = o, progress, Timings()
        self.drawn = Drawn()
        self.agenda: dict[dt.date, list[tuple[str, int, Act]]] = defaultdict(list)
        self.live: Live | None = None  # the Prefect server and in-process runner of the last days
        self.profile = o.profile

    # --- the year -------------------------------------------------------------------------------------------

    def run(self) -> dict:
        """The year: the plans in force imported from the SEN2 return and their families recorded beside it
        (`record_families`), then each day's morning runs, arriving requests and acts; returns the report."""
        o = self.o
        with self.t.store("import"):
            self.folder = prepare(o)
            if o.plans:
                with session() as s:
                    result = sen2_load.import_return(s, plans_in_force(o), o.start, ACTOR)
                if result.faults:
                    raise RuntimeError(f"the simulated return was refused: {result.faults[0]}")
                with session() as s:
                    record_families(s, o.end)
        last_day = o.end - dt.timedelta(days=1)
        days = arrivals(case_rng(o.seed, "arrivals"), o.requests, o.start, last_day)
        self.profile = calibrate(o.profile, o.seed, days, last_day)
        arriving: dict[dt.date, int] = Counter(days)
        live_from = o.end - dt.timedelta(days=o.live_days)
        day, done, opened = o.start, 0, 0
        try:
            while day <= o.end:
                os.environ["EHC_TODAY"] = day.isoformat()
                if o.live_days and day >= live_from and self.live is None:
                    self.progress("starting Prefect for the last weeks", done)
                    self.start_live()
                self.morning(day)
                if day < o.end:  # the last day is a Monday morning: the scheduler and the watch, no acts yet
                    for _ in range(arriving.get(day, 0)):
                        opened += 1
                        self.request(day)
                    self.acts(day)
                done += 1
                self.progress(f"{day}  {opened} requests", done)
                day += dt.timedelta(days=1)
            if self.live is not None:
                self.progress("refreshing the queue and report artifacts", done)
                self.live.refresh_artifacts(o.start, o.end, self.folder / "reports")
            return self.report()
        finally:
            if self.live is not None:
                self.live.stop()

    def start_live(self) -> None:
        with self.t.spent("prefect"):
            self.live = Live(self.folder, self.t)

    def morning(self, day: dt.date) -> None:
        """06:30 the review scheduler (every day), 07:00 the deadline watch (weekdays); the reviews it opened
        drawn."""
        if self.live is not None:
            self.live.scheduler()
        else:
            with self.t.store("scheduler"):
                open_due_reviews.fn()
                send_term_lists.fn()
        with self.t.store("scheduler"), session() as s:
            opened = s.exec(_opened_on(day)).all()
        for reference, cycle, annual_due_on in opened:
            draw = draw_review(case_rng(self.o.seed, f"{reference}:review:{cycle}"), day, annual_due_on, self.profile)
            self.drawn.reviews[(reference, cycle)] = draw
            for seq, act in enumerate(draw.acts):
                self.agenda[act.on].append((reference, seq, act))
        if day.weekday() < 5:
            if self.live is not None:
                self.live.watch(day)
            else:
                with self.t.store("watch"):
                    run_watch(day)

    def request(self, day: dt.date) -> None:
        """A request arrives: the case opened with its parent, as `ehc case open` does; its pathway drawn."""
        with self.t.store("requests"), session() as s:
            n = len(self.drawn.pathways) + 1
            rng = case_rng(self.o.seed, f"request:{n}")
            dob = born(rng, day)
            case = casework.open_case(s, child_name=f"Simulated Child{n:05d}", dob=dob, requested_on=day,
                                      requester="parent", today=day, actor=ACTOR,
                                      parent={"name": f"Simulated Parent{n:05d}",
                                              "email": f"parent{n:05d}@example.org",
                                              "address": f"{n} Simulation Street, Demoton", "postcode": "AB1 2DE"})
            reference = case.reference
            compose.write(s, assessment.request_notices(s, reference))
            path = draw_request(rng, day, self.profile, lambda on: assessment.advice_sources(s, case, on))
        self.drawn.pathways[reference] = path
        for seq, act in enumerate(path.acts):
            self.agenda[act.on].append((reference, seq, act))
        if self.live is not None:
            self.live.start_case(reference)

    def acts(self, day: dt.date) -> None:
        """The day's acts, case by case in reference order, each as its `ehc` command records it (the form's
        own `record` and its notices), all in one transaction for the day (the day's cases read at its start,
        `casework.read_cases`), each act in a savepoint of its own so an act the engine refuses leaves nothing of
        itself; the runs are woken once the day is written."""
        recorded, todays = [], sorted(self.agenda.pop(day, []), key=lambda a: (a[0], a[1]))
        with self.t.store("acts"), session() as s:
            casework.read_cases(s, [reference for reference, _seq, _act in todays])
            for reference, _seq, act in todays:
                try:
                    with s.begin_nested():
                        event = event_for(s, reference, act, ACTOR)
                        if event is not None:
                            record_in(s, event, ACTOR)
                            recorded.append(event)
                except InputError as exc:
                    self.drawn.refused_acts.append(f"{day} {reference} {act.form}: {exc}")
        if self.live is not None:
            for event in recorded:
                self.live.woken(event)

    # --- the report -----------------------------------------------------------------------------------------

    def report(self) -> dict:
        o = self.o
        period = indicators.Period(o.start, o.end)
        with self.t.store("report"), db.engine().connect() as conn:
            got = indicators.indicators(conn, period)
        drawn = self.drawn_figures(period)
        store = {"requests": got["requests"], "refused": got["requests_by_outcome"]["refused"],
                 "assessed": got["requests_by_outcome"]["assessed"], "new_plans": got["new_plans"],
                 "new_plans_within_20_weeks": got["new_plans_within_20_weeks"],
                 "pct_within_20_weeks": got["pct_within_20_weeks"],
                 "pct_within_20_weeks_excluding_exceptions": got["pct_within_20_weeks_excluding_exceptions"],
                 "reviews_due": got["reviews_due"], "reviews_on_time": got["reviews_on_time"],
                 "plans_in_force": got["plans_in_force"]}
        timings = self.t.by_part()
        cases = o.requests + len(self.drawn.reviews)
        return {"period": {"first": o.start.isoformat(), "last": o.end.isoformat()},
                "options": {"requests": o.requests, "plans": o.plans, "seed": o.seed, "days": o.days,
                            "live_days": o.live_days},
                "on_track": self.profile.on_track, "store": store, "drawn": drawn,
                "national": {k: NATIONAL[k] for k in ("pct_within_20_weeks", "pct_within_20_weeks_excluding_exceptions",
                                                      "pct_refused_of_decided", "pct_not_issued_of_assessed")},
                "refused_acts": self.drawn.refused_acts, "in_flight": self.in_flight(),
                "seconds": {k: round(v, 1) for k, v in timings.items()},
                "cases_per_minute": round(cases / (timings["total"] / 60), 1) if timings["total"] else None,
                "runs": self.live.counts() if self.live else {}}

    def drawn_figures(self, period: indicators.Period) -> dict:
        """The same figures from the dates drawn (never read from the store); acts fall before the last day,
        a Monday morning."""
        acted = period.last - dt.timedelta(days=1)
        paths = [p for p in self.drawn.pathways.values() if period.first <= p.requested_on <= acted]
        decided = [p for p in paths if p.acts[0].on <= acted]
        issued = [p for p in paths if p.final_on is not None and p.final_on <= acted]
        within = [p for p in issued if p.within_20_weeks()]
        kept = [p for p in issued if not p.exception]
        return {"requests": len(paths), "refused": sum(p.refused for p in decided),
                "assessed": sum(not p.refused for p in decided), "new_plans": len(issued),
                "new_plans_within_20_weeks": len(within),
                "pct_within_20_weeks": indicators.pct(len(within), len(issued)),
                "pct_within_20_weeks_excluding_exceptions": indicators.pct(
                    sum(p.within_20_weeks() for p in kept), len(kept)),
                "not_issued": sum(p.not_issued and any(a.form == "DecisionToIssue" and a.on <= acted for a in p.acts)
                                  for p in paths),
                "reviews_opened": len(self.drawn.reviews)}

    def in_flight(self) -> dict:
        with self.t.store("report"), session() as s:
            open_reviews = s.exec(_open_reviews()).one()
            open_requests = s.exec(_open_requests()).one()
        return {"requests": open_requests, "reviews": open_reviews}


def _opened_on(day: dt.date):
    """The reviews the scheduler opened on the day: reference, cycle, the end of their 12 months."""
    return (select(Case.reference, Review.cycle, Review.annual_due_on).join(Review, Review.case_id == Case.id)
            .where(Review.opened_on == day).order_by(Case.reference, Review.cycle))


def _open_reviews():
    return select(func.count()).select_from(Review).where(Review.status == ReviewStatus.OPEN)


def _open_requests():
    return (select(func.count()).select_from(Case)
            .where(Case.kind == CaseKind.NEEDS_ASSESSMENT, Case.stage.in_(ASSESSMENT_STAGES)))
