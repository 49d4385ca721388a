"""`ehc simulate`: a small year on the store (no Prefect: `--live-days 0`) is reproducible from its seed, and so
is one whose last days go through Prefect (but for the ids Prefect gives the runs); its report's figures are
what it drew, its share of plans within 20 weeks lands at the target, and bad options are refused in one line
before anything is written."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli.main import app
from deployments.simulation.national import NATIONAL, Profile, year_request
from deployments.simulation.options import Options
from deployments.simulation.year import Simulation
from models import db
from models.vocabulary import AdviceSource, ClosedReason, PersonRole, Role, StepKey, StepStatus

SMALL = {"requests": 10, "plans": 4, "start": dt.date(2025, 12, 1), "days": 189, "seed": 6, "live_days": 0}
WALL_CLOCK = ("seconds", "cases_per_minute")  # how long it took: the only part of a report that may differ


@pytest.fixture
def own_environment():
    """The simulation points the `EHC_` settings at its own folder: put them back afterwards."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def store_contents(url: str, prefect_ids: bool = True) -> dict[str, list[tuple]]:
    """Every row of every table, in key order, without the wall-clock recording times (`created_at`, `at`…), and
    without the ids Prefect gave the runs (`…run_id`) unless `prefect_ids`."""
    eng = db.engine(url)
    out = {}
    with eng.connect() as conn:
        for table in sorted(sa.inspect(eng).get_table_names()):
            t = sa.Table(table, sa.MetaData(), autoload_with=conn)
            kept = [c for c in t.columns if not isinstance(c.type, sa.DateTime)
                    and (prefect_ids or not c.name.endswith("run_id"))]
            out[table] = [tuple(row) for row in conn.execute(sa.select(*kept).order_by(*t.primary_key.columns))]
    db.dispose_engine(url)
    return out


def simulate(folder, **options) -> tuple[dict, dict]:
    o = Options(**{**SMALL, **options}, folder=folder)
    report = Simulation(o).run()
    return report, store_contents(os.environ["EHC_DATABASE_URL"], prefect_ids=not o.live_days)


def test_the_same_seed_gives_the_same_store_and_report_and_its_figures_are_what_was_drawn(tmp_path, own_environment):
    first, first_store = simulate(tmp_path / "one")
    second, second_store = simulate(tmp_path / "two")
    assert first_store == second_store
    assert {k: v for k, v in first.items() if k not in WALL_CLOCK} == {k: v for k, v in second.items()
                                                                        if k not in WALL_CLOCK}
    assert first["refused_acts"] == []
    drawn, store = first["drawn"], first["store"]
    assert drawn["requests"] == store["requests"] == SMALL["requests"]
    for key in ("refused", "assessed", "new_plans", "new_plans_within_20_weeks", "pct_within_20_weeks",
                "pct_within_20_weeks_excluding_exceptions"):
        assert store[key] == drawn[key], key
    assert store["new_plans"] > 0 and store["refused"] + store["assessed"] > 0  # the figures say something
    assert store["plans_in_force"] >= SMALL["plans"] and store["reviews_due"] > 0
    rows = {t: len(r) for t, r in first_store.items()}
    assert rows["case"] == SMALL["requests"] + SMALL["plans"] and rows["review"] > 0
    parts = {k: v for k, v in first["seconds"].items() if k.startswith("store: ")}  # the store's time, by part
    assert set(parts) == {f"store: {p}" for p in ("import", "scheduler", "watch", "requests", "acts", "report")}
    assert abs(sum(parts.values()) - first["seconds"]["store"]) <= 0.05 * len(parts)  # each rounded to 0.1 s


def test_the_last_days_through_prefect_are_reproducible_but_for_the_ids_prefect_gives_the_runs(tmp_path,
                                                                                               own_environment):
    first, first_store = simulate(tmp_path / "one", live_days=2)
    second, second_store = simulate(tmp_path / "two", live_days=2)
    assert first["runs"] and first["runs"] == second["runs"]  # runs were executed, the same ones
    assert first_store == second_store
    assert {k: v for k, v in first.items() if k not in WALL_CLOCK} == {k: v for k, v in second.items()
                                                                        if k not in WALL_CLOCK}


def test_the_families_of_imported_plans_are_recorded_so_their_review_notices_reach_them(tmp_path, own_environment):
    Simulation(Options(**{**SMALL, "requests": 0, "plans": 12}, folder=tmp_path / "sim")).run()
    url = os.environ["EHC_DATABASE_URL"]
    imported = "case_id IN (SELECT case_id FROM sen2_request)"
    with db.engine(url).connect() as conn:
        unsent = conn.execute(sa.text(f"SELECT kind, reason FROM cannot_notify WHERE {imported} AND "
                                      "recipient_role = :family"), {"family": Role.FAMILY}).all()
        told = conn.execute(sa.text(f"SELECT DISTINCT p.role FROM notification_outbox o JOIN person p ON "
                                    f"p.case_id = o.case_id AND p.email = o.recipient_email WHERE o.{imported} "
                                    "AND o.recipient_role = :family"), {"family": Role.FAMILY}).scalars().all()
    db.dispose_engine(url)
    assert unsent == []
    # the notices were made and reached them: children's parents, and young people over school age (s83(2))
    assert sorted(told) == sorted([PersonRole.PARENT, PersonRole.YOUNG_PERSON])


def test_a_plan_decided_to_cease_ceases_once_its_appeal_window_closes(tmp_path, own_environment):
    """A decision to cease is followed by the plan ceasing (CFA s45(3)): no case is left with the council's
    `plan.cease` step overdue on the queues, and its review's other steps (a phase transfer) close with it."""
    profile = dataclasses.replace(Profile(), cease=0.5)
    o = Options(**{**SMALL, "requests": 0, "plans": 16, "days": 364}, profile=profile, folder=tmp_path / "sim")
    Simulation(o).run()
    url = os.environ["EHC_DATABASE_URL"]
    with db.engine(url).connect() as conn:
        ceased = conn.execute(sa.text("SELECT count(*) FROM \"case\" WHERE closed_reason = :ceased"),
                              {"ceased": ClosedReason.PLAN_CEASED}).scalar()
        overdue = conn.execute(sa.text("SELECT count(*) FROM step WHERE key = :key AND status = :open "
                                       "AND due_on < :by"),
                               {"key": StepKey.PLAN_CEASE, "open": StepStatus.OPEN,
                                "by": o.end - dt.timedelta(days=21)}).scalar()
    db.dispose_engine(url)
    assert ceased > 0
    assert overdue == 0


@pytest.mark.parametrize("target", [NATIONAL["pct_within_20_weeks"], 70.0])
def test_the_years_share_within_20_weeks_lands_within_one_plan_of_the_target(tmp_path, own_environment, target):
    profile = dataclasses.replace(Profile(), within_20_weeks=target / 100)
    year = {**SMALL, "requests": 20, "plans": 0, "days": 364, "seed": 8}  # 4-5 plans: steps of 20-25 points
    o = Options(**year, profile=profile, folder=tmp_path / "sim")
    sim = Simulation(o)
    store = sim.run()["store"]
    assert store["new_plans"] >= 3
    assert abs(store["pct_within_20_weeks"] - target) <= 100 / store["new_plans"]
    # calibrated on the very pathways the year drew: the same days, keys and advice asked as the store gave
    drawn = list(sim.drawn.pathways.values())
    assert [year_request(o.seed, n, path.requested_on, sim.profile) for n, path in enumerate(drawn, 1)] == drawn
    assert any(act.fields.get("source") == AdviceSource.PFA for path in drawn for act in path.acts)  # from Year 9


def test_a_different_seed_draws_a_different_year(tmp_path, own_environment):
    o = Options(**{**SMALL, "days": 63, "requests": 6, "plans": 2}, folder=tmp_path / "a")
    a = Simulation(o).run()
    b = Simulation(Options(**{**SMALL, "days": 63, "requests": 6, "plans": 2, "seed": 8}, folder=tmp_path / "b")).run()
    assert a["options"]["seed"] != b["options"]["seed"]
    assert store_contents(os.environ["EHC_DATABASE_URL"]) != store_contents(f"sqlite:///{tmp_path / 'a' / 'ehc.db'}")


@pytest.mark.parametrize(("args", "message"), [
    (["--requests", "-1"], "error: --requests: must be from 0 to 100000"),
    (["--plans", "300000"], "error: --plans: must be from 0 to 200000"),
    (["--days", "3"], "error: --days: must be from 7 to 1098"),
    (["--live-days", "400"], "error: --live-days: must be from 0 to 364"),
    (["--start", "2031-01-05"], "error: --start: must fall in 2019-01-01"),
    (["--start", "yesterday"], "error: --start:"),
    (["--within-20-weeks", "100"], "error: --within-20-weeks: must be a share between 0 and 100 percent"),
])
def test_bad_options_are_refused_in_one_line_with_nothing_written(tmp_path, args, message):
    folder = tmp_path / "sim"
    result = CliRunner().invoke(app, ["simulate", "--dir", str(folder), *args])
    assert result.exit_code == 2
    assert result.output.startswith(message) and result.output.count("\n") == 1
    assert not folder.exists()


def test_a_folder_holding_other_files_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(app, ["simulate", "--dir", str(tmp_path), "--live-days", "0"])
    assert result.exit_code == 2 and "holds files the simulation did not write" in result.output
    assert (tmp_path / "notes.txt").read_text() == "mine"
