"""Reviews of a plan in force: the annual review (CFA s44, SEND Regs reg 20-22), preparation for adulthood
from Year 9 (reg 21(6)), phase transfers (reg 18), ceasing a plan (reg 29-31, CFA s45) and transfer to
another council (reg 15).

A `review` row is one cycle of one plan; what is due in it is ordinary `step` rows with keys
`review:<cycle>:<what>`, so the deadline watch chases them like any other step. Every date comes from
`models.statutory`; the anchor after the first cycle is the previous review meeting (spec §7.3).
"""

from __future__ import annotations

import calendar
import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models import statutory
from models.addresses import email_address
from models.cases import Case, Child, Step, utcnow
from models.casework import (
    LA,
    add_step,
    audit,
    cancel_step,
    child_of,
    complete_step,
    compute_due,
    find_step,
    move_stage,
    open_steps,
)
from models.contacts import ADVICE_ROLES, contact_for
from models.errors import InputError

DECISIONS = ("maintain", "amend", "cease")
PFA_OUTCOMES = {  # field → the caseworker's words (reg 21(6); CoP 8.7)
    "pfa_employment": "employment",
    "pfa_independent_living": "independent living",
    "pfa_community": "community participation",
    "pfa_health": "health",
}
PFA_ADVICE = ("adult_social_care", "pfa")  # advice sources (ADVICE_ROLES keys) a case may flag from Year 9
TRANSFER_YEARS = {0: "other", 7: "other", 12: "post16"}  # year group entered on 1 September → reg 18 kind
TRANSFER_KINDS = ("other", "post16", "post16_move")
TERMS = (("autumn", 9, 12), ("spring", 1, 3), ("summer", 4, 8))  # project convention: calendar terms
EARLY_YEARS_AGE = 5


class Review(SQLModel, table=True):
    """One review cycle of one plan: from its anchor (plan issued, then the previous meeting) to the
    council's decision and, where it amends, the amended final plan. Personal data stays in `child`."""

    __table_args__ = (sa.UniqueConstraint("case_id", "cycle", name="uq_review_case_cycle"),
                      sa.Index("ix_review_status_meeting_by", "status", "meeting_by_on"))

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    cycle: int
    status: str = "open"  # open | complete
    stage: str = "opened"  # opened | meeting_scheduled | meeting_held | amendment_proposed | complete
    setting: str | None = None  # the setting that convenes the meeting (its SENCO gets the termly list)
    anchor_on: dt.date
    annual_due_on: dt.date  # review.annual
    meeting_latest_on: dt.date  # review.meeting_latest
    meeting_by_on: dt.date  # the earliest of meeting_latest, early years, phase-transfer meeting
    early_years: bool = False  # under 5 at the anchor: CoP 9.178 advises reviews every 3-6 months
    opened_on: dt.date
    meeting_on: dt.date | None = None  # scheduled, then held
    meeting_held: bool = False
    pfa_required: bool = False
    pfa_employment: str | None = None
    pfa_independent_living: str | None = None
    pfa_community: str | None = None
    pfa_health: str | None = None
    report_on: dt.date | None = None
    decision: str | None = None  # maintain | amend | cease
    decided_on: dt.date | None = None
    amendment_notice_on: dt.date | None = None
    representations_close_on: dt.date | None = None  # amend.representations
    amended_final_due_on: dt.date | None = None  # amend.final
    amended_final_latest_on: dt.date | None = None  # amend.final_latest
    amended_final_on: dt.date | None = None
    phase_transfer: str | None = None  # other | post16 | post16_move
    transfer_on: dt.date | None = None
    transfer_due_on: dt.date | None = None  # review.phase_transfer / review.post16_transfer
    next_setting: str | None = None
    completed_on: dt.date | None = None
    flow_run_id: str | None = None  # the cycle's one `annual-review` run
    version: int = 0  # bumped by every change; the run records what it has seen
    seen_version: int = -1
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))


# --- named queries ---------------------------------------------------------------------------------


def reviews_of(s: Session, case: Case) -> list[Review]:
    return list(s.exec(select(Review).where(Review.case_id == case.id).order_by(Review.cycle)))


def current_review(s: Session, case: Case) -> Review | None:
    """The case's latest review cycle, open or not."""
    return s.exec(select(Review).where(Review.case_id == case.id).order_by(col(Review.cycle).desc())).first()


def get_review(s: Session, case: Case, cycle: int | None = None) -> Review:
    """The given cycle's review, or the current open one; InputError when there is none."""
    query = select(Review).where(Review.case_id == case.id)
    query = query.where(Review.cycle == cycle) if cycle else query.where(Review.status == "open")
    review = s.exec(query.order_by(col(Review.cycle).desc())).first()
    if review is None:
        what = f"review {cycle}" if cycle else "open review"
        raise InputError("REF", f"{case.reference} has no {what} (open one with `ehc review open`)")
    return review


def cycle_steps(s: Session, review: Review) -> list[Step]:
    keys = (f"review.annual:{review.cycle}", f"review:{review.cycle}:%")
    return list(s.exec(select(Step).where(
        Step.case_id == review.case_id,
        sa.or_(Step.key == keys[0], col(Step.key).like(keys[1])),
    ).order_by(Step.id)))


def pending_cycles(s: Session, on: dt.date) -> list[tuple[Case, Review]]:
    """Each plan in force with no open review, and the next cycle it would open on `on` (unsaved): children
    and earlier reviews read in one query each, since the scheduler asks this of every plan daily."""
    rows = s.exec(
        select(Case, Step, Child)
        .join(Step, Step.case_id == Case.id)
        .join(Child, Child.id == Case.child_id)
        .where(Case.status == "plan_in_force", Step.kind == "annual_review", Step.status == "open")
        .order_by(Case.id)
    ).all()
    earlier: dict[int, list[Review]] = {}
    for r in s.exec(select(Review).where(col(Review.case_id).in_({c.id for c, _, _ in rows}))):
        earlier.setdefault(r.case_id, []).append(r)
    return [(case, plan_cycle(s, case, annual, on, child, earlier.get(case.id, [])))
            for case, annual, child in rows
            if not any(r.cycle == annual_cycle(annual) or r.status == "open" for r in earlier.get(case.id, []))]


def open_reviews(s: Session) -> list[tuple[Case, Review]]:
    return list(s.exec(select(Case, Review).join(Review, Review.case_id == Case.id)
                       .where(Review.status == "open").order_by(Case.id)).all())


def reviews_to_advance(s: Session) -> list[tuple[Case, Review]]:
    """Reviews whose store has changed since their run last looked (a review closed with its case included),
    and open reviews that have no run yet."""
    return list(s.exec(select(Case, Review).join(Review, Review.case_id == Case.id).where(sa.or_(
        Review.version != Review.seen_version,
        sa.and_(Review.status == "open", col(Review.flow_run_id).is_(None)),
    )).order_by(Case.id)).all())


def mark_seen(s: Session, review: Review, version: int) -> None:
    review.seen_version = version
    s.add(review)


def reviews_due_in_term(s: Session, on: dt.date) -> dict[str, list[tuple[Case, Review]]]:
    """Open reviews whose meeting falls due in the term containing `on`, by setting."""
    _, start, end = term_of(on)
    by_setting: dict[str, list[tuple[Case, Review]]] = {}
    for case, review in open_reviews(s):
        if start <= review.meeting_by_on <= end:
            by_setting.setdefault(review.setting or "", []).append((case, review))
    return by_setting


def annual_cycle(step: Step) -> int:
    return int(step.key.split(":", 1)[1])


def term_of(on: dt.date) -> tuple[str, dt.date, dt.date]:
    """The school term containing `on` (project convention: autumn Sep-Dec, spring Jan-Mar, summer Apr-Aug),
    as (label, first day, last day)."""
    for name, first, last in TERMS:
        if first <= on.month <= last:
            end = dt.date(on.year, last, calendar.monthrange(on.year, last)[1])
            return f"{on.year}-{name}", dt.date(on.year, first, 1), end
    raise AssertionError(on)


def card(case: Case, review: Review, steps: list[Step]) -> dict:
    """What the caseworker sees of a review outside the store: reference, stage and dates, nothing personal."""
    return {
        "reference": case.reference,
        "cycle": review.cycle,
        "stage": review.stage,
        "status": review.status,
        "early_years": review.early_years,
        "pfa_required": review.pfa_required,
        "phase_transfer": review.phase_transfer,
        "dates": {
            "anchor": review.anchor_on, "meeting_by": review.meeting_by_on, "meeting": review.meeting_on,
            "annual_due": review.annual_due_on, "transfer_due": review.transfer_due_on,
            "representations_close": review.representations_close_on,
            "amended_final_due": review.amended_final_due_on,
            "amended_final_latest": review.amended_final_latest_on,
        },
        "steps": [{"key": st.key, "rule": st.rule_id, "role": st.role, "due": st.due_on, "status": st.status,
                   "completed_on": st.completed_on} for st in steps],
    }


# --- a plan in force and the opening of its reviews ------------------------------------------------


def put_plan_in_force(s: Session, case: Case, issued_on: dt.date, actor: str, setting: str | None = None) -> Step:
    """The final plan is issued (reg 13(2)): the plan is in force and its first annual review falls due
    within 12 months (CFA s44(1)). Returns the `review.annual:1` step; a second call changes nothing."""
    if case.status != "plan_in_force":
        case.status, case.plan_issued_on = "plan_in_force", issued_on
        move_stage(s, case, "plan_in_force", actor, "plan in force", issued_on)
    return add_step(s, case, key="review.annual:1", kind="annual_review", rule_id="review.annual", role=LA,
                    start=issued_on, details={"setting": setting} if setting else None)


def _transfer_in(dob: dt.date, offset: int, anchor: dt.date, annual_due: dt.date,
                 settled: set[dt.date]) -> tuple[str, dt.date] | None:
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
        due = statutory.deadline("review.phase_transfer", transfer_on, facts={"transfer": kind}).due
        if anchor < due <= annual_due:
            return kind, transfer_on
    return None


def _meeting_rules(review: Review) -> list[tuple[str, dt.date, dict]]:
    rules = [("review.meeting_latest", review.anchor_on, {})]
    if review.early_years:
        rules.append(("review.early_years", review.anchor_on, {}))
    if review.phase_transfer in ("other", "post16"):
        rules.append(("review.phase_transfer_meeting_latest", review.transfer_on, {"transfer": review.phase_transfer}))
    return rules


def plan_cycle(s: Session, case: Case, annual: Step, on: dt.date, child: Child | None = None,
               earlier: list[Review] | None = None) -> Review:
    """The review a cycle would open as, unsaved: anchor, dates, early-years and phase-transfer flags."""
    child = child or child_of(s, case)
    earlier = reviews_of(s, case) if earlier is None else earlier
    anchor = annual.started_on
    review = Review(case_id=case.id, cycle=annual_cycle(annual), anchor_on=anchor, annual_due_on=annual.due_on,
                    meeting_latest_on=statutory.deadline("review.meeting_latest", anchor).due,
                    meeting_by_on=annual.due_on, opened_on=on, setting=annual.details.get("setting"),
                    early_years=statutory.age_on(child.date_of_birth, anchor) < EARLY_YEARS_AGE)
    settled = {r.transfer_on for r in earlier if r.transfer_on}
    transfer = _transfer_in(child.date_of_birth, child.year_group_offset, anchor, annual.due_on, settled)
    if transfer:
        review.phase_transfer, review.transfer_on = transfer
        review.transfer_due_on = statutory.deadline("review.phase_transfer", review.transfer_on,
                                                    facts={"transfer": review.phase_transfer}).due
    review.meeting_by_on = min(statutory.deadline(r, start, facts=f).due for r, start, f in _meeting_rules(review))
    return review


def opens_on(review: Review) -> dt.date:
    """A review opens a term ahead: on the first day of the term before the one its meeting falls due in, so
    the setting has a term's notice (or from its anchor, if that is later)."""
    term_start = term_of(review.meeting_by_on)[1]
    return max(review.anchor_on, term_of(term_start - dt.timedelta(days=1))[1])


def falls_due(review: Review, on: dt.date) -> bool:
    return on >= opens_on(review)


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
        step = add_step(s, case, key=key, kind=kind, role=role, start=start, due=due, **who)
    elif step.status != "open":
        return step
    kept = {k: v for k, v in step.details.items() if k not in ("counted_back_from", "facts")}
    step.rule_id, step.started_on, step.due_on, step.target_on = rule_id, start, due, due
    step.details = {**kept, **details}
    s.add(step)
    return step


def _put_meeting_step(s: Session, case: Case, review: Review, on: dt.date) -> Step:
    rule_id, start, facts = min(_meeting_rules(review), key=lambda r: statutory.deadline(r[0], r[1], facts=r[2]).due)
    return _put_step(s, case, key=f"review:{review.cycle}:meeting", kind="review_meeting", rule_id=rule_id,
                     rule_start=start, opened_on=on, role="senco", facts=facts or None, organisation=review.setting,
                     contact_id=_senco_id(s, review))


def _senco_id(s: Session, review: Review) -> int | None:
    """The setting's SENCO on the steps the setting owns, so a chase can go to the right school."""
    return contact_for(s, "senco", review.setting).id if review.setting else None


def _put_transfer_step(s: Session, case: Case, review: Review, on: dt.date) -> Step:
    post16_move = review.phase_transfer == "post16_move"
    return _put_step(s, case, key=f"review:{review.cycle}:phase_transfer", kind="phase_transfer",
                     rule_id="review.post16_transfer" if post16_move else "review.phase_transfer",
                     rule_start=review.transfer_on, opened_on=on, role=LA,
                     facts=None if post16_move else {"transfer": review.phase_transfer})


def _changed(s: Session, review: Review) -> None:
    review.version += 1
    s.add(review)


def open_review(s: Session, case: Case, on: dt.date, actor: str, setting: str | None = None) -> Review:
    """Open the plan's next review cycle (idempotent: an open review is returned as it is)."""
    if case.status != "plan_in_force":
        raise InputError("REF", f"{case.reference} has no plan in force")
    existing = s.exec(select(Review).where(Review.case_id == case.id, Review.status == "open")).first()
    if existing is not None:
        return existing
    annual = s.exec(select(Step).where(Step.case_id == case.id, Step.kind == "annual_review",
                                       Step.status == "open").order_by(col(Step.id).desc())).first()
    if annual is None:
        raise InputError("REF", f"{case.reference} has no annual review due")
    review = plan_cycle(s, case, annual, on)
    if on < review.anchor_on:
        raise InputError("--on", f"{on} is before the review period starts ({review.anchor_on})")
    review.setting = setting or review.setting
    s.add(review)
    s.flush()
    _put_meeting_step(s, case, review, on)
    if review.phase_transfer:
        _put_transfer_step(s, case, review, on)
    move_stage(s, case, "review", actor, f"review {review.cycle} opened", on, cycle=review.cycle,
               early_years=review.early_years, phase_transfer=review.phase_transfer)
    _changed(s, review)
    return review


def record_transfer(s: Session, case: Case, kind: str, transfer_on: dt.date, actor: str,
                    on: dt.date | None = None) -> Review:
    """A phase transfer the engine does not infer (infant to junior, middle school, a post-16 move at
    another time: reg 18(1)-(2)), recorded on the open review."""
    if kind not in TRANSFER_KINDS:
        raise InputError("--kind", f"must be one of {', '.join(TRANSFER_KINDS)}")
    review = get_review(s, case)
    if review.meeting_held:
        raise InputError("--kind", f"review {review.cycle} has already met; record the transfer on the next one")
    review.phase_transfer, review.transfer_on = kind, transfer_on
    rule_id = "review.post16_transfer" if kind == "post16_move" else "review.phase_transfer"
    facts = {} if kind == "post16_move" else {"transfer": kind}
    review.transfer_due_on = statutory.deadline(rule_id, transfer_on, facts=facts).due
    review.meeting_by_on = min(statutory.deadline(r, st, facts=f).due for r, st, f in _meeting_rules(review))
    _put_meeting_step(s, case, review, on or review.opened_on)
    _put_transfer_step(s, case, review, on or review.opened_on)
    audit(s, case, actor, f"review {review.cycle}: phase transfer recorded", on=transfer_on, kind=kind,
          due=review.transfer_due_on.isoformat())
    _changed(s, review)
    return review


# --- the meeting --------------------------------------------------------------------------------------


def _flagged_pfa_advice(case: Case) -> list[str]:
    return [source for source in PFA_ADVICE if source in case.flags]


def _not_met(s: Session, case: Case, meeting_on: dt.date) -> Review:
    """The open review, which has not met yet and whose period has begun by `meeting_on`."""
    review = get_review(s, case)
    if review.meeting_held:
        raise InputError("--on", f"review {review.cycle} has already met on {review.meeting_on}")
    if meeting_on < review.anchor_on:
        raise InputError("--on", f"{meeting_on} is before the review period starts ({review.anchor_on})")
    return review


def _pfa_required(s: Session, case: Case, meeting_on: dt.date) -> bool:
    child = child_of(s, case)
    return statutory.pfa_required(child.date_of_birth, meeting_on, child.year_group_offset)


def schedule_meeting(s: Session, case: Case, meeting_on: dt.date, actor: str, on: dt.date | None = None) -> Review:
    """Fix the meeting date: invitations and advice are due 2 weeks before it (reg 20(3)-(4), 21(3)-(4));
    from Year 9 the advice the case flags for preparation for adulthood is sought (reg 21(6))."""
    review = _not_met(s, case, meeting_on)
    review.meeting_on = meeting_on
    review.pfa_required = _pfa_required(s, case, meeting_on)
    wanted = [("invitations", "review.invitations", "senco", None),
              ("advice_circulated", "review.advice_circulated", "senco", None)]
    if review.pfa_required:
        wanted += [(f"advice:{src}", "review.advice_circulated", ADVICE_ROLES[src], src)
                   for src in _flagged_pfa_advice(case)]
    for what, rule_id, role, source in wanted:
        senco = role == "senco"
        _put_step(s, case, key=f"review:{review.cycle}:{what}", kind=f"review_{what.split(':')[0]}", rule_id=rule_id,
                  rule_start=meeting_on, opened_on=on or meeting_on, role=role, source=source,
                  organisation=review.setting if senco else None, contact_id=_senco_id(s, review) if senco else None)
    move_stage(s, case, "review", actor, f"review {review.cycle}: meeting scheduled", meeting_on, cycle=review.cycle)
    review.stage = "meeting_scheduled"
    _changed(s, review)
    return review


def record_pre_meeting(s: Session, case: Case, what: str, on: dt.date, actor: str) -> Step:
    """Invitations sent, advice circulated, or a piece of preparation-for-adulthood advice received."""
    review = get_review(s, case)
    allowed = ["invitations", "advice_circulated"] + [f"advice:{src}" for src in PFA_ADVICE]
    if what not in allowed:
        raise InputError("--what", f"must be one of {', '.join(allowed)}")
    if review.meeting_on is None:
        raise InputError("--on", f"review {review.cycle} has no meeting date yet (`ehc review schedule`)")
    if on > review.meeting_on and not review.meeting_held:
        raise InputError("--on", f"{on} is after the meeting ({review.meeting_on})")
    key = f"review:{review.cycle}:{what}"
    step = find_step(s, case, key)
    if step is None:  # advice the case did not flag, or flagged after the meeting was fixed
        source = what.split(":", 1)[1] if what.startswith("advice:") else None
        step = _put_step(s, case, key=key, kind=f"review_{what.split(':')[0]}", rule_id="review.advice_circulated",
                         rule_start=review.meeting_on, opened_on=on, role=ADVICE_ROLES[source] if source else "senco",
                         source=source)
    complete_step(s, step, on, actor, case)
    _changed(s, review)
    return step


def record_meeting(s: Session, case: Case, meeting_on: dt.date, actor: str, **pfa: str | None) -> Review:
    """The review meeting is held (reg 20(5)-(6), 21(5)-(6)). In or beyond Year 9 it cannot be completed
    without the four preparation-for-adulthood outcomes and the advice the case flags: InputError, nothing
    written. The report is then due in 2 weeks (reg 20(7)) and the council's decision in 4 (reg 20(10))."""
    unknown = set(pfa) - set(PFA_OUTCOMES)
    if unknown:
        raise ValueError(f"unknown outcome fields {sorted(unknown)}")
    review = _not_met(s, case, meeting_on)
    pfa_required = _pfa_required(s, case, meeting_on)
    if pfa_required:
        for field_name, words in PFA_OUTCOMES.items():
            if not (pfa.get(field_name) or "").strip():
                raise InputError(f"--{field_name.replace('_', '-')}",
                                 f"a review in Year 9 or beyond must record the preparation-for-adulthood outcome "
                                 f"for {words} (reg 21(6))")
        for source in _flagged_pfa_advice(case):
            step = find_step(s, case, f"review:{review.cycle}:advice:{source}")
            if step is None or step.status != "done":
                raise InputError(f"--advice {source}",
                                 f"a review in Year 9 or beyond needs the {source.replace('_', ' ')} advice the case "
                                 f"flags before the meeting (reg 21(6)); record it with `ehc review advice`")
    if review.meeting_on != meeting_on:
        schedule_meeting(s, case, meeting_on, actor, on=meeting_on)
    for what in ("invitations", "advice_circulated"):  # not recorded before: taken as done at the meeting
        complete_step(s, find_step(s, case, f"review:{review.cycle}:{what}"), meeting_on, actor, case,
                   note="recorded with the meeting")
    complete_step(s, find_step(s, case, f"review:{review.cycle}:meeting"), meeting_on, actor, case)
    review.meeting_held, review.pfa_required = True, pfa_required
    for field_name in PFA_OUTCOMES:
        setattr(review, field_name, (pfa.get(field_name) or "").strip() or None)
    add_step(s, case, key=f"review:{review.cycle}:report", kind="review_report", rule_id="review.report",
             role="senco", organisation=review.setting, contact_id=_senco_id(s, review), start=meeting_on)
    add_step(s, case, key=f"review:{review.cycle}:decision", kind="review_decision", rule_id="review.decision",
             role=LA, start=meeting_on)
    review.stage = "meeting_held"
    move_stage(s, case, "review", actor, f"review {review.cycle}: meeting held", meeting_on, cycle=review.cycle,
               pfa_required=pfa_required)
    _changed(s, review)
    return review


def record_report(s: Session, case: Case, on: dt.date, actor: str) -> Review:
    """The review report is sent to everyone invited (reg 20(7), 21(7))."""
    review = _met(s, case)
    complete_step(s, find_step(s, case, f"review:{review.cycle}:report"), on, actor, case)
    review.report_on = on
    _changed(s, review)
    return review


def _met(s: Session, case: Case) -> Review:
    review = get_review(s, case)
    if not review.meeting_held:
        raise InputError("REF", f"review {review.cycle} of {case.reference} has not met yet (`ehc review meeting`)")
    return review


# --- the decision and the amendment path --------------------------------------------------------


def _next_cycle(s: Session, case: Case, review: Review) -> Step:
    """The next period of 12 months starts with this review's meeting (spec §7.3)."""
    return add_step(s, case, key=f"review.annual:{review.cycle + 1}", kind="annual_review", rule_id="review.annual",
                    role=LA, start=review.meeting_on,
                    details={"setting": review.next_setting or review.setting} if review.setting else None)


def _finish(s: Session, case: Case, review: Review, on: dt.date, actor: str, next_setting: str | None) -> None:
    transfer = find_step(s, case, f"review:{review.cycle}:phase_transfer")
    if transfer is not None and transfer.status == "open":
        if not (next_setting or "").strip():
            raise InputError("--next-setting", "a phase-transfer review must name the next setting (reg 18(1))")
        complete_step(s, transfer, on, actor, case, next_setting=next_setting.strip())
    if next_setting:
        review.next_setting = next_setting.strip()
        following = find_step(s, case, f"review.annual:{review.cycle + 1}")
        if following is not None:  # the amended plan names the setting the next review is held at
            following.details = {**following.details, "setting": review.next_setting}
            s.add(following)
    review.status, review.stage, review.completed_on = "complete", "complete", on


def decide(s: Session, case: Case, decision: str, on: dt.date, actor: str, *, notice_on: dt.date | None = None,
           next_setting: str | None = None) -> Review:
    """The council notifies its decision to maintain, amend or cease the plan (reg 20(10); R (L) v Devon CC).
    Amend: the proposed amendments go with it (notice date N) and the amended final plan is due 8 weeks
    after N (reg 22(3)). Cease: the ceasing notice starts (reg 31, CFA s45)."""
    if decision not in DECISIONS:
        raise InputError("--decision", f"must be one of {', '.join(DECISIONS)}")
    review = _met(s, case)
    if review.decision:
        raise InputError("--decision", f"review {review.cycle} was already decided ({review.decision})")
    if on < review.meeting_on:
        raise InputError("--on", f"{on} is before the review meeting ({review.meeting_on})")
    notice_on = notice_on or on
    if decision == "amend" and notice_on < on:
        raise InputError("--notice-on", "the amendment notice cannot precede the decision")
    if decision == "maintain":
        _finish(s, case, review, on, actor, next_setting)
    complete_step(s, find_step(s, case, f"review:{review.cycle}:decision"), on, actor, case, decision=decision)
    complete_step(s, find_step(s, case, f"review.annual:{review.cycle}"), on, actor, case, decision=decision)
    review.decision, review.decided_on = decision, on
    if decision == "amend":
        review.amendment_notice_on = notice_on
        review.representations_close_on = statutory.deadline("amend.representations", notice_on).due
        review.amended_final_due_on = statutory.deadline("amend.final", notice_on).due
        review.amended_final_latest_on = statutory.deadline("amend.final_latest", review.meeting_on).due
        add_step(s, case, key=f"review:{review.cycle}:amended_final", kind="amended_plan", rule_id="amend.final",
                 role=LA, start=notice_on)
        review.stage = "amendment_proposed"
    if decision != "cease":
        _next_cycle(s, case, review)
    move_stage(s, case, "plan_in_force" if decision == "maintain" else "review", actor,
               f"review {review.cycle}: decision to {decision}", on, cycle=review.cycle, decision=decision)
    if decision == "cease":
        review.status, review.stage, review.completed_on = "complete", "complete", on
        begin_cease(s, case, on, actor, reason="no longer necessary (annual review)")
    _changed(s, review)
    return review


def issue_amended_plan(s: Session, case: Case, on: dt.date, actor: str, next_setting: str | None = None) -> Review:
    """The amended final plan is sent (reg 22(3)), not before the 15 days for representations have run
    (reg 22(2)(c)); for a phase transfer it names the next setting (reg 18)."""
    review = s.exec(select(Review).where(Review.case_id == case.id, Review.stage == "amendment_proposed")).first()
    if review is None:
        raise InputError("REF", f"{case.reference} has no amendment in progress")
    if on <= review.representations_close_on:
        raise InputError("--on", f"representations on the proposed amendments run until "
                                 f"{review.representations_close_on} (reg 22(2)(c))")
    _finish(s, case, review, on, actor, next_setting)
    complete_step(s, find_step(s, case, f"review:{review.cycle}:amended_final"), on, actor, case)
    review.amended_final_on = on
    move_stage(s, case, "plan_in_force", actor, f"review {review.cycle}: amended plan issued", on, cycle=review.cycle)
    _changed(s, review)
    return review


# --- ceasing a plan and transfer to another council ----------------------------------------------


def _cancel_open_steps(s: Session, case: Case, on: dt.date, actor: str, why: str) -> None:
    for step in open_steps(s, case):
        cancel_step(s, step, actor, why)
    for review in s.exec(select(Review).where(Review.case_id == case.id, Review.status == "open")):
        review.status, review.stage, review.completed_on = "complete", "closed", on
        _changed(s, review)


def _close(s: Session, case: Case, on: dt.date, actor: str, reason: str) -> None:
    _cancel_open_steps(s, case, on, actor, reason)
    case.status, case.closed_on, case.closed_reason = "closed", on, reason
    move_stage(s, case, "closed", actor, reason, on)


def begin_cease(s: Session, case: Case, on: dt.date, actor: str, reason: str) -> Step:
    """The council notifies its decision to cease the plan (reg 29-31). The plan stays in force until the
    appeal window closes or an appeal ends (CFA s45); step `plan.cease` falls due when the window closes."""
    if case.status != "plan_in_force":
        raise InputError("REF", f"{case.reference} has no plan in force")
    if on < case.plan_issued_on:
        raise InputError("--on", f"{on} is before the plan was issued ({case.plan_issued_on})")
    if find_step(s, case, "plan.cease") is not None:
        raise InputError("REF", f"{case.reference} already has a decision to cease")
    step = add_step(s, case, key="plan.cease", kind="cease", rule_id="appeal.register", role=LA, start=on,
                    details={"reason": reason,
                             "mediation_contact_by": statutory.deadline("mediation.contact", on).due.isoformat()})
    move_stage(s, case, "ceasing", actor, "decision to cease the plan notified", on, reason=reason)
    return step


def cease_plan(s: Session, case: Case, on: dt.date, actor: str, appeal_concluded: bool = False) -> Case:
    """The plan ceases: after the appeal window closes with no appeal, or once an appeal has ended
    (CFA s45(3)). The case closes."""
    step = find_step(s, case, "plan.cease")
    if step is None or step.status != "open":
        raise InputError("REF", f"{case.reference} has no decision to cease (`ehc plan cease`)")
    if on <= step.due_on and not appeal_concluded:
        raise InputError("--on", f"the plan stays in force until the appeal window closes on {step.due_on} "
                                 "(CFA s45); give --appeal-concluded if an appeal has ended")
    complete_step(s, step, on, actor, case, appeal_concluded=appeal_concluded)
    _close(s, case, on, actor, "plan ceased")
    return case


def begin_transfer_out(s: Session, case: Case, *, aware_on: dt.date, move_on: dt.date, to_council: str,
                       to_email: str, actor: str) -> Step:
    """The family moves to another council's area: the plan must be sent to it on the move date, or within
    15 working days of our becoming aware (reg 15(2))."""
    if case.status != "plan_in_force":
        raise InputError("REF", f"{case.reference} has no plan in force")
    if not to_council.strip():
        raise InputError("--to-council", "must not be empty")
    to_email = email_address(to_email, "--to-email")
    step = add_step(s, case, key="transfer.send_plan", kind="transfer_out", rule_id="transfer.send_plan", role=LA,
                    start=aware_on, facts={"move_date": move_on.isoformat()},
                    details={"to_council": to_council.strip(), "to_email": to_email})
    move_stage(s, case, "transferring_out", actor, "transfer to another council", aware_on,
               to_council=to_council.strip(), move_on=move_on.isoformat())
    return step


def plan_transferred(s: Session, case: Case, on: dt.date, actor: str) -> dict:
    """The plan is sent to the new council (reg 15(2)); it becomes theirs, and our case closes. Returns the
    new council's limits: tell the family within 6 weeks (reg 15(4)); review by the later of 12 months from
    the last review and 3 months from the transfer (reg 15(5))."""
    step = find_step(s, case, "transfer.send_plan")
    if step is None or step.status != "open":
        raise InputError("REF", f"{case.reference} has no transfer in progress (`ehc plan transfer-out`)")
    last = max([r.meeting_on for r in s.exec(select(Review).where(Review.case_id == case.id, Review.meeting_held))]
               + [case.plan_issued_on])
    limits = {
        "new_la_notify_by": statutory.deadline("transfer.new_la_notify", on).due.isoformat(),
        "new_la_review_by": statutory.deadline("transfer.review", on, facts={"last_review": last.isoformat()})
        .due.isoformat(),
    }
    complete_step(s, step, on, actor, case, **limits)
    _close(s, case, on, actor, f"transferred to {step.details['to_council']}")
    return limits
