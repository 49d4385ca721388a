"""The law as data plus pure functions: every statutory time limit of the EHC pathway.

Source: `statutory-timescales.md`, rule set `eng-2014.3` (SEND Regulations 2014, SI 2014/1530, as amended
by SI 2015/359; Children and Families Act 2014; HESC Tribunal Procedure Rules 2008). Each limit is computed
by its identifier there, in Europe/London calendar dates (§1), with exactly the exceptions §3 and §2.6 list
for it.

Rule sets: a case records the set it was opened under (`Case.rule_set`); new cases get `RULE_SET`. A case
keeps its set for every limit that set defines, and takes a limit first defined by a later set (`Rule.since`)
from that set: an `eng-2014.2` case asks `plan.final` under `eng-2014.2` and `tribunal.plan` under `eng-2014.3`.
`Deadline.rule_set` says which set the date came from. `eng-2014.3` changed no limit of `eng-2014.2`; it adds
§2.6 (Tribunal orders, reg 44, and unopposed appeals, reg 45).

This is the only module in the project that does date arithmetic on deadlines. It imports nothing from
the rest of the project and touches no database, clock or network.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import pendulum
from holidays.countries import UnitedKingdom  # imported with this module (~60 ms, every country), not mid-run

from models.errors import InputError, shown

RULE_SETS = ("eng-2014.2", "eng-2014.3")  # oldest first
RULE_SET = RULE_SETS[-1]  # what a new case runs under
LONDON = "Europe/London"
MIN_EXCEPTION_DAYS = 28
MIN_ORDER_ABSENCE_DAYS = 14  # §2.6: an absence of a continuous 2 weeks for the reg 44 and 45 limits

CLOSURE = "closure"
PERSONAL = "personal"
ABSENCE = "absence"
MISSED_APPOINTMENT = "missed_appointment"
EXCEPTION_KINDS = (CLOSURE, PERSONAL, ABSENCE, MISSED_APPOINTMENT)
EXCEPTION_REGULATIONS = {  # per limit: 5(4), advice 8(2), 10(4), 13(3), 27(3); Tribunal orders reg 44, 45 (§2.6)
    CLOSURE: "reg 5(4)(a), 10(4)(a), 13(3), 27(3), reg 44, reg 45: school or setting closed for 4 weeks or more",
    PERSONAL: "reg 5(4), 8(2), 10(4), 13(3), 27(3), reg 44, reg 45: exceptional personal circumstances",
    ABSENCE: "reg 5(4), 8(2)(b), 10(4), 13(3), 27(3): away from the area for 4 weeks or more;"
             " reg 44, reg 45: for 2 weeks or more",
    MISSED_APPOINTMENT: "reg 8(2): failed to keep an adviser's examination or test appointment",
}
_PLAN_EXCEPTIONS = (CLOSURE, PERSONAL, ABSENCE)


@dataclass(frozen=True)
class ClockException:
    """A period (inclusive dates) that may set a limit aside (§3). For `closure`, `end` is the re-opening day
    and `head_advice_requested` the day the head was asked (else the fact of that name is used); for
    `missed_appointment`, `start` = `end` = the day of the missed appointment."""

    kind: str
    start: dt.date
    end: dt.date
    head_advice_requested: dt.date | None = None


@dataclass(frozen=True)
class Deadline:
    rule: str
    start: dt.date
    due: dt.date
    disapplied: bool = False
    exceptions_applied: tuple[str, ...] = ()
    target: dt.date | None = None
    warnings: tuple[str, ...] = ()
    rule_set: str = RULE_SET

    def as_json(self) -> dict:
        return {
            "rule": self.rule,
            "start": self.start.isoformat(),
            "due": self.due.isoformat(),
            "disapplied": self.disapplied,
            "exceptions_applied": list(self.exceptions_applied),
            "target": (self.target or self.due).isoformat(),
        }


# --- counting (§1) -------------------------------------------------------------------------------


def _p(d: dt.date) -> pendulum.Date:
    return pendulum.Date(d.year, d.month, d.day)


def _d(d: pendulum.Date) -> dt.date:
    return dt.date(d.year, d.month, d.day)


def today() -> dt.date:
    """Today's calendar date in London: the only 'now' the law knows."""
    return _d(pendulum.today(LONDON).date())


def within_days(start: dt.date, days: int) -> dt.date:
    """'within N days of D': D itself not counted."""
    return _d(_p(start).add(days=days))


def within_weeks(start: dt.date, weeks: int) -> dt.date:
    """'within N weeks of D': D + 7N days."""
    return _d(_p(start).add(weeks=weeks))


def days_beginning_with(start: dt.date, days: int) -> dt.date:
    """'N days beginning with D': the last day of the window D … D+N−1."""
    return _d(_p(start).add(days=days - 1))


def within_months(start: dt.date, months: int) -> dt.date:
    """'within N months of D': same day-of-month N months on, clamped to that month's last day."""
    return _d(_p(start).add(months=months))


def months_before(target: dt.date, months: int) -> dt.date:
    """'N months before T': same day-of-month N months earlier, clamped to month end."""
    return _d(_p(target).subtract(months=months))


def period_of_months(start: dt.date, months: int) -> dt.date:
    """Last day of 'a period of N months starting with D': the day before the same day-of-month N months on;
    where that day does not exist, the last day of that month."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if start.day > last:
        return dt.date(year, month, last)
    return dt.date(year, month, start.day) - dt.timedelta(days=1)


def day_before(fixed: dt.date) -> dt.date:
    """'before a fixed date F': F − 1 (§7.2: a day early is always lawful)."""
    return _d(_p(fixed).subtract(days=1))


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(UnitedKingdom(subdiv="ENG", years=[year]).keys())


def is_working_day(d: dt.date) -> bool:
    """Not a Saturday or Sunday, Christmas Day, Good Friday or an England-and-Wales bank holiday [U]."""
    return d.weekday() < 5 and d not in _bank_holidays(d.year)


def next_working_day(d: dt.date) -> dt.date:
    while not is_working_day(d):
        d = d + dt.timedelta(days=1)
    return d


def within_working_days(start: dt.date, days: int) -> dt.date:
    """'within N working days of D': the N-th working day after D."""
    d, counted = start, 0
    while counted < days:
        d = d + dt.timedelta(days=1)
        counted += is_working_day(d)
    return d


def working_days_beginning_with(start: dt.date, days: int) -> dt.date:
    """'N working days beginning with D': D is day 1 if it is a working day."""
    if is_working_day(start):
        return within_working_days(start, days - 1)
    return within_working_days(start, days)


def tribunal_roll_forward(d: dt.date) -> dt.date:
    """HESC Tribunal Procedure Rules r12 for SEN cases: 25 Dec–1 Jan → first working day after 1 Jan; any
    day in August → first working day after 31 August; otherwise a non-working day → next working day."""
    if (d.month == 12 and d.day >= 25) or (d.month == 1 and d.day == 1):
        year = d.year + 1 if d.month == 12 else d.year
        return next_working_day(dt.date(year, 1, 2))
    if d.month == 8:
        return next_working_day(dt.date(d.year, 9, 1))
    return next_working_day(d)


# --- year groups (§4) ----------------------------------------------------------------------------


def academic_year(on: dt.date) -> int:
    """The calendar year in which the academic year containing `on` began (1 September)."""
    return on.year if on.month >= 9 else on.year - 1


def year_group(dob: dt.date, on: dt.date, offset: int = 0) -> int:
    """National Curriculum year group on a date: Reception 0, Year 1 … Year 13, counting on past 13, negative
    before Reception. `offset` records an out-of-year-group placement (§4)."""
    if on < dob:
        raise InputError("--on", "must not be before the date of birth")
    y = academic_year(on)
    age = y - dob.year - ((dob.month, dob.day) > (8, 31))
    return age - 4 + offset


def pfa_required(dob: dt.date, meeting: dt.date, offset: int = 0) -> bool:
    """`review.pfa_required`: a review in or beyond Year 9 must consider preparation for adulthood
    (reg 21(6) [C], 20(6) [S])."""
    return year_group(dob, meeting, offset) >= 9


def age_on(dob: dt.date, on: dt.date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


# --- rules (§2) ----------------------------------------------------------------------------------

Facts = Mapping[str, str]


@dataclass(frozen=True)
class Rule:
    id: str
    compute: Callable[[dt.date, Facts], dt.date]
    source: str
    exceptions: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    optional_facts: tuple[str, ...] = ()
    summary: str = ""
    pathway: bool = False  # part of the needs-assessment timeline that runs from the request (§5)
    since: str = RULE_SETS[0]  # the rule set that first defines this limit
    min_absence_days: int = MIN_EXCEPTION_DAYS  # an absence shorter than this is an input error
    absence_in_period: bool = False  # the absence applies only with min_absence_days of it inside the clock
    derived: bool = False
    derived_from: str | None = None  # the limit this date is set by: in a case, its exceptions set this one aside
    extra: dict = field(default_factory=dict)


def _fact_date(facts: Facts, name: str) -> dt.date:
    return parse_date(facts[name], name)


def _fixed(days: int = 0, weeks: int = 0) -> Callable[[dt.date, Facts], dt.date]:
    if weeks:
        return lambda start, _facts: within_weeks(start, weeks)
    return lambda start, _facts: within_days(start, days)


def _phase_transfer(start: dt.date, facts: Facts) -> dt.date:
    transfer = facts["transfer"]
    if transfer == "post16":
        return day_before(dt.date(start.year, 3, 31))
    if transfer == "other":
        return day_before(dt.date(start.year, 2, 15))
    raise InputError("transfer", "must be post16 or other (§6)")


def _send_plan(start: dt.date, facts: Facts) -> dt.date:
    move = _fact_date(facts, "move_date")
    return max(move, working_days_beginning_with(start, 15))


def _transfer_review(start: dt.date, facts: Facts) -> dt.date:
    last = _fact_date(facts, "last_review")
    return max(period_of_months(last, 12), period_of_months(start, 3))


def _appeal(start: dt.date, facts: Facts) -> dt.date:
    latest = within_months(start, 2)
    if "mediation_certificate" in facts:
        latest = max(latest, within_months(_fact_date(facts, "mediation_certificate"), 1))
    return tribunal_roll_forward(latest)


_ORDER_LIMITS = (  # §2.6: (id, weeks, source, summary); 0 weeks = immediately, due = O
    ("tribunal.assess", 2, "reg 44 [S]", "order: notify that the LA will assess or re-assess"),
    ("tribunal.not_to_issue", 10, "reg 44 [S]", "order to assess: notice that no plan will be issued"),
    ("tribunal.plan", 14, "reg 44 [S]", "order to assess: final plan issued"),
    ("tribunal.draft", 5, "reg 44 [S]", "order to make and maintain a plan: draft issued"),
    ("tribunal.final", 11, "reg 44 [S]", "order to make and maintain a plan: final plan issued"),
    ("tribunal.amend", 5, "reg 44 [S]; GOV.UK \"carry out an order\" [S]", "order to amend the plan: amended plan"),
    ("tribunal.school", 2, "reg 44 [S]", "order to name a different school or type: amended plan"),
    ("tribunal.continue", 0, "reg 44 [S]", "order to continue to maintain the plan (immediately)"),
    ("tribunal.cease", 0, "reg 44 [S]", "cease appeal dismissed: the LA may cease (immediately)"),
    ("unopposed.assess", 2, "reg 45 [C via Surrey SENDIASS]", "unopposed appeal: notify assessment or review"),
    ("unopposed.not_to_issue", 10, "reg 45 [S]", "unopposed appeal, after assessing: notice of no plan"),
    ("unopposed.plan", 14, "reg 45 [S]", "unopposed appeal, after assessing: final plan issued"),
    ("unopposed.draft", 5, "reg 45 [S]", "unopposed refusal-to-issue appeal: draft issued"),
    ("unopposed.final", 11, "reg 45 [S]", "unopposed refusal-to-issue appeal: final plan issued"),
    ("unopposed.amend", 5, "reg 45 [S]", "unopposed contents appeal: amended plan"),
    ("unopposed.school", 2, "reg 45 [S]", "unopposed school-only appeal: amended plan"),
)


def _order_rules() -> list[Rule]:
    """§2.6, first defined by eng-2014.3: exceptions personal, absence of a continuous 2 weeks in the period,
    and the closure ground of reg 13(3) [S: Surrey SENDIASS]."""
    return [Rule(rid, _fixed(weeks=weeks), source, _PLAN_EXCEPTIONS, summary=summary,
                 since="eng-2014.3", min_absence_days=MIN_ORDER_ABSENCE_DAYS, absence_in_period=True)
            for rid, weeks, source, summary in _ORDER_LIMITS]


def _rules() -> dict[str, Rule]:
    r = [
        # 2.1 needs assessment and plan
        Rule("assess.decision", _fixed(weeks=6), "reg 5(1); exceptions reg 5(4)", _PLAN_EXCEPTIONS,
             summary="decision whether to assess notified", pathway=True),
        Rule("advice.provide", _fixed(weeks=6), "reg 8(1); exceptions reg 8(2)",
             (PERSONAL, ABSENCE, MISSED_APPOINTMENT), absence_in_period=True,
             summary="advice returned (from the day the adviser received the request)"),
        Rule("plan.not_to_issue", _fixed(weeks=16), "reg 10(1); exceptions reg 10(4)", _PLAN_EXCEPTIONS,
             summary="notice that no plan will be issued", pathway=True),
        Rule("plan.draft_representations", lambda s, f: days_beginning_with(s, 15), "reg 13(1)",
             summary="representations on the draft close (15 days beginning with service)"),
        Rule("plan.setting_consultation", _fixed(days=15), "CFA s39; CoP 9.78 [U]",
             summary="consulted setting replies"),
        Rule("plan.final", _fixed(weeks=20), "reg 13(2); exceptions reg 13(3)", _PLAN_EXCEPTIONS,
             summary="final plan sent", pathway=True),
        Rule("plan.draft_latest", lambda s, f: within_days(within_weeks(s, 20), -15), "reg 13(1) + 13(2)",
             summary="last day to serve the draft and keep the full 15-day window", pathway=True, derived=True,
             derived_from="plan.final"),
        # 2.2 reviews and amendments
        Rule("review.annual", lambda s, f: period_of_months(s, 12), "CFA s44(1); CoP 9.169",
             summary="review meeting held and LA decision notified"),
        Rule("review.meeting_latest", lambda s, f: within_days(period_of_months(s, 12), -28), "derived",
             summary="latest meeting that leaves the 4-week decision inside the period", derived=True),
        Rule("review.invitations", _fixed(days=-14), "reg 20(3), 21(3)", summary="invitations to the meeting"),
        Rule("review.advice_circulated", _fixed(days=-14), "reg 20(4), 21(4)",
             summary="advice gathered and circulated"),
        Rule("review.report", _fixed(days=14), "reg 20(7), 21(7)", summary="review report sent"),
        Rule("review.decision", _fixed(days=28), "reg 20(10); R (L) v Devon CC [2022]",
             summary="LA notifies maintain, amend or cease"),
        Rule("amend.representations", lambda s, f: days_beginning_with(s, 15), "reg 22(2)(c)",
             summary="representations on proposed amendments close"),
        Rule("amend.final", _fixed(weeks=8), "reg 22(3)", summary="amended final plan sent"),
        Rule("amend.final_latest", _fixed(days=84), "R (L) v Devon CC [2022]",
             summary="amended plan final, counted from the review meeting", derived=True),
        Rule("review.early_years", lambda s, f: period_of_months(s, 6), "CoP 9.178 [U]: advice, not law",
             summary="review for a child under 5"),
        # 2.3 phase transfers
        Rule("review.phase_transfer", _phase_transfer, "reg 18(1)", facts=("transfer",),
             summary="plan reviewed and amended, naming the next setting"),
        Rule("review.phase_transfer_meeting_latest", lambda s, f: within_days(_phase_transfer(s, f), -84),
             "reg 18(1), derived", facts=("transfer",), summary="latest review meeting for the transfer",
             derived=True),
        Rule("review.post16_transfer", lambda s, f: months_before(s, 5), "reg 18(2)",
             summary="plan amended before a post-16 move at another time"),
        # 2.4 re-assessment, moving LA
        Rule("reassess.decision", _fixed(days=15), "reg 25(1) [S]", summary="decision whether to re-assess"),
        Rule("reassess.final", _fixed(weeks=14), "reg 27(2); exceptions reg 27(3)", _PLAN_EXCEPTIONS,
             summary="re-assessed final plan sent"),
        Rule("transfer.send_plan", _send_plan, "reg 15(2)", facts=("move_date",),
             summary="old LA sends the plan to the new LA"),
        Rule("transfer.new_la_notify", _fixed(weeks=6), "reg 15(4)",
             summary="new LA tells the family about the transfer"),
        Rule("transfer.review", _transfer_review, "reg 15(5)", facts=("last_review",),
             summary="new LA reviews the plan"),
        # 2.5 mediation and appeal
        Rule("mediation.contact", lambda s, f: within_months(s, 2), "reg 33",
             summary="parent or young person contacts the mediation adviser"),
        Rule("mediation.certificate_declined", lambda s, f: within_working_days(s, 3), "reg 34 [S]",
             summary="certificate issued where mediation is not wanted"),
        Rule("mediation.health_notify", lambda s, f: within_working_days(s, 3), "[S] IPSEA",
             summary="LA tells the ICB that health issues are in dispute"),
        Rule("mediation.held", _fixed(days=30), "[S]", summary="mediation held"),
        Rule("mediation.certificate_not_arranged", lambda s, f: within_working_days(s, 3), "[S]",
             summary="certificate where mediation cannot be held in 30 days"),
        Rule("mediation.certificate_after", lambda s, f: within_working_days(s, 3), "[S]",
             summary="certificate after mediation"),
        Rule("mediation.agreement_act", _fixed(weeks=2), "reg 42", summary="act on a mediation agreement"),
        Rule("appeal.register", _appeal, "HESC r20(1)(c), r12", optional_facts=("mediation_certificate",),
             summary="Tribunal receives the appeal"),
        # 2.6 Tribunal orders (reg 44, from O = the order) and unopposed appeals (reg 45, from U = the LA's notice)
        *_order_rules(),
    ]
    return {rule.id: rule for rule in r}


RULES: dict[str, Rule] = _rules()


# --- input parsing -------------------------------------------------------------------------------


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # fromisoformat alone also takes 2025-W02-1, 20250106


PERSONAL_DATES = {"dob"}  # a birth date is personal data: an error names its field, never its value


def parse_date(value: str | dt.date, field_name: str) -> dt.date:
    """A YYYY-MM-DD calendar date, or InputError naming the field."""
    if isinstance(value, dt.date):
        return value
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        echoed = "the date given" if field_name.lstrip("-") in PERSONAL_DATES else shown(value)
        raise InputError(field_name, f"{echoed} is not a real calendar date in the form YYYY-MM-DD") from None


def parse_exception(text: str) -> ClockException:
    """`KIND:FROM:TO` (§6); for `missed_appointment` TO may be left out."""
    parts = text.split(":")
    if len(parts) == 2 and parts[0] == MISSED_APPOINTMENT:
        parts.append(parts[1])
    if len(parts) != 3:
        raise InputError("--exception", f"{shown(text)} must be KIND:FROM:TO")
    kind, start, end = parts
    if kind not in EXCEPTION_KINDS:
        raise InputError("--exception", f"unknown exception kind {shown(kind)} (one of {', '.join(EXCEPTION_KINDS)})")
    return ClockException(kind, parse_date(start, "--exception FROM"), parse_date(end, "--exception TO"))


def parse_fact(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise InputError("--fact", f"{shown(text)} must be NAME=VALUE")
    return name, value


def rule(rule_id: str, rule_set: str = RULE_SET) -> Rule:
    """The limit `rule_id` as a case under `rule_set` gets it: that set's, or the first later set's that
    defines it (module docstring)."""
    if rule_set not in RULE_SETS:
        raise InputError("--rule-set", f"unknown rule set {shown(rule_set)} (known: {', '.join(RULE_SETS)})")
    if rule_id not in RULES:
        raise InputError("RULE_ID", f"unknown rule identifier {shown(rule_id)}")
    return RULES[rule_id]


def rule_set_of(rule_id: str, rule_set: str = RULE_SET) -> str:
    """The set a case under `rule_set` takes `rule_id` from: its own where it defines the limit, else the set
    that first defines it."""
    since = rule(rule_id, rule_set).since
    return max(rule_set, since, key=RULE_SETS.index)


# --- exceptions (§3) -----------------------------------------------------------------------------


def _days(first: dt.date, last: dt.date) -> set[dt.date]:
    return {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}


def _check_exception(exc: ClockException, rule_: Rule) -> None:
    if exc.end < exc.start:
        raise InputError("--exception", f"{exc.kind} period ends ({exc.end}) before it starts ({exc.start})")
    if exc.kind not in rule_.exceptions:
        allowed = ", ".join(rule_.exceptions) or "none"
        raise InputError("--exception", f"{exc.kind} does not apply to {rule_.id} (allowed: {allowed})")
    if exc.kind == MISSED_APPOINTMENT and exc.start != exc.end:
        raise InputError("--exception", "missed_appointment is one date: FROM and TO must be equal")
    if exc.kind == CLOSURE and (exc.end - exc.start).days < MIN_EXCEPTION_DAYS:
        raise InputError("--exception", "a closure must last at least 4 weeks (28 days) before re-opening")
    if exc.kind == ABSENCE and (exc.end - exc.start).days + 1 < rule_.min_absence_days:
        raise InputError("--exception", f"for {rule_.id} an absence must be a continuous period of at least"
                                        f" {rule_.min_absence_days // 7} weeks ({rule_.min_absence_days} days)")


def _counted_days(exc: ClockException, rule_: Rule, clock: set[dt.date], facts: Facts) -> set[dt.date] | None:
    """The days of the clock an exception covers, or None where it does not apply."""
    if exc.kind == MISSED_APPOINTMENT:
        return set() if exc.start in clock else None
    if exc.kind == CLOSURE:
        asked = exc.head_advice_requested
        if asked is None:
            if "head_advice_requested" not in facts:
                raise InputError("--fact", "closure needs head_advice_requested=YYYY-MM-DD (§6)")
            asked = _fact_date(facts, "head_advice_requested")
        window_open = exc.start - dt.timedelta(weeks=1)
        window_close = exc.end - dt.timedelta(weeks=1)
        if not window_open <= asked <= window_close:
            return None
        days = _days(exc.start, exc.end - dt.timedelta(days=1)) & clock
    else:
        days = _days(exc.start, exc.end) & clock
    if exc.kind == ABSENCE and rule_.absence_in_period and len(days) < rule_.min_absence_days:
        return None
    return days or None


def deadline(
    rule_id: str,
    start: dt.date,
    exceptions: Iterable[ClockException] = (),
    facts: Facts | None = None,
    rule_set: str = RULE_SET,
) -> Deadline:
    """The statutory date of `rule_id` from `start` for a case under `rule_set`, with the exceptions that set
    it aside (§3, §2.6).

    An exception never moves `due`: the law says "as soon as practicable" instead. `target` is the project's
    working target, `due` plus the distinct days the applied exceptions cover inside the clock. `rule_set` of
    the result is the set the limit came from (`rule_set_of`)."""
    rule_ = rule(rule_id, rule_set)
    facts = dict(facts or {})
    for name in rule_.facts:
        if name not in facts:
            raise InputError("--fact", f"{rule_id} needs the fact {name}=… (§6)")
    due = rule_.compute(start, facts)
    exceptions = list(exceptions)
    for exc in exceptions:
        _check_exception(exc, rule_)
    clock = _days(start + dt.timedelta(days=1), due) if exceptions and due > start else set()
    applied: list[str] = []
    covered: set[dt.date] = set()
    for exc in exceptions:
        days = _counted_days(exc, rule_, clock, facts)
        if days is not None:
            covered |= days
            if exc.kind not in applied:
                applied.append(exc.kind)
    warnings = ()
    if rule_.id.startswith("review.phase_transfer") and _phase_transfer(start, facts) >= start:
        warnings = ("transfer date falls before the statutory date: mid-year transfer, literal date returned (§7.2)",)
    return Deadline(
        rule=rule_id,
        start=start,
        due=due,
        disapplied=bool(applied),
        exceptions_applied=tuple(applied),
        target=within_days(due, len(covered)),
        warnings=warnings,
        rule_set=rule_set_of(rule_id, rule_set),
    )


def case_exception_kinds(rule_id: str, rule_set: str = RULE_SET) -> tuple[str, ...]:
    """The kinds of a case's recorded exceptions that bear on `rule_id`: its own, or for a derived limit those
    of the limit it follows."""
    rule_ = rule(rule_id, rule_set)
    return rule(rule_.derived_from, rule_set).exceptions if rule_.derived_from else rule_.exceptions


def admits(rule_id: str, exc: ClockException, rule_set: str = RULE_SET) -> bool:
    """Whether a case's exception bears on `rule_id` (for a derived limit, on the limit it follows): a kind its
    regulation provides, and an absence as long as that limit asks, a continuous 4 weeks for the assessment's
    limits (reg 5(4), 10(4), 13(3)), 2 weeks for the Tribunal's (§2.6; reg 44, 45). A 16-day absence thus sets
    aside an order's limit and leaves the 20 weeks running."""
    rule_ = rule(rule_id, rule_set)
    rule_ = rule(rule_.derived_from, rule_set) if rule_.derived_from else rule_
    if exc.kind not in rule_.exceptions:
        return False
    return exc.kind != ABSENCE or (exc.end - exc.start).days + 1 >= rule_.min_absence_days


def case_deadline(rule_id: str, start: dt.date, exceptions: Iterable[ClockException] = (),
                  facts: Facts | None = None, rule_set: str = RULE_SET) -> Deadline:
    """`deadline` for a step of a case. A derived limit has no exception of its own (§2.1: "none (derived)"),
    so asked directly it takes none; in a case it is set aside with the limit it follows, its working target
    moved by the same days (plan.draft_latest follows plan.final: a draft later than week 20 − 15 days is not
    late when the 20 weeks are set aside, reg 13(3))."""
    rule_ = rule(rule_id, rule_set)
    if not rule_.derived_from:
        return deadline(rule_id, start, exceptions, facts, rule_set)
    own = deadline(rule_id, start, (), facts, rule_set)
    parent = deadline(rule_.derived_from, start, exceptions, facts, rule_set)
    return dataclasses.replace(own, disapplied=parent.disapplied, exceptions_applied=parent.exceptions_applied,
                               target=within_days(own.due, (parent.target - parent.due).days))


def timeline(request_date: dt.date, rule_set: str = RULE_SET) -> dict[str, Deadline]:
    """Every limit of the needs-assessment pathway that runs from the request date R (§5)."""
    rule(next(iter(RULES)), rule_set)
    return {rid: deadline(rid, request_date, rule_set=rule_set) for rid, r in RULES.items() if r.pathway}


# --- chasing (the deadline watch) -----------------------------------------------------------------------


class Chase(NamedTuple):
    """One tier of chasing a step: `reminder` (`level` = days before due), `due_today`, `overdue` (level 1)
    or `still_overdue` (level 2, 3, … one more each `repeat_every` days); `on` is the day it fell due."""

    tier: str
    on: dt.date
    level: int


def chase_tier(
    due: dt.date,
    on: dt.date,
    reminder_days: Iterable[int] = (10, 3),
    repeat_every: int = 7,
    start: dt.date | None = None,
) -> Chase | None:
    """The latest chasing tier of a step due on `due` that has fallen due by `on`; None before the first.

    Project practice, not law: reminders N days before the statutory date (none on or before the step's
    `start`), on the day, the day after (overdue), then every `repeat_every` days with a rising level."""
    late = (on - due).days
    if late > 0:
        k = (late - 1) // repeat_every
        return Chase("overdue" if k == 0 else "still_overdue", due + dt.timedelta(days=1 + k * repeat_every), k + 1)
    if late == 0:
        return Chase("due_today", due, 0)
    for days in sorted(reminder_days):
        when = due - dt.timedelta(days=days)
        if days >= -late and (start is None or when > start):
            return Chase("reminder", when, days)
    return None
