"""A crash in the middle of the advice stage, then a restart of the runner: the run resumes where it stopped and
no advice request is sent twice. The decision is given on the Prefect form (no `ehc`), so the run reads its
input back from Prefect after the restart."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.flow_runs import resume_flow_run
from prefect.states import Scheduled
from sqlmodel import select

from deployments.needs_assessment import case_run, serving, settle, settle_cases, start
from models import casework, db
from models.notices import OutboxMessage
from tests.test_needs_assessment_flow import D

CRASH = ("CREATE TRIGGER crash_on_ep BEFORE INSERT ON step "
         "WHEN NEW.key = 'advice:ep' BEGIN SELECT RAISE(ABORT, 'simulated crash'); END")


def advice_requests(ref: str) -> list[str]:
    with db.session() as s:
        case = casework.get_case(s, ref)
        return sorted(m.idempotency_key for m in s.exec(select(OutboxMessage).where(
            OutboxMessage.case_id == case.id, OutboxMessage.kind == "advice_request")))


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_crash_mid_advice_resumes_without_repeating_a_request(prefect_server, store_url, monkeypatch):
    monkeypatch.setenv("EHC_TODAY", "2025-12-08")
    with db.session() as s:
        ref = casework.open_case(s, child_name="Gwen Arkwright-Test", dob=D("2013-10-10"),
                                 requested_on=D("2025-11-03"), requester="parent", today=D("2025-12-08"),
                                 actor="test").reference
    with db.engine(store_url).begin() as conn:
        conn.execute(sa.text(CRASH))
    with serving():
        run = start(ref)
        settle_cases([ref])
        paused = case_run(ref).state
        # the Prefect form, first with a date before the request: audited as rejected, and the form asked again
        resume_flow_run(run.id, run_input={"reference": ref, "assess": True, "on": "2025-10-01"})
        asked_again = settle(run.id, after=paused.id).state
        assert asked_again.is_paused() and asked_again.state_details.pause_key == "assess-decision-1"
        resume_flow_run(run.id, run_input={"reference": ref, "assess": True, "on": "2025-12-08"})
        crashed = settle(run.id, after=asked_again.id)
    assert crashed.state.is_failed()
    assert len(advice_requests(ref)) == 4  # parent, education, health, social care went out; ep did not
    first = advice_requests(ref)

    with db.engine(store_url).begin() as conn:
        conn.execute(sa.text("DROP TRIGGER crash_on_ep"))
    with serving():  # a new runner: the old one and its processes are gone
        with get_client(sync_client=True) as client:
            client.set_flow_run_state(run.id, Scheduled(), force=True)  # "Retry" in the Prefect UI
        resumed = settle(run.id, after=crashed.state.id)
    after = advice_requests(ref)
    assert len(after) == 5 and set(first) < set(after)
    with db.session() as s:
        st = {x.key: x for x in casework.case_steps(s, casework.get_case(s, ref))}
    assert st["assess.decision"].completed_on == D("2025-12-08") and st["assess.decision"].details["assess"] is True
    with db.session() as s:
        [rejected] = [e for e in casework.audit_log(s, casework.get_case(s, ref)) if e.action == "input rejected"]
    assert rejected.detail["field"] == "--on" and "before the request" in rejected.detail["rule"]
    assert resumed.state.is_paused() and "stage:advice" in case_run(ref).tags
    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
    parent = [t.state.name for t in tasks if t.name == f"{ref} request advice: parent"]
    assert sorted(parent) == ["Cached", "Completed"]  # sent before the crash, not redone after it
    ep = [t.state.name for t in tasks if t.name == f"{ref} request advice: ep"]
    assert sorted(ep) == ["Completed", "Failed"]
