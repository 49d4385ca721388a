"""Phase transfers (reg 18): the review that must finish before 15 February (or 31 March for post-16) of the
transfer year, found from the year group; the transfers the caseworker records; the deployment's schedule.

Expected dates are worked by hand (arithmetic in the comments)."""

from __future__ import annotations

import datetime as dt

import pytest

from deployments.reviews import deployment
from models import casework, review_cycle, review_decision
from models.db import session
from models.errors import InputError
from models.review import get_review
from tests.test_review_cycles import act, clock, plan_in_force  # noqa: F401 (the module's clock)

D = dt.date.fromisoformat
PFA = {"pfa_employment": "supported internship", "pfa_independent_living": "cooking and budgeting",
       "pfa_community": "sports club", "pfa_health": "transition to adult physiotherapy"}


def step(reference: str, key: str) -> casework.Step:
    with session() as s:
        return casework.find_step(s, casework.get_case(s, reference), key)


def test_year_6_to_year_7_transfer_is_reviewed_before_15_february(store_url):
    # born 15 Jan 2014: Year 6 in 2024/25, Year 7 from 1 Sep 2025 → plan final before 15 Feb 2025
    ref = plan_in_force("2014-01-15", "2024-03-10", setting="Brook School")
    review = act(ref, review_cycle.open_review, D("2024-04-01"), "test")
    assert (review.phase_transfer, review.transfer_on) == ("other", D("2025-09-01"))
    assert review.transfer_due_on == D("2025-02-14")  # before 15 Feb 2025
    assert review.meeting_by_on == D("2024-11-22")  # 14 Feb 2025 − 84 days, earlier than 9 Feb 2025 (annual − 28)
    meeting = step(ref, "review:1:meeting")
    assert (meeting.rule_id, meeting.due_on) == ("review.phase_transfer_meeting_latest", D("2024-11-22"))
    assert step(ref, "review:1:phase_transfer").role == "la"
    act(ref, review_cycle.record_meeting, D("2024-11-20"), "test")
    act(ref, review_decision.amend, D("2024-12-18"), "test")  # M + 28 = 18 Dec: in time
    review = act(ref, get_review)
    assert review.amended_final_due_on == D("2025-02-12")  # 8 weeks from 18 Dec 2024
    assert review.amended_final_latest_on == D("2025-02-12")  # M + 84
    act(ref, review_decision.issue_amended_plan, D("2025-02-10"), "test", next_setting="Hill High School")
    transfer = step(ref, "review:1:phase_transfer")
    assert (transfer.status, transfer.completed_on, transfer.details["next_setting"]) == (
        "done", D("2025-02-10"), "Hill High School")
    # the next cycle runs from the 20 Nov meeting at the new school, and is not a transfer review again
    nxt = act(ref, review_cycle.open_review, D("2025-04-01"), "test")
    assert (nxt.anchor_on, nxt.annual_due_on, nxt.setting, nxt.phase_transfer) == (
        D("2024-11-20"), D("2025-11-19"), "Hill High School", None)


def test_post_16_transfer_is_reviewed_before_31_march_with_pfa(store_url):
    # born 1 Jun 2009: Year 11 in 2024/25 (age 15 on 31 Aug 2024) → post-16 from 1 Sep 2025 → before 31 Mar 2025
    ref = plan_in_force("2009-06-01", "2024-06-20", flags=("pfa",))
    with session() as s:
        case = casework.get_case(s, ref)
        planned = review_cycle.plan_cycle(s, case, casework.open_steps(s, case)[-1], D("2024-06-20"))
    assert (planned.phase_transfer, planned.transfer_due_on) == ("post16", D("2025-03-30"))
    assert planned.meeting_by_on == D("2025-01-05")  # 30 Mar − 84; the annual limit alone allows 22 May 2025
    assert review_cycle.opens_on(planned) == D("2024-09-01")  # a term ahead of the spring term
    act(ref, review_cycle.open_review, D("2024-09-02"), "test")
    act(ref, review_cycle.schedule_meeting, D("2024-12-02"), "test")
    assert step(ref, "review:1:advice:pfa").due_on == D("2024-11-18")  # careers advice: M − 14
    with pytest.raises(InputError) as refused:  # Year 11: the review cannot be completed without PfA
        act(ref, review_cycle.record_meeting, D("2024-12-02"), "test")
    assert refused.value.field == "--pfa-employment"
    act(ref, review_cycle.record_pre_meeting, "advice:pfa", D("2024-11-15"), "test")
    act(ref, review_cycle.record_meeting, D("2024-12-02"), "test", **PFA)
    act(ref, review_decision.amend, D("2024-12-20"), "test")
    with pytest.raises(InputError) as unnamed:
        act(ref, review_decision.issue_amended_plan, D("2025-02-03"), "test")
    assert unnamed.value.field == "--next-setting"
    act(ref, review_decision.issue_amended_plan, D("2025-02-03"), "test", next_setting="Riverside College")
    transfer = step(ref, "review:1:phase_transfer")
    assert (transfer.due_on, transfer.completed_on) == (D("2025-03-30"), D("2025-02-03"))


def test_infant_to_junior_and_post_16_moves_are_recorded_by_the_caseworker(store_url):
    # born 1 May 2018: Year 2 in 2024/25; into a junior school on 1 Sep 2025 → before 15 Feb 2025
    ref = plan_in_force("2018-05-01", "2024-05-20")
    review = act(ref, review_cycle.open_review, D("2024-09-02"), "test")
    assert review.phase_transfer is None and review.meeting_by_on == D("2025-04-21")  # 19 May 2025 − 28
    review = act(ref, review_cycle.record_transfer, "other", D("2025-09-01"), "test")
    assert (review.transfer_due_on, review.meeting_by_on) == (D("2025-02-14"), D("2024-11-22"))
    meeting = step(ref, "review:1:meeting")
    assert (meeting.rule_id, meeting.due_on) == ("review.phase_transfer_meeting_latest", D("2024-11-22"))
    with pytest.raises(InputError) as bad:
        act(ref, review_cycle.record_transfer, "sideways", D("2025-09-01"), "test")
    assert bad.value.field == "--kind"

    # a young person moving between post-16 settings in January: plan amended 5 months before (reg 18(2))
    older = plan_in_force("2007-03-01", "2024-10-01")
    act(older, review_cycle.open_review, D("2025-01-02"), "test")
    review = act(older, review_cycle.record_transfer, "post16_move", D("2026-01-15"), "test")
    assert review.transfer_due_on == D("2025-08-15")  # 15 Jan 2026 − 5 months
    assert step(older, "review:1:phase_transfer").rule_id == "review.post16_transfer"
    assert review.meeting_by_on == D("2025-09-02")  # the annual limit: 30 Sep 2025 − 28; reg 18(2) binds the plan


def test_the_review_scheduler_runs_daily_before_the_watch():
    (schedule,) = deployment().schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("30 6 * * *", "Europe/London")
