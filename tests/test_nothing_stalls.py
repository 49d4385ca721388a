"""Nothing stalls: an act recorded while the Prefect API is away still leaves the case chased, and the next watch
brings the case's run in line with the store; every open case keeps the invariant after every event of every
scripted path; a case that breaks it goes on the SEN team manager's queue with the reason."""

from __future__ import annotations

import datetime as dt

import prefect.settings as ps
import pytest
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from deployments.demo import load, load_directory
from deployments.needs_assessment import serving, settle_cases
from deployments.server import prefect_server
from models import casework, invariant
from models.cases import Case, Step
from models.db import session
from models.escalation import Escalation
from models.outbox import OutboxMessage
from models.vocabulary import StepKey, StepStatus
from tasks.waiting import case_run, start

D = dt.date.fromisoformat
PARENT = {"name": "Pat Parent-Test", "email": "pat.parent@family.example.org"}  # told every family notice


def ehc(monkeypatch, today: str, *args: str):
    monkeypatch.setenv("EHC_TODAY", today)
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def open_case(name: str = "Nia Stall-Test") -> str:
    with session() as s:
        return casework.open_case(s, child_name=name, dob=D("2015-05-05"), requested_on=D("2026-01-05"),
                                  requester="parent", today=D("2026-01-05"), actor="t",
                                  parent=PARENT).reference


def test_a_decision_recorded_while_prefect_is_away_leaves_the_case_chased_and_the_watch_moves_its_run_on(
        store_url, monkeypatch, tmp_path):
    ref = open_case()
    with prefect_server(f"sqlite+aiosqlite:///{tmp_path / 'prefect.db'}", tmp_path / "server.log"), serving():
        start(ref)
        settle_cases([ref])
        assert case_run(ref).state.state_details.pause_key.startswith("decision-to-assess-")
        with ps.temporary_settings(updates={ps.PREFECT_API_URL: "http://127.0.0.1:9/api",
                                            ps.PREFECT_CLIENT_MAX_RETRIES: 0}):
            result = ehc(monkeypatch, "2026-02-09", "case", "decide", ref, "--assess", "yes", "--on", "2026-02-09")
        assert "was not resumed" in result.stderr and "(run not reached)" in result.stdout
        with session() as s:  # the store moved on with the act itself: advice asked, every step open and dated
            case = casework.get_case(s, ref)
            steps = {st.key: st for st in casework.open_steps(s, case)}
            requests = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "advice_request")).all()
        assert {"advice:health", "advice:ep", "advice:social_care", StepKey.PLAN_FINAL} <= set(steps)
        assert len(requests) == 5 and all(st.due_on for st in steps.values())
        assert case_run(ref).state.state_details.pause_key.startswith("decision-to-assess-")  # the run: behind

        result = ehc(monkeypatch, "2026-02-10", "watch", "--no-send")  # the API is back
        assert "resumed 1" in result.stdout
        settle_cases([ref])
        run = case_run(ref)
        assert run.state.is_paused() and run.state.state_details.pause_key.startswith("advice-received-")
        assert "stage:advice" in run.tags
    with session() as s:
        assert len(s.exec(select(OutboxMessage).where(OutboxMessage.kind == "advice_request")).all()) == 5  # once


def test_every_open_case_keeps_the_invariant_after_every_event_of_the_scripted_paths(store_url, monkeypatch):
    """The store alone (no runs): each act writes what follows it, so the invariant holds between any two acts."""
    runner = CliRunner()
    load_directory(lambda args: runner.invoke(app, args).stdout)  # the demo's schools and directory
    for script in load().values():
        monkeypatch.setenv("EHC_TODAY", script.requested_on)
        family = [a for k, v in script.parent.items() for a in (f"--parent-{k}", v)]
        opened = runner.invoke(app, ["case", "open", "--child-name", script.child_name, "--dob", script.dob,
                                     "--requested-on", script.requested_on, "--requester", "parent", *family])
        ref = opened.stdout.strip()
        with session() as s:
            assert invariant.holds(s, ref), (script.name, "open")
        for day, events in sorted(script.events.items()):
            monkeypatch.setenv("EHC_TODAY", day)
            for args in events:
                result = runner.invoke(app, [a.format(ref=ref) for a in args])
                assert result.exit_code == 0, result.output
                with session() as s:
                    assert invariant.holds(s, ref), (script.name, args)
    with session() as s:
        assert invariant.stalled_cases(s) == []


def test_a_case_with_nothing_owed_goes_on_the_sen_team_managers_queue_until_it_moves_again(store_url,
                                                                                              monkeypatch):
    from flows.reconcile import reconcile_all

    ref = open_case()
    with session() as s:  # a fault of the past left nothing open: the steps cancelled by hand
        case = casework.get_case(s, ref)
        for step in casework.open_steps(s, case):
            casework.cancel_step(s, step, "t", "lost")
    report = reconcile_all(D("2026-01-12"))
    assert report["stalled"] == 1 and report["prefect"] is False
    with session() as s:
        case = casework.get_case(s, ref)
        flagged = casework.find_step(s, case, StepKey.CASE_STALLED)
        [item] = s.exec(select(Escalation).where(Escalation.step_id == flagged.id)).all()
        assert invariant.holds(s, ref)  # the manager owes it now, and the watch chases it
    assert (flagged.status, flagged.due_on, item.queue) == (StepStatus.OPEN, D("2026-01-12"), "sen_team_manager")
    assert "nothing open" in flagged.details["reason"]
    assert reconcile_all(D("2026-01-13"))["stalled"] == 1  # flagged once: the same step, the same item
    with session() as s:
        case = casework.get_case(s, ref)
        assert len(s.exec(select(Escalation)).all()) == 1
        casework.add_step(s, case, key=StepKey.ASSESS_DECISION + ":again", kind="decision_to_assess",
                          rule_id="assess.decision", role="la", start=D("2026-01-13"))
    assert reconcile_all(D("2026-01-14"))["recovered"] == 1
    with session() as s:
        assert s.get(Step, flagged.id).status == StepStatus.DONE
        assert s.get(Escalation, item.id).resolved_at is not None
        assert s.exec(select(Case)).one().status == "open"


@pytest.fixture(autouse=True)
def _no_prefect_api():
    """No Prefect API unless a test starts its own server: runs are left alone (and no other test's are seen)."""
    with ps.temporary_settings(updates={ps.PREFECT_API_URL: ""}):
        yield


REVIEW_AND_CEASE = [  # (today, command): a review that amends the plan, then the plan ceased after its appeal window
    ("2024-09-02", ["review", "open", "{ref}", "--no-run"]),
    ("2024-09-03", ["review", "schedule", "{ref}", "--on", "2024-10-01", "--no-run"]),
    ("2024-09-17", ["review", "invitations", "{ref}", "--on", "2024-09-17", "--no-run"]),
    ("2024-10-01", ["review", "meeting", "{ref}", "--on", "2024-10-01", "--no-run"]),
    ("2024-10-10", ["review", "report", "{ref}", "--on", "2024-10-10", "--no-run"]),
    ("2024-10-20", ["review", "decide", "{ref}", "--decision", "amend", "--on", "2024-10-20", "--no-run"]),
    ("2024-11-20", ["review", "amend", "{ref}", "--on", "2024-11-20", "--no-run"]),
    ("2024-12-02", ["plan", "cease", "{ref}", "--on", "2024-12-02", "--reasons", "needs met", "--no-run"]),
    ("2025-03-03", ["plan", "ceased", "{ref}", "--on", "2025-03-03", "--no-run"]),
]
TRANSFER = [
    ("2025-05-01", ["plan", "transfer-out", "{ref}", "--aware-on", "2025-05-01", "--move-on", "2025-06-01",
                    "--to-council", "North Council", "--to-email", "sen@north.example.org"]),
    ("2025-05-20", ["plan", "transferred", "{ref}", "--on", "2025-05-20", "--no-run"]),
]


@pytest.mark.parametrize("path", [REVIEW_AND_CEASE, TRANSFER], ids=["review, amend, cease", "transfer"])
def test_a_plan_in_force_keeps_the_invariant_through_its_reviews_ceasing_and_transfer(store_url, monkeypatch, path):
    from tests.test_review_cycles import plan_in_force

    ref = plan_in_force("2015-01-15", "2024-02-29")
    runner = CliRunner()
    with session() as s:
        assert invariant.holds(s, ref)
    for today, args in path:
        monkeypatch.setenv("EHC_TODAY", today)
        result = runner.invoke(app, [a.format(ref=ref) for a in args])
        assert result.exit_code == 0, (args, result.output)
        with session() as s:
            assert invariant.holds(s, ref), args
    with session() as s:
        assert casework.get_case(s, ref).status == "closed" and invariant.stalled_cases(s) == []
