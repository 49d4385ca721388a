"""The README's main command, literally: `ehc demo` in a process of its own. It must finish with every case's
run Completed; afterwards a Prefect server started on the demo's own database (the command the demo prints)
serves every flow run, task run, log line and artifact, and none of them names a child or gives a date of
birth."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from prefect.settings import PREFECT_LOCAL_STORAGE_PATH

from deployments.demo import load
from deployments.server import prefect_server
from tasks.waiting import case_run
from tests.test_no_personal_data import everything_prefect_holds, personal_data


def test_the_demo_finishes_and_prefect_holds_no_personal_data_after_it(tmp_path):
    folder, started = tmp_path / "demo", time.time()
    ehc = Path(sys.executable).with_name("ehc")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EHC_")} | {"COLUMNS": "200"}
    done = subprocess.run([str(ehc), "demo", "--dir", str(folder)], capture_output=True, text=True, timeout=900,
                          env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    refs = sorted(set(re.findall(r"EHC-\d{4}-\d{5}", done.stdout)))
    scripts = load().values()
    assert len(refs) == len(scripts) and all(sc.story in done.stdout for sc in scripts)
    assert f"sqlite+aiosqlite:///{folder / 'prefect.db'} prefect server start" in done.stdout.replace("\n", "")
    first = min(refs)  # the people of the first case, its school by URN, and the caseload
    assert f"{first}: current 100001 Oakfield Primary (in area)" in done.stdout
    assert "parent  Grace Okonjo-Demo" in done.stdout
    assert f"{first}  plan_in_force  a.caseworker@example.org" in done.stdout

    with prefect_server(f"sqlite+aiosqlite:///{folder / 'prefect.db'}", tmp_path / "server.log"):
        assert [case_run(ref).state.name for ref in refs] == ["Completed"] * len(refs)
        blob = "\n".join(everything_prefect_holds(dict(zip(refs, refs, strict=True)))).lower()
    assert all(f"case:{ref}".lower() in blob for ref in refs)
    assert [p for p in personal_data() if p.lower() in blob] == []
    results = [f for f in Path(PREFECT_LOCAL_STORAGE_PATH.value()).expanduser().glob("*")
               if f.is_file() and f.stat().st_mtime >= started]
    assert results  # the runs' persisted results were read too
    stored = b"\n".join(f.read_bytes() for f in results).lower()
    assert [p for p in personal_data() if p.lower().encode() in stored] == []
