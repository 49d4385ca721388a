"""prefect.yaml names real entrypoints, and its schedules are the ones the deployment modules serve."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml
from prefect import Flow

REPO = Path(__file__).resolve().parent.parent
DEPLOYMENTS = {d["name"]: d for d in yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]}


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_each_entrypoint_is_the_flow_of_that_name(name):
    path, _, attribute = DEPLOYMENTS[name]["entrypoint"].partition(":")
    flow = getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), attribute)
    assert isinstance(flow, Flow)
    assert flow.name == name


@pytest.mark.parametrize("name, module", [("deadline-watch", "deployments.deadline_watch"),
                                          ("review-scheduler", "deployments.reviews"),
                                          ("reconcile", "deployments.reconcile"),
                                          ("quarterly-report", "deployments.quarterly_report")])
def test_schedules_match_the_served_deployments(name, module):
    module = importlib.import_module(module)
    (schedule,) = DEPLOYMENTS[name]["schedules"]
    assert (schedule["cron"], schedule["timezone"]) == (module.SCHEDULE.cron, module.SCHEDULE.timezone)


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_each_deployment_goes_to_the_work_pool_on_london_time(name):
    assert DEPLOYMENTS[name]["work_pool"]["name"] == "ehc"
    assert all(schedule["timezone"] == "Europe/London" for schedule in DEPLOYMENTS[name].get("schedules", []))


def test_every_scheduled_flow_is_deployed():
    """The watch, the reconciler, the review scheduler and the quarterly report each run on a schedule."""
    scheduled = {name for name, d in DEPLOYMENTS.items() if d.get("schedules")}
    assert scheduled == {"deadline-watch", "reconcile", "review-scheduler", "quarterly-report"}
