"""Events out of turn or out of order are input errors (exit 2, `error: FIELD: RULE`) and change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from cli.main import app
from models import assessment, casework, db
from models.cases import AuditEvent, Contact, Step
from models.outbox import OutboxMessage
from notifications import compose

D = dt.date.fromisoformat


@pytest.fixture
def case_ref(store_url, monkeypatch) -> str:
    monkeypatch.setenv("EHC_TODAY", "2026-06-30")
    with db.session() as s:
        return casework.open_case(s, child_name="Fern Quill-Test", dob=D("2015-01-01"), requested_on=D("2026-01-05"),
                                  requester="parent", today=D("2026-06-30"), actor="test").reference


def writes() -> tuple[int, int]:
    with db.session() as s:
        return (s.exec(select(func.count()).select_from(AuditEvent)).one(),
                s.exec(select(func.count()).select_from(Step).where(Step.status != "open")).one())


def refused(args: list[str], field: str, words: str) -> None:
    before = writes()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"error: {field}:" in result.stderr and words in result.stderr
    assert writes() == before


def to_the_draft(s, ref: str) -> None:
    """The acts up to the draft: each opens what follows it (advice asked of every source, co-production, the
    draft)."""
    assessment.decide_to_assess(s, ref, True, D("2026-02-09"), D("2026-06-30"), "test")
    for source in ("parent", "education", "health", "social_care", "ep"):
        assessment.advice_received(s, ref, source, D("2026-03-02"), D("2026-06-30"), "test")
    assessment.meeting_held(s, ref, D("2026-03-09"), ["parent"], True, D("2026-06-30"), "test")
    assessment.decide_to_issue(s, ref, True, D("2026-03-16"), D("2026-06-30"), "test")


def test_an_event_for_a_stage_that_is_not_open_changes_nothing(case_ref):
    refused(["advice", "received", case_ref, "--source", "health", "--on", "2026-02-01"], "--source",
            "advice:health is not open")
    refused(["final", "issued", case_ref, "--on", "2026-05-01"], "REF", "no draft plan has been issued")  # the 20 weeks
    # are open from the request (reg 13(2)); the final plan waits for the draft
    refused(["meeting", "held", case_ref, "--on", "2026-03-01", "--attended", "parent", "--child-views"], "REF",
            "coproduction.meeting is not open")


def test_an_event_dated_before_what_it_follows_or_in_the_future_changes_nothing(case_ref):
    refused(["case", "decide", case_ref, "--assess", "yes", "--on", "2026-01-02"], "--on", "before the request")
    refused(["case", "decide", case_ref, "--assess", "yes", "--on", "2026-07-01"], "--on", "in the future")
    refused(["case", "decide", case_ref, "--assess", "maybe", "--on", "2026-02-01"], "--assess", "yes or no")
    refused(["case", "decide", "EHC-2026-99999", "--assess", "yes", "--on", "2026-02-01"], "REF", "no case")
    with db.session() as s:
        assessment.decide_to_assess(s, case_ref, True, D("2026-02-09"), D("2026-06-30"), "test")
        assessment.start_assessment(s, case_ref)
        assessment.request_advice(s, case_ref, "health")
    refused(["case", "decide", case_ref, "--assess", "no", "--on", "2026-02-10"], "REF", "already done")
    refused(["advice", "received", case_ref, "--source", "health", "--on", "2026-02-08"], "--on",
            "before the request for advice")
    refused(["advice", "received", case_ref, "--source", "dentist", "--on", "2026-02-20"], "--source", "one of")


def test_a_late_received_request_restarts_that_advisers_six_weeks(case_ref):
    with db.session() as s:
        assessment.decide_to_assess(s, case_ref, True, D("2026-02-09"), D("2026-06-30"), "test")
        assessment.start_assessment(s, case_ref)
        assessment.request_advice(s, case_ref, "ep")
        assessment.advice_received(s, case_ref, "ep", D("2026-03-30"), D("2026-06-30"), "test",
                                   request_received_on=D("2026-02-16"))
        step = casework.find_step(s, casework.get_case(s, case_ref), "advice:ep")
    assert (step.started_on, step.due_on, step.completed_on) == (D("2026-02-16"), D("2026-03-30"), D("2026-03-30"))
    assert step.details["late"] is False


def test_a_final_plan_inside_the_familys_15_days_is_refused(case_ref):
    with db.session() as s:
        to_the_draft(s, case_ref)
        assessment.draft_issued(s, case_ref, D("2026-04-13"), None, False, D("2026-06-30"), "test")
    refused(["final", "issued", case_ref, "--on", "2026-04-27"], "--on", "representations on the draft run until "
            "2026-04-27")


def test_the_requested_setting_is_consulted_through_its_own_senco(case_ref):
    with db.session() as s:
        s.add(Contact(role="senco", organisation="Oakfield Primary", email="senco@oakfield.example.org"))
        to_the_draft(s, case_ref)
        assessment.draft_issued(s, case_ref, D("2026-04-13"), "Oakfield Primary", False, D("2026-06-30"), "test")
        compose.write(s, assessment.draft_notices(s, case_ref))  # as the draft's act returned them
    with db.session() as s:
        [sent] = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "setting_consultation")).all()
    assert sent.recipient_email == "senco@oakfield.example.org"


def test_exception_add_rejects_a_backwards_period_and_an_unknown_kind(case_ref):
    refused(["exception", "add", case_ref, "absence", "2026-03-01", "2026-02-01"], "TO", "is before")
    refused(["exception", "add", case_ref, "holiday", "2026-02-01", "2026-03-15"], "KIND", "unknown exception kind")
