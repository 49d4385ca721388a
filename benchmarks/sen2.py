"""Benchmark: `ehc import sen2` of 20,000 persons (goal ≤ 60 s) and `ehc export sen2` of the same (≤ 20 s), on
SQLite and PostgreSQL, with the growth to 50,000 and 100,000.

The return is a large council's January: 90% plans in force (named plan and active plan, one placement each,
one or two needs, three in four with a last review), 5% plans ceased in the year, 2.5% requests refused or
withdrawn, 2.5% requests in flight (awaiting the decision, or assessing). Printed beside each figure, its floor
measured in the same run: for the import, parsing and validating the file alone and one bulk INSERT per table of
the very rows the import wrote; for the export, writing the same records as XML with no store. Also the second
import of the same file (every person unchanged).

    python -m benchmarks.sen2                       # both databases (PostgreSQL where 127.0.0.1:5432 answers)
    EHC_BENCH_SEN2_SIZES=20000 python -m benchmarks.sen2
"""

from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from benchmarks.table import print_table
from cli.main import app
from models import db
from models.cases import AuditEvent, Case, Child, Step
from models.db import session
from models.sen2 import message
from models.sen2.tables import Placement, Sen2Person, Sen2Request, Sen2Return

TODAY = dt.date(2024, 1, 18)
SIZES = tuple(int(n) for n in os.environ.get("EHC_BENCH_SEN2_SIZES", "20000,50000,100000").split(","))
GOAL_IMPORT, GOAL_EXPORT, GOAL_SIZE = 60.0, 20.0, 20_000
POSTGRES_URL = os.environ.get("EHC_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DATABASES = ("SQLite", "PostgreSQL")
WRITTEN = (Child, Sen2Person, Case, Step, AuditEvent, Sen2Request, Placement)  # in foreign-key order
NEEDS = ("ASD", "SLCN", "SEMH", "MLD", "SPLD", "PD", "HI", "VI", "SLD")


def day(rng: random.Random, first: int, last: int) -> dt.date:
    return TODAY - dt.timedelta(days=rng.randint(first, last))


def _placement(rng: random.Random, part: str, entry: dt.date | None) -> dict:
    return {"urn": f"{rng.randint(100000, 149999)}", "ukprn": None, "setting_type": "OLA", "setting_other": None,
            "rank": 1, "entry_on": entry, "leaving_on": None, "sen_unit": rng.random() < 0.1,
            "resourced_provision": rng.random() < 0.1, "res": None, "wbp": None, "part": part}


def _request(rng: random.Random, dob: dt.date) -> dict:
    rec = {key: None for _, key, _ in message.SCALARS}
    rec.update(has_assessment=False, has_named_plan=False, has_active_plans=False, placements=[], sen_needs=[])
    roll = rng.random()
    if roll < 0.95:  # a plan: in force, or ceased in the year
        received = max(day(rng, 200, 3000), dob + dt.timedelta(days=400))
        start = received + dt.timedelta(days=rng.randint(100, 190))
        rec.update(received_on=received, request_outcome="H", has_assessment=True, assessment_outcome="H",
                   week20=rng.random() < 0.06, has_named_plan=True, start_on=start, pb=rng.random() < 0.1)
        rec["placements"].append(_placement(rng, "plan", None))
        if roll < 0.90:
            rec["has_active_plans"] = True
            rec["placements"].append(_placement(rng, "active", start + dt.timedelta(days=30)))
            rec["sen_needs"] = [[need, rank] for rank, need in enumerate(rng.sample(NEEDS, rng.randint(1, 2)), 1)]
            if rng.random() < 0.75 and start < TODAY - dt.timedelta(days=200):
                last = TODAY - dt.timedelta(days=rng.randint(14, min(360, (TODAY - start).days - 1)))
                rec.update(review_meeting_on=last, review_outcome="M", last_review_on=last)
        else:
            rec.update(cease_on=max(start, TODAY - dt.timedelta(days=rng.randint(10, 300))),
                       cease_reason=str(rng.randint(1, 9)))
    elif roll < 0.975:  # refused or withdrawn last year
        received = day(rng, 60, 360)
        rec.update(received_on=received, request_outcome=rng.choice("NW"),
                   request_outcome_on=received + dt.timedelta(days=rng.randint(20, 42)))
    else:  # in flight: awaiting the decision, or assessing
        received = day(rng, 1, 120)
        if received > TODAY - dt.timedelta(days=42):
            rec.update(received_on=received, request_outcome="A")
        else:
            rec.update(received_on=received, request_outcome="Y",
                       request_outcome_on=received + dt.timedelta(days=rng.randint(20, 42)), has_assessment=True,
                       assessment_outcome="A")
    return rec


def cohort(n: int, seed: int = 2024) -> bytes:
    """A council's SEN2 return of `n` persons (synthetic: no real person)."""
    rng = random.Random(seed)
    persons = []
    for i in range(1, n + 1):
        dob = day(rng, 3 * 365, 19 * 365)
        fields = {"surname": f"Surname{i}", "forename": f"Forename{i}", "birth_date": dob, "sex": rng.choice("MF"),
                  "ethnicity": "WBRI", "postcode": "ZZ99 3ZZ", "upn": f"B{i:012d}", "uln": None,
                  "upn_unknown": None}
        persons.append((fields, [_request(rng, dob)]))
    header = message.Header(2024, TODAY, "999", "Y", "N")
    return message.write(header, persons)


def timed(fn):
    began = time.perf_counter()
    value = fn()
    return time.perf_counter() - began, value


def bulk_floor(url: str) -> float:
    """One bulk INSERT per table of the rows the import wrote (read back, deleted, inserted again)."""
    with session(url) as s:
        conn = s.connection()
        rows = {t: [dict(r._mapping) for r in conn.execute(sa.select(t.__table__))] for t in WRITTEN}
        for t in reversed(WRITTEN):
            conn.execute(sa.delete(t.__table__))
    with session(url) as s:
        conn = s.connection()
        began = time.perf_counter()
        for t in WRITTEN:
            conn.execute(sa.insert(t.__table__), rows[t])
        return time.perf_counter() - began


def clear(url: str) -> None:
    with session(url) as s:
        conn = s.connection()
        for t in (Sen2Return, *reversed(WRITTEN)):
            conn.execute(sa.delete(t.__table__))


def bench(label: str, url: str, folder: Path) -> list[tuple]:
    db.upgrade(url)
    results = []
    runner = CliRunner()
    for size in SIZES:
        data = cohort(size)
        src = folder / f"sen2-{size}.xml"
        src.write_bytes(data)
        parse, (header, persons, faults) = timed(lambda: message.read(data))  # noqa: B023
        assert not faults, faults[:3]
        records = [(p.fields, p.requests) for p in persons]
        imported, result = timed(lambda: runner.invoke(app, ["import", "sen2", str(src)]))  # noqa: B023
        assert result.exit_code == 0, result.output
        again, second = timed(lambda: runner.invoke(app, ["import", "sen2", str(src)]))  # noqa: B023
        assert f"{size} unchanged" in second.output, second.output
        out = folder / f"out-{size}.xml"
        exported, result = timed(lambda: runner.invoke(app, ["export", "sen2", "--collection-year", "2024",  # noqa: B023
                                                              "--out", str(out)]))  # noqa: B023
        assert result.exit_code == 0 and f"wrote {size} persons" in result.output, result.output
        write_floor, _ = timed(lambda: message.write(header, records))  # noqa: B023
        floor = bulk_floor(url)
        clear(url)
        results.append((label, size, len(data), parse, floor, imported, again, write_floor, exported))
    return results


def main() -> None:
    os.environ["EHC_TODAY"] = TODAY.isoformat()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        os.environ["EHC_DATABASE_URL"] = url
        rows += bench("SQLite", url, Path(tmp))
        db.dispose_engine(url)
        if db.server_answers(POSTGRES_URL) or "EHC_BENCH_POSTGRES_URL" in os.environ:
            schema = f"ehc_bench_sen2_{os.getpid()}"
            admin = sa.create_engine(POSTGRES_URL)
            with admin.begin() as conn:
                conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
            url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
            os.environ["EHC_DATABASE_URL"] = url
            try:
                rows += bench("PostgreSQL", url, Path(tmp))
            finally:
                db.dispose_engine(url)
                with admin.begin() as conn:
                    conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()
        else:
            print("PostgreSQL: 127.0.0.1:5432 does not answer; SQLite only")
    by = {(r[0], r[1]): r for r in rows}
    sizes = list(dict.fromkeys(r[1] for r in rows))
    print(f"\nSEN2 import and export, in process through `ehc`, seconds; floors measured in the same run (goals at "
          f"{GOAL_SIZE:,} persons)")

    def goal(size: int, figure: int, limit: float) -> str:
        if size != GOAL_SIZE:
            return ""
        worst = max(r[figure] for (_, n), r in by.items() if n == size)
        return f"≤ {limit:.0f} s: {'met' if worst <= limit else 'MISSED'}"

    print_table("`ehc import sen2` (floor: the file parsed and checked against the XSD alone + one bulk INSERT per "
                "table of the rows the import wrote)",
                [(f"{size:,} persons", *(((r[5], r[3] + r[4]) if (r := by.get((d, size))) else (None, None))
                                         for d in DATABASES), goal(size, 5, GOAL_IMPORT)) for size in sizes])
    print_table("`ehc export sen2` (floor: the same records written as XML with no store)",
                [(f"{size:,} persons", *(((r[8], r[7]) if (r := by.get((d, size))) else (None, None))
                                         for d in DATABASES), goal(size, 8, GOAL_EXPORT)) for size in sizes])
    print("\nThe second import of the same file (every person unchanged), s: " + ", ".join(
        f"{label} {size:,}: {again:.2f}" for label, size, _, _, _, _, again, _, _ in rows))

if __name__ == "__main__":
    main()
