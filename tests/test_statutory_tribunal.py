"""Spec §2.6 (rule set eng-2014.3): the Tribunal-order (reg 44) and unopposed-appeal (reg 45) limits, their
exceptions (closure as reg 13(3), personal, absence of a continuous 2 weeks in the period), and which rule set
a case's limits come from.

Expected dates are worked out by hand from the spec's wording (the arithmetic is in the comments).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from models import statutory
from models.errors import InputError
from models.statutory import ClockException as Exc

D = dt.date.fromisoformat
OLD, NEW = "eng-2014.2", "eng-2014.3"
ORDERS = sorted(rid for rid in statutory.RULES if rid.startswith(("tribunal.", "unopposed.")))


def exc(kind: str, start: str, end: str) -> Exc:
    return Exc(kind, D(start), D(end))


# tribunal.plan from O = Mon 6 Jan 2025: 14 w = 98 d: 31 Jan (+25), 28 Feb (+53), 31 Mar (+84), 14 Apr (+98).
# Its clock is 7 Jan … 14 Apr.
ORDER = D("2025-01-06")
PLAN_DUE = D("2025-04-14")


@pytest.mark.parametrize("rule_set", [OLD, NEW])
def test_absence_of_two_weeks_inside_the_period_applies(rule_set):
    # 1 … 14 Feb is 14 days, all inside the clock → target 14 Apr + 14 = 28 Apr
    result = statutory.deadline("tribunal.plan", ORDER, [exc("absence", "2025-02-01", "2025-02-14")], rule_set=rule_set)
    assert result.due == PLAN_DUE and result.disapplied and result.exceptions_applied == ("absence",)
    assert result.target == D("2025-04-28")
    assert result.rule_set == NEW  # the limit is first defined by eng-2014.3, whatever the case's set


@pytest.mark.parametrize("rule_id", ["tribunal.plan", "unopposed.assess", "tribunal.continue"])
def test_absence_of_thirteen_days_is_an_input_error(rule_id):
    with pytest.raises(InputError, match="2 weeks") as err:  # 1 … 13 Feb = 13 days
        statutory.deadline(rule_id, ORDER, [exc("absence", "2025-02-01", "2025-02-13")])
    assert err.value.field == "--exception"


def test_the_two_week_absence_is_only_for_the_tribunal_limits():
    # the same 14 days set aside tribunal.plan, but are too short for plan.final's 4 weeks (§3)
    with pytest.raises(InputError, match="4 weeks"):
        statutory.deadline("plan.final", ORDER, [exc("absence", "2025-02-01", "2025-02-14")])


def test_absence_needs_two_weeks_of_its_days_inside_the_period():
    # 5 … 24 Apr (20 days): only 5 … 14 Apr (10 days) inside the clock → not applied
    short = statutory.deadline("tribunal.plan", ORDER, [exc("absence", "2025-04-05", "2025-04-24")])
    assert not short.disapplied and short.target == short.due == PLAN_DUE
    # 1 … 30 Apr: 1 … 14 Apr (14 days) inside → applied, target 14 Apr + 14 = 28 Apr
    enough = statutory.deadline("tribunal.plan", ORDER, [exc("absence", "2025-04-01", "2025-04-30")])
    assert enough.exceptions_applied == ("absence",) and enough.target == D("2025-04-28")


def test_absence_exactly_filling_a_two_week_limit():
    # unopposed.school from U = Mon 6 Jan 2025: due 20 Jan, clock 7 … 20 Jan (14 days)
    whole = statutory.deadline("unopposed.school", ORDER, [exc("absence", "2025-01-07", "2025-01-20")])
    assert whole.due == D("2025-01-20") and whole.target == D("2025-02-03")  # 20 Jan + 14
    # 6 … 19 Jan is 14 days, but U itself is not in the clock: 13 inside → not applied
    early = statutory.deadline("unopposed.school", ORDER, [exc("absence", "2025-01-06", "2025-01-19")])
    assert not early.disapplied and early.target == D("2025-01-20")


def test_personal_inside_the_period_applies():
    # 10 … 12 Mar: 3 days → 14 Apr + 3 = 17 Apr
    result = statutory.deadline("unopposed.plan", ORDER, [exc("personal", "2025-03-10", "2025-03-12")])
    assert result.due == PLAN_DUE and result.exceptions_applied == ("personal",)
    assert result.target == D("2025-04-17")


# tribunal.final from O = Tue 1 Jul 2025: 11 w = 77 d: 31 Jul (+30), 31 Aug (+61), 16 Sep (+77); clock 2 Jul …
# 16 Sep. The school closes Sat 19 Jul, re-opens Wed 3 Sep: counted 19 Jul … 2 Sep = 13 + 31 + 2 = 46 days, all
# inside. Window for asking the head: 12 Jul … 27 Aug.
SUMMER = ("2025-07-19", "2025-09-03")


def test_closure_applies_as_under_reg_13_3():
    result = statutory.deadline("tribunal.final", D("2025-07-01"), [exc("closure", *SUMMER)],
                                {"head_advice_requested": "2025-07-18"})
    assert result.due == D("2025-09-16") and result.exceptions_applied == ("closure",)
    assert result.target == D("2025-11-01")  # 16 Sep + 46: 30 Sep (+14), 31 Oct (+45), 1 Nov (+46)


def test_closure_asked_outside_the_window_is_not_applied():
    result = statutory.deadline("tribunal.final", D("2025-07-01"), [exc("closure", *SUMMER)],
                                {"head_advice_requested": "2025-07-11"})
    assert not result.disapplied and result.target == result.due == D("2025-09-16")


def test_closure_shorter_than_four_weeks_is_an_input_error_for_the_tribunal_limits_too():
    with pytest.raises(InputError, match="4 weeks"):  # closed 19 Jul … 14 Aug = 27 days
        statutory.deadline("tribunal.final", D("2025-07-01"), [exc("closure", "2025-07-19", "2025-08-15")],
                           {"head_advice_requested": "2025-07-18"})


@pytest.mark.parametrize("rule_id", ORDERS)
def test_missed_appointment_is_not_a_tribunal_exception(rule_id):
    with pytest.raises(InputError, match=f"does not apply to {re.escape(rule_id)}") as err:
        statutory.deadline(rule_id, ORDER, [exc("missed_appointment", "2025-01-10", "2025-01-10")])
    assert err.value.field == "--exception"


@pytest.mark.parametrize("rule_id", ORDERS)
def test_exceptions_and_sources_of_every_order_limit(rule_id):
    r = statutory.rule(rule_id)
    assert set(r.exceptions) == {"closure", "personal", "absence"} and r.min_absence_days == 14
    regulation = "reg 44" if rule_id.startswith("tribunal.") else "reg 45"
    assert r.source.startswith(f"{regulation} [") and "(" not in r.source  # §2.6: no paragraph letters [U]


@pytest.mark.parametrize("rule_id", ["tribunal.continue", "tribunal.cease"])
def test_immediate_limits_are_due_on_the_order_and_no_period_sets_them_aside(rule_id):
    # due = O: the clock (O+1 … O) is empty, so a personal period round the order is allowed but not applied
    result = statutory.deadline(rule_id, ORDER, [exc("personal", "2025-01-01", "2025-01-31")])
    assert result.due == result.target == ORDER and not result.disapplied


# --- rule sets -----------------------------------------------------------------------------------


def test_new_cases_run_under_the_latest_set():
    assert statutory.RULE_SETS == (OLD, NEW) and statutory.RULE_SET == NEW


@pytest.mark.parametrize("rule_id", sorted(set(statutory.RULES) - set(ORDERS)))
def test_every_eng_2014_2_limit_is_unchanged_and_keeps_its_set(rule_id):
    facts = {"transfer": "other", "move_date": "2025-04-28", "last_review": "2024-11-20"}
    facts = {k: v for k, v in facts.items() if k in statutory.rule(rule_id).facts}
    old = statutory.deadline(rule_id, D("2025-03-03"), (), facts, rule_set=OLD)
    new = statutory.deadline(rule_id, D("2025-03-03"), (), facts, rule_set=NEW)
    assert old.rule_set == OLD and new.rule_set == NEW
    assert old.due == new.due
    assert statutory.rule_set_of(rule_id, OLD) == OLD


@pytest.mark.parametrize("rule_id", ORDERS)
def test_a_case_in_flight_takes_an_order_limit_from_the_set_that_defines_it(rule_id):
    assert statutory.rule_set_of(rule_id, OLD) == statutory.rule_set_of(rule_id, NEW) == NEW
    assert statutory.deadline(rule_id, ORDER, rule_set=OLD) == statutory.deadline(rule_id, ORDER, rule_set=NEW)


def test_a_derived_limit_reports_the_case_set():
    draft = statutory.case_deadline("plan.draft_latest", ORDER, [exc("personal", "2025-02-01", "2025-02-14")],
                                    rule_set=OLD)
    assert draft.rule_set == OLD and draft.disapplied and draft.due == D("2025-05-11")


def test_unknown_rule_set_is_an_input_error():
    with pytest.raises(InputError, match="eng-2014.1") as err:
        statutory.deadline("plan.final", ORDER, rule_set="eng-2014.1")
    assert err.value.field == "--rule-set"
