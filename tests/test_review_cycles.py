"""Annual reviews across several simulated years, straight on the case store (no Prefect): the anchor moves to
each meeting (spec §7.3), leap-day and month-end issue dates, Year 9 mid-cycle, under-5s.

Expected dates are worked by hand from the spec's wording (arithmetic in the comments)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from models import casework, review_cycle, review_decision
from models.db import session
from models.errors import InputError
from models.outbox import OutboxMessage
from models.review import Review, get_review
from notifications import compose

D = dt.date.fromisoformat
PFA = {"pfa_employment": "work experience in Year 10", "pfa_independent_living": "travel training",
       "pfa_community": "youth club", "pfa_health": "moves to adult services planned"}

PARENT = {"name": "Pat Parent-Test", "email": "pat.parent@family.example.org"}  # told every notice


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """An injected clock after every date these tests act on: an act refuses a day after today."""
    monkeypatch.setenv("EHC_TODAY", "2030-01-01")


def plan_in_force(dob: str, issued: str, flags=(), setting: str | None = "Oak Primary", name="Test Child") -> str:
    """A case whose final plan was issued on `issued` (its assessment is not under test here)."""
    with session() as s:
        requested = D(issued) - dt.timedelta(weeks=20)  # any day before the plan
        case = casework.open_case(s, child_name=name, dob=D(dob), requested_on=requested, requester="parent",
                                  parent=PARENT, today=D(issued), actor="test", flags=flags)
        for step in casework.open_steps(s, case):  # the assessment's own steps, long done
            casework.complete_step(s, step, requested, "test", case)
        review_cycle.put_plan_in_force(s, case, D(issued), "test", setting=setting)
        return case.reference


def steps(reference: str) -> dict[str, casework.Step]:
    with session() as s:
        return {st.key: st for st in casework.case_steps(s, casework.get_case(s, reference))}


def act(reference: str, fn, *args, **kwargs):
    with session() as s:
        return fn(s, casework.get_case(s, reference), *args, **kwargs)


def review(reference: str, cycle_: int | None = None) -> Review:
    """The given cycle's review, or the open one, as the store has it now."""
    return act(reference, get_review, cycle_)


def cycle(reference: str, opened: str, meeting: str, decided: str) -> Review:
    cycle_ = act(reference, review_cycle.open_review, D(opened), "test").cycle
    act(reference, review_cycle.schedule_meeting, D(meeting), "test")
    for what in ("invitations", "advice_circulated"):
        act(reference, review_cycle.record_pre_meeting, what, D(opened), "test")
    act(reference, review_cycle.record_meeting, D(meeting), "test")
    act(reference, review_decision.maintain, D(decided), "test")
    return review(reference, cycle_)


def test_plan_issued_on_29_february_runs_three_years_from_each_meeting(store_url):
    ref = plan_in_force("2018-05-01", "2024-02-29")
    assert steps(ref)["review.annual:1"].due_on == D("2025-02-28")  # 12 months starting 29 Feb: 28 Feb 2025
    first = cycle(ref, "2025-01-02", "2025-01-20", "2025-02-10")
    assert (first.anchor_on, first.annual_due_on, first.meeting_latest_on) == (D("2024-02-29"), D("2025-02-28"),
                                                                                D("2025-01-31"))
    st = steps(ref)
    assert st["review:1:invitations"].due_on == D("2025-01-06")  # M − 14
    assert st["review:1:report"].due_on == D("2025-02-03")  # M + 14
    assert st["review:1:decision"].due_on == D("2025-02-17")  # M + 28
    assert st["review:1:decision"].status == "done" and st["review.annual:1"].status == "done"
    # cycle 2 runs from the cycle-1 meeting: 12 months starting 20 Jan 2025 end 19 Jan 2026
    assert st["review.annual:2"].started_on == D("2025-01-20") and st["review.annual:2"].due_on == D("2026-01-19")
    second = cycle(ref, "2025-09-01", "2025-12-01", "2025-12-15")
    assert second.meeting_by_on == D("2025-12-22")  # 19 Jan 2026 − 28
    third = cycle(ref, "2026-09-01", "2026-11-02", "2026-11-20")
    assert (third.anchor_on, third.annual_due_on) == (D("2025-12-01"), D("2026-11-30"))
    assert steps(ref)["review.annual:4"].due_on == D("2027-11-01")  # from 2 Nov 2026
    late = [e for e in act(ref, lambda s, c: casework.audit_log(s, c)) if e.detail.get("late")]
    assert late == []


def test_plan_issued_on_31_january_and_a_late_decision_is_recorded_late(store_url):
    ref = plan_in_force("2018-05-01", "2025-01-31")
    assert steps(ref)["review.annual:1"].due_on == D("2026-01-30")  # day before 31 Jan 2026
    opened = act(ref, review_cycle.open_review, D("2025-09-01"), "test")
    assert opened.meeting_latest_on == D("2026-01-02")  # 30 Jan − 28
    act(ref, review_cycle.schedule_meeting, D("2025-12-12"), "test")
    act(ref, review_cycle.record_meeting, D("2025-12-12"), "test")
    act(ref, review_decision.maintain, D("2026-01-12"), "test")  # M + 28 = 9 Jan: late
    decision = [e for e in act(ref, lambda s, c: casework.audit_log(s, c)) if e.action == "review:1:decision done"]
    assert decision[0].detail["late"] is True
    assert steps(ref)["review.annual:2"].due_on == D("2026-12-11")  # 12 months starting 12 Dec 2025


def test_child_entering_year_9_mid_cycle_needs_pfa_and_flagged_advice(store_url):
    # born 10 Mar 2012: Year 8 in 2024/25 (age 12 on 31 Aug 2024), Year 9 from 1 Sep 2025
    ref = plan_in_force("2012-03-10", "2025-03-01", flags=("adult_social_care", "pfa"))
    act(ref, review_cycle.open_review, D("2025-04-01"), "test")
    assert act(ref, review_cycle.schedule_meeting, D("2025-07-01"), "test") == []  # Year 8: no PfA section needed
    assert "review:1:advice:pfa" not in steps(ref)
    requests = act(ref, review_cycle.schedule_meeting, D("2025-10-01"), "test")  # moved into Year 9
    assert review(ref).pfa_required
    st = steps(ref)
    assert st["review:1:advice:adult_social_care"].role == "adult_social_care"
    assert st["review:1:advice:pfa"].role == "careers_adviser"
    assert st["review:1:advice:pfa"].due_on == D("2025-09-17")  # M − 14
    assert st["review:1:invitations"].due_on == D("2025-09-17")  # rescheduled with the meeting
    assert len(requests) == 2  # the act returns its requests; written twice, they are the same two messages
    with session() as s:
        assert len(compose.write(s, requests)) == 2
    with session() as s:
        assert compose.write(s, requests) == []
        sent = list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [(m.kind, m.recipient_role) for m in sent] == [("review_advice_request", "adult_social_care"),
                                                          ("review_advice_request", "careers_adviser")]
    assert sent[1].subject == f"{ref}: request for careers (preparation for adulthood) advice for an annual review, " \
                              "due 2025-09-17"

    with pytest.raises(InputError) as missing:
        act(ref, review_cycle.record_meeting, D("2025-10-01"), "test", **{**PFA, "pfa_health": " "})
    assert missing.value.field == "--pfa-health"
    with pytest.raises(InputError) as no_advice:
        act(ref, review_cycle.record_meeting, D("2025-10-01"), "test", **PFA)
    assert no_advice.value.field == "--advice adult_social_care"
    with session() as s:  # nothing written by the refusals
        case = casework.get_case(s, ref)
        assert not get_review(s, case).meeting_held
        assert "review:1:report" not in steps(ref)

    act(ref, review_cycle.record_pre_meeting, "advice:adult_social_care", D("2025-09-15"), "test")
    act(ref, review_cycle.record_pre_meeting, "advice:pfa", D("2025-09-20"), "test")
    held = act(ref, review_cycle.record_meeting, D("2025-10-01"), "test", **PFA)
    assert held.meeting_held and held.pfa_community == "youth club"
    assert steps(ref)["review:1:advice:pfa"].completed_on == D("2025-09-20")


def test_year_8_review_needs_no_pfa(store_url):
    ref = plan_in_force("2012-03-10", "2025-03-01", flags=("adult_social_care",))
    act(ref, review_cycle.open_review, D("2025-04-01"), "test")
    held = act(ref, review_cycle.record_meeting, D("2025-07-01"), "test")  # born 10 Mar 2012: Year 8 until 31 Aug
    assert held.meeting_held and not held.pfa_required


def test_under_five_reviewed_within_six_months(store_url):
    # born 10 Jan 2022: age 3 at the plan; enters Reception 1 Sep 2026 (age 4 on 31 Aug 2026) → before 15 Feb 2026
    ref = plan_in_force("2022-01-10", "2025-03-01")
    with session() as s:
        case = casework.get_case(s, ref)
        planned = review_cycle.plan_cycle(s, case, casework.open_steps(s, case)[-1], D("2025-03-01"))
    assert planned.early_years
    assert planned.phase_transfer == "other" and planned.transfer_due_on == D("2026-02-14")
    assert planned.meeting_by_on == D("2025-08-31")  # period of 6 months starting 1 Mar 2025
    # meeting due in the summer term (Apr-Aug): opens with the plan, the spring term being under way
    assert review_cycle.opens_on(planned) == D("2025-03-01")
    act(ref, review_cycle.open_review, D("2025-04-01"), "test")
    assert steps(ref)["review:1:meeting"].rule_id == "review.early_years"
    act(ref, review_cycle.record_meeting, D("2025-08-20"), "test")
    with pytest.raises(InputError) as unnamed:
        act(ref, review_decision.maintain, D("2025-09-01"), "test")
    assert unnamed.value.field == "--next-setting"
    act(ref, review_decision.maintain, D("2025-09-01"), "test", next_setting="Oak Primary Reception")
    assert steps(ref)["review:1:phase_transfer"].status == "done"
    # next cycle from the meeting: still under 5 on 20 Aug 2025 → 6-monthly again (ends 19 Feb 2026)
    second = act(ref, review_cycle.open_review, D("2025-09-02"), "test")
    assert second.early_years and second.meeting_by_on == D("2026-02-19")
    assert second.phase_transfer is None  # the Reception transfer was settled in cycle 1


def test_re_applying_exceptions_keeps_counted_back_review_dates(store_url):
    """Invitations are due 14 days before the meeting (reg 20(3)); re-applying the case's exceptions must count
    from the meeting, not from the day the step was opened."""
    ref = plan_in_force("2018-05-01", "2024-02-29")
    act(ref, review_cycle.open_review, D("2025-01-02"), "test")
    act(ref, review_cycle.schedule_meeting, D("2025-01-20"), "test")
    before = steps(ref)["review:1:invitations"]
    assert (before.details["counted_back_from"], before.due_on) == ("2025-01-20", D("2025-01-06"))
    act(ref, casework.recompute_deadlines)
    assert steps(ref)["review:1:invitations"].due_on == D("2025-01-06")


def test_the_invitations_go_once_to_those_reg_20_names_and_not_after_the_meeting(store_url):
    ref = plan_in_force("2018-05-01", "2024-02-29")
    act(ref, review_cycle.open_review, D("2025-01-02"), "test")
    act(ref, review_cycle.schedule_meeting, D("2025-01-20"), "test")
    [invitation] = act(ref, review_cycle.send_invitations, D("2025-01-03"), "test")
    assert {r.role for r in invitation.recipients} == {"family", "senco", "dco", "social_care"}
    assert (invitation.kind, invitation.occasion, invitation.facts["meeting_on"]) == ("review_invitation", "1",
                                                                                      D("2025-01-20"))
    assert act(ref, review_cycle.send_invitations, D("2025-01-04"), "test") == []  # sent already
    other = plan_in_force("2018-06-01", "2024-02-29", name="Other Child")
    act(other, review_cycle.open_review, D("2025-01-02"), "test")
    act(other, review_cycle.schedule_meeting, D("2025-01-20"), "test")
    act(other, review_cycle.record_meeting, D("2025-01-20"), "test")  # held: the invitations recorded with it
    assert act(other, review_cycle.send_invitations, D("2025-01-21"), "test") == []


def _written(s) -> tuple:
    """Every review, step, audit event and stage in the store, without ids and clock times."""
    from models.cases import AuditEvent, Case, Step

    def rows(model, skip):
        return sorted(repr({k: v for k, v in r.model_dump().items() if k not in skip})
                      for r in s.exec(select(model)))
    return (rows(Review, {"id", "created_at"}), rows(Step, {"id", "created_at"}), rows(AuditEvent, {"id", "at"}),
            rows(Case, {"updated_at"}))


def test_the_scheduler_opens_in_bulk_exactly_what_open_review_writes_one_case_at_a_time(store_url):
    """The daily pass plans every plan at once and writes the reviews falling due in a few statements; what it
    writes is what `open_review` writes case by case: a plain cycle, one without a setting, an under-5 (early
    years), a Year 6 child moving to secondary (phase transfer, reg 18), and a case whose cycle's meeting step
    is already written (opened by `open_review` itself). A plan not yet due opens nothing."""
    from models import casework as cw
    from models.vocabulary import ReviewPart, Role, StepKind, review_key

    references = [plan_in_force("2015-03-02", "2025-03-03"), plan_in_force("2015-05-02", "2025-03-04", setting=None),
                  plan_in_force("2023-01-10", "2025-02-03", name="Young Child"),
                  plan_in_force("2014-01-20", "2025-02-10", name="Year Six"),
                  plan_in_force("2016-06-02", "2025-03-05", name="Written Already"),
                  plan_in_force("2016-07-02", "2025-11-03", name="Not Yet")]
    with session() as s:
        case = cw.get_case(s, references[4])
        cw.add_step(s, case, key=review_key(1, ReviewPart.MEETING), kind=StepKind.REVIEW_MEETING, role=Role.SENCO,
                    start=D("2025-09-01"), due=D("2026-01-30"))
    on = D("2025-09-01")
    with session() as s:
        due = [(c, r) for c, r in review_cycle.pending_cycles(s, on) if review_cycle.falls_due(r, on)]
        assert {c.reference for c, _ in due} == set(references[:5])
        saved = s.begin_nested()
        for c, _ in due:
            review_cycle.open_review(s, c, on, "scheduler")
        s.flush()
        s.expire_all()
        one_by_one = _written(s)
        saved.rollback()
        s.expire_all()
        opened = review_cycle.open_due_reviews(s, on, "scheduler")
        s.flush()
        s.expire_all()
        assert _written(s) == one_by_one
    assert sorted(opened) == sorted((r, 1) for r in references[:5])
    assert review(references[2]).early_years and review(references[3]).phase_transfer
    with session() as s:
        assert review_cycle.open_due_reviews(s, on, "scheduler") == []  # a second pass opens nothing
