"""What the council reports each quarter: the SEND service's indicators over a period, counted from the case store.

Every figure is one set-based SQL aggregate (SQLAlchemy Core) over a period [first, last], both days included;
none loops over cases in Python. Each indicator is `{"value", "previous", "last_year"}`: the same function over
the period, the one before it and the same one a year earlier. What the engine does not record yet (caseworker
teams, settings, placements) is `null` with a `reason`, never 0. The README defines each
indicator; the law's limits are the steps' statutory dates (`models.statutory`, by identifier, as stored).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from models import statutory
from models.cases import Case, Step
from models.complaints import Complaint
from models.disputes import Dispute
from models.escalation import Escalation
from models.review import Review
from models.review_cycle import PFA_OUTCOMES
from models.vocabulary import (
    ANNUAL_REVIEW_PREFIX,
    AdviceSource,
    CaseKind,
    ClosedReason,
    Role,
    StepKey,
    StepKind,
    StepStatus,
)

WITHDRAWN = ClosedReason.WITHDRAWN  # a request withdrawn before the decision whether to assess
NEEDS_ASSESSMENT = CaseKind.NEEDS_ASSESSMENT
DONE, CANCELLED = StepStatus.DONE, StepStatus.CANCELLED
ASSESS_DECISION, FINAL, DRAFT, MEETING = (StepKey.ASSESS_DECISION, StepKey.PLAN_FINAL, StepKey.PLAN_DRAFT,
                                          StepKey.COPRODUCTION_MEETING)
ADVICE, ANNUAL_REVIEW = StepKind.ADVICE, StepKind.ANNUAL_REVIEW
# advice source → the agency it is reported under; the family's own advice (reg 6(1)(a)) has no 6 weeks (reg 8(1))
AGENCIES = {AdviceSource.HEALTH: "health", AdviceSource.SOCIAL_CARE: "social_care",
            AdviceSource.EP: "educational_psychology", AdviceSource.EDUCATION: "education"}
OTHERS = "others"
NOT_TIMED = (AdviceSource.PARENT,)
REASONS = {
    "reviews_child_involved": "not recorded yet: a review meeting records no attendance or child's views",
    "plans_by_setting_type": "not recorded yet: settings and their types land with 'The people around a case'",
    "placements_out_of_area": "not recorded yet: settings and their areas land with 'The people around a case'",
    "by_caseworker_team": "not recorded yet: caseworker teams land with 'The people around a case'",
}
LONDON = ZoneInfo(statutory.LONDON)

C, S, R, E = Case.__table__.c, Step.__table__.c, Review.__table__.c, Escalation.__table__.c


@dataclass(frozen=True)
class Period:
    """[first, last], both days included."""

    first: dt.date
    last: dt.date

    def whole_months(self) -> int | None:
        """How many calendar months the period spans exactly, or None if it is not whole months."""
        if self.first.day != 1 or self.last != _month_end(self.last):
            return None
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1

    def previous(self) -> Period:
        """The period just before: as many whole months (a quarter → the quarter before), else as many days."""
        months = self.whole_months()
        if months is None:
            days = (self.last - self.first).days + 1
            return Period(self.first - dt.timedelta(days=days), self.first - dt.timedelta(days=1))
        return Period(_add_months(self.first, -months), self.first - dt.timedelta(days=1))

    def last_year(self) -> Period:
        """The same period a year earlier (29 February → 28 February; a month's last day stays its last day)."""
        months = self.whole_months() is not None
        last = _add_months(self.last, -12)
        return Period(_add_months(self.first, -12), _month_end(last) if months else last)

    def months(self) -> list[Period]:
        """The calendar months of the period, the first and last clipped to it."""
        out, first = [], self.first
        while first <= self.last:
            out.append(Period(first, min(_month_end(first), self.last)))
            first = _month_end(first) + dt.timedelta(days=1)
        return out

    def week_ends(self) -> list[dt.date]:
        """The last day of each 7 days from the first, and the period's last day."""
        days = [self.first + dt.timedelta(days=n) for n in range(6, (self.last - self.first).days + 1, 7)]
        return days if days and days[-1] == self.last else [*days, self.last]

    def as_dict(self) -> dict:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def _month_end(d: dt.date) -> dt.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _add_months(d: dt.date, months: int) -> dt.date:
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def quarter_of(on: dt.date) -> Period:
    """The calendar quarter (Jan-Mar, Apr-Jun, Jul-Sep, Oct-Dec) containing `on`."""
    first = dt.date(on.year, 3 * ((on.month - 1) // 3) + 1, 1)
    return Period(first, _month_end(_add_months(first, 2)))


def quarter_before(on: dt.date) -> Period:
    """The quarter that ended before the one containing `on`: the quarter a report run on `on` covers."""
    return quarter_of(quarter_of(on).first - dt.timedelta(days=1))


def first_working_day_after_quarter(on: dt.date) -> bool:
    """Whether `on` is the first working day (England and Wales) after a quarter ended."""
    return on == statutory.next_working_day(quarter_before(on).last + dt.timedelta(days=1))


def pct(part: int | None, whole: int | None) -> float | None:
    """A percentage to one decimal; None when there is nothing to divide by."""
    return round(100 * part / whole, 1) if whole else None


# --- SQL helpers --------------------------------------------------------------------------------------------


def _days(conn: sa.Connection, later, earlier):
    """Whole days from `earlier` to `later` (dates) in SQL."""
    if conn.dialect.name == "sqlite":
        return sa.cast(sa.func.julianday(later) - sa.func.julianday(earlier), sa.Integer)
    return later - earlier


def _true(json_field):
    """A JSON detail is true (SQLite: json_extract gives 1; PostgreSQL: ->> cast to boolean)."""
    return sa.func.coalesce(json_field.as_boolean(), sa.false()) == sa.true()


def _count(condition=None):
    return sa.func.count().filter(condition) if condition is not None else sa.func.count()


def _median(conn: sa.Connection, values: sa.Select, group: bool = False) -> dict | float | None:
    """The median of the `v` column of `values` (per `g` column when `group`), by window functions (both
    backends): the middle row, or the mean of the two middle rows."""
    sub = values.subquery()
    partition = [sub.c.g] if group else None
    ranked = sa.select(*([sub.c.g] if group else []), sub.c.v,
                       sa.func.row_number().over(partition_by=partition, order_by=sub.c.v).label("rn"),
                       sa.func.count().over(partition_by=partition).label("n")).subquery()
    middle = ranked.c.rn.between((ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2)
    mean = sa.func.avg(sa.cast(ranked.c.v, sa.Float))
    if group:
        rows = conn.execute(sa.select(ranked.c.g, mean).where(middle).group_by(ranked.c.g)).all()
        return {g: float(m) for g, m in rows}
    m = conn.execute(sa.select(mean).where(middle)).scalar()
    return None if m is None else float(m)


def _step(key: str):
    """An alias of the step table for the case's step `key` (joined on case and key: the unique index)."""
    return Step.__table__.alias(key.replace(".", "_").replace(":", "_"))


def _done_in(table, p: Period):
    """The step was done in the period. Only `complete_step` sets `completed_on` (with status done), so the date
    says it; a filter on status would lead SQLite down the `(status, due_on)` index through most of the table."""
    return table.c.completed_on.between(p.first, p.last)


def _on_case(alias, key: str, case_id):
    return sa.and_(alias.c.case_id == case_id, alias.c.key == key)


# --- the indicators ---------------------------------------------------------------------------------------------


def requests(conn: sa.Connection, p: Period) -> dict:
    """Requests for assessment received in the period, by their outcome on its last day: assessed or refused (the
    decision notified by then), withdrawn (closed as withdrawn by then, undecided), else in progress."""
    d = _step(ASSESS_DECISION)
    decided = sa.and_(d.c.status == DONE, d.c.completed_on <= p.last)
    assess = _true(d.c.details["assess"])
    row = conn.execute(
        sa.select(_count(), _count(sa.and_(decided, assess)), _count(sa.and_(decided, ~assess)),
                  _count(sa.and_(sa.or_(d.c.id.is_(None), ~decided), C.closed_reason == WITHDRAWN,
                                 C.closed_on <= p.last)))
        .select_from(Case.__table__.outerjoin(d, _on_case(d, ASSESS_DECISION, C.id)))
        .where(C.kind == NEEDS_ASSESSMENT, C.requested_on.between(p.first, p.last))).one()
    total, assessed, refused, withdrawn = row
    return {"requests": total,
            "requests_by_outcome": {"assessed": assessed, "refused": refused, "withdrawn": withdrawn,
                                    "in_progress": total - assessed - refused - withdrawn}}


def _new_plans(p: Period):
    """Final plans first issued in the period after a needs assessment (a `plan.final` step done in it: a plan
    transferred in from another council has none)."""
    f = _step(FINAL)
    return f, sa.and_(f.c.key == FINAL, _done_in(f, p))


def new_plans(conn: sa.Connection, p: Period) -> dict:
    """New plans; within 20 weeks (issued on or before the statutory date of `plan.final`, request + 20 weeks);
    the same without the exception cases (an exception set the 20 weeks aside: `disapplied`), left out of both
    counts as the DfE counts them; co-production before the draft and the child's views at the meeting."""
    f, new = _new_plans(p)
    m, dr = _step(MEETING), _step(DRAFT)
    within, kept = f.c.completed_on <= f.c.due_on, ~f.c.disapplied
    row = conn.execute(
        sa.select(_count(), _count(within), _count(kept), _count(sa.and_(kept, within)),
                  _count(sa.and_(m.c.status == DONE, dr.c.status == DONE, m.c.completed_on <= dr.c.completed_on)),
                  _count(sa.and_(m.c.status == DONE, _true(m.c.details["child_views_captured"]))))
        .select_from(f.outerjoin(m, _on_case(m, MEETING, f.c.case_id)).outerjoin(dr, _on_case(dr, DRAFT, f.c.case_id)))
        .where(new)).one()
    total, on_time, counted, counted_on_time, coproduced, views = row
    weeks = sa.select((_days(conn, f.c.completed_on, C.requested_on) / 7.0).label("v")).select_from(
        f.join(Case.__table__, C.id == f.c.case_id)).where(new)
    median = _median(conn, weeks)
    return {
        "new_plans": total,
        "new_plans_within_20_weeks": on_time,
        "pct_within_20_weeks": pct(on_time, total),
        "new_plans_excluding_exceptions": counted,
        "new_plans_within_20_weeks_excluding_exceptions": counted_on_time,
        "pct_within_20_weeks_excluding_exceptions": pct(counted_on_time, counted),
        "median_weeks_to_final_plan": None if median is None else round(median, 1),
        "coproduction_before_issue": coproduced,
        "pct_coproduction_before_issue": pct(coproduced, total),
        "child_views_recorded": views,
        "pct_child_views_recorded": pct(views, total),
    }


def weeks_to_final_plan(conn: sa.Connection, p: Period) -> dict[int, int]:
    """New plans of the period by whole weeks from the request to the final plan (the chart's bars)."""
    f, new = _new_plans(p)
    weeks = (_days(conn, f.c.completed_on, C.requested_on) // 7).label("weeks")
    rows = conn.execute(sa.select(weeks, _count()).select_from(f.join(Case.__table__, C.id == f.c.case_id))
                        .where(new).group_by(weeks).order_by(weeks)).all()
    return {int(w): n for w, n in rows}


def advice(conn: sa.Connection, p: Period) -> dict:
    """Advice given in the period (an `advice:<source>` step done in it), by agency: within its 6 weeks
    (`advice.provide`: completed on or before its statutory date). Advice whose limit an exception set aside
    is counted under `exceptions` and left out of `on_time` and its denominator. The family's own advice has no
    limit (reg 8(1)) and is not counted."""
    agency = sa.case(*((S.source == src, name) for src, name in AGENCIES.items()), else_=OTHERS).label("agency")
    kept = ~S.disapplied
    rows = conn.execute(
        sa.select(agency, _count(), _count(~kept), _count(sa.and_(kept, S.completed_on <= S.due_on)))
        .where(S.kind == ADVICE, _done_in(Step.__table__, p), S.source.not_in(NOT_TIMED))
        .group_by(agency)).all()
    found = {name: (given, excepted, on_time) for name, given, excepted, on_time in rows}
    out = {}
    for name in (*AGENCIES.values(), OTHERS):
        given, excepted, on_time = found.get(name, (0, 0, 0))
        out[name] = {"given": given, "exceptions": excepted, "on_time": on_time,
                     "late": given - excepted - on_time, "pct_on_time": pct(on_time, given - excepted)}
    return {"advice_on_time_by_source": out}


def reviews(conn: sa.Connection, p: Period) -> dict:
    """Annual reviews due in the period (a `review.annual:N` step whose statutory date falls in it, not cancelled
    by the plan ending), and of them on time: the review's meeting held and its decision notified on or before
    that date (CFA s44(1))."""
    key = sa.literal(ANNUAL_REVIEW_PREFIX) + sa.cast(R.cycle, sa.String)
    on_time = sa.and_(R.meeting_held, R.meeting_on <= S.due_on, R.decided_on <= S.due_on)
    total, held = conn.execute(
        sa.select(_count(), _count(on_time))
        .select_from(Step.__table__.outerjoin(Review.__table__, sa.and_(R.case_id == S.case_id, S.key == key)))
        .where(S.kind == ANNUAL_REVIEW, S.status != CANCELLED, S.due_on.between(p.first, p.last))).one()
    return {"reviews_due": total, "reviews_on_time": held, "pct_reviews_on_time": pct(held, total)}


def pfa_and_transition_reviews(conn: sa.Connection, p: Period) -> dict:
    """Reviews from Year 9 (`pfa_required`, set from the meeting date) whose 12 months end in the period, and of
    them those whose meeting recorded all four preparation-for-adulthood outcomes by its last day (reg 21(6)).
    Phase-transfer reviews whose reg 18 deadline (`transfer_due_on`) falls in the period, not cancelled by the
    plan ending, and of them those whose `review:N:phase_transfer` step was done by that deadline."""
    outcomes = sa.and_(R.meeting_held, R.meeting_on <= p.last,
                       *(sa.func.coalesce(sa.func.trim(R[name]), "") != "" for name in PFA_OUTCOMES))
    due, recorded = conn.execute(sa.select(_count(), _count(outcomes)).where(
        R.pfa_required, R.annual_due_on.between(p.first, p.last))).one()
    t = _step("phase_transfer")
    key = sa.literal("review:") + sa.cast(R.cycle, sa.String) + sa.literal(":phase_transfer")
    transfers, by_deadline = conn.execute(
        sa.select(_count(), _count(sa.and_(t.c.status == DONE, t.c.completed_on <= t.c.due_on)))
        .select_from(Review.__table__.outerjoin(t, sa.and_(t.c.case_id == R.case_id, t.c.key == key)))
        .where(R.phase_transfer.is_not(None), R.transfer_due_on.between(p.first, p.last),
               sa.or_(t.c.status.is_(None), t.c.status != CANCELLED))).one()
    return {"pfa_reviews_due": due, "pfa_reviews_with_outcomes": recorded,
            "transition_reviews_due": transfers, "transition_reviews_by_deadline": by_deadline}


def end_of(day: dt.date) -> dt.datetime:
    """The instant a London day ends (midnight starting the next), in UTC as the store keeps its times."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), LONDON).astimezone(dt.UTC)


def escalations(conn: sa.Connection, p: Period) -> dict:
    """Escalations opened in the period, those open at its end (opened by its last day, not resolved before that
    day ended in London), and the median age in days (last day − opened) of those still open, by queue."""
    opened = dict(conn.execute(sa.select(E.queue, _count()).where(E.opened_on.between(p.first, p.last))
                               .group_by(E.queue)).all())
    open_at_end = sa.and_(E.opened_on <= p.last, sa.or_(E.resolved_at.is_(None), E.resolved_at >= end_of(p.last)))
    still = dict(conn.execute(sa.select(E.queue, _count()).where(open_at_end).group_by(E.queue)).all())
    age = _days(conn, sa.literal(p.last, sa.Date), E.opened_on)
    ages = sa.select(E.queue.label("g"), age.label("v")).where(open_at_end)
    median_by_queue = _median(conn, ages, group=True)
    median = _median(conn, sa.select(age.label("v")).where(open_at_end))
    queues = sorted({*opened, *still})
    return {
        "escalations_opened": sum(opened.values()),
        "escalations_open_at_end": sum(still.values()),
        "escalations_median_age_days": median,
        "escalations_by_queue": {q: {"opened": opened.get(q, 0), "open_at_end": still.get(q, 0),
                                     "median_age_days": median_by_queue.get(q)} for q in queues},
    }


def complaints_and_disputes(conn: sa.Connection, p: Period) -> dict:
    """Complaints received in the period, and of them those answered by their response target (the council's own,
    not law) by the period's last day; disputes between the council and health or social care escalated to the
    disputes process in the period."""
    c, d = Complaint.__table__.c, Dispute.__table__.c
    received, on_time = conn.execute(sa.select(
        _count(), _count(sa.and_(c.responded_on.is_not(None), c.responded_on <= c.respond_by,
                                 c.responded_on <= p.last)))
        .where(c.received_on.between(p.first, p.last))).one()
    escalated = conn.execute(sa.select(_count()).where(d.escalated_on.between(p.first, p.last))).scalar_one()
    return {"complaints_received": received, "complaints_resolved_on_time": on_time, "disputes_escalated": escalated}


def plans_in_force(conn: sa.Connection, p: Period) -> dict:
    """Plans in force at the end of the period (issued by its last day, the case not closed by then), and of
    them those whose draft plan recorded a request for a personal budget (a request: the engine records no
    agreed budget yet)."""
    dr = _step(DRAFT)
    in_force = sa.and_(C.plan_issued_on <= p.last, sa.or_(C.closed_on.is_(None), C.closed_on > p.last))
    total, budgets = conn.execute(
        sa.select(_count(), _count(sa.and_(dr.c.status == DONE, _true(dr.c.details["personal_budget_requested"]))))
        .select_from(Case.__table__.outerjoin(dr, _on_case(dr, DRAFT, C.id))).where(in_force)).one()
    return {"plans_in_force": total, "personal_budgets": budgets}


def open_overdue_steps(conn: sa.Connection, days: list[dt.date]) -> dict[dt.date, int]:
    """On each day, the steps open at its end and past their statutory date: started by then, due before it, not
    done by it, not cancelled, not set aside by an exception, not the family's own windows (rights, not duties)."""
    first, last = min(days), max(days)
    candidates = sa.select(S.started_on, S.due_on, S.completed_on).where(
        S.status != CANCELLED, ~S.disapplied, S.role != Role.FAMILY, S.due_on < last,
        sa.or_(S.completed_on.is_(None), S.completed_on > first)).cte("candidate").prefix_with("MATERIALIZED")
    day = sa.union_all(*(sa.select(sa.literal(d, sa.Date).label("d")) for d in days)).subquery("day")
    overdue = sa.and_(candidates.c.started_on <= day.c.d, candidates.c.due_on < day.c.d,
                      sa.or_(candidates.c.completed_on.is_(None), candidates.c.completed_on > day.c.d))
    rows = dict(conn.execute(sa.select(day.c.d, _count()).select_from(day.join(candidates, overdue))
                             .group_by(day.c.d)).all())
    return {d: rows.get(d, 0) for d in days}


def indicators(conn: sa.Connection, p: Period) -> dict:
    """Every indicator for one period, flat (the unrecorded ones None)."""
    return {**requests(conn, p), **new_plans(conn, p), **advice(conn, p), **reviews(conn, p),
            **pfa_and_transition_reviews(conn, p), **escalations(conn, p), **complaints_and_disputes(conn, p),
            **plans_in_force(conn, p),
            **dict.fromkeys(REASONS)}


ORDER = ("requests", "requests_by_outcome", "new_plans", "new_plans_within_20_weeks", "pct_within_20_weeks",
         "new_plans_excluding_exceptions", "new_plans_within_20_weeks_excluding_exceptions",
         "pct_within_20_weeks_excluding_exceptions", "median_weeks_to_final_plan", "advice_on_time_by_source",
         "coproduction_before_issue", "pct_coproduction_before_issue", "child_views_recorded",
         "pct_child_views_recorded", "reviews_due", "reviews_on_time", "pct_reviews_on_time",
         "reviews_child_involved", "pfa_reviews_due", "pfa_reviews_with_outcomes", "transition_reviews_due",
         "transition_reviews_by_deadline", "escalations_opened", "escalations_open_at_end",
         "escalations_median_age_days", "escalations_by_queue", "complaints_received",
         "complaints_resolved_on_time", "disputes_escalated", "plans_in_force", "plans_by_setting_type",
         "placements_out_of_area", "personal_budgets", "by_caseworker_team")


def report(conn: sa.Connection, p: Period) -> dict:
    """The quarter's report: each indicator beside the previous period and the same period last year, and the
    series the charts draw (this period only). No personal data: counts, never a case."""
    previous, last_year = p.previous(), p.last_year()
    now, before, year_ago = indicators(conn, p), indicators(conn, previous), indicators(conn, last_year)
    out = {}
    for key in ORDER:
        out[key] = {"value": now[key], "previous": before[key], "last_year": year_ago[key]}
        if key in REASONS:
            out[key]["reason"] = REASONS[key]
    months = p.months()
    return {
        "period": p.as_dict(), "previous": previous.as_dict(), "last_year": last_year.as_dict(),
        "indicators": out,
        "series": {
            "weeks_to_final_plan": weeks_to_final_plan(conn, p),
            "advice_by_agency": now["advice_on_time_by_source"],
            "open_overdue_steps": {d.isoformat(): n for d, n in open_overdue_steps(conn, p.week_ends()).items()},
            "reviews_by_month": {m.first.strftime("%Y-%m"): reviews(conn, m) for m in months},
        },
    }
