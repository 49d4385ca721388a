"""The quarterly report out of the store: a markdown artifact (the manager's view), a CSV of every figure, and
four PNG charts. Counts only, never a case or a child: what the council publishes on its Local Offer.

The charts are drawn on matplotlib's Agg backend (no display) from the report's own series, so what a chart
shows is what the JSON and the CSV say."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402  (after the backend is chosen)
from matplotlib.ticker import MaxNLocator  # noqa: E402
from prefect import task  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402

from models import indicators, statutory  # noqa: E402
from models.db import session  # noqa: E402

ARTIFACT_KEY = "quarterly-report"
FINAL_WEEKS = 20  # plan.final: 20 weeks from the request (reg 13(2)); the chart's line
CHARTS = {"weeks_to_final_plan": "weeks-to-final-plan.png", "advice_lateness": "advice-lateness-by-agency.png",
          "open_overdue_steps": "open-overdue-steps.png", "reviews_by_month": "reviews-on-time-by-month.png"}
JSON_FILE, CSV_FILE = "report.json", "indicators.csv"


def build_report(first: dt.date, last: dt.date, url: str | None = None) -> dict:
    """The report for [first, last] (both included), read from the store in one transaction."""
    with session(url) as s:
        return indicators.report(s.connection(), indicators.Period(first, last))


# --- charts (each returns its figure, so what it plots can be read back) ---------------------------------------


def _figure(title: str) -> tuple[Figure, object]:
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts
    return fig, ax


def weeks_chart(weeks: dict[int, int]) -> Figure:
    """New plans by whole weeks from the request to the final plan, against the 20-week limit."""
    fig, ax = _figure("Weeks from request to final plan (new plans)")
    ax.bar([int(w) for w in weeks], list(weeks.values()), width=0.8, label="plans")
    ax.axvline(FINAL_WEEKS, color="red", linestyle="--", label="20 weeks (reg 13(2))")
    ax.set_xlabel("whole weeks from the request")
    ax.set_ylabel("plans")
    ax.legend()
    return fig


def advice_chart(by_agency: dict[str, dict]) -> Figure:
    """Advice given in the period by agency: within its 6 weeks and late (exceptions left out)."""
    fig, ax = _figure("Advice within 6 weeks, by agency (reg 8(1))")
    names = [name.replace("_", " ") for name in by_agency]
    on_time = [row["on_time"] for row in by_agency.values()]
    late = [row["late"] for row in by_agency.values()]
    ax.bar(names, on_time, label="within 6 weeks")
    ax.bar(names, late, bottom=on_time, label="late", color="red")
    ax.set_ylabel("pieces of advice")
    ax.legend()
    return fig


def overdue_chart(series: dict[str, int]) -> Figure:
    """Steps open and past their statutory date at the end of each week of the period."""
    fig, ax = _figure("Open steps past their statutory date")
    ax.plot([statutory.parse_date(d, "day") for d in series], list(series.values()), marker="o")
    ax.set_ylabel("open overdue steps")
    fig.autofmt_xdate()
    return fig


def reviews_chart(by_month: dict[str, dict]) -> Figure:
    """Annual reviews due each month and those held and decided within their 12 months (CFA s44(1))."""
    fig, ax = _figure("Annual reviews due and on time, by month")
    months = list(by_month)
    positions = range(len(months))
    ax.bar([p - 0.2 for p in positions], [m["reviews_due"] for m in by_month.values()], width=0.4, label="due")
    ax.bar([p + 0.2 for p in positions], [m["reviews_on_time"] for m in by_month.values()], width=0.4,
           label="on time")
    ax.set_xticks(list(positions), months)
    ax.set_ylabel("reviews")
    ax.legend()
    return fig


def charts(report: dict) -> dict[str, Figure]:
    series = report["series"]
    return {"weeks_to_final_plan": weeks_chart(series["weeks_to_final_plan"]),
            "advice_lateness": advice_chart(series["advice_by_agency"]),
            "open_overdue_steps": overdue_chart(series["open_overdue_steps"]),
            "reviews_by_month": reviews_chart(series["reviews_by_month"])}


# --- files and the artifact ---------------------------------------------------------------------------------------


def _rows(name: str, figure: dict):
    """One CSV row per number: nested figures (by outcome, by agency, by queue) as dotted names."""
    value = figure["value"]
    if isinstance(value, dict):
        for part in value:
            yield from _rows(f"{name}.{part}", {k: (figure[k] or {}).get(part) for k in ("value", "previous",
                                                                                         "last_year")})
        return
    yield [name, value, figure["previous"], figure["last_year"], figure.get("reason", "")]


def write_csv(report: dict, path: Path) -> Path:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["indicator", f"{report['period']['from']}..{report['period']['to']}",
                      f"previous {report['previous']['from']}..{report['previous']['to']}",
                      f"last year {report['last_year']['from']}..{report['last_year']['to']}", "reason"])
        for name, figure in report["indicators"].items():
            out.writerows(_rows(name, figure))
    return path


def write_files(report: dict, folder: Path) -> list[Path]:
    """report.json, indicators.csv and the four charts in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / JSON_FILE).write_text(json.dumps(report, indent=2, default=str))
    written = [folder / JSON_FILE, write_csv(report, folder / CSV_FILE)]
    for name, fig in charts(report).items():
        fig.savefig(folder / CHARTS[name], dpi=100)
        written.append(folder / CHARTS[name])
    return written


def _cell(value) -> str:
    return "–" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


HEADLINES = ("requests", "new_plans", "pct_within_20_weeks", "pct_within_20_weeks_excluding_exceptions",
             "median_weeks_to_final_plan", "pct_coproduction_before_issue", "pct_child_views_recorded",
             "reviews_due", "pct_reviews_on_time", "pfa_reviews_due", "pfa_reviews_with_outcomes",
             "transition_reviews_due", "transition_reviews_by_deadline", "escalations_opened",
             "escalations_open_at_end", "escalations_median_age_days", "plans_in_force", "personal_budgets")


def markdown(report: dict) -> str:
    """The manager's view: headline figures beside the previous quarter and last year, advice by agency,
    escalations by queue, and what is not counted yet and why."""
    p, ind = report["period"], report["indicators"]
    lines = [f"# SEND service report {p['from']} to {p['to']}", "",
             f"Previous: {report['previous']['from']} to {report['previous']['to']}; last year: "
             f"{report['last_year']['from']} to {report['last_year']['to']}. Counts from the case store only.", "",
             "| indicator | this period | previous | last year |", "|---|---:|---:|---:|"]
    lines += [f"| {key.replace('_', ' ')} | {_cell(ind[key]['value'])} | {_cell(ind[key]['previous'])} | "
              f"{_cell(ind[key]['last_year'])} |" for key in HEADLINES]
    outcomes = ind["requests_by_outcome"]["value"]
    lines += ["", "**Requests by outcome:** " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in outcomes.items()),
              "", "## Advice within 6 weeks, by agency", "",
              "| agency | given | exceptions | on time | late | % on time |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {name.replace('_', ' ')} | {a['given']} | {a['exceptions']} | {a['on_time']} | {a['late']} | "
              f"{_cell(a['pct_on_time'])} |" for name, a in ind["advice_on_time_by_source"]["value"].items()]
    lines += ["", "## Escalations by queue", "", "| queue | opened | open at end | median age (days) |",
              "|---|---:|---:|---:|"]
    queues = ind["escalations_by_queue"]["value"]
    lines += [f"| {q} | {e['opened']} | {e['open_at_end']} | {_cell(e['median_age_days'])} |"
              for q, e in queues.items()] or ["| none | 0 | 0 | – |"]
    lines += ["", "## Not counted yet", ""]
    lines += [f"- **{key.replace('_', ' ')}**: {figure['reason']}" for key, figure in ind.items() if "reason" in figure]
    return "\n".join(lines) + "\n"


@task(task_run_name="count the indicators {first}..{last}")
def compute_report(first: dt.date, last: dt.date) -> dict:
    return build_report(first, last)


@task(task_run_name="write the report files")
def write_report(report: dict, folder: str) -> list[str]:
    return [str(path) for path in write_files(report, Path(folder))]


@task(task_run_name="publish the quarterly artifact")
def publish_report(report: dict) -> str:
    """The markdown artifact `quarterly-report`, the same key every run: the latest quarter in the UI."""
    text = markdown(report)
    create_markdown_artifact(key=ARTIFACT_KEY, markdown=text,
                             description=f"SEND indicators {report['period']['from']} to {report['period']['to']}")
    return text
