"""What the daily watch shows each caseworker in the Prefect UI: the case card and tags of every case whose state
changed (an act recorded, a step become late), on the case's current run; and a caseload table per caseworker,
`caseload-<staff id>`. The store is the truth: with Prefect unreachable nothing is lost, the next watch shows
what changed since the cards were last shown."""

from __future__ import annotations

import datetime as dt

import httpx
from prefect import get_client, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.sorting import FlowRunSort
from prefect.exceptions import PrefectException

from models.case_card import UNASSIGNED, changed_since_cards, read_cards, record_cards_shown
from models.caseload import caseload, caseworkers, staff_handle
from models.db import session
from tasks import case_card
from tasks.waiting import api_answers, awaited_by

PAGE = 200  # the API's largest page
BATCH = 100  # case tags asked for at once
SHOWN_ROWS = 1_000  # a table's rows at most, soonest date first (a team address may hold thousands)
CASE_TAG = "case:"


def caseload_key(handle: str) -> str:
    return f"caseload-{handle}"


def current_runs(client, references: list[str]) -> dict[str, FlowRun]:
    """Each case's current run (its newest, by its `case:` tag), read a batch of cases a page at a time."""
    runs: dict[str, FlowRun] = {}
    for first in range(0, len(references), BATCH):
        wanted = {f"{CASE_TAG}{ref}" for ref in references[first:first + BATCH]}
        read = 0
        while batch := client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(any_=sorted(wanted))),
                                             sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=PAGE, offset=read):
            read += len(batch)
            for run in batch:
                for tag in wanted.intersection(run.tags):
                    runs.setdefault(tag.removeprefix(CASE_TAG), run)  # newest first: the first seen is current
    return runs


@task(name="show changed cases", cache_policy=NO_CACHE)
def show_changed_cases(on: dt.date) -> dict:
    """The card and tags (`caseworker:…`, `overdue`) of each case changed since the cards were last shown, on its
    current run. Skipped, not failed, while Prefect does not answer: the next watch shows them."""
    if not api_answers():
        return {"prefect": False, "cards": 0, "retagged": 0}
    with session() as s:
        changed, watermark = changed_since_cards(s, on)
        facts = {f.reference: f for f in read_cards(s, changed).values()}
    shown = retagged = 0
    try:
        with get_client(sync_client=True) as client:
            for reference, run in current_runs(client, sorted(facts)).items():
                retagged += case_card.show(client, facts[reference], run.id, list(run.tags), on, awaited_by(run))
                shown += 1
    except (PrefectException, httpx.HTTPError, OSError) as exc:  # the API went away mid-pass: the next watch
        get_run_logger().warning("case cards: Prefect not reached (%s); the next watch shows them", type(exc).__name__)
        return {"prefect": False, "cards": shown, "retagged": retagged}
    with session() as s:
        record_cards_shown(s, on, watermark, cards=shown, retagged=retagged)
    return {"prefect": True, "cards": shown, "retagged": retagged}


@task(name="publish caseloads", cache_policy=NO_CACHE)
def publish_caseloads(on: dt.date) -> int:
    """One table artifact per caseworker, `caseload-<staff id>` (and `caseload-unassigned`): each open case's
    reference, stage, next statutory date and what is overdue; by reference only. One caseload query for all.
    Returns the number of tables."""
    with session() as s:
        rows = caseload(s, on)
        tables: dict[str, list[dict]] = {staff_handle(worker): [] for worker in caseworkers(s)}
    for r in rows:
        tables.setdefault(staff_handle(r.caseworker) if r.caseworker else UNASSIGNED, []).append(
            {"case": r.reference, "stage": r.stage, "status": r.status, "next step": r.next_step or "",
             "next due": r.next_due.isoformat() if r.next_due else "", "overdue": len(r.overdue),
             "overdue steps": ", ".join(r.overdue), "cannot notify": r.cannot_notify})
    for handle, table in tables.items():
        late = sum(1 for row in table if row["overdue"])
        first = f" (the first {SHOWN_ROWS:,}: `ehc caseload` lists all)" if len(table) > SHOWN_ROWS else ""
        create_table_artifact(table[:SHOWN_ROWS] or [{"case": "no open cases"}], key=caseload_key(handle),
                              description=f"{handle}: {len(table)} open cases{first}, {late} overdue, on {on}. "
                                          f"Runs: filter by tag `caseworker:{handle}` (and `overdue`).")
    return len(tables)
