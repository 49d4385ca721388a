"""The README's walk-through, run as written (issue 11, defect 6): the `ehc` lines of the bash blocks of "The case
store" and "The needs assessment", in order, on a fresh store with the needs-assessment deployment served, each
on the day it gives (`EHC_TODAY`). And `ehc case start` without what must be running: one line, exit 2."""

from __future__ import annotations

import json
import re
import shlex

import prefect.settings as ps
from prefect import get_client
from prefect.exceptions import ObjectNotFound
from typer.testing import CliRunner

from cli.main import app
from models.vocabulary import Stage
from tests.conftest import REPO

SECTIONS = ("## The case store", "## The needs assessment")
DATED = ("--on", "--requested-on")  # the day a command is typed on; otherwise the day of the one before
BASH = re.compile(r"^```bash\n(.*?)^```", re.S | re.M)


def walk_through() -> list[list[str]]:
    """The `ehc` commands of the README's walk-through sections, comments stripped, as argv lists."""
    readme = (REPO / "README.md").read_text()
    commands = []
    for heading in SECTIONS:
        start = readme.index(f"\n{heading}") + 1
        end = readme.find("\n## ", start + 1)
        for block in BASH.findall(readme[start:end if end > 0 else None]):
            for line in block.splitlines():
                if line.startswith("ehc "):
                    commands.append(shlex.split(line, comments=True)[1:])
    return commands


def day_of(args: list[str], before: str | None) -> str | None:
    for option in DATED:
        if option in args:
            return args[args.index(option) + 1]
    return before


def test_the_walk_through_is_found_with_every_stage():
    commands = walk_through()
    assert commands[0] == ["db", "upgrade"]
    assert [c[:2] for c in commands].count(["advice", "received"]) == 5
    assert commands[-1][:2] == ["final", "issued"]
    assert not any(word.startswith("[") or word in {"…", "|"} for c in commands for word in c)


def test_the_walk_through_runs_as_written(store_url, prefect_server, monkeypatch):
    from deployments.needs_assessment import serving

    commands = walk_through()
    runner = CliRunner()
    day = day_of(commands[1], None)  # the request's day, for the store's first commands
    with serving():
        for args in commands:
            day = day_of(args, day)
            monkeypatch.setenv("EHC_TODAY", day)
            result = runner.invoke(app, args)
            assert result.exit_code == 0, (args, result.output)
            assert "Traceback" not in result.output
    shown = json.loads(runner.invoke(app, ["case", "show", "EHC-2026-00001", "--json"]).stdout)
    assert shown["stage"] == Stage.PLAN_IN_FORCE
    assert [e["kind"] for e in shown["exceptions"]] == ["absence"]


def _refusal(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: PREFECT_API_URL: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def _opened() -> str:
    result = CliRunner().invoke(app, ["case", "open", "--child-name", "Alex Example", "--dob", "2015-03-02",
                                      "--requested-on", "2026-01-05", "--requester", "parent"])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_case_start_without_a_prefect_api_names_what_must_run(store_url, monkeypatch):
    monkeypatch.setenv("EHC_TODAY", "2026-01-05")
    reference = _opened()
    with ps.temporary_settings(updates={ps.PREFECT_API_URL: ""}):
        line = _refusal(["case", "start", reference])
    assert "is not set" in line and "ehc serve" in line and "python -m deployments.needs_assessment" in line


def test_case_start_with_no_deployment_served_names_what_must_run(store_url, prefect_server, monkeypatch):
    monkeypatch.setenv("EHC_TODAY", "2026-01-05")
    reference = _opened()
    with get_client(sync_client=True) as client:  # an earlier test's runner leaves its deployment behind
        try:
            client.delete_deployment(client.read_deployment_by_name("needs-assessment/needs-assessment").id)
        except ObjectNotFound:
            pass
    line = _refusal(["case", "start", reference])
    assert "has no needs-assessment deployment" in line and "ehc serve" in line


def test_case_start_with_a_prefect_api_that_does_not_answer(store_url, monkeypatch):
    monkeypatch.setenv("EHC_TODAY", "2026-01-05")
    reference = _opened()
    with ps.temporary_settings(updates={ps.PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        line = _refusal(["case", "start", reference])
    assert "does not answer" in line
