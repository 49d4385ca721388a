"""After the demo's cases have run through the flow and a daily watch, nothing Prefect holds names a child or
gives a date of birth: every flow run (name, parameters, tags, states, form inputs), task run, log line and
artifact (the case cards, the caseload tables) read back from its API, and every result file the runs
persisted."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path

from prefect import get_client
from prefect.artifacts import Artifact
from prefect.settings import PREFECT_LOCAL_STORAGE_PATH

from flows.deadline_watch import deadline_watch
from models.case_card import card_key
from tasks.waiting import case_run
from tests.needs_assessment_pathway import SCRIPTS

PAGE = 200  # the API's largest page
STARTED = time.time()


def every(read: Callable[..., list]) -> list:
    found: list = []
    while batch := read(limit=PAGE, offset=len(found)):
        found += batch
    return found


def everything_prefect_holds(refs: dict[str, str]) -> list[str]:
    texts: list[str] = []
    with get_client(sync_client=True) as client:
        runs = every(client.read_flow_runs)
        assert {r.name for r in runs} >= set(refs.values())
        for run in runs:
            texts.append(run.model_dump_json())
            texts += [state.model_dump_json() for state in client.read_flow_run_states(run.id)]
            inputs = client.request("POST", "/flow_runs/{id}/input/filter", path_params={"id": run.id},
                                    json={"prefix": "", "limit": PAGE}).json()
            texts.append(json.dumps(inputs))
        tasks = every(client.read_task_runs)
        logs = every(client.read_logs)
        artifacts = every(client.read_artifacts)
    assert len(tasks) > len(runs) and len(logs) > len(runs)
    return texts + [t.model_dump_json() for t in tasks] + [log.message for log in logs] + [
        a.model_dump_json() for a in artifacts]


def personal_data() -> list[str]:
    found = []
    for sc in SCRIPTS:
        found += [sc.child_name, *sc.child_name.replace("-", " ").split(), sc.dob]
        found += [sc.parent[k] for k in ("name", "email", "address") if k in sc.parent]  # the family's details
    return [p for p in found if p not in ("Demo", "Test")]


def test_no_child_name_or_date_of_birth_in_any_run_task_log_artifact_or_result(needs_assessment_demo, monkeypatch):
    url, refs = needs_assessment_demo
    monkeypatch.setenv("EHC_DATABASE_URL", url)
    assert deadline_watch(as_of=dt.date(2026, 7, 1), send=False)["shown"]["caseloads"] >= 1  # cards, tags, caseloads
    for ref in refs.values():  # each case's card is on its current run, which carries its caseworker
        run = case_run(ref)
        assert Artifact.get(card_key(ref)).flow_run_id == run.id and any(t.startswith("caseworker:") for t in run.tags)
    with get_client(sync_client=True) as client:
        caseloads = {a.key for a in every(client.read_artifacts) if (a.key or "").startswith("caseload-")}
    assert caseloads  # read with everything else below
    blob = "\n".join(everything_prefect_holds(refs)).lower()
    assert all(ref.lower() in blob and f"case:{ref}".lower() in blob for ref in refs.values())
    assert "suspended-decision-to-assess-0-description" in blob  # the forms and their briefings were read too
    assert [p for p in personal_data() if p.lower() in blob] == []
    results = [f for f in Path(PREFECT_LOCAL_STORAGE_PATH.value()).expanduser().glob("*")
               if f.is_file() and f.stat().st_mtime >= STARTED]
    assert results
    stored = b"\n".join(f.read_bytes() for f in results).lower()
    assert [p for p in personal_data() if p.lower().encode() in stored] == []
