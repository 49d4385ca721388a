"""The case card and the run's tags for real under the Prefect test server, the clock injected: the card is on
the case's run, refreshed when an act is recorded; the daily watch tags a late case's run `overdue` (and its
caseworker) and takes the tag off once the step is done; each caseworker has a caseload table. None of it names
the child or gives their date of birth."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
from prefect.artifacts import Artifact
from prefect.client.orchestration import get_client
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from deployments.needs_assessment import serving
from flows.deadline_watch import deadline_watch
from flows.needs_assessment import needs_assessment
from models import assessment, caseload, casework
from models.case_card import card_key, changed_since_cards
from models.cases import Case, Contact
from models.db import session
from tasks.caseload import show_changed_cases
from tasks.waiting import paused_on, settle, start

D = dt.date.fromisoformat
CHILD, DOB = "Rowan Thistlewood", "2016-04-09"
WORKER = "b.caseworker@council.example.org"
NUMBERS = itertools.count(1)  # the Prefect server outlives each test's store: a reference of its own each time


def late_decision_case() -> str:
    """Requested 6 Jan 2025, with its caseworker: the decision whether to assess is due 17 Feb."""
    with session() as s:
        s.add(Contact(role="sen_caseworker", organisation="SEN team", email=WORKER, name="Bea Caseworker"))
        case = casework.open_case(s, child_name=CHILD, dob=D(DOB), requested_on=D("2025-01-06"), requester="parent",
                                  today=D("2025-01-06"), actor="t")
        caseload.assign(s, case, WORKER, "t")
    with session() as s:
        case = s.exec(select(Case)).one()
        case.reference = f"EHC-2097-{next(NUMBERS):05d}"
        s.add(case)
        return case.reference


def run_now(run_id):
    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id)


def card_of(reference: str) -> Artifact:
    return Artifact.get(card_key(reference))


def no_personal_data(*texts: str) -> bool:
    seen = " ".join(texts)
    return not any(p in seen for p in (*CHILD.split(), DOB))


@pytest.fixture
def runner(prefect_server):
    with serving() as served:
        yield served


def test_the_card_is_on_the_run_and_refreshed_after_an_act(store_url, runner, monkeypatch, tmp_path):
    ref = late_decision_case()
    monkeypatch.setenv("EHC_TODAY", "2025-01-06")
    run = settle(start(ref).id)
    assert paused_on(run) == "decision-to-assess"
    assert "caseworker:b-caseworker" in run.tags and "overdue" not in run.tags
    card = card_of(ref)
    assert card.flow_run_id == run.id and card.type == "markdown"
    assert "the form `decision-to-assess` on this run" in card.data and f"ehc case decide {ref}" in card.data
    assert "| `assess.decision` | la | assess.decision | 2025-02-17 | due in 42 days |" in card.data

    deadline_watch(as_of=D("2025-02-18"), send=False)  # the decision is late: the watch tags the run
    run = run_now(run.id)
    assert "overdue" in run.tags and "caseworker:b-caseworker" in run.tags
    card = card_of(ref)
    assert card.flow_run_id == run.id and "- `assess.decision` (la, assess.decision): due 2025-02-17, overdue 1 day" \
        in card.data
    table = json.loads(Artifact.get("caseload-b-caseworker").data)
    assert [(row["case"], row["overdue steps"]) for row in table] == [(ref, "assess.decision")]

    monkeypatch.setenv("EHC_TODAY", "2025-02-19")  # decided from a shell: the run moves on and shows its card
    decided = CliRunner().invoke(app, ["case", "decide", ref, "--assess", "yes", "--on", "2025-02-19"])
    assert decided.exit_code == 0 and "run resumed" in decided.output, decided.output
    run = settle(run.id, after=run.state.id)
    assert paused_on(run) == "advice-received"
    assert "overdue" not in run.tags and "stage:advice" in run.tags and "caseworker:b-caseworker" in run.tags
    card = card_of(ref)
    assert "done on 2025-02-19, 2 days late" in card.data and "the form `advice-received` on this run" in card.data
    assert "## What is late\n\n- nothing" in card.data
    assert no_personal_data(card.data, json.dumps(run.tags), json.dumps(table), run.name, json.dumps(run.parameters))


def test_the_watch_sets_and_removes_overdue_on_the_current_run(store_url, prefect_server, monkeypatch):
    """A run the watch finds by its case tag (here one no runner executes): `overdue` and the caseworker tag
    are set the day the decision is late and the overdue tag goes the day after it is recorded, though the run
    never heard of it; the store is the truth."""
    ref = late_decision_case()
    with get_client(sync_client=True) as client:
        run = client.create_flow_run(needs_assessment, name=ref, parameters={"reference": ref},
                                     tags=[f"case:{ref}", "stage:decision_to_assess", "ehc"])
    assert deadline_watch(as_of=D("2025-02-17"), send=False)["shown"]["cards"] == 1  # first pass: every case
    assert sorted(run_now(run.id).tags) == sorted([f"case:{ref}", "stage:decision_to_assess", "ehc",
                                                   "caseworker:b-caseworker"])  # due today: not late yet
    assert deadline_watch(as_of=D("2025-02-18"), send=False)["shown"] == {
        "prefect": True, "cards": 1, "retagged": 1, "caseloads": 1}
    assert "overdue" in run_now(run.id).tags and card_of(ref).flow_run_id == run.id
    assert deadline_watch(as_of=D("2025-02-19"), send=False)["shown"]["cards"] == 0  # nothing changed

    with session() as s:  # recorded with Prefect away (no wake): the next watch catches up
        assessment.decide_to_assess(s, ref, True, D("2025-02-19"), D("2025-02-19"), "t")
    assert deadline_watch(as_of=D("2025-02-20"), send=False)["shown"]["retagged"] == 1
    tags = run_now(run.id).tags
    assert "overdue" not in tags and "caseworker:b-caseworker" in tags and "ehc" in tags
    assert "done on 2025-02-19, 2 days late" in card_of(ref).data
    assert no_personal_data(card_of(ref).data, Artifact.get("caseload-b-caseworker").data, json.dumps(tags))


def test_a_watch_that_cannot_reach_prefect_leaves_the_cards_for_the_next(store_url, monkeypatch):
    """Without a Prefect API the watch's cards and tags are skipped, not failed, and nothing is marked shown."""
    ref = late_decision_case()
    monkeypatch.setattr("tasks.caseload.api_answers", lambda: False)
    assert show_changed_cases.fn(D("2025-02-18")) == {"prefect": False, "cards": 0, "retagged": 0}
    with session() as s:
        assert changed_since_cards(s, D("2025-02-19"))[0] == {casework.get_case(s, ref).id}
