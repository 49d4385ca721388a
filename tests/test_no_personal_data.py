"""After `ehc demo`, nothing Prefect holds names a child or gives a date of birth: every flow run (name,
parameters, tags, states), task run, log line, artifact and form input read back from its API, and every result
file the runs persisted."""

from __future__ import annotations

import json
import time
from pathlib import Path

from prefect import get_client
from prefect.client.schemas.filters import LogFilter
from prefect.settings import PREFECT_LOCAL_STORAGE_PATH

from cli import demo


def everything_prefect_holds() -> list[str]:
    texts: list[str] = []
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs()
        assert len(runs) == len(demo.DEMO_SCRIPTS)
        for run in runs:
            texts.append(run.model_dump_json())
            for state in client.read_flow_run_states(run.id):
                texts.append(state.model_dump_json())
            keys = client.request("POST", "/flow_runs/{id}/input/filter", path_params={"id": run.id},
                                  json={"prefix": "", "limit": 200}).json()
            texts.append(json.dumps(keys))
        tasks = client.read_task_runs(limit=10_000)
        assert tasks
        texts += [t.model_dump_json() for t in tasks]
        logs = client.read_logs(log_filter=LogFilter(), limit=10_000)
        assert len(logs) > len(runs)
        texts += [log.message for log in logs]
        texts += [a.model_dump_json() for a in client.read_artifacts(limit=10_000)]
    return texts


def personal_data() -> list[str]:
    found = []
    for sc in demo.DEMO_SCRIPTS:
        found += [sc.child_name, *sc.child_name.replace("-", " ").split(), sc.dob]
    return [p for p in found if p != "Demo"]


def test_the_demo_leaves_no_child_name_or_date_of_birth_in_prefect(tmp_path, monkeypatch):
    started = time.time()
    for name in ("EHC_DATABASE_URL", "EHC_TODAY", "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL",
                 "PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    demo.demo(folder=tmp_path / "demo")
    with demo.prefect_server(tmp_path / "demo" / "prefect.db"):  # the demo's server, started again
        texts = everything_prefect_holds()
    blob = "\n".join(texts)
    assert "EHC-2026-00001" in blob and "case:EHC-2026-00004" in blob
    leaks = [p for p in personal_data() if p.lower() in blob.lower()]
    assert leaks == []
    results = [f for f in Path(PREFECT_LOCAL_STORAGE_PATH.value()).expanduser().glob("*")
               if f.is_file() and f.stat().st_mtime >= started]
    assert results
    stored = b"\n".join(f.read_bytes() for f in results).lower()
    assert [p for p in personal_data() if p.lower().encode() in stored] == []
