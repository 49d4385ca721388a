"""After the demo's cases have run through the flow, nothing Prefect holds names a child or gives a date of
birth: every flow run (name, parameters, tags, states, form inputs), task run, log line and artifact read back
from its API, and every result file the runs persisted."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from prefect import get_client
from prefect.settings import PREFECT_LOCAL_STORAGE_PATH

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


def test_no_child_name_or_date_of_birth_in_any_run_task_log_artifact_or_result(needs_assessment_demo):
    _, refs = needs_assessment_demo
    blob = "\n".join(everything_prefect_holds(refs)).lower()
    assert all(ref.lower() in blob and f"case:{ref}".lower() in blob for ref in refs.values())
    assert "suspended-decision-to-assess-0-description" in blob  # the forms and their briefings were read too
    assert [p for p in personal_data() if p.lower() in blob] == []
    results = [f for f in Path(PREFECT_LOCAL_STORAGE_PATH.value()).expanduser().glob("*")
               if f.is_file() and f.stat().st_mtime >= STARTED]
    assert results
    stored = b"\n".join(f.read_bytes() for f in results).lower()
    assert [p for p in personal_data() if p.lower().encode() in stored] == []
