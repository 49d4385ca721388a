"""The review flows for real under the Prefect test server, driven by `ehc review …` with an injected clock: a
Year 6 → Year 7 transfer from the start of the autumn term to the amended plan naming the secondary school.
One `annual-review` run for the cycle, waiting between acts without a process; the caseworker's view in the
Prefect UI shows reference, stage and dates, and no personal data."""

from __future__ import annotations

import datetime as dt
import json

from models.notices import OutboxMessage
from prefect.artifacts import Artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName, LogFilter, LogFilterFlowRunId
from sqlmodel import select
from typer.testing import CliRunner

import tasks.review
from cli.main import app
from flows.annual_review import advance
from flows.review_scheduler import review_scheduler
from models import casework, reviews
from models.cases import Contact
from models.db import session
from tasks.review import artifact_key

D = dt.date.fromisoformat
NAME, DOB = "Ada Quill", "2014-01-15"  # Year 6 in 2024/25 (age 10 on 31 Aug 2024): Year 7 from 1 Sep 2025


def ehc(monkeypatch, today: str, *args: str):
    monkeypatch.setenv("EHC_TODAY", today)
    return CliRunner().invoke(app, list(args))


def outbox() -> list[OutboxMessage]:
    with session() as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def run_ids(name: str) -> set:
    with get_client(sync_client=True) as client:
        return {r.id for r in client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])))}


def test_year_6_to_7_transfer_through_the_review_flows(store_url, prefect_server, monkeypatch):
    with session() as s:
        case = casework.open_case(s, child_name=NAME, dob=D(DOB), requested_on=D("2023-10-20"), requester="parent",
                                  today=D("2024-03-10"), actor="t")
        reviews.put_plan_in_force(s, case, D("2024-03-10"), "t", setting="Oak Primary")
        s.add(Contact(role="senco", organisation="Oak Primary", email="senco@oak.example.org"))
        ref = case.reference
    before = run_ids(f"{ref} review 1")  # the other store backend's run of this test, if any

    # the transfer meeting is due by 22 Nov 2024 (autumn): the review opens a term ahead, on 1 April
    monkeypatch.setenv("EHC_TODAY", "2024-03-31")
    assert review_scheduler() == {"opened": 0, "advanced": 0, "term_lists": 0, "open_reviews": 0}
    monkeypatch.setenv("EHC_TODAY", "2024-04-01")
    assert review_scheduler() == {"opened": 1, "advanced": 1, "term_lists": 0, "open_reviews": 1}
    monkeypatch.setenv("EHC_TODAY", "2024-09-02")  # autumn: Oak Primary's SENCO gets the term's list, once
    assert review_scheduler() == {"opened": 0, "advanced": 0, "term_lists": 1, "open_reviews": 1}
    assert review_scheduler() == {"opened": 0, "advanced": 0, "term_lists": 1, "open_reviews": 1}
    (term_list,) = outbox()
    assert (term_list.kind, term_list.recipient_email) == ("review_list", "senco@oak.example.org")
    assert f"{ref} (review 1): meeting by 2024-11-22" in term_list.body_text
    assert "phase transfer (other, reg 18)" in term_list.body_text

    with session() as s:
        review = reviews.get_review(s, casework.get_case(s, ref))
        run_id = review.flow_run_id
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        assert run.name == f"{ref} review 1"
        assert set(run.tags) == {f"case:{ref}", "stage:review"}
        assert (run.state.name, run.state.type.value) == ("AwaitingReview", "SCHEDULED")
        assert run.state.message == "waiting for review:1:meeting (due 2024-11-22)"
    card = Artifact.get(artifact_key(ref)).data
    assert "| meeting by | 2024-11-22 |" in card and "| transfer due | 2025-02-14 |" in card

    assert ehc(monkeypatch, "2024-10-01", "review", "schedule", ref, "--on", "2024-11-15").exit_code == 0
    for command, on in (("invitations", "2024-10-25"), ("circulated", "2024-10-30")):
        assert ehc(monkeypatch, on, "review", command, ref, "--on", on, "--no-run").exit_code == 0
    held = ehc(monkeypatch, "2024-11-15", "review", "meeting", ref, "--on", "2024-11-15")
    assert held.exit_code == 0, held.output
    assert ehc(monkeypatch, "2024-11-25", "review", "report", ref, "--on", "2024-11-25").exit_code == 0
    decided = ehc(monkeypatch, "2024-12-06", "review", "decide", ref, "--decision", "amend", "--on", "2024-12-06")
    assert decided.output.strip().endswith("amended plan due 2025-01-31")  # 8 weeks from the notice
    notice = outbox()[-1]
    assert (notice.kind, notice.recipient_role, notice.on) == ("review_amend", "family", D("2024-12-06"))
    assert "until 2024-12-20" in notice.body_text  # 15 days beginning with 6 Dec (reg 22(2))
    assert notice.subject == f"{ref}: annual review decision: amend (reg 22(2))"

    early = ehc(monkeypatch, "2024-12-20", "review", "amend", ref, "--on", "2024-12-20", "--next-setting", "Hill High")
    assert early.exit_code == 2 and "representations on the proposed amendments run until 2024-12-20" in early.output
    unnamed = ehc(monkeypatch, "2025-01-20", "review", "amend", ref, "--on", "2025-01-20")
    assert unnamed.exit_code == 2 and "--next-setting" in unnamed.output
    done = ehc(monkeypatch, "2025-01-20", "review", "amend", ref, "--on", "2025-01-20", "--next-setting", "Hill High")
    assert done.exit_code == 0, done.output

    with session() as s:
        case = casework.get_case(s, ref)
        transfer = casework.find_step(s, case, "review:1:phase_transfer")
        assert (transfer.due_on, transfer.completed_on, transfer.status) == (D("2025-02-14"), D("2025-01-20"), "done")
        assert casework.find_step(s, case, "review.annual:2").due_on == D("2025-11-14")  # from the 15 Nov meeting
        assert case.stage == "plan_in_force"
    with get_client(sync_client=True) as client:
        assert run_ids(f"{ref} review 1") - before == {run.id}  # one run for the cycle, run again after each act
        final = client.read_flow_run(run_id)
        assert final.state.is_completed() and final.run_count >= 5
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
    seen = json.dumps([final.name, final.tags, final.parameters, final.state.message]) + card
    seen += Artifact.get(artifact_key(ref)).data + Artifact.get("open-reviews").data + " ".join(x.message for x in logs)
    assert NAME.split()[0] not in seen and NAME.split()[1] not in seen and DOB not in seen
    assert "| stage | complete" not in seen  # the card is a table of dates; the stage line reads:
    assert "**Stage:** complete (complete)" in Artifact.get(artifact_key(ref)).data


def test_three_yearly_cycles_of_a_plan_issued_on_29_february_one_run_each(store_url, prefect_server, monkeypatch):
    """Acts recorded with `--no-run`; the daily scheduler (run here on the days something happens) opens each
    cycle a term ahead and carries the changed review on. Each cycle's period starts with the last meeting."""
    with session() as s:
        case = casework.open_case(s, child_name=NAME, dob=D("2018-05-01"), requested_on=D("2023-10-16"),
                                  requester="parent", today=D("2024-02-29"), actor="t")
        reviews.put_plan_in_force(s, case, D("2024-02-29"), "t", setting="Oak Primary")
        ref = case.reference
    names = [f"{ref} review {n}" for n in (1, 2, 3)]
    before = set().union(*(run_ids(name) for name in names))
    cycles = [  # opens, meeting, decision: meeting by 31 Jan 2025, then 22 Dec 2025, then 2 Nov 2026
        ("2024-09-02", "2025-01-20", "2025-02-10"),
        ("2025-04-01", "2025-12-01", "2025-12-15"),
        ("2026-04-01", None, None),
    ]
    for opens, meeting, decided in cycles:
        monkeypatch.setenv("EHC_TODAY", opens)
        assert review_scheduler()["opened"] == 1
        if meeting is None:
            break
        for args in (("schedule", ref, "--on", meeting), ("meeting", ref, "--on", meeting),
                     ("decide", ref, "--decision", "maintain", "--on", decided)):
            result = ehc(monkeypatch, decided, "review", *args, "--no-run")
            assert result.exit_code == 0, result.output
        assert review_scheduler()["advanced"] == 1

    with session() as s:
        case = casework.get_case(s, ref)
        assert [(r.cycle, r.anchor_on, r.annual_due_on, r.status) for r in reviews.reviews_of(s, case)] == [
            (1, D("2024-02-29"), D("2025-02-28"), "complete"),
            (2, D("2025-01-20"), D("2026-01-19"), "complete"),
            (3, D("2025-12-01"), D("2026-11-30"), "open"),
        ]
    with get_client(sync_client=True) as client:
        runs = {}
        for name in names:
            (run_id,) = run_ids(name) - before
            runs[name] = client.read_flow_run(run_id).state
    assert [(state.type.value, state.name) for state in runs.values()] == [
        ("COMPLETED", "Completed"), ("COMPLETED", "Completed"), ("SCHEDULED", "AwaitingReview")]
    assert runs[names[2]].message == "waiting for review:3:meeting (due 2026-11-02)"
    assert "| annual due | 2026-11-30 |" in Artifact.get(artifact_key(ref)).data


def test_a_failed_review_run_is_run_again_and_sends_once(store_url, prefect_server, monkeypatch):
    with session() as s:
        case = casework.open_case(s, child_name=NAME, dob=D("2018-05-01"), requested_on=D("2023-10-16"),
                                  requester="parent", today=D("2024-02-29"), actor="t")
        reviews.put_plan_in_force(s, case, D("2024-02-29"), "t")
        ref = case.reference
        reviews.open_review(s, case, D("2024-09-02"), "t")
    monkeypatch.setenv("EHC_TODAY", "2024-09-02")
    first = advance(ref)
    assert first.name == "AwaitingReview"
    with session() as s:
        case = casework.get_case(s, ref)
        reviews.record_meeting(s, case, D("2025-01-20"), "t")
        reviews.decide(s, case, "maintain", D("2025-02-10"), "t")

    def broken(*args, **kwargs):
        raise ConnectionError("store went away")

    monkeypatch.setenv("EHC_TODAY", "2025-02-10")
    with monkeypatch.context() as patched:
        patched.setattr(tasks.review, "enqueue", broken)  # the decision notice cannot be written
        assert advance(ref).is_failed()
    assert outbox() == []
    monkeypatch.setenv("EHC_TODAY", "2025-02-11")
    assert review_scheduler()["advanced"] == 1  # the failed run is run again, from the top
    assert review_scheduler()["advanced"] == 0
    assert [m.kind for m in outbox()] == ["review_maintain"]
    with session() as s:
        run_id = reviews.get_review(s, casework.get_case(s, ref), 1).flow_run_id
    assert run_id == str(first.state_details.flow_run_id)  # the same run, not a second one
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(run_id).state.is_completed()
