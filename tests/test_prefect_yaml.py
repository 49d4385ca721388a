"""prefect.yaml names real entrypoints, and its schedules are the ones the deployment modules serve."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml
from prefect import Flow

from deployments import deadline_watch, reviews

REPO = Path(__file__).resolve().parent.parent
DEPLOYMENTS = {d["name"]: d for d in yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]}


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_each_entrypoint_is_the_flow_of_that_name(name):
    path, _, attribute = DEPLOYMENTS[name]["entrypoint"].partition(":")
    assert (REPO / path).is_file()
    flow = getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), attribute)
    assert isinstance(flow, Flow)
    assert flow.name == name


@pytest.mark.parametrize("name, module", [("deadline-watch", deadline_watch), ("review-scheduler", reviews)])
def test_schedules_match_the_served_deployments(name, module):
    (schedule,) = DEPLOYMENTS[name]["schedules"]
    assert (schedule["cron"], schedule["timezone"]) == (module.SCHEDULE.cron, module.SCHEDULE.timezone)
