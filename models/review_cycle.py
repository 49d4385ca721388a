"""A review cycle of a plan in force, from the plan's issue to the meeting and its report (CFA s44; SEND Regs
reg 18, 20-21): putting the plan in force, planning and opening each cycle, the phase transfer it carries,
the meeting, the preparation-for-adulthood advice and outcomes from Year 9, and the report. The council's
decision after the meeting is in `models.review_decision`.

What is due in a cycle is ordinary `step` rows keyed `review:<cycle>:<part>`, so the deadline watch chases them
like any other step. Every date comes from `models.statutory`; the anchor after the first cycle is the
previous review meeting (spec §7.3). Acts that imply messages return them as notices.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import bulk, statutory
from models.cases import AuditEvent, Case, Child, ClockException, Step
from models.casework import LA, add_step, audit, child_of, complete_step, compute_due, find_step, move_stage
from models.contacts import contact_for
from models.errors import InputError
from models.notice import Notice, NoticeKind, Recipient
from models.review import KEPT as KEPT_REVIEWS
from models.review import Review, get_review, reviews_of
from models.school_terms import term_of
from models.settings import today as clock_today
from models.text import NAME_MAX, NOTE_MAX, optional
from models.vocabulary import (
    ADVICE_PREFIX,
    ADVICE_ROLES,
    PFA_SOURCES,
    REVIEW_PREFIX,
    AdviceSource,
    CaseStatus,
    PhaseTransfer,
    ReviewPart,
    ReviewStage,
    ReviewStatus,
    Role,
    Stage,
    StepKind,
    StepStatus,
    advice_key,
    annual_review_cycle,
    annual_review_key,
    review_advice_key,
    review_key,
)

PFA_OUTCOMES = {  # field → the caseworker's words (reg 21(6); CoP 8.7)
    "pfa_employment": "employment",
    "pfa_independent_living": "independent living",
    "pfa_community": "community participation",
    "pfa_health": "health",
}
TRANSFER_YEARS = {0: PhaseTransfer.OTHER, 7: PhaseTransfer.OTHER, 12: PhaseTransfer.POST16}  # year group entered
# on 1 September → reg 18 kind
PRE_MEETING = {  # what is due before the meeting: its step kind and rule
    ReviewPart.INVITATIONS: (StepKind.REVIEW_INVITATIONS, "review.invitations"),
    ReviewPart.ADVICE_CIRCULATED: (StepKind.REVIEW_ADVICE_CIRCULATED, "review.advice_circulated"),
}
EARLY_YEARS_AGE = 5


def not_after_today(on: dt.date, today: dt.date | None, field_name: str = "--on") -> None:
    """An act is recorded on or after the day it happened: a date after today is an input error."""
    today = today or clock_today()
    if on > today:
        raise InputError(field_name, f"{on} is in the future (today is {today})")


# --- a plan in force and the opening of its reviews ------------------------------------------------


def put_plan_in_force(s: Session, case: Case, issued_on: dt.date, actor: str, setting: str | None = None) -> Step:
    """The final plan is issued (reg 13(2)): the plan is in force and its first annual review falls due
    within 12 months (CFA s44(1)). Returns the `review.annual:1` step; a second call changes nothing."""
    if case.status != CaseStatus.PLAN_IN_FORCE:
        case.status, case.plan_issued_on = CaseStatus.PLAN_IN_FORCE, issued_on
        move_stage(s, case, Stage.PLAN_IN_FORCE, actor, "plan in force", issued_on)
    return add_step(s, case, key=annual_review_key(1), kind=StepKind.ANNUAL_REVIEW, rule_id="review.annual",
                    role=LA, start=issued_on, details={"setting": setting} if setting else None)


def _deadline_due(rule_id: str, start: dt.date, facts: dict | None = None) -> dt.date:
    return statutory.deadline(rule_id, start, facts=facts).due


class _Dates:
    """`statutory.deadline(…).due` asked once per rule, start and facts: a pass over every plan in force asks
    the same few hundred dates thousands of times."""

    def __init__(self) -> None:
        self._seen: dict[tuple, dt.date | statutory.Deadline] = {}

    def __call__(self, rule_id: str, start: dt.date, facts: dict | None = None) -> dt.date:
        key = (rule_id, start, tuple(sorted((facts or {}).items())))
        if key not in self._seen:
            self._seen[key] = _deadline_due(rule_id, start, facts)
        return self._seen[key]

    def of_case(self, rule_id: str, start: dt.date, facts: dict | None, rule_set: str) -> statutory.Deadline:
        """`statutory.case_deadline` for a case with no clock exception recorded."""
        key = ("case", rule_id, start, tuple(sorted((facts or {}).items())), rule_set)
        if key not in self._seen:
            self._seen[key] = statutory.case_deadline(rule_id, start, (), facts, rule_set=rule_set)
        return self._seen[key]


def _transfer_in(dob: dt.date, offset: int, anchor: dt.date, annual_due: dt.date,
                 settled: set[dt.date], due=_deadline_due) -> tuple[str, dt.date] | None:
    """The reg 18 phase transfer whose deadline falls inside the cycle, as (kind, transfer date): entering
    Reception, Year 7 or Year 12 on a 1 September, unless an earlier cycle settled it. Other transfers
    (infant to junior, middle schools) are recorded by the caseworker."""
    for year in range(anchor.year, annual_due.year + 2):
        transfer_on = dt.date(year, 9, 1)
        if transfer_on in settled:
            continue
        kind = TRANSFER_YEARS.get(statutory.year_group(dob, transfer_on, offset)) if transfer_on > dob else None
        if kind is None:
            continue
        if anchor < due("review.phase_transfer", transfer_on, {"transfer": kind}) <= annual_due:
            return kind, transfer_on
    return None


def _rules(anchor: dt.date, early_years: bool, transfer: tuple[str, dt.date] | None) -> list[tuple[str, dt.date, dict]]:
    rules = [("review.meeting_latest", anchor, {})]
    if early_years:
        rules.append(("review.early_years", anchor, {}))
    if transfer and transfer[0] in (PhaseTransfer.OTHER, PhaseTransfer.POST16):
        rules.append(("review.phase_transfer_meeting_latest", transfer[1], {"transfer": transfer[0]}))
    return rules


def _meeting_rules(review: Review) -> list[tuple[str, dt.date, dict]]:
    transfer = (review.phase_transfer, review.transfer_on) if review.phase_transfer else None
    return _rules(review.anchor_on, review.early_years, transfer)


def _cycle(anchor: dt.date, annual_due: dt.date, dob: dt.date, offset: int, settled: set[dt.date],
           due=_deadline_due) -> tuple[bool, tuple[str, dt.date] | None, dt.date]:
    """A cycle's early-years flag, phase transfer and the day its meeting is due by (the earliest limit)."""
    early_years = statutory.age_on(dob, anchor) < EARLY_YEARS_AGE
    transfer = _transfer_in(dob, offset, anchor, annual_due, settled, due)
    return early_years, transfer, min(due(r, start, f or None) for r, start, f in _rules(anchor, early_years, transfer))


def plan_cycle(s: Session, case: Case, annual: Step, on: dt.date, child: Child | None = None,
               earlier: list[Review] | None = None, due=_deadline_due) -> Review:
    """The review a cycle would open as, unsaved: anchor, dates, early-years and phase-transfer flags."""
    child = child or child_of(s, case)
    earlier = reviews_of(s, case) if earlier is None else earlier
    anchor = annual.started_on
    settled = {r.transfer_on for r in earlier if r.transfer_on}
    early_years, transfer, meeting_by = _cycle(anchor, annual.due_on, child.date_of_birth, child.year_group_offset,
                                               settled, due)
    review = Review(case_id=case.id, cycle=annual_review_cycle(annual.key), anchor_on=anchor,
                    annual_due_on=annual.due_on, meeting_latest_on=due("review.meeting_latest", anchor),
                    meeting_by_on=meeting_by, opened_on=on, setting=annual.details.get("setting"),
                    early_years=early_years)
    if transfer:
        review.phase_transfer, review.transfer_on = transfer
        review.transfer_due_on = due("review.phase_transfer", review.transfer_on, {"transfer": review.phase_transfer})
    return review


def pending_cycles(s: Session, on: dt.date) -> list[tuple[Case, Review]]:
    """Each plan in force with no open review, and the next cycle it would open on `on` (unsaved): children
    and earlier reviews read in one query each."""
    rows = s.exec(
        select(Case, Step, Child)
        .join(Step, Step.case_id == Case.id)
        .join(Child, Child.id == Case.child_id)
        .where(Case.status == CaseStatus.PLAN_IN_FORCE, Step.kind == StepKind.ANNUAL_REVIEW,
               Step.status == StepStatus.OPEN)
        .order_by(Case.id)
    ).all()
    earlier: dict[int, list[Review]] = {}
    for r in s.exec(select(Review).where(col(Review.case_id).in_({c.id for c, _, _ in rows}))):
        earlier.setdefault(r.case_id, []).append(r)
    due = _Dates()
    return [(case, plan_cycle(s, case, annual, on, child, earlier.get(case.id, []), due))
            for case, annual, child in rows
            if not any(r.cycle == annual_review_cycle(annual.key) or r.status == ReviewStatus.OPEN
                       for r in earlier.get(case.id, []))]


@functools.cache  # a pure function of two dates, asked for every plan daily
def _opening_day(anchor: dt.date, meeting_by: dt.date) -> dt.date:
    term_start = term_of(meeting_by)[1]
    return max(anchor, term_of(term_start - dt.timedelta(days=1))[1])


def opens_on(review: Review) -> dt.date:
    """A review opens a term ahead: on the first day of the term before the one its meeting falls due in, so
    the setting has a term's notice (or from its anchor, if that is later)."""
    return _opening_day(review.anchor_on, review.meeting_by_on)


def falls_due(review: Review, on: dt.date) -> bool:
    return on >= opens_on(review)


class _Plan(NamedTuple):
    case_id: int
    reference: str
    stage: str
    rule_set: str
    annual_id: int
    annual_key: str
    anchor_on: dt.date
    annual_due_on: dt.date
    date_of_birth: dt.date
    year_group_offset: int


def _without_open_review():
    """The plans in force with no review open (a plan's next cycle opens only once its last has closed): their
    case ids, for a WHERE (the index on review (case_id, status) answers the NOT EXISTS)."""
    c, rv = Case.__table__.c, Review.__table__.c
    open_review = sa.select(rv.id).where(rv.case_id == c.id, rv.status == ReviewStatus.OPEN)
    return sa.select(c.id).where(c.status == CaseStatus.PLAN_IN_FORCE, ~open_review.exists())


def _plans_in_force(s: Session) -> list[_Plan]:
    """Each plan in force with no open review, with its latest open annual step and its child, as plain rows
    (one query)."""
    c, st, ch = Case.__table__.c, Step.__table__.c, Child.__table__.c
    query = (sa.select(c.id, c.reference, c.stage, c.rule_set, st.id, st.key, st.started_on, st.due_on,
                       ch.date_of_birth, ch.year_group_offset)
             .select_from(Case.__table__).join(Step.__table__, st.case_id == c.id)
             .join(Child.__table__, ch.id == c.child_id)
             .where(c.id.in_(_without_open_review()), st.kind == StepKind.ANNUAL_REVIEW,
                    st.status == StepStatus.OPEN)
             .order_by(c.id, st.id))
    latest = {row[0]: row for row in s.connection().execute(query)}  # a case's latest open annual step
    return [_Plan(*row) for row in latest.values()]


def open_due_reviews(s: Session, on: dt.date, actor: str) -> list[tuple[str, int]]:
    """The scheduler's daily pass: open every plan's next review that falls due on `on` (a term ahead of the
    term its meeting falls due in), set-based. One read of the plans in force and one of their reviews; each
    plan with no open review has its cycle planned from dates asked of `models.statutory` once each; the
    reviews opening, their steps and stage moves are written in bulk. A case with a clock exception recorded,
    or a step of the cycle already written, is opened by `open_review` itself. Plans with a review open are
    left out in the query, so a day reads only the plans that could open one."""
    plans = _plans_in_force(s)
    rv = Review.__table__.c
    earlier: dict[int, list[tuple[int, dt.date | None]]] = {}  # each plan's closed reviews: cycle, transfer
    for case_id, cycle, transfer_on in s.connection().execute(
            sa.select(rv.case_id, rv.cycle, rv.transfer_on).where(rv.case_id.in_(_without_open_review()))):
        earlier.setdefault(case_id, []).append((cycle, transfer_on))
    due, opening = _Dates(), []
    for plan in plans:
        cycle = annual_review_cycle(plan.annual_key)
        reviews = earlier.get(plan.case_id, [])
        if any(c == cycle for c, _ in reviews):
            continue
        settled = {t for _, t in reviews if t}
        cycle_dates = _cycle(plan.anchor_on, plan.annual_due_on, plan.date_of_birth, plan.year_group_offset,
                             settled, due)
        if on >= _opening_day(plan.anchor_on, cycle_dates[2]):
            opening.append((plan, cycle, cycle_dates))
    if not opening:
        return []
    return _open_in_bulk(s, on, actor, opening, due)


def _open_in_bulk(s: Session, on: dt.date, actor: str, opening: list, due: _Dates) -> list[tuple[str, int]]:
    """Write the reviews opening on `on` as `open_review` would, in a few statements."""
    ids = [plan.case_id for plan, _, _ in opening]
    ex, st = ClockException.__table__.c, Step.__table__.c
    by_hand = set(s.connection().execute(sa.select(ex.case_id).where(bulk.among(s, ex.case_id, ids))
                                         .distinct()).scalars())
    prefixes = {plan.case_id: f"{review_key(cycle, '')}" for plan, cycle, _ in opening}
    for case_id, key in s.connection().execute(sa.select(st.case_id, st.key).where(
            bulk.among(s, st.case_id, ids), st.key.like(f"{REVIEW_PREFIX}%"))):
        if key.startswith(prefixes[case_id]):
            by_hand.add(case_id)
    details = {}
    for batch in bulk.batches(s, [plan.annual_id for plan, _, _ in opening]):
        details.update(s.connection().execute(sa.select(st.id, st.details).where(bulk.among(s, st.id, batch))).all())
    opened, reviews, steps, events, senco = [], [], [], [], {}
    for plan, cycle, (early_years, transfer, meeting_by) in opening:
        opened.append((plan.reference, cycle))
        if plan.case_id in by_hand:
            continue
        setting = details[plan.annual_id].get("setting")
        if setting and setting not in senco:
            senco[setting] = contact_for(s, Role.SENCO, setting).id
        kind, transfer_on = transfer or (None, None)
        reviews.append({"case_id": plan.case_id, "cycle": cycle, "anchor_on": plan.anchor_on,
                        "annual_due_on": plan.annual_due_on, "meeting_by_on": meeting_by, "opened_on": on,
                        "meeting_latest_on": due("review.meeting_latest", plan.anchor_on), "setting": setting,
                        "early_years": early_years, "phase_transfer": kind, "transfer_on": transfer_on,
                        "transfer_due_on": due("review.phase_transfer", transfer_on, {"transfer": kind})
                        if transfer else None})
        rule_id, start, facts = min(_rules(plan.anchor_on, early_years, transfer),
                                    key=lambda r: due(r[0], r[1], r[2] or None))
        steps.append(_new_step(plan, on, due, key=review_key(cycle, ReviewPart.MEETING), kind=StepKind.REVIEW_MEETING,
                               rule_id=rule_id, rule_start=start, role=Role.SENCO, facts=facts or None,
                               organisation=setting, contact_id=senco.get(setting)))
        if transfer:
            post16_move = kind == PhaseTransfer.POST16_MOVE
            steps.append(_new_step(plan, on, due, key=review_key(cycle, ReviewPart.PHASE_TRANSFER),
                                   kind=StepKind.PHASE_TRANSFER, role=LA, rule_start=transfer_on,
                                   rule_id="review.post16_transfer" if post16_move else "review.phase_transfer",
                                   facts=None if post16_move else {"transfer": kind}, organisation=None,
                                   contact_id=None))
        events.append({"case_id": plan.case_id, "actor": actor, "action": f"review {cycle} opened", "on": on,
                       "from_stage": plan.stage, "to_stage": Stage.REVIEW,
                       "detail": {"cycle": cycle, "early_years": early_years, "phase_transfer": kind}})
    for model, rows in ((Review, reviews), (Step, steps), (AuditEvent, events)):
        bulk.insert_all(s, model.__table__, bulk.with_defaults(model, rows))
    c = Case.__table__.c
    for batch in bulk.batches(s, [r["case_id"] for r in reviews]):
        s.execute(sa.update(Case.__table__).where(bulk.among(s, c.id, batch)).values(stage=Stage.REVIEW))
    for plan, _, _ in opening:
        if plan.case_id in by_hand:
            open_review(s, s.get(Case, plan.case_id), on, actor)
    return opened


def _new_step(plan: _Plan, on: dt.date, due: _Dates, *, key: str, kind: str, rule_id: str, rule_start: dt.date,
              role: str, facts: dict | None, **who) -> dict:
    """A cycle's new step as `_put_step` writes it, for a case with no clock exception recorded."""
    deadline = due.of_case(rule_id, rule_start, facts, plan.rule_set)
    start = rule_start if deadline.due >= rule_start else min(on, deadline.due)
    details = {"counted_back_from": rule_start.isoformat()} if start != rule_start else {}
    if facts:
        details["facts"] = facts
    return {"case_id": plan.case_id, "key": key, "kind": kind, "rule_id": rule_id, "source": None, "role": role,
            "started_on": start, "due_on": deadline.due, "target_on": deadline.due,
            "disapplied": due.of_case(rule_id, start, facts, plan.rule_set).disapplied, "details": details, **who}


def _put_step(s: Session, case: Case, *, key: str, kind: str, rule_id: str, rule_start: dt.date, opened_on: dt.date,
              role: str, facts: dict | None = None, **who) -> Step:
    """Create a review step from its rule, or re-date it while open. A limit counted back from a later event
    (invitations: the meeting − 14 days; a phase transfer: before 15 February of the transfer year) starts on
    the day the step is opened, so the watch can remind ahead of it; the event it counts back from is kept in
    `details.counted_back_from`."""
    due = compute_due(s, case, rule_id, rule_start, facts).due
    start = rule_start if due >= rule_start else min(opened_on, due)
    details = {"counted_back_from": rule_start.isoformat()} if start != rule_start else {}
    if facts:
        details["facts"] = facts
    step = find_step(s, case, key)
    if step is None:
        return add_step(s, case, key=key, kind=kind, role=role, start=start, rule_id=rule_id, due=due,
                        details=details, **who)
    if step.status != StepStatus.OPEN:
        return step
    kept = {k: v for k, v in step.details.items() if k not in ("counted_back_from", "facts")}
    step.rule_id, step.started_on, step.due_on, step.target_on = rule_id, start, due, due
    step.details = {**kept, **details}
    s.add(step)
    return step


def _put_meeting_step(s: Session, case: Case, review: Review, on: dt.date) -> Step:
    rule_id, start, facts = min(_meeting_rules(review), key=lambda r: statutory.deadline(r[0], r[1], facts=r[2]).due)
    return _put_step(s, case, key=review_key(review.cycle, ReviewPart.MEETING), kind=StepKind.REVIEW_MEETING,
                     rule_id=rule_id, rule_start=start, opened_on=on, role=Role.SENCO, facts=facts or None,
                     organisation=review.setting, contact_id=_senco_id(s, review))


def _senco_id(s: Session, review: Review) -> int | None:
    """The setting's SENCO on the steps the setting owns, so a chase can go to the right school."""
    return contact_for(s, Role.SENCO, review.setting).id if review.setting else None


def _put_transfer_step(s: Session, case: Case, review: Review, on: dt.date) -> Step:
    post16_move = review.phase_transfer == PhaseTransfer.POST16_MOVE
    return _put_step(s, case, key=review_key(review.cycle, ReviewPart.PHASE_TRANSFER), kind=StepKind.PHASE_TRANSFER,
                     rule_id="review.post16_transfer" if post16_move else "review.phase_transfer",
                     rule_start=review.transfer_on, opened_on=on, role=LA,
                     facts=None if post16_move else {"transfer": review.phase_transfer})


def open_review(s: Session, case: Case, on: dt.date, actor: str, setting: str | None = None) -> Review:
    """Open the plan's next review cycle (idempotent: an open review is returned as it is)."""
    setting = optional(setting, "--setting", NAME_MAX)
    if case.status != CaseStatus.PLAN_IN_FORCE:
        raise InputError("REF", f"{case.reference} has no plan in force")
    existing = [r for r in reviews_of(s, case) if r.status == ReviewStatus.OPEN]
    if existing:
        return existing[-1]
    annual = s.exec(select(Step).where(Step.case_id == case.id, Step.kind == StepKind.ANNUAL_REVIEW,
                                       Step.status == StepStatus.OPEN).order_by(col(Step.id).desc())).first()
    if annual is None:
        raise InputError("REF", f"{case.reference} has no annual review due")
    review = plan_cycle(s, case, annual, on)
    if on < review.anchor_on:
        raise InputError("--on", f"{on} is before the review period starts ({review.anchor_on})")
    review.setting = setting or review.setting
    s.add(review)
    s.flush()
    bulk.kept(s, KEPT_REVIEWS).pop(case.id, None)  # read again with this one (`reviews_by_case`)
    _put_meeting_step(s, case, review, on)
    if review.phase_transfer:
        _put_transfer_step(s, case, review, on)
    move_stage(s, case, Stage.REVIEW, actor, f"review {review.cycle} opened", on, cycle=review.cycle,
               early_years=review.early_years, phase_transfer=review.phase_transfer)
    return review


def record_transfer(s: Session, case: Case, kind: str, transfer_on: dt.date, actor: str,
                    on: dt.date | None = None) -> Review:
    """A phase transfer the engine does not infer (infant to junior, middle school, a post-16 move at
    another time: reg 18(1)-(2)), recorded on the open review."""
    if kind not in tuple(PhaseTransfer):
        raise InputError("--kind", f"must be one of {', '.join(PhaseTransfer)}")
    review = get_review(s, case)
    if review.meeting_held:
        raise InputError("--kind", f"review {review.cycle} has already met; record the transfer on the next one")
    review.phase_transfer, review.transfer_on = kind, transfer_on
    rule_id = "review.post16_transfer" if kind == PhaseTransfer.POST16_MOVE else "review.phase_transfer"
    facts = {} if kind == PhaseTransfer.POST16_MOVE else {"transfer": kind}
    review.transfer_due_on = statutory.deadline(rule_id, transfer_on, facts=facts).due
    review.meeting_by_on = min(statutory.deadline(r, st, facts=f).due for r, st, f in _meeting_rules(review))
    _put_meeting_step(s, case, review, on or review.opened_on)
    _put_transfer_step(s, case, review, on or review.opened_on)
    audit(s, case, actor, f"review {review.cycle}: phase transfer recorded", on=transfer_on, kind=kind,
          due=review.transfer_due_on.isoformat())
    s.add(review)
    return review


# --- the meeting --------------------------------------------------------------------------------------


def _flagged_pfa_advice(case: Case) -> list[str]:
    return [source for source in PFA_SOURCES if source in case.flags]


def _not_met(s: Session, case: Case, meeting_on: dt.date) -> Review:
    """The open review, which has not met yet and whose period has begun by `meeting_on`."""
    review = get_review(s, case)
    if review.meeting_held:
        raise InputError("--on", f"review {review.cycle} has already met on {review.meeting_on}")
    if meeting_on < review.anchor_on:
        raise InputError("--on", f"{meeting_on} is before the review period starts ({review.anchor_on})")
    return review


def _in_period(review: Review, meeting_on: dt.date) -> None:
    """A meeting is fixed inside the review period: within 12 months of the plan or the last review (CFA s44(1))."""
    if meeting_on > review.annual_due_on:
        raise InputError("--on", f"{meeting_on} is after review {review.cycle}'s period ends ({review.annual_due_on})")


def _pfa_required(s: Session, case: Case, meeting_on: dt.date) -> bool:
    child = child_of(s, case)
    return statutory.pfa_required(child.date_of_birth, meeting_on, child.year_group_offset)


def schedule_meeting(s: Session, case: Case, meeting_on: dt.date, actor: str,
                     on: dt.date | None = None, *, held: bool = False) -> list[Notice]:
    """Fix the meeting date: invitations and advice are due 2 weeks before it (reg 20(3)-(4), 21(3)-(4));
    from Year 9 the advice the case flags for preparation for adulthood is sought (reg 21(6)). Returns the
    requests for that advice, one per source still open."""
    review = _not_met(s, case, meeting_on)
    if not held:  # fixed ahead (`ehc review schedule`); a late meeting that was held is still recorded
        _in_period(review, meeting_on)
    review.meeting_on = meeting_on
    review.pfa_required = _pfa_required(s, case, meeting_on)
    wanted = [(part, kind, rule_id, Role.SENCO, None) for part, (kind, rule_id) in PRE_MEETING.items()]
    if review.pfa_required:
        wanted += [(advice_key(src), StepKind.REVIEW_ADVICE, "review.advice_circulated", ADVICE_ROLES[src], src)
                   for src in _flagged_pfa_advice(case)]
    steps = []
    for what, kind, rule_id, role, source in wanted:
        senco = role == Role.SENCO
        steps.append(_put_step(s, case, key=review_key(review.cycle, what), kind=kind, rule_id=rule_id,
                               rule_start=meeting_on, opened_on=on or meeting_on, role=role, source=source,
                               organisation=review.setting if senco else None,
                               contact_id=_senco_id(s, review) if senco else None))
    move_stage(s, case, Stage.REVIEW, actor, f"review {review.cycle}: meeting scheduled", meeting_on,
               cycle=review.cycle)
    review.stage = ReviewStage.MEETING_SCHEDULED
    s.add(review)
    return [Notice(NoticeKind.REVIEW_ADVICE_REQUEST, on or meeting_on, (Recipient(step.role),), case_id=case.id,
                   step_id=step.id, facts={"meeting": meeting_on.isoformat(), "action": "advice for an annual review"})
            for step in steps if step.source and step.status == StepStatus.OPEN]


def record_pre_meeting(s: Session, case: Case, what: str, on: dt.date, actor: str,
                       today: dt.date | None = None) -> Step:
    """Invitations sent, advice circulated, or a piece of preparation-for-adulthood advice received."""
    not_after_today(on, today)
    review = get_review(s, case)
    allowed = [*PRE_MEETING, *(advice_key(src) for src in PFA_SOURCES)]
    if what not in allowed:
        raise InputError("--what", f"must be one of {', '.join(allowed)}")
    if review.meeting_on is None:
        raise InputError("--on", f"review {review.cycle} has no meeting date yet (`ehc review schedule`)")
    if on > review.meeting_on and not review.meeting_held:
        raise InputError("--on", f"{on} is after the meeting ({review.meeting_on})")
    key = review_key(review.cycle, what)
    step = find_step(s, case, key)
    if step is None:  # advice the case did not flag, or flagged after the meeting was fixed
        source = AdviceSource(what.removeprefix(ADVICE_PREFIX)) if what.startswith(ADVICE_PREFIX) else None
        kind = StepKind.REVIEW_ADVICE if source else PRE_MEETING[what][0]
        step = _put_step(s, case, key=key, kind=kind, rule_id="review.advice_circulated",
                         rule_start=review.meeting_on, opened_on=on,
                         role=ADVICE_ROLES[source] if source else Role.SENCO, source=source)
    complete_step(s, step, on, actor, case)
    return step


def send_invitations(s: Session, case: Case, on: dt.date, actor: str, today: dt.date | None = None) -> list[Notice]:
    """The invitations to the review meeting go out (reg 20(3)-(4)): to the family, the setting that convenes it
    (its own SENCO, where the directory has one), the health commissioning body and social care. Recording them
    again, or after the meeting (which recorded them with it), sends nothing."""
    review = get_review(s, case)
    already = find_step(s, case, review_key(review.cycle, ReviewPart.INVITATIONS))
    if already is not None and already.status != StepStatus.OPEN:
        return []
    step = record_pre_meeting(s, case, ReviewPart.INVITATIONS, on, actor, today=today)
    setting = (Recipient(Role.SENCO, contact_id=step.contact_id),) if step.contact_id else ()
    recipients = (Recipient(Role.FAMILY), *setting, Recipient(Role.DCO), Recipient(Role.SOCIAL_CARE))
    return [Notice(NoticeKind.REVIEW_INVITATION, on, recipients, case_id=case.id, step_id=step.id,
                   occasion=str(review.cycle), facts={"meeting_on": review.meeting_on, "cycle": review.cycle})]


def record_meeting(s: Session, case: Case, meeting_on: dt.date, actor: str, today: dt.date | None = None,
                   **pfa: str | None) -> Review:
    """The review meeting is held (reg 20(5)-(6), 21(5)-(6)). In or beyond Year 9 it cannot be completed
    without the four preparation-for-adulthood outcomes and the advice the case flags: InputError, nothing
    written. The report is then due in 2 weeks (reg 20(7)) and the council's decision in 4 (reg 20(10))."""
    unknown = set(pfa) - set(PFA_OUTCOMES)
    if unknown:
        raise ValueError(f"unknown outcome fields {sorted(unknown)}")
    pfa = {name: optional(value, f"--{name.replace('_', '-')}", NOTE_MAX) for name, value in pfa.items()}
    not_after_today(meeting_on, today)
    review = _not_met(s, case, meeting_on)
    pfa_required = _pfa_required(s, case, meeting_on)
    if pfa_required:
        for field_name, words in PFA_OUTCOMES.items():
            if not (pfa.get(field_name) or "").strip():
                raise InputError(f"--{field_name.replace('_', '-')}",
                                 f"a review in Year 9 or beyond must record the preparation-for-adulthood outcome "
                                 f"for {words} (reg 21(6))")
        for source in _flagged_pfa_advice(case):
            step = find_step(s, case, review_advice_key(review.cycle, source))
            if step is None or step.status != StepStatus.DONE:
                raise InputError(f"--advice {source}",
                                 f"a review in Year 9 or beyond needs the {source.replace('_', ' ')} advice the case "
                                 f"flags before the meeting (reg 21(6)); record it with `ehc review advice`")
    if review.meeting_on != meeting_on:
        schedule_meeting(s, case, meeting_on, actor, on=meeting_on, held=True)  # its advice is moot once held
    for part in PRE_MEETING:  # not recorded before: taken as done at the meeting
        complete_step(s, find_step(s, case, review_key(review.cycle, part)), meeting_on, actor, case,
                      note="recorded with the meeting")
    complete_step(s, find_step(s, case, review_key(review.cycle, ReviewPart.MEETING)), meeting_on, actor, case)
    review.meeting_held, review.pfa_required = True, pfa_required
    for field_name in PFA_OUTCOMES:
        setattr(review, field_name, (pfa.get(field_name) or "").strip() or None)
    add_step(s, case, key=review_key(review.cycle, ReviewPart.REPORT), kind=StepKind.REVIEW_REPORT,
             rule_id="review.report", role=Role.SENCO, organisation=review.setting, contact_id=_senco_id(s, review),
             start=meeting_on)
    add_step(s, case, key=review_key(review.cycle, ReviewPart.DECISION), kind=StepKind.REVIEW_DECISION,
             rule_id="review.decision", role=LA, start=meeting_on)
    review.stage = ReviewStage.MEETING_HELD
    move_stage(s, case, Stage.REVIEW, actor, f"review {review.cycle}: meeting held", meeting_on, cycle=review.cycle,
               pfa_required=pfa_required)
    s.add(review)
    return review


def met(s: Session, case: Case) -> Review:
    """The open review, which has met: what the report and the decision need."""
    review = get_review(s, case)
    if not review.meeting_held:
        raise InputError("REF", f"review {review.cycle} of {case.reference} has not met yet (`ehc review meeting`)")
    return review


def record_report(s: Session, case: Case, on: dt.date, actor: str, today: dt.date | None = None) -> Review:
    """The review report is sent to everyone invited (reg 20(7), 21(7))."""
    not_after_today(on, today)
    review = met(s, case)
    complete_step(s, find_step(s, case, review_key(review.cycle, ReviewPart.REPORT)), on, actor, case)
    review.report_on = on
    s.add(review)
    return review
