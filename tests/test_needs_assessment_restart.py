"""A crash while the decision to assess and its advice requests are written, then a restart of every process (the
Prefect server, the runner and its flow processes; the command line holds nothing between commands): nothing of
the act was half-written, the run resumes where it stopped, and no advice request is sent twice. The decision is
given on the Prefect form (no `ehc`), so the run reads its input back from the restarted server."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.flow_runs import resume_flow_run
from prefect.states import Scheduled
from sqlmodel import select

from deployments.needs_assessment import serving, settle_cases
from deployments.server import prefect_server
from models import casework, db
from models.cases import Contact
from models.outbox import OutboxMessage
from tasks.waiting import case_run, settle, start
from tests.test_needs_assessment_flow import D

CRASH = ("CREATE TRIGGER crash_on_ep BEFORE INSERT ON step "
         "WHEN NEW.key = 'advice:ep' BEGIN SELECT RAISE(ABORT, 'simulated crash'); END")


def advice_requests(ref: str) -> list[str]:
    with db.session() as s:
        case = casework.get_case(s, ref)
        return sorted(m.idempotency_key for m in s.exec(select(OutboxMessage).where(
            OutboxMessage.case_id == case.id, OutboxMessage.kind == "advice_request")))


def task_states(run_id, name: str, expected: int, timeout: float = 30) -> list[str]:
    """The states of the run's task runs called `name`, once `expected` of them have reached the server's database
    (task runs arrive through its event pipeline, a moment after they ran)."""
    stop = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])),
                                          limit=200)
            states = [t.state.name for t in tasks if t.name == name]
            if len(states) >= expected or time.monotonic() > stop:
                return states
            time.sleep(0.2)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_crash_mid_advice_resumes_without_repeating_a_request(store_url, monkeypatch, tmp_path):
    monkeypatch.setenv("EHC_TODAY", "2025-12-08")
    server_database = f"sqlite+aiosqlite:///{tmp_path / 'prefect.db'}"  # kept on disk across the restart
    with db.session() as s:
        ref = casework.open_case(s, child_name="Gwen Arkwright-Test", dob=D("2013-10-10"),
                                 requested_on=D("2025-11-03"), requester="parent", today=D("2025-12-08"),
                                 actor="test", parent={"name": "Huw Arkwright-Test",
                                                       "email": "huw@family.test.org.uk"}).reference
        s.add(Contact(role="sen_caseworker", organisation="SEN team", name="Ada Caseworker",
                      email="ada.caseworker@council.example.org"))  # the directory the form's answers are checked in
    with db.engine(store_url).begin() as conn:
        conn.execute(sa.text(CRASH))
    with prefect_server(server_database, tmp_path / "server.log"), serving():
        run = start(ref)
        settle_cases([ref])
        paused = case_run(ref).state
        # the Prefect form, first with a date before the request: audited as rejected, and the form asked again
        resume_flow_run(run.id, run_input={"assess": "yes", "on": "2025-10-01",
                                                    "recorded_by": "Ada Caseworker"})
        asked_again = settle(run.id, after=paused.id).state
        assert asked_again.is_paused() and asked_again.state_details.pause_key == "decision-to-assess-1"
        resume_flow_run(run.id, run_input={"assess": "yes", "on": "2025-12-08",
                                                    "recorded_by": "ada.caseworker@council.example.org"})
        crashed = settle(run.id, after=asked_again.id)
    assert crashed.state.is_failed()
    assert advice_requests(ref) == []  # the act and its requests are one transaction: none went out
    with db.session() as s:
        assert casework.find_step(s, casework.get_case(s, ref), "assess.decision").status == "open"

    with db.engine(store_url).begin() as conn:
        conn.execute(sa.text("DROP TRIGGER crash_on_ep"))
    # server, runner and flow processes are all gone; a new server on the same database, a new runner
    with prefect_server(server_database, tmp_path / "server.log"), serving():
        with get_client(sync_client=True) as client:
            client.set_flow_run_state(run.id, Scheduled(), force=True)  # "Retry" in the Prefect UI
        resumed = settle(run.id, after=crashed.state.id)
        assert resumed.state.is_paused() and "stage:advice" in case_run(ref).tags
        recorded = task_states(run.id, f"{ref} record DecisionToAssess", 3)
        ep = task_states(run.id, f"{ref} request advice: ep", 1)
    assert sorted(recorded) == ["Completed", "Completed", "Failed"]  # rejected, crashed, then recorded from the
    # answer the restarted server gave back
    assert ep == ["Completed"]  # the stage found the request the act had written
    after = advice_requests(ref)
    assert len(after) == len(set(after)) == 5
    with db.session() as s:
        st = {x.key: x for x in casework.case_steps(s, casework.get_case(s, ref))}
    assert st["assess.decision"].completed_on == D("2025-12-08") and st["assess.decision"].details["assess"] is True
    with db.session() as s:
        [rejected] = [e for e in casework.audit_log(s, casework.get_case(s, ref)) if e.action == "input rejected"]
    assert rejected.detail["field"] == "--on" and "before the request" in rejected.detail["rule"]
    with db.session() as s:
        [decided] = [e for e in casework.audit_log(s, casework.get_case(s, ref)) if e.action == "assess.decision done"]
    assert decided.actor == "Ada Caseworker (Prefect form)"  # who gave the answer, as the directory names them
