"""The `deadline-watch` flow for real under a Prefect test server: it composes the plain functions, sends through
the file backend, and leaves one table artifact per queue and a failed-messages artifact, by case reference only."""

from __future__ import annotations

import datetime as dt
import json

from prefect.artifacts import Artifact
from prefect.client.orchestration import get_client

from deployments.deadline_watch import deployment
from flows.deadline_watch import deadline_watch
from models import casework
from models.db import session
from models.escalation import QUEUES
from tasks.escalation import artifact_key


def test_the_flow_chases_sends_and_shows_the_queues(store_url, prefect_server, tmp_path, monkeypatch):
    monkeypatch.setenv("EHC_MAIL_FOLDER", str(tmp_path))
    with session() as s:
        case = casework.open_case(s, child_name="Sam Example", dob=dt.date(2015, 3, 2),
                                  requested_on=dt.date(2025, 1, 6), requester="parent", today=dt.date(2025, 1, 6),
                                  actor="t")
        casework.add_step(s, case, key="advice:health", kind="advice", rule_id="advice.provide", role="dco",
                          source="health", start=dt.date(2025, 1, 6))  # due 17 Feb, like the decision
    state = deadline_watch(as_of=dt.date(2025, 2, 18), return_state=True)
    result = state.result()
    assert result["messages"] == {"overdue": 2, "escalation": 1}
    assert result["sent"] == 4  # + the DCO's digest
    assert result["queues"] == {"dco": 1, "social_care_manager": 0, "principal_ep": 0, "sen_team_manager": 1}
    assert len(list(tmp_path.glob("*.eml"))) == 4

    tables = {q: json.loads(Artifact.get(artifact_key(q)).data) for q in QUEUES}
    assert [(row["case"], row["step"], row["tier"], row["age (days)"]) for row in tables["sen_team_manager"]] == [
        ("EHC-2025-00001", "assess.decision", 1, 0)]
    assert result["queue_runs"] == dict.fromkeys(QUEUES, "no deployment")  # no runner serves it here
    assert [row["case"] for row in tables["dco"]] == ["EHC-2025-00001"]
    assert tables["principal_ep"] == [{"escalation": "", "case": "queue empty"}]
    failed = Artifact.get("failed-messages")
    assert json.loads(failed.data) == [{"message": "", "case": "none failed"}]
    everything = json.dumps(tables) + failed.data
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
    assert run.name == "deadline-watch-2025-02-18"
    assert "Sam" not in everything + run.name + json.dumps(run.parameters)

    with session() as s:  # the decision is made that afternoon; the next run shows the queue emptied
        case = casework.get_case(s, "EHC-2025-00001")
        casework.complete_step(s, casework.case_steps(s, case)[0], dt.date(2025, 2, 18), "t", case)
    deadline_watch(as_of=dt.date(2025, 2, 19))
    latest = json.loads(Artifact.get(artifact_key("sen_team_manager")).data)
    assert latest == [{"escalation": "", "case": "queue empty"}]


def test_the_deployment_runs_on_weekdays_at_seven_london_time():
    (schedule,) = deployment().schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 7 * * 1-5", "Europe/London")


def test_a_refused_message_shows_in_the_failed_messages_artifact(store_url, prefect_server, tmp_path, monkeypatch):
    from notifications import dispatch
    from notifications.backends import Rejected

    class Refusing:
        name = "refusing"

        def send(self, message):
            raise Rejected("400: The to email does not contain a valid address: [address]")

    monkeypatch.setenv("EHC_MAIL_FOLDER", str(tmp_path))
    with session() as s:
        casework.open_case(s, child_name="Sam Example", dob=dt.date(2015, 3, 2), requested_on=dt.date(2025, 1, 6),
                           requester="parent", today=dt.date(2025, 1, 6), actor="t")
    deadline_watch(as_of=dt.date(2025, 2, 7), send=False)
    assert dispatch.dispatch(Refusing()).failed == 1
    deadline_watch(as_of=dt.date(2025, 2, 10), send=False)
    (row,) = json.loads(Artifact.get("failed-messages").data)
    assert row == {"message": 1, "case": "EHC-2025-00001", "kind": "reminder", "to (role)": "sen_caseworker",
                   "attempts": 1, "reason": "400: The to email does not contain a valid address: [address]"}
