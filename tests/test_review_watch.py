"""The deadline watch (`run_watch`) on a review's steps over a simulated weekday calendar: the exact
messages of a review's life (kind, recipient role, day, step), asserted as in the watch's own tests. Review
steps are ordinary steps: the setting is chased for invitations, advice and the report, the council for its
decision and the annual limit, and slips escalate to the SEN team manager."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from models import casework, review_cycle, review_decision
from models.cases import Contact
from models.db import session
from models.escalation import Escalation
from models.outbox import OutboxMessage
from tasks.watch import run_watch
from tests.test_review_cycles import act, clock, plan_in_force  # noqa: F401 (the module's clock)
from tests.test_watch import messages, weekdays

D = dt.date.fromisoformat


def test_the_messages_of_a_reviews_life(store_url):
    ref = plan_in_force("2016-02-01", "2024-09-16")  # period ends 15 Sep 2025; meeting by 18 Aug 2025
    events = {
        D("2025-01-02"): lambda: act(ref, review_cycle.open_review, D("2025-01-02"), "scheduler"),
        D("2025-06-02"): lambda: act(ref, review_cycle.schedule_meeting, D("2025-07-07"), "caseworker",
                                     on=D("2025-06-02")),
        D("2025-06-20"): lambda: act(ref, review_cycle.record_pre_meeting, "invitations", D("2025-06-20"), "senco"),
        D("2025-06-27"): lambda: act(ref, review_cycle.record_pre_meeting, "advice_circulated", D("2025-06-27"),
                                     "senco"),
        D("2025-07-07"): lambda: act(ref, review_cycle.record_meeting, D("2025-07-07"), "senco"),
        D("2025-07-18"): lambda: act(ref, review_cycle.record_report, D("2025-07-18"), "senco"),
        D("2025-08-05"): lambda: act(ref, review_decision.maintain, D("2025-08-05"), "caseworker"),
    }
    for day in weekdays(D("2025-01-02"), D("2025-09-30")):
        run_watch(day)  # 07:00; the day's work happens after it
        if day in events:
            events[day]()

    assert messages() == [
        # invitations and advice: 2 weeks before the 7 Jul meeting, Mon 23 Jun (reg 20(3)-(4))
        ("2025-06-13", "reminder", "senco", "review:1:invitations"),
        ("2025-06-13", "reminder", "senco", "review:1:advice_circulated"),
        ("2025-06-20", "reminder", "senco", "review:1:invitations"),
        ("2025-06-20", "reminder", "senco", "review:1:advice_circulated"),
        ("2025-06-23", "due_today", "senco", "review:1:advice_circulated"),
        ("2025-06-24", "overdue", "senco", "review:1:advice_circulated"),
        ("2025-06-24", "escalation", "sen_team_manager", "review:1:advice_circulated"),
        # report: 2 weeks after the meeting, Mon 21 Jul (reg 20(7)); sent on the day of the second reminder
        ("2025-07-11", "reminder", "senco", "review:1:report"),
        ("2025-07-18", "reminder", "senco", "review:1:report"),
        # the 12-month period (ends 15 Sep) is chased 8 weeks ahead; the decision ends it on 5 Aug
        ("2025-07-21", "reminder", "sen_caseworker", "review.annual:1"),
        # decision: 4 weeks after the meeting, Mon 4 Aug (reg 20(10)); made a day late
        ("2025-07-25", "reminder", "sen_caseworker", "review:1:decision"),
        ("2025-08-01", "reminder", "sen_caseworker", "review:1:decision"),
        ("2025-08-04", "due_today", "sen_caseworker", "review:1:decision"),
        ("2025-08-05", "overdue", "sen_caseworker", "review:1:decision"),
        ("2025-08-05", "escalation", "sen_team_manager", "review:1:decision"),
    ]
    with session() as s:
        escalations = list(s.exec(select(Escalation).order_by(Escalation.id)))
        nxt = casework.find_step(s, casework.get_case(s, ref), "review.annual:2")
    assert [(e.queue, e.tier, e.opened_on.isoformat(), e.resolved_by) for e in escalations] == [
        ("sen_team_manager", 1, "2025-06-24", "senco"),
        ("sen_team_manager", 1, "2025-08-05", "caseworker"),
    ]
    assert nxt.due_on == D("2026-07-06")  # the next period starts with the 7 Jul 2025 meeting


def test_a_phase_transfer_is_chased_and_escalated_as_15_february_nears(store_url):
    """Year 6 → Year 7 (born 15 Jan 2014, transfer 1 Sep 2025): the review meets in time, but the amended plan
    naming the secondary school slips past both its own 8 weeks and 14 February."""
    ref = plan_in_force("2014-01-15", "2024-03-10")
    events = {
        D("2024-09-02"): lambda: act(ref, review_cycle.open_review, D("2024-09-02"), "scheduler"),
        D("2024-10-01"): lambda: act(ref, review_cycle.schedule_meeting, D("2024-11-15"), "caseworker",
                                     on=D("2024-10-01")),
        D("2024-10-25"): lambda: [act(ref, review_cycle.record_pre_meeting, what, D("2024-10-25"), "senco")
                                  for what in ("invitations", "advice_circulated")],
        D("2024-11-15"): lambda: act(ref, review_cycle.record_meeting, D("2024-11-15"), "senco"),
        D("2024-11-29"): lambda: act(ref, review_cycle.record_report, D("2024-11-29"), "senco"),
        D("2024-12-10"): lambda: act(ref, review_decision.amend, D("2024-12-10"), "caseworker"),
        D("2025-02-17"): lambda: act(ref, review_decision.issue_amended_plan, D("2025-02-17"), "caseworker",
                                     next_setting="Hill High School"),
    }
    for day in weekdays(D("2024-09-02"), D("2025-03-07")):
        run_watch(day)
        if day in events:
            events[day]()

    assert messages() == [
        ("2024-10-22", "reminder", "senco", "review:1:invitations"),  # due Fri 1 Nov = 15 Nov − 14
        ("2024-10-22", "reminder", "senco", "review:1:advice_circulated"),
        ("2024-11-12", "reminder", "senco", "review:1:meeting"),  # transfer meeting due Fri 22 Nov = 14 Feb − 84
        ("2024-11-19", "reminder", "senco", "review:1:report"),  # due Fri 29 Nov = 15 Nov + 14
        ("2024-11-26", "reminder", "senco", "review:1:report"),
        ("2024-11-29", "due_today", "senco", "review:1:report"),
        ("2024-12-03", "reminder", "sen_caseworker", "review:1:decision"),  # due Fri 13 Dec = 15 Nov + 28
        ("2024-12-10", "reminder", "sen_caseworker", "review:1:decision"),
        ("2025-01-27", "reminder", "sen_caseworker", "review:1:amended_final"),  # due Tue 4 Feb = 10 Dec + 8 weeks
        ("2025-02-03", "reminder", "sen_caseworker", "review:1:amended_final"),  # (reminders fell on Saturdays)
        ("2025-02-04", "reminder", "sen_caseworker", "review:1:phase_transfer"),  # due Fri 14 Feb (reg 18)
        ("2025-02-04", "due_today", "sen_caseworker", "review:1:amended_final"),
        ("2025-02-05", "overdue", "sen_caseworker", "review:1:amended_final"),
        ("2025-02-05", "escalation", "sen_team_manager", "review:1:amended_final"),
        ("2025-02-11", "reminder", "sen_caseworker", "review:1:phase_transfer"),
        ("2025-02-12", "overdue", "sen_caseworker", "review:1:amended_final"),  # still overdue, tier 2
        ("2025-02-12", "escalation", "sen_team_manager", "review:1:amended_final"),
        ("2025-02-14", "due_today", "sen_caseworker", "review:1:phase_transfer"),
        ("2025-02-17", "overdue", "sen_caseworker", "review:1:phase_transfer"),  # overdue from Sat 15 Feb
        ("2025-02-17", "escalation", "sen_team_manager", "review:1:phase_transfer"),
    ]
    with session() as s:
        escalations = [(e.tier, e.opened_on.isoformat(), e.resolved_by) for e in s.exec(select(Escalation))]
    assert sorted(escalations) == [(1, "2025-02-17", "caseworker"), (2, "2025-02-05", "caseworker")]


def test_a_settings_steps_are_chased_at_that_settings_own_senco(store_url):
    ref = plan_in_force("2016-02-01", "2024-09-16", setting="Oak Primary")
    with session() as s:
        s.add(Contact(role="senco", organisation="Oak Primary", email="senco@oak-primary.example.org"))
    act(ref, review_cycle.open_review, D("2025-01-02"), "scheduler")
    act(ref, review_cycle.schedule_meeting, D("2025-07-07"), "caseworker", on=D("2025-06-02"))
    run_watch(D("2025-06-13"))  # 10 days before invitations and advice are due
    with session() as s:
        sent = [(m.recipient_role, m.recipient_email) for m in s.exec(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert sent == [("senco", "senco@oak-primary.example.org")] * 2
