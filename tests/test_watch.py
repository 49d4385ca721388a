"""The deadline watch over a simulated calendar: the exact messages of a case's life, escalations and their
queues, catch-up after weekends, idempotent re-runs, and two runs at once on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from models import casework, statutory
from models.cases import Case
from models.db import session
from models.deadline_watch import record_sweep
from models.escalation import Escalation
from models.outbox import OutboxMessage
from tasks.escalation import queue_for
from tasks.watch import run_watch

R = dt.date(2025, 1, 6)  # request received (Monday)
ADVICE_ASKED = dt.date(2025, 2, 14)  # decision to assess; advice requested (due 6 weeks on: Fri 2025-03-28)
ADVICE = {"education": "senco", "health": "dco", "social_care": "social_care", "ep": "educational_psychologist"}


def weekdays(first: dt.date, last: dt.date):
    day = first
    while day <= last:
        if day.weekday() < 5:  # the deployment runs Monday to Friday at 07:00
            yield day
        day += dt.timedelta(days=1)


def messages() -> list[tuple[str, str, str, str]]:
    """(day, kind, recipient role, step key or '-') of every message in the outbox, in order written."""
    with session() as s:
        rows = list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))
        keys = {st.id: st.key for st in s.exec(select(casework.Step))}
    return [(m.on.isoformat(), m.kind, m.recipient_role, keys.get(m.step_id, "-")) for m in rows]


def open_request(name: str = "Sam Example", requested_on: dt.date = R) -> str:
    with session() as s:
        case = casework.open_case(s, child_name=name, dob=dt.date(2015, 3, 2), requested_on=requested_on,
                                  requester="parent", today=requested_on, actor="caseworker")
        return case.reference


def step_of(s, reference: str, key: str):
    case = casework.get_case(s, reference)
    return case, next(st for st in casework.case_steps(s, case) if st.key == key)


def complete(reference: str, key: str, on: dt.date) -> None:
    with session() as s:
        case, step = step_of(s, reference, key)
        casework.complete_step(s, step, on, "caseworker", case)


def test_the_messages_of_a_cases_life(store_url):
    """Weekday runs from the request to the final plan. Education advice arrives the day before its first
    reminder was due (so none is sent); health after one reminder; social care slips and is escalated to the
    team manager until it arrives; the EP's clock is set aside by a missed appointment; the final plan is due
    on a bank holiday and issued a day late."""
    ref = open_request()
    events = {
        ADVICE_ASKED: ["decide"],
        dt.date(2025, 3, 17): ["education"],
        dt.date(2025, 3, 19): ["ep missed appointment"],
        dt.date(2025, 3, 20): ["health"],
        dt.date(2025, 4, 10): ["social_care"],
        dt.date(2025, 5, 27): ["final"],
    }
    for day in weekdays(R, dt.date(2025, 6, 13)):
        run_watch(day)  # 07:00; the day's work happens after it
        for event in events.get(day, []):
            with session() as s:
                case = casework.get_case(s, ref)
                if event == "decide":
                    casework.complete_step(s, casework.case_steps(s, case)[0], day, "caseworker", case)
                    for source, role in ADVICE.items():
                        casework.add_step(s, case, key=f"advice:{source}", kind="advice", rule_id="advice.provide",
                                          role=role, source=source, start=day)
                    casework.add_step(s, case, key="plan.final", kind="final_plan", rule_id="plan.final",
                                      role=casework.LA, start=R)
                elif event == "ep missed appointment":
                    casework.add_exception(s, case, kind="missed_appointment", start=dt.date(2025, 3, 10),
                                           end=dt.date(2025, 3, 10), actor="caseworker", step_key="advice:ep")
                else:
                    key = "plan.final" if event == "final" else f"advice:{event}"
                    _, step = step_of(s, ref, key)
                    casework.complete_step(s, step, day, "caseworker", case)

    assert messages() == [
        ("2025-02-07", "reminder", "sen_caseworker", "assess.decision"),
        ("2025-02-14", "reminder", "sen_caseworker", "assess.decision"),
        ("2025-03-18", "reminder", "dco", "advice:health"),
        ("2025-03-18", "reminder", "social_care", "advice:social_care"),
        ("2025-03-18", "reminder", "educational_psychologist", "advice:ep"),
        ("2025-03-25", "reminder", "social_care", "advice:social_care"),
        ("2025-03-28", "due_today", "social_care", "advice:social_care"),
        ("2025-03-31", "overdue", "social_care", "advice:social_care"),  # fell due Saturday 29th
        ("2025-03-31", "escalation", "social_care_manager", "advice:social_care"),
        ("2025-04-07", "overdue", "social_care", "advice:social_care"),  # still overdue, tier 2
        ("2025-04-07", "escalation", "social_care_manager", "advice:social_care"),
        ("2025-05-16", "reminder", "sen_caseworker", "plan.final"),
        ("2025-05-23", "reminder", "sen_caseworker", "plan.final"),
        ("2025-05-26", "due_today", "sen_caseworker", "plan.final"),  # Spring bank holiday: the law does not move it
        ("2025-05-27", "overdue", "sen_caseworker", "plan.final"),
        ("2025-05-27", "escalation", "sen_team_manager", "plan.final"),
    ]
    with session() as s:
        escalations = list(s.exec(select(Escalation).order_by(Escalation.id)))
        subjects = [m.subject for m in s.exec(select(OutboxMessage).order_by(OutboxMessage.id))]
        bodies = " ".join(m.body_text + m.body_html for m in s.exec(select(OutboxMessage)))
    assert [(e.queue, e.tier, e.opened_on.isoformat(), e.resolved_by) for e in escalations] == [
        ("social_care_manager", 2, "2025-03-31", "caseworker"),
        ("sen_team_manager", 1, "2025-05-27", "caseworker"),
    ]
    assert subjects[9] == ("EHC-2025-00001: still overdue (tier 2), social care advice was due Friday 28 March 2025")
    assert all(s.startswith("EHC-2025-00001: ") for s in subjects)
    assert "Sam" not in bodies and "2015" not in bodies  # no personal data by default
    assert "replying to this email" in bodies and "Friday 28 March 2025" in bodies


def test_rerunning_a_day_or_running_it_late_sends_nothing_twice(store_url):
    ref = open_request()
    for day in weekdays(dt.date(2025, 2, 7), dt.date(2025, 2, 21)):
        run_watch(day)
        assert run_watch(day).messages == {}  # the same day again writes (and counts) nothing
    assert run_watch(dt.date(2025, 2, 10)).messages == {}  # an old day again
    assert [m[:2] for m in messages()] == [
        ("2025-02-07", "reminder"), ("2025-02-14", "reminder"), ("2025-02-17", "due_today"),
        ("2025-02-18", "overdue"), ("2025-02-18", "escalation"),
    ]
    with session() as s:
        assert len(list(s.exec(select(Escalation)))) == 1
        assert casework.get_case(s, ref).reference == ref


def test_a_step_recorded_late_gets_its_current_tier_at_once(store_url):
    """A step entered after the last run, already past a tier (e.g. a backlog loaded on a Wednesday), is not
    left waiting a week for its next tier."""
    ref = open_request()
    run_watch(dt.date(2025, 3, 4))  # assess.decision overdue since 18 Feb: still overdue (tier 3) on 4 Mar
    with session() as s:
        case = casework.get_case(s, ref)
        casework.add_step(s, case, key="advice:health", kind="advice", rule_id="advice.provide", role="dco",
                          source="health", start=dt.date(2025, 1, 17))  # due 28 Feb: overdue since 1 Mar
    run_watch(dt.date(2025, 3, 5))
    assert messages()[-2:] == [("2025-03-05", "overdue", "dco", "advice:health"),
                               ("2025-03-05", "dco_digest", "dco", "-")]
    with session() as s:
        (health,) = [e for e in s.exec(select(Escalation)) if e.queue == "dco"]
    assert health.tier == 1


def test_a_council_may_allow_the_childs_name_in_bodies_never_in_subjects(store_url, monkeypatch):
    open_request()
    monkeypatch.setenv("EHC_PERSONAL_DATA_IN_MESSAGES", "name")
    run_watch(dt.date(2025, 2, 7))
    with session() as s:
        (message,) = s.exec(select(OutboxMessage)).all()
    assert "Sam Example" in message.body_text and "Sam Example" in message.body_html
    assert "Sam" not in message.subject and "2015" not in message.body_text


def test_reminder_days_are_configurable_per_step_kind(store_url, monkeypatch):
    ref = open_request()
    monkeypatch.setenv("EHC_REMINDER_DAYS", json.dumps({"decision_to_assess": [5]}))
    for day in weekdays(dt.date(2025, 2, 3), dt.date(2025, 2, 17)):
        run_watch(day)
    assert [m[:2] for m in messages()] == [("2025-02-12", "reminder"), ("2025-02-17", "due_today")]
    monkeypatch.setenv("EHC_REMINDER_DAYS", json.dumps({"decision_to_assess": [0]}))
    result = CliRunner().invoke(app, ["watch", "--as-of", "2025-02-18", "--no-send"])
    assert result.exit_code == 2 and "EHC_REMINDER_DAYS" in result.output
    assert ref


@pytest.mark.parametrize(("role", "queue"), [
    ("dco", "dco"), ("social_care", "social_care_manager"), ("educational_psychologist", "principal_ep"),
    ("la", "sen_team_manager"), ("senco", "sen_team_manager"), ("hi_teacher", "sen_team_manager"),
])
def test_escalations_are_routed_by_role(role, queue):
    assert queue_for(role) == queue


def test_the_queues_are_worked_from_the_command_line(store_url):
    open_request()
    runner = CliRunner()
    result = runner.invoke(app, ["watch", "--as-of", "2025-02-18", "--no-send"])
    assert result.exit_code == 0, result.output
    assert "escalations opened 1" in result.output
    shown = json.loads(runner.invoke(app, ["queue", "show", "sen_team_manager", "--json"]).output)
    assert [(i["reference"], i["step"], i["tier"]) for i in shown] == [("EHC-2025-00001", "assess.decision", 1)]
    item = shown[0]["id"]
    assert runner.invoke(app, ["queue", "ack", str(item), "--by", "team.manager"]).exit_code == 0
    result = runner.invoke(app, ["queue", "resolve", str(item), "--note", " "])
    assert result.exit_code == 2 and "--note" in result.output
    result = runner.invoke(app, ["queue", "resolve", str(item), "--note", "decision chased by phone"])
    assert result.exit_code == 0, result.output
    assert json.loads(runner.invoke(app, ["queue", "show", "sen_team_manager", "--json"]).output) == []
    shown = json.loads(runner.invoke(app, ["queue", "show", "sen_team_manager", "--all", "--json"]).output)
    assert (shown[0]["acknowledged_by"], shown[0]["resolved_by"], shown[0]["resolution_note"]) == (
        "team.manager", "caseworker", "decision chased by phone")
    for args, field_name in ((["queue", "show", "nobody"], "QUEUE"), (["queue", "ack", "999"], "ID"),
                             (["queue", "resolve", str(item), "--note", "again"], "ID"),
                             (["watch", "--as-of", "2025-02-30"], "--as-of")):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and f"error: {field_name}: " in result.output, args
    # still overdue a week later: resolved by hand, so the watch opens a new item at the higher tier
    runner.invoke(app, ["watch", "--as-of", "2025-02-25", "--no-send"])
    shown = json.loads(runner.invoke(app, ["queue", "show", "sen_team_manager", "--json"]).output)
    assert [(i["step"], i["tier"]) for i in shown] == [("assess.decision", 2)]


def test_completing_a_step_resolves_its_escalation(store_url):
    ref = open_request()
    run_watch(dt.date(2025, 2, 18))
    complete(ref, "assess.decision", dt.date(2025, 2, 19))
    run_watch(dt.date(2025, 2, 25))
    with session() as s:
        (item,) = s.exec(select(Escalation)).all()
        audit = [e.action for e in casework.audit_log(s, casework.get_case(s, ref))]
    assert item.resolved_by == "caseworker" and item.resolution_note == "assess.decision done on 2025-02-19"
    assert "assess.decision done" in audit
    assert [m[1] for m in messages()] == ["overdue", "escalation"]  # nothing after completion


def test_cancelling_a_step_resolves_its_escalation(store_url):
    """A step that no longer applies (a case closed on a refusal, a consultation never answered) leaves no item
    on a queue."""
    ref = open_request()
    run_watch(dt.date(2025, 2, 18))
    with session() as s:
        _, step = step_of(s, ref, "assess.decision")
        casework.cancel_step(s, step, "caseworker", "request withdrawn")
    run_watch(dt.date(2025, 2, 25))
    with session() as s:
        (item,) = s.exec(select(Escalation)).all()
        _, step = step_of(s, ref, "assess.decision")
    assert step.status == "cancelled" and step.details["cancelled"] == "request withdrawn"
    assert item.resolved_by == "caseworker" and item.resolution_note == "assess.decision cancelled: request withdrawn"
    assert [m[1] for m in messages()] == ["overdue", "escalation"]  # nothing after cancelling


def expected_keys(on: dt.date) -> set[str]:
    """What one run on `on` must write for the concurrency test's store, from the tier function itself."""
    keys = set()
    with session() as s:
        for step in s.exec(select(casework.Step).where(casework.Step.status == "open")):
            chase = statutory.chase_tier(step.due_on, on, (10, 3), 7, step.started_on)
            if chase:
                keys.add(f"{chase.tier}:step:{step.id}:{chase.on.isoformat()}")
                if chase.tier in ("overdue", "still_overdue"):
                    keys.add(f"escalation:step:{step.id}:{chase.level}")
    return keys


def test_two_runs_at_once_write_each_message_once(store_url):
    """On PostgreSQL (and on SQLite, where the second run waits for the first's write lock)."""
    on = dt.date(2025, 3, 3)
    with session() as s:
        for n in range(40):  # requests spread over 10 weeks: every tier is somebody's today
            requested = dt.date(2024, 12, 23) + dt.timedelta(days=2 * n)
            case = casework.open_case(s, child_name=f"Child {n}", dob=dt.date(2015, 1, 1), requested_on=requested,
                                      requester="parent", today=requested, actor="t")
            casework.add_step(s, case, key="advice:social_care", kind="advice", rule_id="advice.provide",
                              role="social_care", source="social_care", start=requested)
    with session() as s:
        record_sweep(s, dt.date(2025, 2, 28), 0)  # Friday's run saw none of them: Monday catches up on all
    barrier, reports, errors = threading.Barrier(2), [], []

    def run():
        barrier.wait()
        try:
            reports.append(run_watch(on))
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session() as s:
        keys = [m.idempotency_key for m in s.exec(select(OutboxMessage))]
        open_items = [e.step_id for e in s.exec(select(Escalation))]
        cases = len(s.exec(select(Case)).all())
    assert cases == 40
    assert sorted(keys) == sorted(expected_keys(on))
    assert len(open_items) == len(set(open_items)) > 0
    assert all(r.chases == reports[0].chases > 0 for r in reports)
