"""Ceasing a plan (reg 29-31, CFA s45) and transfer to another council (reg 15): the case closes with its
statutory notices and dates; bad input from `ehc` writes nothing.

Expected dates are worked by hand (arithmetic in the comments)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from models import casework, ceasing, review_cycle, review_decision
from models.db import session
from models.errors import InputError
from models.outbox import OutboxMessage
from models.review import get_review
from notifications import compose
from tests.test_review_cycles import act, clock  # noqa: F401 (the module's clock)
from tests.test_review_cycles import plan_in_force as _plan

D = dt.date.fromisoformat
NAME = "Robin Fennimore"


def plan_in_force(issued: str) -> str:
    return _plan("2016-02-01", issued, setting=None, name=NAME)


def messages() -> list[tuple[str, str, dt.date]]:
    with session() as s:
        return [(m.kind, m.recipient_role, m.on) for m in s.exec(select(OutboxMessage).order_by(OutboxMessage.id))]


def written(reference: str, fn, *args, **kwargs) -> list:
    """Do the act and write the notices it returns, in one transaction, as `tasks.waiting.record` does."""
    with session() as s:
        notices = fn(s, casework.get_case(s, reference), *args, **kwargs)
        compose.write(s, notices)
    return notices


def ehc(monkeypatch, today: str, *args: str):
    monkeypatch.setenv("EHC_TODAY", today)
    return CliRunner().invoke(app, list(args))


def test_review_decides_to_cease_and_the_plan_ceases_after_the_appeal_window(store_url):
    ref = plan_in_force("2024-01-10")
    act(ref, review_cycle.open_review, D("2024-09-02"), "test")
    act(ref, review_cycle.record_meeting, D("2024-11-01"), "test")
    decided = written(ref, review_decision.cease, D("2024-11-20"), "test")
    with session() as s:
        case = casework.get_case(s, ref)
        cease = casework.find_step(s, case, "plan.cease")
        assert case.stage == "ceasing" and case.status == "plan_in_force"  # kept while an appeal may come (s45)
        assert cease.due_on == D("2025-01-20")  # appeal: 2 months from 20 Nov 2024, a Monday, no roll-forward
        assert cease.details["mediation_contact_by"] == "2025-01-20"  # reg 33: 2 months
        assert casework.find_step(s, case, "review.annual:2") is None
        assert get_review(s, case, 1).status == "complete"
    assert [n.kind for n in decided] == ["cease_decision"]  # the ceasing notice is the decision's notice
    with session() as s:
        notice = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "cease_decision")).one()
    assert "contact the mediation adviser by 2025-01-20" in notice.body_text
    assert notice.subject == f"{ref}: decision to cease the EHC plan"  # the reference and the act only
    assert NAME not in notice.subject + notice.body_text + notice.body_html

    with pytest.raises(InputError) as early:
        act(ref, ceasing.cease_plan, D("2025-01-20"), "test")
    assert early.value.field == "--on" and "2025-01-20" in early.value.rule
    ceased = written(ref, ceasing.cease_plan, D("2025-01-21"), "test")
    with session() as s:
        assert compose.write(s, [*decided, *ceased]) == []  # again: nothing twice
    assert messages() == [("cease_decision", "family", D("2024-11-20")), ("plan_ceased", "family", D("2025-01-21"))]
    with session() as s:
        case = casework.get_case(s, ref)
        assert (case.status, case.closed_on, case.closed_reason, case.stage) == (
            "closed", D("2025-01-21"), "plan ceased", "closed")
        assert casework.open_steps(s, case) == []


def test_cease_outside_a_review_after_an_appeal_ends(store_url, monkeypatch):
    ref = plan_in_force("2024-01-10")
    assert ehc(monkeypatch, "2024-06-03", "plan", "cease", ref, "--on", "2024-06-03", "--reasons",
               "moved into higher education", "--no-run").exit_code == 0
    again = ehc(monkeypatch, "2024-06-04", "plan", "cease", ref, "--on", "2024-06-04", "--reasons", "x", "--no-run")
    assert again.exit_code == 2 and "already has a decision to cease" in again.output
    done = ehc(monkeypatch, "2024-07-01", "plan", "ceased", ref, "--on", "2024-07-01", "--appeal-concluded",
               "--no-run")
    assert done.exit_code == 0, done.output
    with session() as s:
        assert casework.get_case(s, ref).closed_on == D("2024-07-01")


def test_transfer_to_another_council_closes_the_case_with_the_new_councils_dates(store_url, monkeypatch):
    ref = plan_in_force("2024-09-12")
    bad = ehc(monkeypatch, "2025-05-01", "plan", "transfer-out", ref, "--aware-on", "2025-05-01", "--move-on",
              "2025-05-08", "--to-council", "Northshire County Council", "--to-email", "not-an-address")
    assert bad.exit_code == 2 and bad.output.startswith("error: --to-email:")
    with session() as s:  # nothing written
        assert casework.find_step(s, casework.get_case(s, ref), "transfer.send_plan") is None
    ok = ehc(monkeypatch, "2025-05-01", "plan", "transfer-out", ref, "--aware-on", "2025-05-01", "--move-on",
             "2025-05-08", "--to-council", "Northshire County Council", "--to-email", "send@northshire.example.org")
    # 15 working days beginning with Thu 1 May 2025 (Mon 5 May a bank holiday) end Thu 22 May, after the move
    assert ok.exit_code == 0 and ok.output.strip().endswith("by 2025-05-22")
    future = ehc(monkeypatch, "2025-05-19", "plan", "transferred", ref, "--on", "2025-05-20", "--no-run")
    assert future.exit_code == 2 and "--on" in future.output
    sent = ehc(monkeypatch, "2025-05-20", "plan", "transferred", ref, "--on", "2025-05-20", "--no-run")
    # new council: tell the family within 6 weeks (1 Jul); review by the later of 12 months from the plan
    # (11 Sep 2025) and 3 months from the transfer (19 Aug 2025)
    assert sent.exit_code == 0 and "notifies by 2025-07-01 and reviews by 2025-09-11" in sent.output
    with session() as s:
        case = casework.get_case(s, ref)
        assert (case.status, case.closed_reason) == ("closed", "transferred")
        step = casework.find_step(s, case, "transfer.send_plan")
        assert step.details["to_council"] == "Northshire County Council"
        sent_out = list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [(m.kind, m.recipient_email) for m in sent_out][0] == ("plan_transfer", "send@northshire.example.org")
    assert [m.kind for m in sent_out] == ["plan_transfer", "transfer_family"]
    assert "review the plan by 2025-09-11" in sent_out[0].body_text
    assert all(NAME not in m.subject + m.body_text + m.body_html for m in sent_out)


def test_bad_review_input_is_refused_with_the_field(store_url, monkeypatch):
    ref = plan_in_force("2024-01-10")
    assert ehc(monkeypatch, "2024-09-02", "review", "open", ref, "--no-run").exit_code == 0
    early = ehc(monkeypatch, "2024-09-03", "review", "decide", ref, "--decision", "maintain", "--on", "2024-09-03",
                "--no-run")
    assert early.exit_code == 2 and "has not met yet" in early.output
    assert ehc(monkeypatch, "2024-10-01", "review", "meeting", ref, "--on", "2024-10-01", "--no-run").exit_code == 0
    odd = ehc(monkeypatch, "2024-10-02", "review", "decide", ref, "--decision", "sideways", "--on", "2024-10-02",
              "--no-run")
    assert odd.exit_code == 2 and odd.output.startswith("error: --decision:")
    before = ehc(monkeypatch, "2024-10-02", "review", "decide", ref, "--decision", "maintain", "--on", "2024-09-30",
                 "--no-run")
    assert before.exit_code == 2 and "before the review meeting" in before.output
    future = ehc(monkeypatch, "2024-10-02", "review", "report", ref, "--on", "2024-10-03", "--no-run")
    assert future.exit_code == 2 and future.output.startswith("error: --on:")
    with session() as s:
        review = get_review(s, casework.get_case(s, ref))
        assert review.decision is None and review.report_on is None


def test_a_transfer_during_a_review_ends_its_run(store_url, prefect_server, monkeypatch):
    from deployments.needs_assessment import serving
    from flows.annual_review import annual_review
    from flows.review_scheduler import review_scheduler
    from tasks.waiting import settle
    from tests.test_review_flow import renumbered

    ref = renumbered(plan_in_force("2024-01-10"))  # the run's name is made of it: unique in the test session
    with serving(alongside=(annual_review,)):
        assert ehc(monkeypatch, "2024-09-02", "review", "open", ref).exit_code == 0
        with session() as s:
            run_id = get_review(s, casework.get_case(s, ref)).flow_run_id
        suspended = settle(run_id)  # for the meeting date
        assert ehc(monkeypatch, "2024-09-20", "plan", "transfer-out", ref, "--aware-on", "2024-09-20", "--move-on",
                   "2024-10-01", "--to-council", "Northshire County Council", "--to-email",
                   "send@northshire.example.org").exit_code == 0
        sent = ehc(monkeypatch, "2024-10-01", "plan", "transferred", ref, "--on", "2024-10-01")
        assert sent.exit_code == 0 and f"{ref}: review run resumed" in sent.output, sent.output
        state = settle(run_id, after=suspended.state.id).state
    assert state.is_completed() and state.message == "review 1: closed"
    assert [kind for kind, _, _ in messages()] == ["plan_transfer", "transfer_family"]
    assert review_scheduler()["caught_up"] == 0  # nothing left for the morning
