"""What the simulated council's people do and when, drawn from distributions calibrated to the national figures:
DfE "Education, health and care plans", England, reporting year 2025 (calendar year 2024; the rows and columns
are listed in `../shared/reference/README.md`, `dfe-ehcp-statistics/`).

Each request's pathway is drawn whole on the day it arrives (`draw_request`), each review's when the scheduler
opens it (`draw_review`), from a generator seeded by the simulation's seed and the case's own key, so a case's
dates do not depend on the order the others were drawn in. Every number is drawn whether or not it is used, so a
change of one probability changes only the outcomes that depend on it (the calibration below relies on that:
a request's pathway on track and off track differ only from its late adviser's answer on)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from models import statutory
from models.assessment import sources_needed
from models.vocabulary import AdviceSource, ReviewDecision

# The national figures, 2024 (the column they come from).
NATIONAL = {
    "pct_within_20_weeks": 45.9,  # pc_plans_issued_within_20_weeks (including exceptions)
    "pct_within_20_weeks_excluding_exceptions": 46.4,  # PC_plans_issued_20_weeks_ex
    "pct_refused_of_decided": round(100 * 25.2 / (65.4 + 25.2), 1),  # request_assess_pc 65.4, not assess 25.2
    "pct_decided_within_6_weeks": 84.8,  # request_outcome_six_weeks_pc
    "pct_not_issued_of_assessed": 6.1,  # assess_not_issued_pc
    "pct_plans_with_exceptions": 6.1,  # (plans_issued_den - plans_issued_den_ex) / plans_issued_den
    "pct_late_beyond_52_weeks_of_late": round(100 * 7.2 / (46.9 + 7.2), 1),  # 20-52 weeks 46.9, >52 weeks 7.2
    "pct_review_meetings_held": round(100 * 453_761 / 524_654, 1),  # annual_reviews_2024: meeting recorded
    "pct_review_decisions_within_4_weeks": 44.4,  # decision communicated within 4 weeks of the meeting
    "pct_plans_ceased_a_year": round(100 * 44_862 / 638_745, 1),  # total_ceased 2024 / ehcplans January 2025
}
PFA = {"pfa_employment": "work experience planned", "pfa_independent_living": "travel training",
       "pfa_community": "youth club", "pfa_health": "annual health check"}  # a meeting from Year 9 records all four
LATE_ADVISERS = (AdviceSource.HEALTH, AdviceSource.EP, AdviceSource.SOCIAL_CARE, AdviceSource.EDUCATION)
REQUIRED = (AdviceSource.PARENT, *LATE_ADVISERS)  # the five every assessment asks (reg 6(1))
LATE_WEIGHTS = (4, 3, 2, 1)  # who is late when advice is late: health and the EP most often (no national split)


@dataclass(frozen=True)
class Profile:
    """The probabilities the simulation draws with; defaults from `NATIONAL`. `on_track` (a case whose advisers
    all answer within their 6 weeks) is not published: `calibrate` sets it so that, of the new plans the year
    simulated issues, the share within 20 weeks is the nearest it can come to `within_20_weeks`."""

    within_20_weeks: float = NATIONAL["pct_within_20_weeks"] / 100
    refuse: float = NATIONAL["pct_refused_of_decided"] / 100
    decided_in_6_weeks: float = NATIONAL["pct_decided_within_6_weeks"] / 100
    not_issue: float = NATIONAL["pct_not_issued_of_assessed"] / 100
    exception: float = NATIONAL["pct_plans_with_exceptions"] / 100
    very_late: float = NATIONAL["pct_late_beyond_52_weeks_of_late"] / 100
    meeting_held_in_time: float = NATIONAL["pct_review_meetings_held"] / 100
    decided_in_4_weeks: float = NATIONAL["pct_review_decisions_within_4_weeks"] / 100
    cease: float = NATIONAL["pct_plans_ceased_a_year"] / 100
    amend: float = 0.30  # no national figure: about a third of reviews amend the plan
    on_track: float = 0.5


@dataclass
class Act:
    """One act on its day: `form` names the typed form of `tasks` that records it, `fields` its values."""

    on: dt.date
    form: str
    fields: dict = field(default_factory=dict)


@dataclass
class Pathway:
    """A request's drawn pathway: its acts in order, and the outcome they lead to. `track`: the draw compared
    with `Profile.on_track` (below it, every adviser answers in time)."""

    requested_on: dt.date
    acts: list[Act]
    track: float
    refused: bool = False
    not_issued: bool = False
    exception: bool = False
    final_on: dt.date | None = None  # the day the final plan is drawn to be issued

    def within_20_weeks(self) -> bool:
        due = statutory.deadline("plan.final", self.requested_on).due
        return self.final_on is not None and self.final_on <= due


def working(d: dt.date) -> dt.date:
    """The day, or the next working day (council staff act on working days)."""
    return statutory.next_working_day(d) if not statutory.is_working_day(d) else d


def working_before(d: dt.date) -> dt.date:
    """The day, or the working day before it."""
    while not statutory.is_working_day(d):
        d -= dt.timedelta(days=1)
    return d


def _days(d: dt.date, n: int) -> dt.date:
    return d + dt.timedelta(days=n)


def draw_request(rng: random.Random, requested_on: dt.date, p: Profile,
                 sources: Callable[[dt.date], list[str]] = lambda _on: list(REQUIRED)) -> Pathway:
    """The whole pathway of one request from the day it arrives: the decision whether to assess, each adviser's
    answer, an exception, the meeting, the decision whether to issue, the draft and the final plan. `sources`:
    whom the engine asks for advice on a decision to assess that day (`assessment.advice_sources`)."""
    u_refuse, u_in_6, u_track, u_exc, u_not_issue, u_very = (rng.random() for _ in range(6))
    decided = working(_days(requested_on, rng.randint(21, 41) if u_in_6 < p.decided_in_6_weeks
                            else rng.randint(43, 70)))
    late_source = rng.choices(LATE_ADVISERS, LATE_WEIGHTS)[0]
    on_time = {src: rng.randint(24, 40) for src in AdviceSource}  # every source drawn, the asked ones used
    lateness = rng.randint(200, 300) if u_very < p.very_late else rng.randint(14, 190)
    away_from, away_days, back_after = rng.randint(5, 15), rng.randint(28, 56), rng.randint(7, 21)
    meeting_gap, issue_gap, draft_gap, final_gap = (rng.randint(5, 15), rng.randint(0, 5), rng.randint(5, 12),
                                                    rng.randint(1, 8))
    budget, views = rng.random() < 0.1, rng.random() < 0.85
    if u_refuse < p.refuse:
        return Pathway(requested_on, [Act(decided, "DecisionToAssess", {"assess": "no", "reasons":
                       "the evidence shows the child's needs can be met from the setting's own resources"})],
                       u_track, refused=True)
    acts = [Act(decided, "DecisionToAssess", {"assess": "yes"})]
    exception = u_exc < p.exception
    advice = {src: _days(decided, on_time[AdviceSource(src)]) for src in sources(decided)}
    if u_track >= p.on_track and late_source in advice:
        advice[late_source] = _days(decided, 42 + lateness)
    if exception:  # the family away for 4-8 weeks during the advice: the 20 weeks set aside (reg 13(3))
        start = _days(decided, away_from)
        end = _days(start, away_days - 1)
        acts.append(Act(working(_days(end, 1)), "absence", {"start": start, "end": end}))
        advice = {src: max(on, _days(end, back_after)) for src, on in advice.items()}
    advice = {src: working(on) for src, on in advice.items()}
    acts += [Act(on, "AdviceReceived", {"source": src}) for src, on in sorted(advice.items(), key=lambda a: a[1])]
    meeting = working(_days(max(advice.values()), meeting_gap))
    acts.append(Act(meeting, "MeetingHeld", {"attended": ["parent", "senco"],
                                             "child_views_captured": "yes" if views else "no"}))
    issue_on = working(_days(meeting, issue_gap))
    if u_not_issue < p.not_issue:
        acts.append(Act(issue_on, "DecisionToIssue", {"issue": "no", "reasons":
                        "the assessment found the child's needs can be met without a plan"}))
        return Pathway(requested_on, acts, u_track, not_issued=True, exception=exception)
    acts.append(Act(issue_on, "DecisionToIssue", {"issue": "yes"}))
    draft = working(_days(issue_on, draft_gap))
    acts.append(Act(draft, "DraftIssued", {"personal_budget_requested": "yes" if budget else "no"}))
    representations = statutory.deadline("plan.draft_representations", draft).due
    final = working(_days(representations, final_gap))
    acts.append(Act(final, "FinalIssued"))
    return Pathway(requested_on, acts, u_track, exception=exception, final_on=final)


@dataclass
class ReviewDraw:
    """A review's drawn acts, from the day the scheduler opened it."""

    acts: list[Act]
    meeting_on: dt.date
    decided_on: dt.date
    decision: str


def draw_review(rng: random.Random, opened_on: dt.date, annual_due_on: dt.date, p: Profile) -> ReviewDraw:
    """The setting fixes the meeting, sends the invitations two weeks before, holds it (late in one case in
    seven, as nationally); the report follows, and the council's decision (within 4 weeks of the meeting in 44%
    of cases), for an amendment the amended plan within 8 weeks, and for a decision to cease the plan ceasing
    within two weeks of the appeal window closing (nobody appeals in the simulation)."""
    u_held, u_in_4, u_decision = rng.random(), rng.random(), rng.random()
    schedule_on = working(_days(opened_on, rng.randint(3, 15)))
    fixed = max(_days(annual_due_on, -rng.randint(1, 40)), _days(schedule_on, 15))
    late_by = rng.randint(7, 60)
    report_gap, decision_in, decision_late, amended_gap = (rng.randint(3, 14), rng.randint(5, 27),
                                                           rng.randint(29, 70), rng.randint(20, 55))
    fixed = working_before(min(fixed, annual_due_on))  # opened late: the last working day of the period
    meeting = fixed if u_held < p.meeting_held_in_time else working(_days(fixed, late_by))
    decision = (ReviewDecision.CEASE if u_decision < p.cease else
                ReviewDecision.AMEND if u_decision < p.cease + p.amend else ReviewDecision.MAINTAIN)
    decided = working(_days(meeting, decision_in if u_in_4 < p.decided_in_4_weeks else decision_late))
    acts = [Act(schedule_on, "ScheduleReviewMeeting", {"on": fixed})]
    invitations = _days(fixed, -14)
    if invitations >= schedule_on:
        acts.append(Act(max(schedule_on, working_before(invitations)), "InvitationsSent"))
    acts.append(Act(meeting, "ReviewMeetingHeld"))
    report = min(working(_days(meeting, report_gap)), decided)
    acts.append(Act(report, "ReviewReportSent"))
    acts.append(Act(decided, "ReviewDecisionMade", {"decision": decision}))
    if decision == ReviewDecision.AMEND:
        acts.append(Act(working(_days(decided, amended_gap)), "AmendedPlanIssued"))
    cease_gap = rng.randint(1, 10)  # drawn last: the draws before it are as they were
    if decision == ReviewDecision.CEASE:  # the plan ceases once the appeal window closes unappealed (CFA s45(3))
        closes = statutory.deadline("appeal.register", decided).due
        acts.append(Act(working(_days(closes, cease_gap)), "PlanCeased"))
    return ReviewDraw(acts, meeting, decided, decision)


def case_rng(seed: int, key: str) -> random.Random:
    """A case's own generator: the same seed and key draw the same pathway, whatever else was drawn."""
    return random.Random(f"{seed}:{key}")


def arrivals(rng: random.Random, n: int, first: dt.date, last: dt.date) -> list[dt.date]:
    """`n` request days spread evenly over the working days of [first, last], in order."""
    days = [d for d in (first + dt.timedelta(days=i) for i in range((last - first).days + 1))
            if statutory.is_working_day(d)]
    return sorted(rng.choice(days) for _ in range(n))


def born(rng: random.Random, requested_on: dt.date) -> dt.date:
    """A requested child's date of birth: 3 to 15 years before the request (the first draw of its generator)."""
    return requested_on - dt.timedelta(days=rng.randint(3 * 365, 15 * 365))


def year_request(seed: int, n: int, requested_on: dt.date, p: Profile) -> Pathway:
    """The `n`th request of the year, as the simulation draws it from its key `request:n` (the child `born`,
    then its pathway), without the store: the case opens with no flags, so the advice asked for on the decision
    day is `sources_needed` for the child's age alone."""
    rng = case_rng(seed, f"request:{n}")
    dob = born(rng, requested_on)
    return draw_request(rng, requested_on, p, lambda on: sources_needed((), dob, on))


def calibrate(p: Profile, seed: int, days: list[dt.date], last: dt.date) -> Profile:
    """The profile with `on_track` set so that, of the new plans the year's own requests (`year_request`, the
    nth arriving on `days[n - 1]`) issue by its last day, the share within 20 weeks is the nearest the year can
    reach to `p.within_20_weeks` (a small year's k plans in n move it in steps). Each request is drawn on track
    and off track; `on_track` puts on track those whose `track` draw is below it, so putting them on track one
    by one in the order of their draws finds every share reachable. Of the nearest, the middle one; `on_track`
    the shortest decimal that gives it. A year that can issue no plan keeps `p.on_track`."""
    outcomes = []  # (track draw, (issued, within) on track, (issued, within) off track)
    for n, day in enumerate(days, 1):
        ways = [year_request(seed, n, day, replace(p, on_track=t)) for t in (1.0, 0.0)]
        outcomes.append((ways[0].track, *(_counted(x, last) for x in ways)))
    outcomes.sort(key=lambda o: o[0])
    tracks = [o[0] for o in outcomes]
    issued, within = sum(off[0] for _, _, off in outcomes), sum(off[1] for _, _, off in outcomes)
    found = []  # (distance from the target, k on track) for every k some on_track gives
    for k in range(len(outcomes) + 1):
        if k:
            _, on, off = outcomes[k - 1]
            issued, within = issued + on[0] - off[0], within + on[1] - off[1]
        reachable = k in (0, len(tracks)) or tracks[k - 1] < tracks[k]
        if issued and reachable:
            found.append((abs(within / issued - p.within_20_weeks), k))
    if not found:
        return p
    nearest = min(d for d, _ in found)
    best = [k for d, k in found if d == nearest]
    k = best[len(best) // 2]
    low, high = tracks[k - 1] if k else 0.0, tracks[k] if k < len(tracks) else 1.0  # on track: draw < on_track
    return replace(p, on_track=_shortest(low, high, closed=not k))


def _counted(x: Pathway, last: dt.date) -> tuple[bool, bool]:
    """Whether the pathway's plan is issued by `last`, and whether it is issued by then within 20 weeks."""
    issued = x.final_on is not None and x.final_on <= last
    return issued, issued and x.within_20_weeks()


def _shortest(low: float, high: float, closed: bool) -> float:
    """The shortest decimal in (low, high] ([low, high] if `closed`)."""
    for digits in range(1, 18):
        x = round((low + high) / 2, digits)
        if (low <= x if closed else low < x) and x <= high:
            return x
    return high
