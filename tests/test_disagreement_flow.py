"""A disagreement thread's run for real under the Prefect test server, a runner serving the thread deployments,
and an injected clock: an appeal lodged from `ehc` starts its run `REF appeal 1`, which suspends on the council's
response; the response answered on the run's form (as the Prefect UI does, `resume_flow_run`) moves it on to the
Tribunal's decision; the order, recorded while Prefect was away, is caught up by the reconciler and the run
waits on the order's limits; it ends when the thread waits on nothing more. A complaint's run ends at the
council's response and is run again when the complaint goes to the Ombudsman. The daily watch opens each
cease-review prompt at 25 once, and chases it."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from prefect.flow_runs import resume_flow_run
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlmodel import select

from deployments.needs_assessment import serving
from flows.deadline_watch import deadline_watch
from flows.disagreement import FLOWS
from flows.reconcile import reconcile_all
from models import casework, threads
from models.appeals import Appeal
from models.cases import Case, Contact
from models.db import session
from models.outbox import OutboxMessage
from models.vocabulary import CEASE_REVIEW_KEY, AppealStatus, CaseStatus, Stage, Thread
from tasks import disagreement as ev
from tasks import waiting
from tasks.waiting import case_run, paused_on, settle
from tests.test_disagreement import NAME, ok, refused_case

D = dt.date.fromisoformat
NUMBERS = itertools.count(1)  # one Prefect server per session: each case has a reference of its own


@pytest.fixture
def runner(prefect_server):
    with serving(alongside=FLOWS) as served:
        yield served


def renumbered(reference: str) -> str:
    with session() as s:
        case = s.exec(select(Case).where(Case.reference == reference)).one()
        case.reference = f"EHC-2098-{next(NUMBERS):05d}"
        s.add(case)
        s.add(Contact(role="sen_caseworker", organisation="SEN team", name="Ada Caseworker",
                      email="ada.caseworker@council.example.org"))
        return case.reference


def appeal_run(ref: str, after=None):
    run = case_run(ref, Thread.APPEAL)
    return settle(run.id, after=after.state.id if after else None)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_an_appeal_runs_on_its_own_waiting_run_from_lodged_to_its_order_carried_out(store_url, runner,
                                                                                      monkeypatch):
    ref = renumbered(refused_case())
    said = ok(monkeypatch, "2025-04-01", "appeal", "lodged", ref, "--on", "2025-04-01", "--against",
              "refusal-to-assess", "--response-due", "2025-04-29")
    assert said.endswith("(1 notice; run started)\n")
    run = appeal_run(ref)
    assert run.name == f"{ref} appeal 1" and run.parameters == {"reference": ref, "n": 1}
    assert paused_on(run) == ev.AppealResponded.slug()
    assert sorted(run.tags) == sorted([f"case:{ref}", "stage:appeal", "caseworker:unassigned"])
    assert NAME not in str(run.model_dump())  # the run holds the reference, never the child

    # the council's response, answered on the form in the name of a member of staff
    monkeypatch.setenv("EHC_TODAY", "2025-04-28")
    resume_flow_run(run.id, run_input={"on": "2025-04-28", "recorded_by": "Ada Caseworker"})
    run = appeal_run(ref, after=run)
    assert paused_on(run) == ev.AppealDecided.slug()
    with session() as s:
        case = casework.get_case(s, ref)
        appeal = s.exec(select(Appeal).where(Appeal.case_id == case.id)).one()
        [responded] = [e for e in casework.audit_log(s, case) if e.action == "appeal responded to"]
    assert (appeal.status, appeal.responded_on) == (AppealStatus.RESPONDED, D("2025-04-28"))
    assert responded.actor == "Ada Caseworker (Prefect form)"

    # the Tribunal's order recorded while Prefect was away: the act stands, and the reconciler catches the run up
    with temporary_settings(updates={PREFECT_API_URL: ""}):
        assert "run not woken" in ok(monkeypatch, "2025-07-07", "appeal", "decided", ref, "--on", "2025-07-07",
                                     "--outcome", "order", "--order", "assess")
    assert case_run(ref, Thread.APPEAL).state.id == run.state.id  # still suspended on the decision's form
    with session() as s:
        assert (ref, Thread.APPEAL, 1) in threads.expecting_runs(s)
    assert reconcile_all(D("2025-07-07"), full=True)["runs"] == {"resumed": 1}
    run = appeal_run(ref, after=run)
    assert paused_on(run) == ev.AppealLimitMet.slug()

    # one limit of three met from `ehc`: the run keeps waiting on the others
    said = ok(monkeypatch, "2025-07-14", "appeal", "complied", ref, "--limit", "tribunal.assess", "--on",
              "2025-07-14")
    assert said.endswith("run waiting)\n")
    assert case_run(ref, Thread.APPEAL).state.id == run.state.id

    # no plan after all: the case closes again, the thread waits on nothing, the run ends
    said = ok(monkeypatch, "2025-09-08", "appeal", "complied", ref, "--limit", "tribunal.not_to_issue", "--on",
              "2025-09-08")
    assert said.endswith("run resumed)\n")
    run = appeal_run(ref, after=run)
    assert run.state.is_completed()
    with session() as s:
        assert (ref, Thread.APPEAL, 1) not in threads.expecting_runs(s)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_complaint_run_ends_at_the_response_and_comes_back_for_the_ombudsman(store_url, runner, monkeypatch):
    ref = renumbered(refused_case())
    assert ok(monkeypatch, "2025-03-03", "complaint", "received", ref, "--on", "2025-03-03").endswith("run started)\n")
    run = settle(case_run(ref, Thread.COMPLAINT).id)
    assert run.name == f"{ref} complaint 1" and paused_on(run) == ev.ComplaintAcknowledged.slug()
    ok(monkeypatch, "2025-03-04", "complaint", "acknowledged", ref, "--on", "2025-03-04")
    run = settle(run.id, after=run.state.id)
    assert paused_on(run) == ev.ComplaintResponded.slug()
    ok(monkeypatch, "2025-03-20", "complaint", "responded", ref, "--on", "2025-03-20", "--finding", "not-upheld")
    run = settle(run.id, after=run.state.id)
    assert run.state.is_completed()
    # months later the family goes to the Ombudsman: the same run waits again, for the decision
    assert ok(monkeypatch, "2025-06-02", "complaint", "escalated", ref, "--on", "2025-06-02").endswith(
        "run retried)\n")
    run = settle(run.id, after=run.state.id)
    assert paused_on(run) == ev.OmbudsmanDecided.slug()
    ok(monkeypatch, "2025-09-01", "complaint", "ombudsman", ref, "--on", "2025-09-01", "--finding", "upheld")
    assert settle(run.id, after=run.state.id).state.is_completed()


def test_each_thread_form_is_safe():
    """No reference on a form, and every choice explicit (no default), as the needs assessment's."""
    for forms in ev.WAITS.values():
        for form in forms:
            schema = form.model_json_schema()
            assert "reference" not in schema["properties"], form
            assert "on" in schema["required"], form
    decided = ev.AppealDecided.model_json_schema()
    assert "outcome" in decided["required"] and "default" not in decided["properties"]["outcome"]
    assert "limit" in ev.AppealLimitMet.model_json_schema()["required"]
    assert waiting.CaseEvent.model_fields["recorded_by"].default is None  # checked against staff when given


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_daily_watch_prompts_a_cease_review_at_25_once_and_chases_it(store_url, prefect_server, monkeypatch):
    with session() as s:  # a plan in force for a young person who turns 25 on 2025-05-01
        case = casework.open_case(s, child_name="Older One", dob=D("2000-05-01"), requested_on=D("2024-01-08"),
                                  requester="parent", today=D("2024-01-08"), actor="t")
        case.status, case.stage, case.plan_issued_on = CaseStatus.PLAN_IN_FORCE, Stage.PLAN_IN_FORCE, D("2024-05-01")
        s.add(case)
        ref = case.reference
    for day in ("2025-04-30", "2025-05-01", "2025-05-02"):
        deadline_watch(as_of=D(day), send=False)
    with session() as s:
        case = casework.get_case(s, ref)
        prompt = casework.find_step(s, case, CEASE_REVIEW_KEY)
        prompted = [e for e in casework.audit_log(s, case) if e.action == "cease review prompted"]
    assert (prompt.started_on, prompt.due_on) == (D("2025-05-01"), D("2025-07-31"))  # reg 46(1)(a): 31 July
    assert [e.on for e in prompted] == [D("2025-05-01")]  # the next day's watch opens nothing more
    assert prompted[0].actor == "deadline-watch"
    deadline_watch(as_of=D("2025-07-21"), send=False)  # 10 days before it is due: the caseworker is reminded
    with session() as s:
        chased = s.exec(select(OutboxMessage).where(OutboxMessage.step_id == prompt.id)).all()
    assert [(m.on, m.kind) for m in chased] == [(D("2025-07-21"), "reminder")]


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_second_dispute_has_its_own_run_and_the_first_one_s_ends(store_url, runner, monkeypatch):
    ref = renumbered(refused_case())
    ok(monkeypatch, "2025-03-03", "dispute", "raised", ref, "--with", "health", "--over", "funding", "--on",
       "2025-03-03")
    first = settle(case_run(ref, Thread.DISPUTE).id)
    assert first.name == f"{ref} dispute 1" and paused_on(first) == ev.DisputeResolved.slug()
    assert ok(monkeypatch, "2025-03-10", "dispute", "raised", ref, "--with", "social_care", "--over", "provision",
              "--on", "2025-03-10").endswith("run started)\n")
    second = settle(case_run(ref, Thread.DISPUTE).id)
    assert second.name == f"{ref} dispute 2" and paused_on(second) == ev.DisputeResolved.slug()
    assert settle(first.id, after=first.state.id).state.is_completed()  # its acts are recorded on the later one
    ok(monkeypatch, "2025-03-20", "dispute", "resolved", ref, "--on", "2025-03-20", "--how", "funding agreed")
    assert settle(second.id, after=second.state.id).state.is_completed()
