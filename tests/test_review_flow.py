"""The review flows for real under the Prefect test server, a runner serving the `annual-review` deployment, and
an injected clock: one run per cycle that suspends on each act it waits for (the meeting date, the meeting,
the decision, the amended plan) and holds no process meanwhile. The act arrives from `ehc review …` (which
records the typed event and wakes the run) or on the run's form in the Prefect UI (`resume_flow_run` with the
answer, as the UI does); the daily scheduler opens each cycle, starts its run, and catches up runs the store
moved past. What Prefect holds shows reference, stage and dates, and no personal data."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from uuid import uuid4

import httpx
import pytest
from prefect.artifacts import Artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName, LogFilter, LogFilterFlowRunId
from prefect.client.schemas.objects import FlowRun
from prefect.flow_runs import resume_flow_run
from sqlmodel import select
from typer.testing import CliRunner

import cli.reviews
import tasks.review
from cli.main import app
from deployments.needs_assessment import serving
from flows.annual_review import annual_review
from flows.review_scheduler import review_scheduler
from models import casework, review_cycle
from models.case_card import card_key
from models.cases import Case, Contact
from models.db import session
from models.outbox import OutboxMessage
from models.review import get_review, reviews_of
from tasks.review import (
    AmendedPlanIssued,
    ReviewDecisionMade,
    ReviewMeetingHeld,
    ScheduleReviewMeeting,
    start_review,
    start_review_runs,
)
from tasks.waiting import paused_on, settle

D = dt.date.fromisoformat
NAME, DOB = "Ada Quill", "2014-01-15"  # Year 6 in 2024/25 (age 10 on 31 Aug 2024): Year 7 from 1 Sep 2025
NUMBERS = itertools.count(1)  # one Prefect server per test session: each test's case has a reference of its own

PARENT = {"name": "Pat Parent-Test", "email": "pat.parent@family.example.org"}  # told every notice


def renumbered(reference: str) -> str:
    """Give the case a reference no other test of the session used: a run's name (and its idempotency key)
    is made of it, and the Prefect server outlives each test's store."""
    with session() as s:
        case = s.exec(select(Case).where(Case.reference == reference)).one()
        case.reference = f"EHC-2099-{next(NUMBERS):05d}"
        s.add(case)
        return case.reference


@pytest.fixture
def runner(prefect_server):
    """A runner serving the deployments, `annual-review` among them, for the test's duration."""
    with serving(alongside=(annual_review,)) as served:
        yield served


def ehc(monkeypatch, today: str, *args: str):
    monkeypatch.setenv("EHC_TODAY", today)
    return CliRunner().invoke(app, list(args))


def outbox() -> list[OutboxMessage]:
    with session() as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def run_ids(name: str) -> set:
    with get_client(sync_client=True) as client:
        return {r.id for r in client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])))}


def run_of(reference: str, cycle: int | None = None):
    """The cycle's run (default: the open cycle's), once it has suspended or finished."""
    with session() as s:
        run_id = get_review(s, casework.get_case(s, reference), cycle).flow_run_id
    return settle(run_id)


def moved_on(run):
    """The run's next suspension or end, after the one it is in."""
    return settle(run.id, after=run.state.id)


def briefing(run) -> str:
    """The Markdown shown above the run's form."""
    with get_client(sync_client=True) as client:
        return json.loads(client.read_flow_run_input(run.id, run.state.state_details.run_input_keyset["description"]))


def plan_in_force(dob: str, requested: str, issued: str, setting: str | None = None) -> str:
    with session() as s:
        case = casework.open_case(s, child_name=NAME, dob=D(dob), requested_on=D(requested), requester="parent",
                                  parent=PARENT, today=D(issued), actor="t")
        review_cycle.put_plan_in_force(s, case, D(issued), "t", setting=setting)
        ref = case.reference
    return renumbered(ref)


def test_year_6_to_7_transfer_through_the_review_flows(store_url, runner, monkeypatch):
    ref = plan_in_force(DOB, "2023-10-20", "2024-03-10", setting="Oak Primary")
    with session() as s:
        s.add(Contact(role="senco", organisation="Oak Primary", email="senco@oak.example.org"))

    # the transfer meeting is due by 22 Nov 2024 (autumn): the review opens a term ahead, on 1 April
    quiet = {"opened": 0, "started": 0, "caught_up": 0, "term_lists": 0, "open_reviews": 0}
    monkeypatch.setenv("EHC_TODAY", "2024-03-31")
    assert review_scheduler() == quiet
    monkeypatch.setenv("EHC_TODAY", "2024-04-01")
    assert review_scheduler() == {**quiet, "opened": 1, "started": 1, "open_reviews": 1}
    run = run_of(ref)
    assert run.name == f"{ref} review 1" and run.parameters == {"reference": ref, "cycle": 1}
    # the fixture puts the plan in force without the assessment's acts: its decision and final plan are open, late
    assert set(run.tags) == {f"case:{ref}", "stage:review", "caseworker:unassigned", "overdue"}
    assert run.state.is_paused() and paused_on(run) == ScheduleReviewMeeting.slug()
    assert "Due: **2024-11-22**" in briefing(run) and "ehc review schedule" in briefing(run)
    card = Artifact.get(card_key(ref)).data
    assert "| meeting by | 2024-11-22 |" in card and "| transfer due | 2025-02-14 |" in card

    monkeypatch.setenv("EHC_TODAY", "2024-09-02")  # autumn: Oak Primary's SENCO gets the term's list, once
    assert review_scheduler() == {**quiet, "term_lists": 1, "open_reviews": 1}
    assert review_scheduler() == {**quiet, "term_lists": 1, "open_reviews": 1}
    (term_list,) = outbox()
    assert (term_list.kind, term_list.recipient_email) == ("review_list", "senco@oak.example.org")
    assert f"{ref} (review 1): meeting by 2024-11-22" in term_list.body_text
    assert "phase transfer (other, reg 18)" in term_list.body_text

    scheduled = ehc(monkeypatch, "2024-10-01", "review", "schedule", ref, "--on", "2024-11-15")
    assert scheduled.exit_code == 0 and f"{ref}: review run resumed" in scheduled.output, scheduled.output
    run = moved_on(run)
    assert paused_on(run) == ReviewMeetingHeld.slug()
    for command, on in (("invitations", "2024-10-25"), ("circulated", "2024-10-30")):
        assert ehc(monkeypatch, on, "review", command, ref, "--on", on, "--no-run").exit_code == 0
    held = ehc(monkeypatch, "2024-11-15", "review", "meeting", ref, "--on", "2024-11-15")
    assert held.exit_code == 0 and "review run resumed" in held.output, held.output
    run = moved_on(run)
    assert paused_on(run) == ReviewDecisionMade.slug()
    reported = ehc(monkeypatch, "2024-11-25", "review", "report", ref, "--on", "2024-11-25")
    assert reported.exit_code == 0 and "review run suspended" in reported.output  # the run waits for the decision
    decided = ehc(monkeypatch, "2024-12-06", "review", "decide", ref, "--decision", "amend", "--on", "2024-12-06")
    assert "amended plan due 2025-01-31" in decided.output  # 8 weeks from the notice
    notice = outbox()[-1]
    assert (notice.kind, notice.recipient_role, notice.on) == ("review_amend", "family", D("2024-12-06"))
    assert "until 2024-12-20" in notice.body_text  # 15 days beginning with 6 Dec (reg 22(2))
    assert notice.subject == f"{ref}: annual review decision: amend"
    run = moved_on(run)
    assert paused_on(run) == AmendedPlanIssued.slug()

    early = ehc(monkeypatch, "2024-12-20", "review", "amend", ref, "--on", "2024-12-20", "--next-setting", "Hill High")
    assert early.exit_code == 2 and "representations on the proposed amendments run until 2024-12-20" in early.output
    unnamed = ehc(monkeypatch, "2025-01-20", "review", "amend", ref, "--on", "2025-01-20")
    assert unnamed.exit_code == 2 and "--next-setting" in unnamed.output
    done = ehc(monkeypatch, "2025-01-20", "review", "amend", ref, "--on", "2025-01-20", "--next-setting", "Hill High")
    assert done.exit_code == 0, done.output
    final = moved_on(run)

    with session() as s:
        case = casework.get_case(s, ref)
        transfer = casework.find_step(s, case, "review:1:phase_transfer")
        assert (transfer.due_on, transfer.completed_on, transfer.status) == (D("2025-02-14"), D("2025-01-20"), "done")
        assert casework.find_step(s, case, "review.annual:2").due_on == D("2025-11-14")  # from the 15 Nov meeting
        assert case.stage == "plan_in_force"
    assert final.state.is_completed() and final.state.message == "review 1: complete"
    assert run_ids(f"{ref} review 1") == {run.id}  # one run for the cycle, resumed after each act it waited for
    assert set(final.tags) == {f"case:{ref}", "stage:plan_in_force", "caseworker:unassigned", "overdue"}
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
        inputs = client.request("POST", "/flow_runs/{id}/input/filter", path_params={"id": run.id},
                                json={"prefix": "", "limit": 200}).json()
        states = [st.model_dump_json() for st in client.read_flow_run_states(run.id)]
    seen = json.dumps([final.name, final.tags, final.parameters, inputs]) + card + " ".join(states)
    seen += Artifact.get(card_key(ref)).data + Artifact.get("open-reviews").data + " ".join(x.message for x in logs)
    assert "review-decision-made" in seen  # the forms and their briefings were read too
    assert NAME.split()[0] not in seen and NAME.split()[1] not in seen and DOB not in seen
    assert "## Review 1: complete (complete)" in Artifact.get(card_key(ref)).data  # the case card's review


def test_a_review_act_submitted_on_the_prefect_form_moves_the_review_on(store_url, runner, monkeypatch):
    """The caseworker answers the run's form in the Prefect UI: the run records the act itself (with its
    notices), and suspends on the next. A bad answer is refused, audited, and the form asked again."""
    ref = plan_in_force("2018-05-01", "2023-10-16", "2024-02-29")
    with session() as s:  # who answers the form must be in the council's directory
        s.add(Contact(role="sen_caseworker", organisation="SEN team", name="Ada Caseworker",
                      email="ada.caseworker@council.example.org"))
    assert ehc(monkeypatch, "2024-09-02", "review", "open", ref).exit_code == 0
    run = run_of(ref)
    assert paused_on(run) == ScheduleReviewMeeting.slug()

    monkeypatch.setenv("EHC_TODAY", "2024-10-01")  # the day the form is answered (the run's clock)
    resume_flow_run(run.id, run_input={"on": "2025-01-20", "recorded_by": "Ada Caseworker"})
    run = moved_on(run)
    assert paused_on(run) == ReviewMeetingHeld.slug()
    with session() as s:
        case = casework.get_case(s, ref)
        review = get_review(s, case)
        assert (review.meeting_on, review.stage) == (D("2025-01-20"), "meeting_scheduled")
        assert casework.find_step(s, case, "review:1:invitations").due_on == D("2025-01-06")  # M − 14
        trail = casework.audit_log(s, case)
    assert (trail[-1].action, trail[-1].actor) == ("review 1: meeting scheduled", "Ada Caseworker (Prefect form)")

    monkeypatch.setenv("EHC_TODAY", "2025-01-20")
    resume_flow_run(run.id, run_input={"on": "2024-01-01",  # before the review period
                                       "recorded_by": "Ada Caseworker"})
    refused = moved_on(run)
    assert paused_on(refused) == ReviewMeetingHeld.slug()  # asked again
    assert refused.state.state_details.pause_key != run.state.state_details.pause_key
    with session() as s:
        case = casework.get_case(s, ref)
        rejected = [e for e in casework.audit_log(s, case) if e.action == "input rejected"]
        assert not get_review(s, case).meeting_held
    assert [(e.detail["event"], e.detail["field"]) for e in rejected] == [("ReviewMeetingHeld", "--on")]

    resume_flow_run(refused.id, run_input={"on": "2025-01-20", "recorded_by": "Ada Caseworker"})
    run = moved_on(refused)
    assert paused_on(run) == ReviewDecisionMade.slug()
    monkeypatch.setenv("EHC_TODAY", "2025-02-10")
    resume_flow_run(run.id, run_input={"decision": "maintain", "on": "2025-02-10",
                                       "recorded_by": "Ada Caseworker"})
    final = moved_on(run)
    assert final.state.is_completed() and final.state.message == "review 1: complete"
    (notice,) = outbox()  # written by the run, with the decision, in one transaction
    assert (notice.kind, notice.recipient_role, notice.on) == ("review_maintain", "family", D("2025-02-10"))
    assert "next review is due by 2026-01-19" in notice.body_text  # 12 months starting with the 20 Jan meeting
    with session() as s:
        assert [(r.cycle, r.status, r.decision) for r in reviews_of(s, casework.get_case(s, ref))] == [
            (1, "complete", "maintain")]


def test_three_yearly_cycles_of_a_plan_issued_on_29_february_one_run_each(store_url, runner, monkeypatch):
    """Acts recorded with `--no-run`; the daily scheduler (run here on the days something happens) opens each
    cycle a term ahead, starts its run, and catches up the run the store has moved past. Each cycle's period
    starts with the last meeting."""
    ref = plan_in_force("2018-05-01", "2023-10-16", "2024-02-29", setting="Oak Primary")
    names = [f"{ref} review {n}" for n in (1, 2, 3)]
    cycles = [  # opens, meeting, decision: meeting by 31 Jan 2025, then 22 Dec 2025, then 2 Nov 2026
        ("2024-09-02", "2025-01-20", "2025-02-10"),
        ("2025-04-01", "2025-12-01", "2025-12-15"),
        ("2026-04-01", None, None),
    ]
    for n, (opens, meeting, decided) in enumerate(cycles, start=1):
        monkeypatch.setenv("EHC_TODAY", opens)
        assert review_scheduler()["started"] == 1
        run = run_of(ref, n)
        assert paused_on(run) == ScheduleReviewMeeting.slug()
        if meeting is None:
            break
        for args in (("schedule", ref, "--on", meeting), ("meeting", ref, "--on", meeting),
                     ("decide", ref, "--decision", "maintain", "--on", decided)):
            result = ehc(monkeypatch, decided, "review", *args, "--no-run")
            assert result.exit_code == 0, result.output
        assert review_scheduler()["caught_up"] == 1
        assert moved_on(run).state.is_completed()
        assert review_scheduler()["caught_up"] == 0

    with session() as s:
        case = casework.get_case(s, ref)
        assert [(r.cycle, r.anchor_on, r.annual_due_on, r.status) for r in reviews_of(s, case)] == [
            (1, D("2024-02-29"), D("2025-02-28"), "complete"),
            (2, D("2025-01-20"), D("2026-01-19"), "complete"),
            (3, D("2025-12-01"), D("2026-11-30"), "open"),
        ]
    with get_client(sync_client=True) as client:
        states = {}
        for name in names:
            (run_id,) = run_ids(name)
            states[name] = client.read_flow_run(run_id).state
    assert [(state.type.value, state.name) for state in states.values()] == [
        ("COMPLETED", "Completed"), ("COMPLETED", "Completed"), ("PAUSED", "Suspended")]
    assert "Due: **2026-11-02**" in briefing(run)  # the third cycle's meeting
    assert "| annual due | 2026-11-30 |" in Artifact.get(card_key(ref)).data


def test_the_runs_of_many_open_reviews_start_at_once_each_once_and_tied_to_their_cycles(store_url, runner,
                                                                                       monkeypatch):
    """A term start opens many reviews: their runs are created many at a time, each named, tagged and given its
    cycle as a single start gives it, and every cycle is tied to its run. Starting them again (the next
    morning's pass, a pass after a crash, `ehc review open` of the same cycle) makes no second run."""
    monkeypatch.setenv("EHC_TODAY", "2024-09-02")
    refs = [plan_in_force(f"2018-05-0{n}", "2023-10-16", "2024-02-29") for n in range(1, 5)]  # four children
    with session() as s:
        for ref in refs:
            review_cycle.open_review(s, casework.get_case(s, ref), D("2024-09-02"), "t")

    assert sorted(start_review_runs.fn()) == sorted((ref, 1) for ref in refs)
    with get_client(sync_client=True) as client:
        for ref in refs:
            (run_id,) = run_ids(f"{ref} review 1")
            run = run_of(ref)  # the run the store ties the cycle to, once it has suspended
            assert run.id == run_id and paused_on(run) == ScheduleReviewMeeting.slug()
            created = client.read_flow_run(run_id)
            assert created.parameters == {"reference": ref, "cycle": 1}
            assert sorted(created.tags) == sorted([f"case:{ref}", "stage:review", "caseworker:unassigned",
                                                   "overdue"])

    assert start_review_runs.fn() == []
    assert start_review(refs[0], 1).id == run_of(refs[0]).id
    assert [len(run_ids(f"{ref} review 1")) for ref in refs] == [1, 1, 1, 1]


def test_a_run_that_fails_to_start_is_raised_once_the_others_are_tied(store_url, monkeypatch):
    """A term start where the API refuses one creation: the runs made are tied to their cycles all the same, and
    the failure is raised (the scheduler's run shows it); the next pass starts the cycle left without a run."""
    monkeypatch.setenv("EHC_TODAY", "2024-09-02")
    refs = [plan_in_force(f"2018-06-0{n}", "2023-10-16", "2024-02-29") for n in (1, 2)]
    with session() as s:
        for ref in refs:
            review_cycle.open_review(s, casework.get_case(s, ref), D("2024-09-02"), "t")
    made = FlowRun(flow_id=uuid4(), name=f"{refs[0]} review 1")
    monkeypatch.setattr(tasks.review, "start_all", lambda starts: [made, httpx.ConnectError("connection refused")])
    with pytest.raises(httpx.ConnectError):
        start_review_runs.fn()
    with session() as s:
        assert [get_review(s, casework.get_case(s, ref), 1).flow_run_id for ref in refs] == [str(made.id), None]


def test_prefect_unreachable_loses_nothing_and_the_scheduler_catches_the_run_up(store_url, runner, monkeypatch):
    """`ehc` records the act and its notice even when the Prefect API does not answer: a warning, exit 0; the
    next morning's scheduler resumes the run, which sends nothing twice."""
    ref = plan_in_force("2018-05-01", "2023-10-16", "2024-02-29")
    assert ehc(monkeypatch, "2024-09-02", "review", "open", ref).exit_code == 0
    run = run_of(ref)
    for args in (("schedule", ref, "--on", "2025-01-20"), ("meeting", ref, "--on", "2025-01-20")):
        assert ehc(monkeypatch, "2025-01-20", "review", *args, "--no-run").exit_code == 0
    def unreachable(event, wait=60):
        raise httpx.ConnectError("connection refused")

    with monkeypatch.context() as down:
        down.setattr(cli.reviews, "wake", unreachable)
        decided = ehc(monkeypatch, "2025-02-10", "review", "decide", ref, "--decision", "maintain", "--on",
                      "2025-02-10")
    assert decided.exit_code == 0, decided.output
    assert "warning: the Prefect run of" in decided.output and "review scheduler catches it up" in decided.output
    assert [m.kind for m in outbox()] == ["review_maintain"]  # recorded with the decision
    assert settle(run.id).state.is_paused()  # still suspended for the meeting date

    monkeypatch.setenv("EHC_TODAY", "2025-02-11")
    assert review_scheduler()["caught_up"] == 1
    assert moved_on(run).state.is_completed()
    assert review_scheduler()["caught_up"] == 0
    assert [m.kind for m in outbox()] == ["review_maintain"]
