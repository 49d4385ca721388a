"""Named queries and changes on the case store: opening a case, its steps and deadlines, exceptions, audit.

Every deadline written here comes from `models.statutory`; every change writes the audit log.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from models import bulk, people, statutory
from models.cases import AuditEvent, Case, Child, ClockException, Step, name_key
from models.errors import InputError
from models.escalation import open_escalations, resolve_step_escalations
from models.review import Review, reviews_by_case
from models.settings import settings
from models.text import NAME_MAX, NOTE_MAX, clean
from models.vocabulary import (
    CASE_FLAGS,
    CaseStatus,
    ClosedReason,
    PersonRole,
    Requester,
    ReviewStage,
    ReviewStatus,
    Role,
    Stage,
    StepKey,
    StepKind,
    StepStatus,
)

REQUESTERS = tuple(Requester)
REFERENCE = re.compile(r"^EHC-\d{4}-\d{5}$")
MAX_AGE = 25
LA = Role.LA  # the council's own steps
# the unique indexes on child and case, as PostgreSQL and SQLite name them when a race breaks one
ONE_CHILD_ONE_CASE = ("uq_child_name_key_dob", "child.name_key", "uq_case_open_child", "case.child_id")


def audit(
    s: Session,
    case: Case | None,
    actor: str,
    action: str,
    *,
    on: dt.date | None = None,
    from_stage: str | None = None,
    to_stage: str | None = None,
    **detail,
) -> AuditEvent:
    event = AuditEvent(
        case_id=case.id if case else None,
        actor=actor,
        action=action,
        on=on,
        from_stage=from_stage,
        to_stage=to_stage,
        detail=detail,
    )
    s.add(event)
    return event


def move_stage(s: Session, case: Case, to_stage: str, actor: str, action: str, on: dt.date, **detail) -> None:
    """Change a case's stage, recording the transition in the audit log."""
    audit(s, case, actor, action, on=on, from_stage=case.stage, to_stage=to_stage, **detail)
    case.stage = to_stage
    s.add(case)


def get_case(s: Session, reference: str) -> Case:
    cases = bulk.kept(s, "case")
    case = cases.get(reference)
    if case is not None and case in s:
        return case
    if not REFERENCE.match(reference):
        raise InputError("REF", f"{reference!r} is not a case reference of the form EHC-YYYY-NNNNN")
    case = s.exec(select(Case).where(Case.reference == reference)).first()
    if case is None:
        raise InputError("REF", f"no case {reference}")
    cases[reference] = case
    return case


def next_reference(s: Session, year: int) -> str:
    prefix = f"EHC-{year}-"
    last = s.exec(select(func.max(Case.reference)).where(col(Case.reference).startswith(prefix))).one()
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:05d}"


def _insert_case(s: Session, case: Case) -> Case:
    """Give the case the next reference of its request year, concurrent openings taking turns: on PostgreSQL a
    transaction-scoped advisory lock; on SQLite the write lock, taken by a write that changes nothing before the
    read (a returning child's opening has written nothing yet, and reads alone take no lock)."""
    if s.get_bind().dialect.name == "postgresql":
        s.exec(text("SELECT pg_advisory_xact_lock(7201421)"))
    else:
        s.exec(text('UPDATE "case" SET reference = reference WHERE 0'))
    case.reference = next_reference(s, case.requested_on.year)
    s.add(case)
    s.flush()
    return case


def _refuse_second_open_case(s: Session, child: Child) -> None:
    open_ref = s.exec(select(Case.reference).where(Case.child_id == child.id, Case.status != CaseStatus.CLOSED)).first()
    if open_ref:
        raise InputError("--child-name", f"this child already has an open case ({open_ref})")


def _known_child(s: Session, child_name: str, dob: dt.date) -> Child | None:
    """The child of this name (as a caseworker compares names) and date of birth, if known; InputError if they
    have an open case."""
    child = s.exec(select(Child).where(Child.name_key == name_key(child_name), Child.date_of_birth == dob)).first()
    if child is not None:
        _refuse_second_open_case(s, child)
    return child


def open_case(
    s: Session,
    *,
    child_name: str,
    dob: dt.date,
    requested_on: dt.date,
    requester: str,
    today: dt.date,
    actor: str,
    flags: Iterable[str] = (),
    parent: dict | None = None,
) -> Case:
    """Register a request for an EHC needs assessment (CFA s36): its 6-week clock (reg 5(1)) and its 20 weeks
    (reg 13(2)) start. `parent` (name, email, address, postcode) records the parent with the request, and the
    case goes to the default team (`EHC_DEFAULT_CASEWORKER`) until a caseworker is assigned."""
    if parent:
        try:
            parent = people.check_fields({"role": PersonRole.PARENT, **parent})
        except InputError as bad:  # named as the option was given: --parent-email
            raise InputError(bad.field.replace("--", "--parent-", 1), bad.rule) from None
    child_name = clean(child_name, "--child-name", NAME_MAX)
    if requester not in REQUESTERS:
        raise InputError("--requester", f"must be one of {', '.join(REQUESTERS)}")
    flags = sorted({clean(flag, "--flag", NAME_MAX) for flag in flags})
    unknown = [flag for flag in flags if flag not in CASE_FLAGS]
    if unknown:  # an unknown flag would be stored and its advice never sought
        raise InputError("--flag", f"unknown flag {unknown[0][:40]!r} (one of {', '.join(CASE_FLAGS)})")
    if dob > today:
        raise InputError("--dob", "must not be in the future")
    if requested_on > today:
        raise InputError("--requested-on", "must not be in the future")
    if requested_on < dob:
        raise InputError("--requested-on", "must not be before the date of birth")
    if statutory.age_on(dob, requested_on) >= MAX_AGE:
        raise InputError("--dob", "the young person must be under 25 on the request date (CFA s83(2))")
    child = _known_child(s, child_name, dob)
    try:  # the unique indexes decide a race: a second opening at the same moment is refused, not a second case
        if child is None:
            child = Child(name=child_name.strip(), date_of_birth=dob)
            s.add(child)
            s.flush()
        case = _insert_case(s, Case(
            reference="",
            child_id=child.id,
            rule_set=statutory.RULE_SET,
            requested_on=requested_on,
            requester=requester,
            flags=flags,
            stage=Stage.REQUEST,
            caseworker_email=settings().default_caseworker,
        ))
    except IntegrityError as exc:
        if not any(name in str(exc.orig) for name in ONE_CHILD_ONE_CASE):
            raise
        raise InputError("--child-name", "this child already has an open case (opened at the same moment)") from None
    audit(s, case, actor, "request registered", on=requested_on, from_stage=None, to_stage=Stage.REQUEST,
          requester=requester)
    if parent:
        people.add_person(s, case, actor, **parent)
    add_step(s, case, key=StepKey.ASSESS_DECISION, kind=StepKind.DECISION_TO_ASSESS, rule_id="assess.decision",
             role=LA, start=requested_on)
    add_step(s, case, key=StepKey.PLAN_FINAL, kind=StepKind.FINAL_PLAN, rule_id="plan.final", role=LA,
             start=requested_on)  # the 20 weeks run, and are watched, from the request (reg 13(2))
    move_stage(s, case, Stage.DECISION_TO_ASSESS, actor, "decision to assess due", requested_on)
    return case


def case_exceptions(s: Session, case: Case) -> list[ClockException]:
    """The case's clock exceptions, read once a session (`bulk.kept`; `add_exception` forgets them) without
    flushing first: an exception is flushed when recorded and never deleted, so nothing pending changes them."""
    by_case = bulk.kept(s, "exceptions")
    records = by_case.get(case.id)
    if records is None or not all(r in s for r in records):
        with s.no_autoflush:
            records = by_case[case.id] = list(s.exec(select(ClockException).where(ClockException.case_id == case.id)
                                                     .order_by(ClockException.id)))
    return list(records)


def _engine_exceptions(records: Iterable[ClockException], rule_id: str, rule_set: str) -> tuple[list, dict]:
    """The case's recorded exceptions that the law allows for `rule_id` (its kinds, and an absence only as long
    as the limit asks: `statutory.admits`), and their facts."""
    # each closure keeps the day the head was asked for that closure, however many closures the case has
    chosen = [(r, statutory.ClockException(r.kind, r.start_on, r.end_on, _head_advice_requested(r))) for r in records]
    chosen = [(r, exc) for r, exc in chosen if statutory.admits(rule_id, exc, rule_set)]
    facts: dict[str, str] = {}
    for r, _ in chosen:
        facts.update(r.facts)
    return [exc for _, exc in chosen], facts


def _head_advice_requested(record: ClockException) -> dt.date | None:
    asked = record.facts.get("head_advice_requested")
    return statutory.parse_date(asked, "head_advice_requested") if asked else None


def compute_due(s: Session, case: Case, rule_id: str, start: dt.date, facts: dict | None = None,
                step: Step | None = None) -> statutory.Deadline:
    """The statutory date for one of the case's steps, with the case's applicable exceptions."""
    records = [r for r in case_exceptions(s, case) if r.step_id in (None, step.id if step else None)]
    exceptions, exc_facts = _engine_exceptions(records, rule_id, case.rule_set)
    return statutory.case_deadline(rule_id, start, exceptions, {**exc_facts, **(facts or {})}, rule_set=case.rule_set)


def add_step(
    s: Session,
    case: Case,
    *,
    key: str,
    kind: str,
    role: str,
    start: dt.date,
    rule_id: str | None = None,
    due: dt.date | None = None,
    source: str | None = None,
    organisation: str | None = None,
    contact_id: int | None = None,
    facts: dict | None = None,
    details: dict | None = None,
) -> Step:
    """Create a step once: a second call with the same key returns the existing step unchanged. Its date is the
    rule's from `start`, or `due` where given (a local target, or a rule's limit counted back from a later event)."""
    existing = find_step(s, case, key)
    if existing is not None:
        return existing
    if rule_id is None and due is None:
        raise ValueError("a step needs a statutory rule or an explicit due date")
    step = Step(case_id=case.id, key=key, kind=kind, rule_id=rule_id, source=source, role=role,
                organisation=organisation, contact_id=contact_id, started_on=start, due_on=due or start,
                details={**(details or {}), **({"facts": facts} if facts else {})})
    if due is None:
        d = compute_due(s, case, rule_id, start, facts)
        step.due_on, step.target_on, step.disapplied = d.due, d.target, d.disapplied
    else:
        step.target_on = step.due_on
    s.add(step)
    s.flush()
    bulk.kept(s, "steps")[case.id][key] = step  # the case's steps, read by `find_step` above
    return step


def find_step(s: Session, case: Case, key: str) -> Step | None:
    """The case's step `key`, or None: the case's steps read once a session (`bulk.kept`), every one by key."""
    by_case = bulk.kept(s, "steps")
    steps = by_case.get(case.id)
    if steps is None or not all(step in s for step in steps.values()):
        steps = by_case[case.id] = {step.key: step for step in s.exec(select(Step).where(Step.case_id == case.id))}
    return steps.get(key)


def read_cases(s: Session, references: Iterable[str]) -> None:
    """Read the cases and what an act on each reads (its child, steps, reviews, people, clock exceptions and
    open escalations) in one query each, kept for the session as `get_case`, `find_step`, `reviews_of`,
    `people_of`, `case_exceptions` and `open_escalations` keep what they read (the children so that
    `child_of` finds them in the session): many acts in one session, a simulated day's, read each case once."""
    cases = bulk.kept(s, "case")
    read: list[Case] = []
    for batch in bulk.batches(s, sorted({r for r in references if r not in cases or cases[r] not in s})):
        read += s.exec(select(Case).where(bulk.among(s, col(Case.reference), batch)))
    children, steps, exceptions = bulk.kept(s, "child"), bulk.kept(s, "steps"), bulk.kept(s, "exceptions")
    for case in read:
        cases[case.reference], steps[case.id], exceptions[case.id] = case, {}, []
    for batch in bulk.batches(s, [case.child_id for case in read]):
        children.update((child.id, child) for child in s.exec(select(Child).where(bulk.among(s, col(Child.id), batch))))
    ids = [case.id for case in read]
    for batch in bulk.batches(s, ids):
        for step in s.exec(select(Step).where(bulk.among(s, col(Step.case_id), batch))):
            steps[step.case_id][step.key] = step
        for record in s.exec(select(ClockException).where(bulk.among(s, col(ClockException.case_id), batch))
                             .order_by(ClockException.id)):
            exceptions[record.case_id].append(record)
    reviews_by_case(s, ids)
    people.people_of(s, ids)
    open_escalations(s, ids)


def open_steps(s: Session, case: Case) -> list[Step]:
    return list(s.exec(select(Step).where(Step.case_id == case.id, Step.status == StepStatus.OPEN).order_by(Step.id)))


def case_steps(s: Session, case: Case) -> list[Step]:
    return list(s.exec(select(Step).where(Step.case_id == case.id).order_by(Step.id)))


def rule_start(step: Step) -> dt.date:
    """The day the step's statutory clock runs from: its start, or for a limit counted back from a later event
    (review invitations: the meeting − 14 days) that event, kept in `details.counted_back_from`."""
    counted_back_from = step.details.get("counted_back_from")
    return dt.date.fromisoformat(counted_back_from) if counted_back_from else step.started_on


def recompute_deadlines(s: Session, case: Case) -> None:
    """Re-apply the case's exceptions to every open step with a statutory rule."""
    for step in open_steps(s, case):
        if step.rule_id:
            d = compute_due(s, case, step.rule_id, rule_start(step), step.details.get("facts"), step)
            step.due_on, step.target_on, step.disapplied = d.due, d.target, d.disapplied
            s.add(step)


def add_exception(
    s: Session,
    case: Case,
    *,
    kind: str,
    start: dt.date,
    end: dt.date,
    actor: str,
    evidence_note: str | None = None,
    facts: dict | None = None,
    step_key: str | None = None,
) -> ClockException:
    """Record a clock exception (spec §3) and re-apply it to the case's open steps it bears on.

    The kind must be one the law allows for at least one open step (e.g. `missed_appointment` only for
    advice, reg 8(2)(c)), and the period one at least one of them admits (`statutory.admits`: an absence of
    2 to 4 weeks sets aside a Tribunal order's limits, §2.6, and not the 20 weeks); it is applied to those
    only, and checked by the engine against each."""
    steps = open_steps(s, case)
    if step_key is not None:
        steps = [st for st in steps if st.key == step_key]
        if not steps:
            raise InputError("--step", f"no open step {step_key!r} on {case.reference}")
    if kind not in statutory.EXCEPTION_KINDS:
        raise InputError("KIND", f"unknown exception kind {kind!r} (one of {', '.join(statutory.EXCEPTION_KINDS)})")
    eligible = [st for st in steps if st.rule_id and kind in statutory.case_exception_kinds(st.rule_id, case.rule_set)]
    if not eligible:
        raise InputError("KIND", f"{kind} applies to none of the open limits of {case.reference}")
    period = statutory.ClockException(kind, start, end)
    targets = [st for st in eligible if statutory.admits(st.rule_id, period, case.rule_set)]
    if not targets:  # the period is too short (or back to front) for each: the engine says why, for the laxest
        laxest = min(eligible, key=lambda st: statutory.rule(st.rule_id, case.rule_set).min_absence_days)
        statutory.case_deadline(laxest.rule_id, rule_start(laxest), [period],
                                {**(laxest.details.get("facts") or {}), **(facts or {})}, rule_set=case.rule_set)
    evidence_note = "" if evidence_note is None else clean(evidence_note, "--note", NOTE_MAX)
    _known_facts(targets, kind, facts or {}, case.rule_set)
    record = ClockException(case_id=case.id, step_id=targets[0].id if step_key else None, kind=kind,
                            start_on=start, end_on=end, evidence_note=evidence_note, facts=facts or {},
                            recorded_by=actor)
    applied = [  # validates period, length and facts; raises before anything is written
        statutory.case_deadline(st.rule_id, rule_start(st), [statutory.ClockException(kind, start, end)],
                                {**(st.details.get("facts") or {}), **(facts or {})}, rule_set=case.rule_set)
        for st in targets]
    if not any(d.disapplied for d in applied):
        raise InputError("FROM", f"{start} … {end} sets aside none of the open limits of {case.reference}: it falls "
                                 "outside their clocks (or is too short inside them)")
    s.add(record)
    s.flush()
    bulk.kept(s, "exceptions").pop(case.id, None)
    recompute_deadlines(s, case)
    audit(s, case, actor, "clock exception recorded", on=start, kind=kind, start=start.isoformat(),
          end=end.isoformat(), regulation=statutory.EXCEPTION_REGULATIONS[kind])
    return record


def _known_facts(targets: list[Step], kind: str, facts: dict, rule_set: str) -> None:
    """A fact no target limit takes is refused: a misspelt one would be ignored and give a wrong date (§6)."""
    rules = [statutory.rule(st.rule_id, rule_set) for st in targets]
    known = {name for r in rules for name in (*r.facts, *r.optional_facts)}
    known |= {"head_advice_requested"} if kind == statutory.CLOSURE else set()
    unknown = sorted(set(facts) - known)
    if unknown:
        name = unknown[0] if len(unknown[0]) <= 40 else f"{unknown[0][:40]}…"
        raise InputError("--fact", f"no open limit this {kind} applies to takes the fact {name!r} "
                                   f"(they take: {', '.join(sorted(known)) or 'none'})")


def open_step(s: Session, case: Case, key: str, field: str = "REF") -> Step:
    """The open step an event completes; an event for a stage that is not open is an input error."""
    step = find_step(s, case, key)
    if step is None or step.status != StepStatus.OPEN:
        state = "is already done" if step is not None else "is not open"
        raise InputError(field, f"{key} {state} on {case.reference} (stage {case.stage}, status {case.status})")
    return step


def not_in_future(on: dt.date, today: dt.date, field: str = "--on") -> None:
    """An act is dated when it happened: never after today."""
    if on > today:
        raise InputError(field, f"{on} is in the future")


def not_before(on: dt.date, earlier: dt.date | None, what: str, field: str = "--on") -> None:
    if earlier is not None and on < earlier:
        raise InputError(field, f"{on} is before {what} ({earlier})")


def complete_step(s: Session, step: Step, on: dt.date, actor: str, case: Case, **details) -> Step:
    """Mark a step done on a date; a step already done or cancelled is left as it is. An act counted back from
    a later event (review invitations) may be done before its step was opened; any other not before its start."""
    if step.status != StepStatus.OPEN:
        return step
    if on < step.started_on and "counted_back_from" not in step.details:
        raise InputError("--on", f"{on} is before {step.key} started ({step.started_on})")
    step.status, step.completed_on = StepStatus.DONE, on
    step.details = {**step.details, **details}
    s.add(step)
    resolve_step_escalations(s, step, actor)
    audit(s, case, actor, f"{step.key} done", on=on, step=step.key, late=on > step.due_on)
    return step


def cancel_step(s: Session, step: Step, actor: str, why: str, **details) -> Step:
    """Cancel an open step that no longer applies (the case closed, a consultation went unanswered); its
    escalation is resolved with it. A step already done or cancelled is left as it is."""
    if step.status != StepStatus.OPEN:
        return step
    step.status, step.details = StepStatus.CANCELLED, {**step.details, "cancelled": why, **details}
    s.add(step)
    resolve_step_escalations(s, step, actor)
    return step


def close_case(s: Session, case: Case, on: dt.date, actor: str, reason: ClosedReason, why: str, **detail) -> None:
    """The one way a case closes: every open step is cancelled (its escalation resolved with it), the case is
    closed with its reason, and the audit records why. Closing a closed case changes nothing."""
    if case.status == CaseStatus.CLOSED:
        return
    for step in open_steps(s, case):
        cancel_step(s, step, actor, f"case closed: {why}")
    for review in s.exec(select(Review).where(Review.case_id == case.id, Review.status == ReviewStatus.OPEN)):
        review.status, review.stage, review.completed_on = ReviewStatus.COMPLETE, ReviewStage.CLOSED, on
        s.add(review)
    case.status, case.closed_on, case.closed_reason = CaseStatus.CLOSED, on, reason
    move_stage(s, case, Stage.CLOSED, actor, f"case closed: {why}", on, reason=reason, **detail)


def child_of(s: Session, case: Case) -> Child:
    return s.get(Child, case.child_id)


def audit_log(s: Session, case: Case) -> list[AuditEvent]:
    return list(s.exec(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id)))
