"""The quarterly report: the SEND service's indicators for a period, published as the `quarterly-report`
artifact, with a CSV and charts written to a folder. Reads the whole store (no case in particular), so the run
is named by its period, never by a child."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run

from models import indicators
from models.settings import today
from tasks.report import compute_report, publish_report, write_report

FLOW_NAME = "quarterly-report"


def period_for(from_date: dt.date | None, to_date: dt.date | None, on: dt.date) -> indicators.Period:
    """The period asked for, or by default the quarter that ended before `on`."""
    if (from_date is None) != (to_date is None):
        raise ValueError("give both from_date and to_date, or neither (the quarter just ended)")
    if from_date is None:
        return indicators.quarter_before(on)
    if from_date > to_date:
        raise ValueError(f"from_date {from_date} is after to_date {to_date}")
    return indicators.Period(from_date, to_date)


def run_name() -> str:
    """`quarterly-report-2026-07-01-2026-09-30`, or `quarterly-report-2026-10-01` (the day) by default."""
    params = flow_run.parameters
    if params.get("from_date"):
        return f"{FLOW_NAME}-{params['from_date']}-{params['to_date']}"
    return f"{FLOW_NAME}-{today()}"


@flow(name=FLOW_NAME, flow_run_name=run_name, log_prints=False)
def quarterly_report(from_date: dt.date | None = None, to_date: dt.date | None = None, out_dir: str = "reports",
                     only_on_first_working_day: bool = False) -> dict:
    """Count the period's indicators (default: the quarter just ended), write `out_dir/<from>_<to>/` (report.json,
    indicators.csv, four charts) and publish the markdown artifact. With `only_on_first_working_day` (the
    schedule) it does nothing unless today is the first working day after a quarter."""
    on = today()
    if only_on_first_working_day and not indicators.first_working_day_after_quarter(on):
        return {"skipped": f"{on} is not the first working day after a quarter"}
    period = period_for(from_date, to_date, on)
    report = compute_report(period.first, period.last)
    files = write_report(report, str(Path(out_dir) / f"{period.first}_{period.last}"))
    publish_report(report)
    return {"period": period.as_dict(), "files": files}
