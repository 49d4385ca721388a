"""Properties of the clock engine that must hold for every date (hypothesis), each checked against an
independent definition rather than against the engine itself."""

from __future__ import annotations

import bisect
import calendar
import datetime as dt

from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from models import statutory
from models.statutory import ClockException as Exc
from tests.test_bank_holidays import FIRST, LAST, WORKING, r12_from_govuk

prop = settings(max_examples=150, deadline=None)

DAY = dt.timedelta(days=1)
dates = st.dates(dt.date(2019, 1, 1), dt.date(2027, 6, 30))
# limits that count back from their start (a meeting or a transfer date), or are fixed in the transfer's year
BACKWARD = {"review.invitations", "review.advice_circulated", "review.post16_transfer", "review.phase_transfer",
            "review.phase_transfer_meeting_latest"}
IMMEDIATE = {"tribunal.continue", "tribunal.cease"}  # §2.6: due = O
ORDER_LIMITS = ("tribunal.plan", "tribunal.school", "tribunal.continue", "unopposed.assess", "unopposed.final")
WITH_EXCEPTIONS = ("assess.decision", "advice.provide", "plan.not_to_issue", "plan.final", "reassess.final",
                   *ORDER_LIMITS)
# an absence applies only with this many of its days inside the clock: reg 8(2)(b); §2.6 "2 weeks in the period"
ABSENCE_IN_PERIOD = {"advice.provide": 28, **dict.fromkeys(ORDER_LIMITS, 14)}


@st.composite
def facts_for(draw, rule_id: str, start: dt.date) -> dict[str, str]:
    offset = st.integers(-400, 400).map(lambda n: (start + dt.timedelta(days=n)).isoformat())
    if rule_id.startswith("review.phase_transfer"):
        return {"transfer": draw(st.sampled_from(["post16", "other"]))}
    if rule_id == "transfer.send_plan":
        return {"move_date": draw(offset)}
    if rule_id == "transfer.review":
        return {"last_review": draw(st.integers(0, 400).map(lambda n: (start - dt.timedelta(days=n)).isoformat()))}
    if rule_id == "appeal.register":
        return draw(st.one_of(st.just({}), offset.map(lambda d: {"mediation_certificate": d})))
    return {}


@prop
@given(st.sampled_from(sorted(statutory.RULES)), dates, st.data())
def test_no_forward_deadline_falls_on_or_before_its_start(rule_id, start, data):
    facts = data.draw(facts_for(rule_id, start))
    result = statutory.deadline(rule_id, start, (), facts)
    if rule_id.startswith("review.phase_transfer"):  # fixed in the transfer's year: mid-year transfers warn (§7.2)
        assert result.due < start or result.warnings
    elif rule_id in BACKWARD:
        assert result.due < start
    elif rule_id in IMMEDIATE:
        assert result.due == start
    else:
        assert result.due > start
    assert result.target == result.due and not result.disapplied


@st.composite
def personal_or_absence(draw, start: dt.date, min_absence: int = 28) -> Exc:
    kind = draw(st.sampled_from(["personal", "absence"]))
    first = start + dt.timedelta(days=draw(st.integers(-60, 200)))
    length = draw(st.integers(min_absence, 90) if kind == "absence" else st.integers(1, 90))
    return Exc(kind, first, first + dt.timedelta(days=length - 1))


def _days(first: dt.date, last: dt.date) -> set[dt.date]:
    return {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}


@prop
@given(st.sampled_from(WITH_EXCEPTIONS), dates, st.data())
def test_exceptions_keep_due_and_add_the_union_of_their_days_inside_the_clock(rule_id, start, data):
    exceptions = data.draw(st.lists(personal_or_absence(start, 14 if rule_id in ORDER_LIMITS else 28), max_size=3))
    plain = statutory.deadline(rule_id, start).due
    result = statutory.deadline(rule_id, start, exceptions)
    assert result.due == plain  # an exception never moves the statutory date
    clock = _days(start + DAY, plain)
    applied = [e for e in exceptions if _days(e.start, e.end) & clock and not (
        e.kind == "absence" and len(_days(e.start, e.end) & clock) < ABSENCE_IN_PERIOD.get(rule_id, 0))]
    covered = set().union(*(_days(e.start, e.end) & clock for e in applied))
    assert result.target == plain + dt.timedelta(days=len(covered))
    assert result.target >= result.due
    assert result.disapplied == bool(applied)
    assert set(result.exceptions_applied) == {e.kind for e in applied}


@prop
@given(st.sampled_from(WITH_EXCEPTIONS), dates, st.data())
def test_one_more_exception_never_makes_the_target_earlier(rule_id, start, data):
    exceptions = data.draw(st.lists(personal_or_absence(start), min_size=1, max_size=3))
    fewer = statutory.deadline(rule_id, start, exceptions[:-1])
    more = statutory.deadline(rule_id, start, exceptions)
    assert more.due == fewer.due and more.target >= fewer.target


@prop
@given(st.sampled_from(["assess.decision", "plan.not_to_issue", "plan.final", "reassess.final"]), dates,
       st.integers(-30, 200), st.integers(28, 60), st.integers(-10, 70))
def test_closure_counts_closed_days_inside_the_clock_when_asked_in_the_window(rule_id, start, first, closed, asked):
    first_closed = start + dt.timedelta(days=first)
    reopens = first_closed + dt.timedelta(days=closed)
    asked_on = first_closed + dt.timedelta(days=asked - 7)
    result = statutory.deadline(rule_id, start, [Exc("closure", first_closed, reopens)],
                                {"head_advice_requested": asked_on.isoformat()})
    in_window = first_closed - dt.timedelta(weeks=1) <= asked_on <= reopens - dt.timedelta(weeks=1)
    inside = _days(first_closed, reopens - DAY) & _days(start + DAY, result.due)
    assert result.disapplied == (in_window and bool(inside))
    assert result.target == result.due + dt.timedelta(days=len(inside) if result.disapplied else 0)


@prop
@given(dates)
def test_final_plan_is_never_before_the_draft_window_closes(received):
    """A draft served on any day up to plan.draft_latest leaves the full 15 days before plan.final."""
    latest = statutory.deadline("plan.draft_latest", received).due
    final = statutory.deadline("plan.final", received).due
    for served in (latest, latest - dt.timedelta(days=10), received + dt.timedelta(days=43)):
        window_closes = statutory.deadline("plan.draft_representations", served).due
        assert window_closes < final
    assert statutory.deadline("plan.draft_representations", latest).due + DAY == final


@prop
@given(dates, st.data())
def test_in_a_case_the_draft_target_leaves_the_full_window_before_the_final_target(received, data):
    """However the case's exceptions fall, a draft served by plan.draft_latest's working target leaves the
    family's 15 days before plan.final's working target, and the two are set aside together."""
    exceptions = data.draw(st.lists(personal_or_absence(received), max_size=3))
    draft = statutory.case_deadline("plan.draft_latest", received, exceptions)
    final = statutory.case_deadline("plan.final", received, exceptions)
    assert draft.disapplied == final.disapplied and draft.due == statutory.deadline("plan.draft_latest", received).due
    assert statutory.deadline("plan.draft_representations", draft.target).due + DAY == final.target


def _period_end_brute_force(start: dt.date, months: int) -> dt.date:
    """§1 'period of N months starting with D', read literally: step N months, then look for the same
    day-of-month; the period ends the day before it, or on the month's last day if there is no such day."""
    year, month = start.year, start.month
    for _ in range(months):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    days = [dt.date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]
    same = [d for d in days if d.day == start.day]
    return same[0] - DAY if same else days[-1]


@prop
@given(dates, st.integers(1, 24))
def test_period_of_months_agrees_with_the_literal_definition(start, months):
    end = statutory.period_of_months(start, months)
    assert end == _period_end_brute_force(start, months)
    assert start <= end < start + relativedelta(months=months) + DAY


@prop
@given(dates)
def test_a_period_of_twelve_months_is_a_year_of_days(start):
    length = (statutory.period_of_months(start, 12) - start).days + 1
    assert length in (365, 366)
    assert statutory.deadline("review.meeting_latest", start).due + dt.timedelta(days=28) == statutory.deadline(
        "review.annual", start).due


@prop
@given(dates, st.integers(1, 24))
def test_month_arithmetic_agrees_with_dateutil(start, months):
    assert statutory.within_months(start, months) == start + relativedelta(months=months)
    assert statutory.months_before(start, months) == start - relativedelta(months=months)


@prop
@given(dates, st.integers(1, 30))
def test_calendar_periods_never_move_for_weekends_or_holidays(start, weeks):
    assert statutory.within_weeks(start, weeks) == start + dt.timedelta(weeks=weeks)
    assert statutory.days_beginning_with(start, weeks) == start + dt.timedelta(days=weeks - 1)


@prop
@given(st.dates(dt.date(1995, 1, 1), dt.date(2024, 12, 31)), dates, dates)
def test_year_group_is_monotone_in_the_date(dob, on1, on2):
    on1, on2 = sorted((max(on1, dob), max(on2, dob)))
    g1, g2 = statutory.year_group(dob, on1), statutory.year_group(dob, on2)
    assert g1 <= g2
    assert g2 - g1 == statutory.academic_year(on2) - statutory.academic_year(on1)  # up by one each 1 September


@prop
@given(st.dates(dt.date(1995, 1, 1), dt.date(2020, 12, 31)), st.integers(0, 400), dates)
def test_older_children_are_never_in_a_lower_year_group(dob, days_older, on):
    older = dob - dt.timedelta(days=days_older)
    on = max(on, dob)
    assert statutory.year_group(older, on) >= statutory.year_group(dob, on)


@prop
@given(st.dates(FIRST, LAST - dt.timedelta(days=90)), st.integers(1, 30))
def test_working_day_helpers_agree_with_the_govuk_calendar(start, n):
    after, from_start = bisect.bisect_right(WORKING, start), bisect.bisect_left(WORKING, start)
    assert statutory.within_working_days(start, n) == WORKING[after + n - 1]
    assert statutory.working_days_beginning_with(start, n) == WORKING[from_start + n - 1]
    assert statutory.is_working_day(start) == (WORKING[from_start] == start)


@prop
@given(dates, st.one_of(st.none(), dates))
def test_appeal_deadline_agrees_with_rule_12_on_the_govuk_calendar(notice, certificate):
    """The time ends at the later of notice + 2 months and certificate + 1 month; ending 25 Dec-1 Jan or in
    August → the first working day after 1 Jan / 31 Aug; otherwise the first working day on or after it. (A time
    ending on Sat 31 July therefore rolls to early August: r12(3) looks at the day the time ends.)"""
    facts = {"mediation_certificate": certificate.isoformat()} if certificate else {}
    due = statutory.deadline("appeal.register", notice, (), facts).due
    ends = max([notice + relativedelta(months=2)] + ([certificate + relativedelta(months=1)] if certificate else []))
    assert due == r12_from_govuk(ends)


@prop
@given(dates, st.sampled_from(["post16", "other"]))
def test_phase_transfer_meeting_leaves_twelve_weeks(transfer, kind):
    due = statutory.deadline("review.phase_transfer", transfer, (), {"transfer": kind}).due
    meeting = statutory.deadline("review.phase_transfer_meeting_latest", transfer, (), {"transfer": kind}).due
    assert due == dt.date(transfer.year, 3 if kind == "post16" else 2, 30 if kind == "post16" else 14)
    assert meeting + dt.timedelta(days=84) == due
    mid_year = due >= transfer  # e.g. a January intake: the statutory date is after the transfer itself
    for rule_id in ("review.phase_transfer", "review.phase_transfer_meeting_latest"):
        assert bool(statutory.deadline(rule_id, transfer, (), {"transfer": kind}).warnings) == mid_year, rule_id
