"""The escalation queues acted on from the Prefect UI: each queue's run suspends on a form listing its open items
(by case reference, step, tier and age), one explicit choice per item; the answer is recorded in the store in the
name of who gave it (checked against the directory), all or nothing, and recording it twice changes nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from prefect.logging import disable_run_logger

from models import casework, db
from models.errors import InputError
from models.escalation import act_on_queue, escalate, queue_items
from models.vocabulary import Queue
from tasks.escalation import digest, pause_key, publish_queue, queue_form, record_answer

D = dt.date.fromisoformat
NAME, DOB = "Quinn Queue-Test", "2013-05-06"


def _escalated(queue: Queue = Queue.DCO, tier: int = 2) -> tuple[str, int]:
    with db.session() as s:
        case = casework.open_case(s, child_name=NAME, dob=D(DOB), requested_on=D("2026-01-05"), requester="parent",
                                  today=D("2026-01-05"), actor="t")
        step = casework.find_step(s, case, "assess.decision")
        item, _ = escalate(s, queue=queue, case_id=case.id, step_id=step.id, tier=tier, on=D("2026-02-17"))
        return case.reference, item.id


def test_the_form_asks_an_explicit_choice_per_item_named_by_reference_tier_and_age(store_url):
    ref, item_id = _escalated()
    with db.session() as s:
        items = queue_items(s, Queue.DCO)
    form = queue_form(Queue.DCO, items, D("2026-03-03"))
    schema = form.model_json_schema()
    field = schema["properties"][f"item_{item_id}"]
    assert f"item_{item_id}" in schema["required"] and "default" not in field
    assert field["title"] == f"{ref} · assess.decision · tier 2 · 14 days on the queue"
    enum = schema["$defs"]["QueueAct"]["enum"]
    assert enum == ["acknowledge", "resolve", "leave"]
    shown = str(schema) + form._description
    assert NAME not in shown and DOB not in shown and ref in shown


def test_an_answer_acknowledges_and_resolves_in_the_name_of_who_gave_it(store_url):
    ref, item_id = _escalated()
    with disable_run_logger():
        assert record_answer(Queue.DCO, {f"item_{item_id}": "acknowledge", "recorded_by": "DCO@example.org"}) is None
    with db.session() as s:
        [item] = queue_items(s, Queue.DCO)
    assert item.acknowledged_by == "dco@example.org (Prefect form)"
    with disable_run_logger():
        assert record_answer(Queue.DCO, {f"item_{item_id}": "resolve", "recorded_by": "dco@example.org",
                                         "note": "health advice promised for Friday"}) is None
        # the same answer read back again (a run started again after recording it): nothing changes
        assert record_answer(Queue.DCO, {f"item_{item_id}": "resolve", "recorded_by": "dco@example.org",
                                         "note": "again"}) is None
    with db.session() as s:
        assert queue_items(s, Queue.DCO) == []
        [item] = queue_items(s, Queue.DCO, include_resolved=True)
        acts = [e.action for e in casework.audit_log(s, casework.get_case(s, ref)) if e.action.startswith("escal")]
    assert item.resolution_note == "health advice promised for Friday"
    assert acts == ["escalation acknowledged", "escalation resolved"]


@pytest.mark.parametrize("answer, refusal", [
    ({"recorded_by": "someone else"}, "recorded_by: not in the council's directory (`ehc contact list`)"),
    ({"recorded_by": ""}, "recorded_by: say who is recording this: your name or email as the directory has it"),
    ({"recorded_by": "dco@example.org", "note": " "}, "note: must say what was done for each item you resolve"),
])
def test_a_bad_answer_is_refused_naming_the_field_and_nothing_is_written(store_url, answer, refusal):
    _ref, item_id = _escalated()
    with disable_run_logger():
        assert record_answer(Queue.DCO, {f"item_{item_id}": "resolve", **answer}) == refusal
    with db.session() as s:
        [item] = queue_items(s, Queue.DCO)
    assert item.acknowledged_by is None and item.resolved_by is None


def test_an_item_of_another_queue_is_refused_and_the_rest_not_written(store_url):
    _ref, item_id = _escalated()
    with db.session() as s:
        with pytest.raises(InputError, match="not on the sen_team_manager queue"):
            act_on_queue(s, Queue.SEN_TEAM_MANAGER, {item_id: "acknowledge"}, "manager", None)
    with db.session() as s:
        [item] = queue_items(s, Queue.DCO)
    assert item.acknowledged_by is None


def test_the_pause_key_changes_with_the_list_and_the_day_so_the_watch_refreshes_a_stale_form(store_url):
    _ref, item_id = _escalated()
    with db.session() as s:
        before = queue_items(s, Queue.DCO)
        act_on_queue(s, Queue.DCO, {item_id: "acknowledge"}, "dco@example.org", None)
    with db.session() as s:
        after = queue_items(s, Queue.DCO)
    on = D("2026-03-03")
    assert digest(before, on) != digest(after, on)
    assert digest(after, on) != digest(after, on + dt.timedelta(days=1))  # the ages shown move on each day
    assert pause_key(Queue.SOCIAL_CARE_MANAGER, 3, after, on) == f"social-care-manager-3-{digest(after, on)}"


def test_the_queue_artifact_shows_each_items_tier_and_age(store_url, monkeypatch):
    ref, item_id = _escalated(tier=3)
    shown = {}
    monkeypatch.setattr("tasks.escalation.create_table_artifact", lambda rows, **kw: shown.update(rows=rows, **kw))
    with db.session() as s:
        publish_queue(Queue.DCO, queue_items(s, Queue.DCO), D("2026-03-10"))
    [row] = shown["rows"]
    assert (row["case"], row["tier"], row["age (days)"]) == (ref, 3, 21)
    assert shown["key"] == "queue-dco" and NAME not in str(shown)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_queue_run_records_the_form_and_the_watch_keeps_it_current(store_url, monkeypatch, tmp_path):
    """The run suspends on the form; an answer given there (as the UI resumes it) is recorded and the run suspends
    again with the refreshed list; an act from a shell makes its form stale, and the watch runs it again."""
    from prefect.flow_runs import resume_flow_run

    from deployments.needs_assessment import serving
    from deployments.server import prefect_server
    from flows.escalation_queue import escalation_queue
    from tasks.escalation import queue_run, refresh_queue_run, shown_digest
    from tasks.waiting import settle

    monkeypatch.setenv("EHC_TODAY", "2026-03-03")
    ref, item_id = _escalated()
    with prefect_server(f"sqlite+aiosqlite:///{tmp_path / 'prefect.db'}", tmp_path / "server.log"), \
            serving(alongside=(escalation_queue,)):
        assert refresh_queue_run(Queue.DCO) == "started"
        run = settle(queue_run(Queue.DCO).id)
        assert run.name == "dco-queue" and run.state.is_paused() and run.parameters == {"queue": "dco"}
        assert refresh_queue_run(Queue.DCO) == "current"
        resume_flow_run(run.id, run_input={f"item_{item_id}": "acknowledge", "recorded_by": "dco@example.org"})
        again = settle(run.id, after=run.state.id)
        assert again.state.is_paused() and again.state.state_details.pause_key != run.state.state_details.pause_key
        with db.session() as s:
            [item] = queue_items(s, Queue.DCO)
            assert item.acknowledged_by == "dco@example.org (Prefect form)"
            assert shown_digest(again) == digest(queue_items(s, Queue.DCO), D("2026-03-03"))
            act_on_queue(s, Queue.DCO, {item_id: "resolve"}, "dco@example.org", "done by phone")  # from a shell
        assert refresh_queue_run(Queue.DCO) == "refreshed"
        emptied = settle(run.id, after=again.state.id)
        assert emptied.state.is_paused() and shown_digest(emptied) == digest([], D("2026-03-03"))
        monkeypatch.setenv("EHC_TODAY", "2026-03-04")  # the next day's watch: the form's day moves on
        assert refresh_queue_run(Queue.DCO) == "refreshed"
        assert ref not in json.dumps(emptied.parameters) and NAME not in emptied.name
