"""The Prefect forms are safe: the case reference is not on them, every decision needs an explicit choice (an
empty one is refused by the server against the form's schema), and an answer is recorded in the name of who gave
it, checked against the council's directory (anyone else is refused on the form, audited, and asked again)."""

from __future__ import annotations

import datetime as dt

import pytest
from prefect.flow_runs import resume_flow_run

from deployments.needs_assessment import serving, settle_cases
from deployments.server import prefect_server
from models import casework, db
from models.cases import Contact
from models.waiting import Waiting
from tasks.request import DecisionToAssess
from tasks.waiting import asked, case_run, settle, start

D = dt.date.fromisoformat


def test_the_decision_form_has_no_reference_field_and_no_default_choice():
    """As declared and as the run asks it, with its briefing (Prefect's initial data once put the reference back
    as an editable field)."""
    waiting = Waiting(open=True, progress=1, stage="decision_to_assess", due=D("2026-02-16"))
    for form in (DecisionToAssess, asked("EHC-2026-00001", DecisionToAssess, waiting)):
        schema = form.model_json_schema()
        assert "reference" not in schema["properties"]
        assert "assess" in schema["required"] and "default" not in schema["properties"]["assess"]


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_an_empty_choice_is_refused_and_a_stranger_is_asked_again(store_url, monkeypatch, tmp_path):
    monkeypatch.setenv("EHC_TODAY", "2026-02-09")
    with db.session() as s:
        ref = casework.open_case(s, child_name="Rhea Form-Test", dob=D("2014-04-04"), requested_on=D("2026-01-05"),
                                 requester="parent", today=D("2026-02-09"), actor="t").reference
        s.add(Contact(role="sen_caseworker", organisation="SEN team", name="Ada Caseworker",
                      email="ada.caseworker@council.example.org"))
    with prefect_server(f"sqlite+aiosqlite:///{tmp_path / 'prefect.db'}", tmp_path / "server.log"), serving():
        run = start(ref)
        settle_cases([ref])
        paused = case_run(ref).state
        with pytest.raises(Exception, match="assess"):  # no choice made: the server refuses the input
            resume_flow_run(run.id, run_input={"on": "2026-02-09", "recorded_by": "Ada Caseworker"})
        assert case_run(ref).state.id == paused.id  # still waiting, nothing recorded
        resume_flow_run(run.id, run_input={"assess": "yes", "on": "2026-02-09", "recorded_by": "someone else"})
        asked_again = settle(run.id, after=paused.id).state
        assert asked_again.is_paused()
        with db.session() as s:
            case = casework.get_case(s, ref)
            [rejected] = [e for e in casework.audit_log(s, case) if e.action == "input rejected"]
            assert casework.find_step(s, case, "assess.decision").status == "open"
        assert rejected.detail["field"] == "recorded_by"
        resume_flow_run(run.id, run_input={"assess": "yes", "on": "2026-02-09",
                                           "recorded_by": "ADA.caseworker@council.example.org"})
        moved = settle(run.id, after=asked_again.id)
        assert moved.state.is_paused() and moved.state.state_details.pause_key.startswith("advice-received-")
    with db.session() as s:
        case = casework.get_case(s, ref)
        [decided] = [e for e in casework.audit_log(s, case) if e.action == "assess.decision done"]
    assert decided.actor == "Ada Caseworker (Prefect form)"
