"""Every worked example of statutory-timescales.md, and every limit of its §2 by identifier.

Expected dates are worked out by hand from the spec's wording (the arithmetic is in the comments), never
by calling the engine's own helpers.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from models import statutory
from models.errors import InputError
from models.statutory import ClockException as Exc

D = dt.date.fromisoformat
SPEC = Path(__file__).parent / "reference" / "statutory-timescales.md"


def due(rule_id: str, start: str, exceptions=(), **facts) -> dt.date:
    return statutory.deadline(rule_id, D(start), list(exceptions), facts).due


def exc(kind: str, start: str, end: str) -> Exc:
    return Exc(kind, D(start), D(end))


# --- §1 counting table ---------------------------------------------------------------------------


def test_within_weeks_does_not_count_the_day_itself():
    assert statutory.within_weeks(D("2025-01-06"), 6) == D("2025-02-17")  # Mon + 42 days = Mon


def test_days_beginning_with_includes_the_day_itself():
    assert statutory.days_beginning_with(D("2025-03-03"), 15) == D("2025-03-17")  # 03-03 … 03-17 is 15 days


def test_weeks_before_a_meeting():
    assert due("review.invitations", "2025-06-20") == D("2025-06-06")  # M − 14


@pytest.mark.parametrize("start, months, expected", [
    ("2024-12-31", 2, "2025-02-28"),  # spec example: no 31 February, so its last day
    ("2025-01-15", 1, "2025-02-15"),
    ("2024-01-31", 1, "2024-02-29"),  # leap year
])
def test_within_months_clamps_to_month_end(start, months, expected):
    assert statutory.within_months(D(start), months) == D(expected)


@pytest.mark.parametrize("start, expected", [
    ("2025-01-31", "2026-01-30"),  # spec: the day before 2026-01-31
    ("2024-02-29", "2025-02-28"),  # spec: 2025-02-29 does not exist → last day of February
    ("2023-03-01", "2024-02-29"),  # spec: the day before 2024-03-01, a leap year
    ("2025-06-15", "2026-06-14"),
])
def test_period_of_twelve_months(start, expected):
    assert statutory.period_of_months(D(start), 12) == D(expected)
    assert due("review.annual", start) == D(expected)


def test_months_before_clamps_to_month_end():
    assert statutory.months_before(D("2026-07-31"), 5) == D("2026-02-28")  # no 31 February 2026


def test_before_a_fixed_date_is_the_day_before():
    assert statutory.day_before(D("2026-02-15")) == D("2026-02-14")


def test_within_working_days_skips_easter():
    # Thu 17 Apr 2025; Good Friday 18th, weekend, Easter Monday 21st; Tue 22 (1), Wed 23 (2), Thu 24 (3).
    assert statutory.within_working_days(D("2025-04-17"), 3) == D("2025-04-24")


def test_working_days_beginning_with_counts_the_day_itself():
    # Mon 15 Dec 2025 is day 1: 15-19 (5), 22-24 (8), 25/26 Dec holidays, 29-31 (11), 1 Jan holiday,
    # Fri 2 Jan (12), Mon 5 - Wed 7 Jan (15).
    assert statutory.working_days_beginning_with(D("2025-12-15"), 15) == D("2026-01-07")


def test_working_days_beginning_with_a_non_working_day_starts_on_the_next():
    # Sat 13 Dec 2025 is not a working day, so day 1 is Mon 15 Dec: same answer as from the Monday.
    assert statutory.working_days_beginning_with(D("2025-12-13"), 15) == D("2026-01-07")


def test_calendar_periods_do_not_move_off_a_bank_holiday():
    # 2025-01-06 + 20 weeks = Spring bank holiday Mon 26 May 2025, and the due date stays there.
    assert not statutory.is_working_day(D("2025-05-26"))
    assert due("plan.final", "2025-01-06") == D("2025-05-26")


def test_week_count_excludes_the_request_day():
    # §7.1: R + 140, not R + 139.
    assert (due("plan.final", "2025-01-06") - D("2025-01-06")).days == 140


# --- §2: every limit by identifier, with a date worked out by hand -------------------------------

LIMITS = [
    # 2.1 needs assessment and plan
    ("assess.decision", "2025-01-06", {}, "2025-02-17"),  # R + 6 w
    ("advice.provide", "2025-01-20", {}, "2025-03-03"),  # received 20 Jan + 42 d: 31 Jan (+11), 3 Mar (+42)
    ("plan.not_to_issue", "2025-01-06", {}, "2025-04-28"),  # R + 16 w = 20 w (26 May) − 4 w
    ("plan.draft_representations", "2025-03-03", {}, "2025-03-17"),  # 15 days beginning with S: S + 14
    ("plan.setting_consultation", "2025-03-03", {}, "2025-03-18"),  # 15 days of the consultation: D + 15
    ("plan.final", "2025-01-06", {}, "2025-05-26"),  # R + 20 w (a bank holiday: stays)
    ("plan.draft_latest", "2025-01-06", {}, "2025-05-11"),  # 26 May − 15 days
    # 2.2 reviews and amendments
    ("review.annual", "2025-03-14", {}, "2026-03-13"),  # period of 12 months starting with P
    ("review.meeting_latest", "2025-03-14", {}, "2026-02-13"),  # 13 Mar 2026 − 28
    ("review.invitations", "2025-06-20", {}, "2025-06-06"),  # M − 14
    ("review.advice_circulated", "2025-06-20", {}, "2025-06-06"),  # M − 14
    ("review.report", "2025-06-20", {}, "2025-07-04"),  # M + 14
    ("review.decision", "2025-06-20", {}, "2025-07-18"),  # M + 28
    ("amend.representations", "2025-07-18", {}, "2025-08-01"),  # 15 days beginning with N: N + 14
    ("amend.final", "2025-07-18", {}, "2025-09-12"),  # N + 56: 31 Jul (+13), 31 Aug (+44), 12 Sep (+56)
    ("amend.final_latest", "2025-06-20", {}, "2025-09-12"),  # M + 84 = (M + 28) + 56
    ("review.early_years", "2025-01-31", {}, "2025-07-30"),  # period of 6 months: day before 31 Jul
    # 2.3 phase transfers
    ("review.phase_transfer", "2026-09-01", {"transfer": "other"}, "2026-02-14"),  # before 15 Feb Y
    ("review.phase_transfer", "2026-09-01", {"transfer": "post16"}, "2026-03-30"),  # before 31 Mar Y
    ("review.phase_transfer_meeting_latest", "2026-09-01", {"transfer": "other"}, "2025-11-22"),  # spec
    ("review.phase_transfer_meeting_latest", "2026-09-01", {"transfer": "post16"}, "2026-01-05"),  # 30 Mar − 84
    ("review.post16_transfer", "2026-07-31", {}, "2026-02-28"),  # T − 5 months, clamped
    ("review.post16_transfer", "2026-01-15", {}, "2025-08-15"),
    # 2.4 re-assessment, moving LA
    ("reassess.decision", "2025-03-03", {}, "2025-03-18"),  # + 15 days
    ("reassess.final", "2025-01-06", {}, "2025-04-14"),  # + 14 w = 20 w (26 May) − 6 w
    # aware Mon 3 Mar, moving Mon 28 Apr: far more than 15 working days ahead → on the move date
    ("transfer.send_plan", "2025-03-03", {"move_date": "2025-04-28"}, "2025-04-28"),
    # aware Mon 14 Apr, moving Mon 21 Apr: 15 working days beginning with 14 Apr: 14-17 (4), Easter,
    # 22-25 (8), 28 Apr - 2 May (13), 5 May bank holiday, 6 (14), 7 May (15)
    ("transfer.send_plan", "2025-04-14", {"move_date": "2025-04-21"}, "2025-05-07"),
    # aware Mon 3 Mar, moving Mon 24 Mar: 3-21 Mar is exactly 15 working days before the move → move date
    ("transfer.send_plan", "2025-03-03", {"move_date": "2025-03-24"}, "2025-03-24"),
    # moving Fri 21 Mar: 3-20 Mar is 14 working days, not 15 → 15 working days beginning with 3 Mar = 21 Mar
    ("transfer.send_plan", "2025-03-03", {"move_date": "2025-03-21"}, "2025-03-21"),
    # aware only after the move (7 Apr): 15 working days beginning with 14 Apr
    ("transfer.send_plan", "2025-04-14", {"move_date": "2025-04-07"}, "2025-05-07"),
    ("transfer.new_la_notify", "2025-01-06", {}, "2025-02-17"),  # + 6 w
    # last review 20 Nov 2024: 12 months end 19 Nov 2025; transfer 2 Jun 2025: 3 months end 1 Sep → later
    ("transfer.review", "2025-06-02", {"last_review": "2024-11-20"}, "2025-11-19"),
    # last review 10 Jul 2024: 12 months end 9 Jul 2025; 3 months from 2 Jun end 1 Sep 2025 → later
    ("transfer.review", "2025-06-02", {"last_review": "2024-07-10"}, "2025-09-01"),
    # 2.5 mediation and appeal
    ("mediation.contact", "2025-03-10", {}, "2025-05-10"),  # + 2 months, a Saturday: no roll-forward
    ("mediation.contact", "2024-12-31", {}, "2025-02-28"),
    ("mediation.certificate_declined", "2025-04-17", {}, "2025-04-24"),  # 3 wd over Easter
    ("mediation.health_notify", "2025-12-24", {}, "2025-12-31"),  # 25, 26 Dec off; 29 (1), 30 (2), 31 (3)
    ("mediation.held", "2025-03-03", {}, "2025-04-02"),  # + 30 days
    ("mediation.certificate_not_arranged", "2025-05-02", {}, "2025-05-08"),  # Fri; 5 May bank holiday; 6, 7, 8
    ("mediation.certificate_after", "2025-08-22", {}, "2025-08-28"),  # Fri; 25 Aug bank holiday; 26, 27, 28
    ("mediation.agreement_act", "2025-03-03", {}, "2025-03-17"),  # + 2 weeks
    ("appeal.register", "2025-03-10", {}, "2025-05-12"),  # spec: Sat 10 May → Mon 12 May
    ("appeal.register", "2025-06-10", {}, "2025-09-01"),  # spec: 10 Aug → first working day after 31 Aug
    ("appeal.register", "2025-10-27", {}, "2026-01-02"),  # spec: 27 Dec → first working day after 1 Jan
    # certificate 2 May + 1 month = Mon 2 Jun, later than notice + 2 months (10 May)
    ("appeal.register", "2025-03-10", {"mediation_certificate": "2025-05-02"}, "2025-06-02"),
    # certificate 20 Mar + 1 month = 20 Apr, earlier than 10 May → notice + 2 months rolled to Mon 12 May
    ("appeal.register", "2025-03-10", {"mediation_certificate": "2025-03-20"}, "2025-05-12"),
    # certificate 15 Jul + 1 month = 15 Aug → first working day after 31 Aug
    ("appeal.register", "2025-03-10", {"mediation_certificate": "2025-07-15"}, "2025-09-01"),
    # 2.6 Tribunal orders (reg 44): weeks from O = the order, Wed 15 Oct 2025; 31 Oct is O + 16, 30 Nov O + 46,
    # 31 Dec O + 77
    ("tribunal.assess", "2025-10-15", {}, "2025-10-29"),  # 2 w: 15 + 14 = 29 Oct
    ("tribunal.not_to_issue", "2025-10-15", {}, "2025-12-24"),  # 10 w = 70 d: 30 Nov (+46), 24 Dec (+70)
    ("tribunal.plan", "2025-10-15", {}, "2026-01-21"),  # 14 w = 98 d: 31 Dec (+77), 21 Jan (+98)
    ("tribunal.draft", "2025-10-15", {}, "2025-11-19"),  # 5 w = 35 d: 31 Oct (+16), 19 Nov (+35)
    ("tribunal.final", "2025-10-15", {}, "2025-12-31"),  # 11 w = 77 d: 30 Nov (+46), 31 Dec (+77)
    ("tribunal.amend", "2025-10-15", {}, "2025-11-19"),  # 5 w, as the draft
    ("tribunal.school", "2025-10-15", {}, "2025-10-29"),  # 2 w
    ("tribunal.continue", "2025-10-15", {}, "2025-10-15"),  # immediately: due = O
    ("tribunal.cease", "2025-10-15", {}, "2025-10-15"),  # immediately: due = O
    # unopposed appeals (reg 45): weeks from U = the LA's notice to the Tribunal, Mon 6 Jan 2025
    ("unopposed.assess", "2025-01-06", {}, "2025-01-20"),  # 2 w
    ("unopposed.not_to_issue", "2025-01-06", {}, "2025-03-17"),  # 10 w = 70 d: 31 Jan (+25), 28 Feb (+53), 17 Mar
    ("unopposed.plan", "2025-01-06", {}, "2025-04-14"),  # 14 w = 98 d: 31 Mar (+84), 14 Apr (+98)
    ("unopposed.draft", "2025-01-06", {}, "2025-02-10"),  # 5 w = 35 d: 31 Jan (+25), 10 Feb (+35)
    ("unopposed.final", "2025-01-06", {}, "2025-03-24"),  # 11 w = 77 d: 28 Feb (+53), 24 Mar (+77)
    ("unopposed.amend", "2025-01-06", {}, "2025-02-10"),  # 5 w
    ("unopposed.school", "2025-01-06", {}, "2025-01-20"),  # 2 w
]


@pytest.mark.parametrize("rule_id, start, facts, expected", LIMITS, ids=[f"{r}-{s}" for r, s, _, _ in LIMITS])
def test_limit(rule_id, start, facts, expected):
    result = statutory.deadline(rule_id, D(start), (), facts)
    assert result.due == D(expected)
    assert result.target == result.due and not result.disapplied and result.exceptions_applied == ()
    assert result.rule_set == statutory.RULE_SET


def test_every_rule_has_a_worked_example():
    assert {r for r, *_ in LIMITS} == set(statutory.RULES)


def test_every_rule_identifier_in_the_spec_tables_is_implemented():
    """Each identifier in backticks in a §2 table row of the (vendored) spec is a rule of the engine."""
    text = SPEC.read_text(encoding="utf-8")
    section = text.split("## 2. Limits", 1)[1].split("## 3.", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    ids = {token for row in rows for token in re.findall(r"`([a-z0-9_.]+)`", row) if "." in token}
    assert len(ids) >= 30  # the parse found the tables
    assert ids <= set(statutory.RULES), ids - set(statutory.RULES)


def test_rule_set_is_the_specs():
    assert f"rule set `{statutory.RULE_SET}`" in SPEC.read_text(encoding="utf-8").splitlines()[0]


def test_draft_served_on_the_last_day_leaves_the_full_window():
    # §2.1: draft on plan.draft_latest (11 May); representations 11-25 May; final from 26 May = plan.final.
    draft = due("plan.draft_latest", "2025-01-06")
    reps_close = due("plan.draft_representations", draft.isoformat())
    assert reps_close == D("2025-05-25")
    assert reps_close + dt.timedelta(days=1) == due("plan.final", "2025-01-06")


def test_review_cycle_table():
    # §5: invitations M − 14, report M + 14, decision M + 28, representations N … N + 14, final N + 56 ≤ M + 84
    m = "2025-06-20"
    n = due("review.decision", m)
    assert due("amend.final", n.isoformat()) == due("amend.final_latest", m)
    assert due("amend.representations", n.isoformat()) == n + dt.timedelta(days=14)


def test_phase_transfer_needs_its_fact():
    with pytest.raises(InputError, match="transfer"):
        statutory.deadline("review.phase_transfer", D("2026-09-01"))
    with pytest.raises(InputError) as err:
        statutory.deadline("review.phase_transfer", D("2026-09-01"), facts={"transfer": "secondary"})
    assert err.value.field == "transfer"


def test_mid_year_transfer_returns_the_literal_date_with_a_warning():
    # §7.2: a January intake: the 14 February of the same year is after the transfer; returned, with a warning.
    result = statutory.deadline("review.phase_transfer", D("2026-01-05"), facts={"transfer": "other"})
    assert result.due == D("2026-02-14") and result.warnings
    meeting = statutory.deadline("review.phase_transfer_meeting_latest", D("2026-01-05"), facts={"transfer": "other"})
    assert meeting.due == D("2025-11-22") and meeting.warnings  # same literal reading, same warning
    september = statutory.deadline("review.phase_transfer", D("2026-09-01"), facts={"transfer": "other"})
    assert september.warnings == ()


@pytest.mark.parametrize("rule_id, fact", [
    ("review.phase_transfer", "transfer"), ("review.phase_transfer_meeting_latest", "transfer"),
    ("transfer.send_plan", "move_date"), ("transfer.review", "last_review"),
])
def test_missing_fact_is_an_input_error(rule_id, fact):
    with pytest.raises(InputError) as err:
        statutory.deadline(rule_id, D("2025-06-02"))
    assert fact in err.value.rule


def test_malformed_fact_date_names_the_fact():
    with pytest.raises(InputError) as err:
        statutory.deadline("transfer.review", D("2025-06-02"), facts={"last_review": "2025-02-30"})
    assert err.value.field == "last_review"


def test_unknown_rule_is_an_input_error():
    with pytest.raises(InputError) as err:
        statutory.deadline("plan.finale", D("2025-01-06"))
    assert err.value.field == "RULE_ID"


def test_pathway_timeline_is_the_limits_that_run_from_the_request():
    result = statutory.timeline(D("2025-01-06"))
    assert {rid: d.due for rid, d in result.items()} == {
        "assess.decision": D("2025-02-17"), "plan.not_to_issue": D("2025-04-28"),
        "plan.draft_latest": D("2025-05-11"), "plan.final": D("2025-05-26"),
    }


# --- §3 exceptions -------------------------------------------------------------------------------
# plan.final from R = Mon 6 Jan 2025: due Mon 26 May 2025; the clock is 7 Jan … 26 May.


def test_personal_inside_the_clock_disapplies_and_moves_the_target():
    result = statutory.deadline("plan.final", D("2025-01-06"), [exc("personal", "2025-02-01", "2025-02-14")])
    assert result.due == D("2025-05-26")  # due never moves
    assert result.disapplied and result.exceptions_applied == ("personal",)
    assert result.target == D("2025-06-09")  # 26 May + 14 days


def test_personal_partly_inside_counts_only_the_days_inside():
    # 20 May … 10 Jun: only 20-26 May (7 days) are inside the clock → 26 May + 7 = 2 Jun
    result = statutory.deadline("plan.final", D("2025-01-06"), [exc("personal", "2025-05-20", "2025-06-10")])
    assert result.target == D("2025-06-02")


@pytest.mark.parametrize("period", [("2025-06-01", "2025-06-30"), ("2024-12-01", "2025-01-06")])
def test_personal_entirely_outside_the_clock_is_not_applied(period):
    # the request day itself is not in the clock (start + 1 … due)
    result = statutory.deadline("plan.final", D("2025-01-06"), [exc("personal", *period)])
    assert not result.disapplied and result.exceptions_applied == () and result.target == result.due


def test_absence_of_four_weeks_applies():
    result = statutory.deadline("plan.final", D("2025-01-06"), [exc("absence", "2025-02-01", "2025-02-28")])
    assert result.exceptions_applied == ("absence",) and result.target == D("2025-06-23")  # 26 May + 28


def test_the_last_day_for_the_draft_is_set_aside_in_a_case_with_the_final_plan():
    """plan.draft_latest has no exception of its own ("none (derived)"), so asked directly it takes none; in a
    case it follows plan.final's."""
    exceptions = [exc("absence", "2025-02-01", "2025-02-28")]
    with pytest.raises(InputError, match="does not apply to plan.draft_latest"):
        statutory.deadline("plan.draft_latest", D("2025-01-06"), exceptions)
    assert statutory.case_exception_kinds("plan.draft_latest") == statutory.rule("plan.final").exceptions
    final = statutory.case_deadline("plan.final", D("2025-01-06"), exceptions)
    draft = statutory.case_deadline("plan.draft_latest", D("2025-01-06"), exceptions)
    assert draft.due == D("2025-05-11") and draft.disapplied and draft.exceptions_applied == ("absence",)
    assert draft.target == D("2025-06-08") and (final.target - draft.target).days == 15  # 23 Jun − 15 days
    later = [exc("personal", "2025-06-01", "2025-06-30")]  # after the 20 weeks: sets neither aside
    after = statutory.case_deadline("plan.draft_latest", D("2025-01-06"), later)
    assert not after.disapplied and after.target == after.due == D("2025-05-11")
    assert final == statutory.deadline("plan.final", D("2025-01-06"), exceptions)  # any other limit: as asked


def test_absence_shorter_than_four_weeks_is_an_input_error():
    with pytest.raises(InputError, match="4 weeks"):
        statutory.deadline("plan.final", D("2025-01-06"), [exc("absence", "2025-02-01", "2025-02-27")])  # 27 days


def test_overlapping_periods_count_each_day_once():
    # personal 1-14 Feb and absence 10 Feb - 9 Mar overlap; union 1 Feb - 9 Mar = 37 days → 26 May + 37 = 2 Jul
    result = statutory.deadline("plan.final", D("2025-01-06"), [
        exc("personal", "2025-02-01", "2025-02-14"), exc("absence", "2025-02-10", "2025-03-09")])
    assert result.exceptions_applied == ("personal", "absence")
    assert result.target == D("2025-07-02")
    assert result.due == D("2025-05-26")


# closure: plan.final from Tue 1 Apr 2025, due 19 Aug 2025 (1 Apr + 140). The school closes Sat 19 Jul and
# re-opens Wed 3 Sep: counted days 19 Jul … 2 Sep, of which 19 Jul … 19 Aug (32 days) are in the clock.
# Window for asking the head: 12 Jul (a week before the first closed day) … 27 Aug (a week before re-opening).
SUMMER = ("2025-07-19", "2025-09-03")


@pytest.mark.parametrize("asked", ["2025-07-12", "2025-07-18", "2025-08-27"])
def test_closure_applies_when_the_head_was_asked_inside_the_window(asked):
    result = statutory.deadline("plan.final", D("2025-04-01"), [exc("closure", *SUMMER)],
                                {"head_advice_requested": asked})
    assert result.due == D("2025-08-19")
    assert result.disapplied and result.exceptions_applied == ("closure",)
    assert result.target == D("2025-09-20")  # 19 Aug + 32


@pytest.mark.parametrize("asked", ["2025-07-11", "2025-08-28", "2025-05-01"])
def test_closure_not_applied_when_the_head_was_asked_outside_the_window(asked):
    result = statutory.deadline("plan.final", D("2025-04-01"), [exc("closure", *SUMMER)],
                                {"head_advice_requested": asked})
    assert not result.disapplied and result.target == result.due == D("2025-08-19")


def test_closure_of_the_readme_example_on_the_decision_to_assess():
    # assess.decision from Mon 7 Jul 2025: due 18 Aug; closed 19 Jul … 18 Aug in the clock = 31 days
    result = statutory.deadline("assess.decision", D("2025-07-07"), [exc("closure", *SUMMER)],
                                {"head_advice_requested": "2025-07-18"})
    assert result.due == D("2025-08-18") and result.target == D("2025-09-18")


def test_closure_shorter_than_four_weeks_is_an_input_error():
    with pytest.raises(InputError, match="4 weeks"):  # closed 19 Jul … 14 Aug = 27 days, re-opens 15 Aug
        statutory.deadline("plan.final", D("2025-04-01"), [exc("closure", "2025-07-19", "2025-08-15")],
                           {"head_advice_requested": "2025-07-18"})
    exactly = statutory.deadline("plan.final", D("2025-04-01"), [exc("closure", "2025-07-19", "2025-08-16")],
                                 {"head_advice_requested": "2025-07-18"})  # 28 closed days: 19 Jul … 15 Aug
    assert exactly.disapplied and exactly.target == D("2025-08-19") + dt.timedelta(days=28)


def test_each_closure_can_carry_its_own_head_advice_date():
    # plan.final from 1 May 2025 (due 18 Sep): closed 10 May - re-open 10 Jun (31 days, asked 5 May) and
    # 19 Jul - 3 Sep (46 days in the clock, asked 18 Jul); the fact is only the fallback
    result = statutory.deadline("plan.final", D("2025-05-01"), [
        Exc("closure", D("2025-05-10"), D("2025-06-10"), head_advice_requested=D("2025-05-05")),
        Exc("closure", D("2025-07-19"), D("2025-09-03"), head_advice_requested=D("2025-07-18"))],
        {"head_advice_requested": "2025-01-01"})
    assert result.target == D("2025-12-04")


def test_closure_without_the_head_advice_fact_is_an_input_error():
    with pytest.raises(InputError, match="head_advice_requested"):
        statutory.deadline("plan.final", D("2025-04-01"), [exc("closure", *SUMMER)])


# advice.provide: received Mon 20 Jan 2025, due Mon 3 Mar; its six weeks are 21 Jan … 3 Mar.


def test_absence_applies_to_advice_only_with_28_days_inside_the_six_weeks():
    # 4 Feb … 31 Mar: 4 Feb … 3 Mar inside = 25 + 3 = 28 days → applied, target 3 Mar + 28 = 31 Mar
    applied = statutory.deadline("advice.provide", D("2025-01-20"), [exc("absence", "2025-02-04", "2025-03-31")])
    assert applied.exceptions_applied == ("absence",) and applied.target == D("2025-03-31")
    # 5 Feb … 31 Mar: 27 days inside → not applied (the absence itself is long enough: no error)
    short = statutory.deadline("advice.provide", D("2025-01-20"), [exc("absence", "2025-02-05", "2025-03-31")])
    assert not short.disapplied and short.target == short.due == D("2025-03-03")


def test_the_same_absence_applies_to_the_plan_limit():
    # the 27 days of 5 Feb … 3 Mar are enough for plan.final: only advice needs 28 of its own days
    result = statutory.deadline("plan.final", D("2025-01-20"), [exc("absence", "2025-02-05", "2025-03-31")])
    assert result.disapplied and result.target == result.due + dt.timedelta(days=55)  # 5 Feb … 31 Mar


def test_missed_appointment_disapplies_advice_with_target_equal_to_due():
    result = statutory.deadline("advice.provide", D("2025-01-20"), [exc("missed_appointment", "2025-02-10",
                                                                        "2025-02-10")])
    assert result.disapplied and result.exceptions_applied == ("missed_appointment",)
    assert result.target == result.due == D("2025-03-03")


def test_missed_appointment_outside_the_six_weeks_is_not_applied():
    result = statutory.deadline("advice.provide", D("2025-01-20"), [exc("missed_appointment", "2025-03-10",
                                                                        "2025-03-10")])
    assert not result.disapplied


def test_missed_appointment_is_one_date():
    with pytest.raises(InputError):
        statutory.deadline("advice.provide", D("2025-01-20"), [exc("missed_appointment", "2025-02-10",
                                                                   "2025-02-11")])
    assert statutory.parse_exception("missed_appointment:2025-02-10") == exc("missed_appointment", "2025-02-10",
                                                                             "2025-02-10")


@pytest.mark.parametrize("rule_id, kind", [
    ("plan.final", "missed_appointment"),  # advice.provide only
    ("assess.decision", "missed_appointment"),
    ("advice.provide", "closure"),  # reg 8(2) has no closure ground
    ("plan.draft_representations", "personal"),  # no exceptions at all
    ("review.annual", "absence"),
    ("appeal.register", "personal"),
])
def test_kind_not_allowed_for_the_limit_is_an_input_error(rule_id, kind):
    end = "2025-02-10" if kind == "missed_appointment" else "2025-03-31"
    with pytest.raises(InputError) as err:
        statutory.deadline(rule_id, D("2025-01-20"), [exc(kind, "2025-02-10", end)],
                           {"head_advice_requested": "2025-02-05"})
    assert err.value.field == "--exception" and rule_id in err.value.rule


@pytest.mark.parametrize("rule_id, allowed", [
    ("assess.decision", {"closure", "personal", "absence"}),
    ("advice.provide", {"personal", "absence", "missed_appointment"}),
    ("plan.not_to_issue", {"closure", "personal", "absence"}),
    ("plan.final", {"closure", "personal", "absence"}),
    ("reassess.final", {"closure", "personal", "absence"}),
])
def test_exceptions_are_exactly_those_of_spec_section_3(rule_id, allowed):
    assert set(statutory.RULES[rule_id].exceptions) == allowed


@pytest.mark.parametrize("rule_id, paragraph", [
    ("assess.decision", "5(4)"), ("advice.provide", "8(2)"), ("plan.not_to_issue", "10(4)"),
    ("plan.final", "13(3)"), ("reassess.final", "27(3)"), ("tribunal.plan", "reg 44"), ("unopposed.plan", "reg 45"),
])
def test_each_exception_cites_the_regulation_of_every_limit_it_sets_aside(rule_id, paragraph):
    """The audit log records EXCEPTION_REGULATIONS[kind]: it must name the paragraph for each limit (spec §2)."""
    for kind in statutory.RULES[rule_id].exceptions:
        assert paragraph in statutory.EXCEPTION_REGULATIONS[kind], kind


def test_no_other_limit_takes_an_exception():
    with_exceptions = {rid for rid, r in statutory.RULES.items() if r.exceptions}
    orders = {rid for rid, *_ in LIMITS if rid.startswith(("tribunal.", "unopposed."))}  # §2.6: reg 44 and 45
    assert len(orders) == 16
    assert with_exceptions == {"assess.decision", "advice.provide", "plan.not_to_issue", "plan.final",
                               "reassess.final"} | orders


@pytest.mark.parametrize("kind", ["personal", "absence", "closure"])
def test_period_ending_before_it_starts_is_an_input_error(kind):
    with pytest.raises(InputError, match="before it starts"):
        statutory.deadline("plan.final", D("2025-01-06"), [exc(kind, "2025-03-31", "2025-02-01")],
                           {"head_advice_requested": "2025-01-30"})


@pytest.mark.parametrize("text", ["holiday:2025-02-01:2025-03-01", "absence:2025-02-01",
                                  "absence:2025-02-30:2025-03-31", "absence:2025-02-01:31/03/2025", ""])
def test_malformed_exception_is_an_input_error(text):
    with pytest.raises(InputError) as err:
        statutory.parse_exception(text)
    assert err.value.field.startswith("--exception")


@pytest.mark.parametrize("text", ["2025-02-30", "2025-13-01", "25-01-06", "2025-1-6", "20250106", "2025-W02-1",
                                  "2025-01-06T00:00", "", "tomorrow"])
def test_malformed_or_impossible_dates_are_input_errors(text):
    with pytest.raises(InputError) as err:
        statutory.parse_date(text, "--start")
    assert err.value.field == "--start"


# --- §4 year groups ------------------------------------------------------------------------------


def test_year_group_examples():
    assert statutory.year_group(D("2011-08-31"), D("2024-09-01")) == 9  # age 13 on 31 Aug 2024
    assert statutory.pfa_required(D("2011-08-31"), D("2024-09-01"))
    assert statutory.year_group(D("2011-09-01"), D("2024-09-01")) == 8  # age 12
    assert not statutory.pfa_required(D("2011-09-01"), D("2024-09-01"))
    assert statutory.year_group(D("2011-09-01"), D("2025-08-31")) == 8
    assert statutory.year_group(D("2011-09-01"), D("2025-09-01")) == 9
    assert statutory.pfa_required(D("2011-09-01"), D("2025-09-01"))


@pytest.mark.parametrize("dob, on, group", [
    ("2020-09-01", "2025-09-01", 0),  # Reception: age 4 on 31 Aug 2025
    ("2021-08-31", "2025-09-01", 0),  # youngest in Reception
    ("2021-09-01", "2025-09-01", -1),  # before Reception
    ("2020-09-01", "2026-06-30", 0),  # still Reception in June: academic year began 2025
    ("2008-01-15", "2025-09-01", 13),  # age 17 on 31 Aug 2025
    ("2005-06-01", "2024-09-01", 15),  # counts on past 13
])
def test_year_group_boundaries(dob, on, group):
    assert statutory.year_group(D(dob), D(on)) == group


def test_out_of_year_group_placement_overrides():
    assert statutory.year_group(D("2011-09-01"), D("2024-09-01"), offset=1) == 9
    assert statutory.pfa_required(D("2011-09-01"), D("2024-09-01"), offset=1)


def test_year_group_before_birth_is_an_input_error():
    with pytest.raises(InputError):
        statutory.year_group(D("2020-01-01"), D("2019-12-31"))
