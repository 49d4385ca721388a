"""`ehc import sen2`: an SEN2 return into the case store.

Each `<Person>` is a child; each of its `<Requests>` a case at the stage the return shows, with its statutory
dates from `models.statutory`. Persons are checked first (the XSD, then the engine's own rules); a bad person is
reported, fault by fault, and nothing of them is written; the good ones are written. New persons whose cases are
closed or whose plans are in force go in set-based (one multi-row INSERT per table); those with a request in flight
are inserted the same way, then brought to their stage by the acts, in a savepoint; a person the store already
holds whose record the file changes is updated in a savepoint of their own. A person the store holds unchanged
(same digest) is passed over, so a second import changes nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, select

from models import bulk, statutory
from models.assessment import decide_to_assess
from models.cases import AuditEvent, Case, Child, Step, utcnow
from models.casework import LA, MAX_AGE, add_step, close_case, complete_step, move_stage
from models.errors import InputError
from models.review import Review
from models.sen2 import message
from models.sen2.message import Code, Fault, Person
from models.sen2.tables import Placement, Sen2Person, Sen2Request, Sen2Return
from models.vocabulary import (
    CaseKind,
    CaseStatus,
    ClosedReason,
    Requester,
    ReviewStatus,
    Stage,
    StepKey,
    StepKind,
    StepStatus,
    annual_review_cycle,
    annual_review_key,
)

IMPORTED = "imported from SEN2"
REVIEW_ANNUAL = "review.annual"  # CFA s44(1): a review within 12 months of the plan, then of the last review
PERSON_KEYS = tuple(key for _, key, _ in message.PERSON if key not in ("birth_date",))
REQUEST_COLUMNS = tuple(key for _, key, _ in message.SCALARS) + ("has_assessment", "has_named_plan",
                                                                "has_active_plans", "sen_needs")


class Outcome:
    """What a `<Requests>` is in the store: how SEN2's RequestOutcome/AssessmentOutcome and plan map."""

    AWAITING_DECISION = "awaiting decision to assess"  # RequestOutcome A
    ASSESSING = "assessing"  # Y (or H) with no assessment outcome, A, or Y without a plan yet
    REFUSED = "not to assess"  # N
    NOT_ISSUED = "not to issue"  # Assessment N
    WITHDRAWN = "withdrawn"  # W
    IN_FORCE = "plan in force"  # NamedPlan or ActivePlans, no CeaseDate
    CEASED = "plan ceased"  # NamedPlan with CeaseDate


IN_FLIGHT = (Outcome.AWAITING_DECISION, Outcome.ASSESSING)
CLOSED = {Outcome.REFUSED: ClosedReason.NOT_TO_ASSESS, Outcome.NOT_ISSUED: ClosedReason.NOT_TO_ISSUE,
          Outcome.WITHDRAWN: ClosedReason.WITHDRAWN, Outcome.CEASED: ClosedReason.PLAN_CEASED}


@dataclass
class Result:
    persons: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    cases: dict = field(default_factory=lambda: defaultdict(int))  # outcome → cases written
    faults: list[Fault] = field(default_factory=list)


def person_key(fields: dict) -> str:
    """The person's identity across returns: UPN, else ULN, else a digest of name and date of birth."""
    if fields.get("upn"):
        return f"upn:{fields['upn'].upper()}"
    if fields.get("uln"):
        return f"uln:{fields['uln']}"
    who = "|".join((fields["surname"].strip().lower(), fields["forename"].strip().lower(), str(fields["birth_date"])))
    return "name:" + hashlib.sha256(who.encode()).hexdigest()[:32]


def digest(person: Person) -> str:
    return hashlib.sha256(json.dumps([person.fields, person.requests], default=str, sort_keys=True).encode()
                          ).hexdigest()


def request_key(rec: dict, seq: int) -> str:
    for key in ("received_on", "start_on"):
        if rec[key]:
            return f"{key}:{rec[key].isoformat()}"
    return f"seq:{seq}"


def outcome(rec: dict) -> str | tuple[str, str]:
    """The request's outcome, or (element, rule) when the return leaves it undecidable."""
    ro, ao = rec["request_outcome"], rec["assessment_outcome"]
    if rec["has_named_plan"] or rec["has_active_plans"]:
        if ro in (Code.NO, Code.WITHDRAWN) or ao in (Code.NO, Code.WITHDRAWN):
            return "RequestOutcome", "a request refused or withdrawn cannot have a plan"
        if rec["cease_on"]:
            return Outcome.CEASED if not rec["has_active_plans"] else ("CeaseDate",
                                                                       "a ceased plan cannot be in ActivePlans")
        return Outcome.IN_FORCE
    if ro == Code.AWAITING:
        return Outcome.AWAITING_DECISION
    if ro == Code.NO:
        return Outcome.REFUSED
    if Code.WITHDRAWN in (ro, ao):
        return Outcome.WITHDRAWN
    if ao == Code.NO:
        return Outcome.NOT_ISSUED
    if Code.HISTORICAL in (ro, ao):
        return "NamedPlan", "a historical request or assessment needs its NamedPlan or ActivePlans"
    return Outcome.ASSESSING


def closed_on(rec: dict, out: str) -> dt.date | None:
    if out == Outcome.CEASED:
        return rec["cease_on"]
    if out == Outcome.NOT_ISSUED:
        return rec["assessment_outcome_on"]
    return rec["assessment_outcome_on"] or rec["request_outcome_on"] if out in CLOSED else None


def requested_on(rec: dict) -> dt.date | None:
    return rec["received_on"] or rec["start_on"] or rec["last_review_on"] or rec["request_outcome_on"]


def anchor(rec: dict) -> tuple[int, dt.date]:
    """The plan's current review cycle and its anchor: the last review meeting (cycle 2 from it) or the plan's
    start (cycle 1). CFA s44(1); the cycle after a meeting starts with it (spec §7.3)."""
    if rec["last_review_on"]:
        return 2, rec["last_review_on"]
    return 1, rec["start_on"]


ORDER = (("request_outcome_on", "received_on", "RequestOutcomeDate", "ReceivedDate"),
         ("assessment_outcome_on", "request_outcome_on", "AssessmentOutcomeDate", "RequestOutcomeDate"),
         ("cease_on", "start_on", "CeaseDate", "StartDate"), ("last_review_on", "start_on", "LastReview", "StartDate"))


def check(person: Person, today: dt.date) -> list[Fault]:
    """The engine's own rules over one person (the XSD has no cross-field rules): dates in order and not in the
    future, an outcome the store can hold, the dates it needs."""
    faults: list[Fault] = []

    def fault(seq: int, element: str, rule: str) -> None:
        faults.append(Fault(person.label, person.element_path(seq, element), rule))

    dob = person.fields["birth_date"]
    if dob > today:
        faults.append(Fault(person.label, f"{person.path}/PersonBirthDate", "must not be in the future"))
    keys = set()
    for seq, rec in enumerate(person.requests, start=1):
        out = outcome(rec)
        if isinstance(out, tuple):
            fault(seq, out[0], out[1])
            continue
        for key, element in (("received_on", "ReceivedDate"), ("request_outcome_on", "RequestOutcomeDate"),
                             ("assessment_outcome_on", "AssessmentOutcomeDate"), ("start_on", "StartDate"),
                             ("cease_on", "CeaseDate"), ("last_review_on", "LastReview"),
                             ("review_meeting_on", "ReviewMeeting")):
            if rec[key] and rec[key] > today:
                fault(seq, element, "must not be in the future")
            if rec[key] and rec[key] < dob:
                fault(seq, element, "must not be before the date of birth")
        for later, earlier, element, what in ORDER:
            if rec[later] and rec[earlier] and rec[later] < rec[earlier]:
                fault(seq, element, f"must not be before {what}")
        if bool(rec["cease_on"]) != bool(rec["cease_reason"]):
            fault(seq, "CeaseReason" if rec["cease_on"] else "CeaseDate", "CeaseDate and CeaseReason go together")
        if requested_on(rec) is None:
            fault(seq, "ReceivedDate", "needed: nothing else dates the request")
        if out in CLOSED and closed_on(rec, out) is None:
            element = "AssessmentOutcomeDate" if out == Outcome.NOT_ISSUED else "RequestOutcomeDate"
            fault(seq, element, f"needed for a request closed as {out}")
        if out == Outcome.IN_FORCE and not (rec["start_on"] or rec["last_review_on"]):
            fault(seq, "LastReview", "needed without a NamedPlan StartDate: nothing else dates the next review")
        if out in IN_FLIGHT:
            if not rec["received_on"]:
                fault(seq, "ReceivedDate", f"needed for a request {out}")
            elif statutory.age_on(dob, rec["received_on"]) >= MAX_AGE:
                fault(seq, "ReceivedDate", "the young person must be under 25 (CFA s83(2))")
            if out == Outcome.ASSESSING and not rec["request_outcome_on"]:
                fault(seq, "RequestOutcomeDate", "needed for a decision to assess")
        key = request_key(rec, seq)
        if key in keys:
            fault(seq, "ReceivedDate", "two Requests of this person with the same date")
        keys.add(key)
    return faults


@functools.lru_cache(maxsize=4096)
def _annual(start: dt.date) -> statutory.Deadline:
    return statutory.case_deadline(REVIEW_ANNUAL, start, rule_set=statutory.RULE_SET)


def _references(s: Session, years: list[int]) -> list[str]:
    """The next references of each request year, in order (EHC-YYYY-NNNNN). On PostgreSQL the same advisory
    lock as a case opened by hand (models.casework), so the two never hand out one number twice."""
    if s.get_bind().dialect.name == "postgresql":
        s.exec(sa.text("SELECT pg_advisory_xact_lock(7201421)"))
    c = Case.__table__.c
    last = {}
    for year in set(years):
        top = s.execute(sa.select(sa.func.max(c.reference)).where(c.reference.startswith(f"EHC-{year}-"))).scalar()
        last[year] = int(top.rsplit("-", 1)[1]) if top else 0
    refs = []
    for year in years:
        last[year] += 1
        refs.append(f"EHC-{year}-{last[year]:05d}")
    return refs


def _insert(s: Session, table, rows: list[dict], returning: bool = False) -> list[int]:
    if not rows:
        return []
    s.info.pop(bulk.READ, None)  # past the ORM: what the session kept of the rows it read may be incomplete
    if returning:
        stmt = sa.insert(table.__table__).returning(table.__table__.c.id, sort_by_parameter_order=True)
        return list(s.execute(stmt, rows).scalars())
    s.execute(sa.insert(table.__table__), rows)
    return []


def child_name(fields: dict) -> str:
    """`child.name` of an SEN2 person: "Forename Surname"."""
    return f"{fields['forename'].strip()} {fields['surname'].strip()}".strip()


def _person_row(person: Person) -> dict:
    return {key: person.fields[key] for key in PERSON_KEYS}


def _request_row(rec: dict) -> dict:
    return {key: rec[key] for key in REQUEST_COLUMNS}


def _placement_rows(case_id: int, rec: dict) -> list[dict]:
    return [{"case_id": case_id, **{k: p[k] for k in message.PLACEMENT_KEYS}, "part": p["part"]}
            for p in rec["placements"]]


def write_new(s: Session, persons: list[Person], actor: str, known: dict[str, tuple[int, int]] | None = None
              ) -> tuple[list[tuple[int, dict, str, Person]], list[str]]:
    """Write persons (and their requests) set-based: one INSERT per table. `known` maps a person key the store
    already holds to (child id, sen2_person id): only the given requests are added. Returns the in-flight
    cases as (case id, record, outcome, person), for the acts to bring to their stage, and every case's outcome."""
    now = utcnow()
    known = known or {}
    fresh = [p for p in persons if person_key(p.fields) not in known]
    c = Child.__table__.c
    wanted = {(child_name(p.fields), p.fields["birth_date"]) for p in fresh}
    existing = {(name, dob): cid for cid, name, dob in s.execute(sa.select(c.id, c.name, c.date_of_birth))
                if (name, dob) in wanted}  # a child the engine already has, as `open_case` finds them
    unborn = list(dict.fromkeys(w for w in ((child_name(p.fields), p.fields["birth_date"]) for p in fresh)
                                if w not in existing))
    new_ids = _insert(s, Child, [{"name": name, "date_of_birth": dob, "year_group_offset": 0, "created_at": now}
                                 for name, dob in unborn], returning=True)
    existing.update(zip(unborn, new_ids, strict=True))
    child_ids = [existing[(child_name(p.fields), p.fields["birth_date"])] for p in fresh]
    sen2_ids = _insert(s, Sen2Person, [{"person_key": person_key(p.fields), "child_id": cid, "digest": digest(p),
                                        **_person_row(p)} for p, cid in zip(fresh, child_ids, strict=True)],
                       returning=True)
    ids = {**known, **{person_key(p.fields): (cid, sid) for p, cid, sid in zip(fresh, child_ids, sen2_ids,
                                                                                strict=True)}}
    items = []  # (child id, sen2 id, seq, record, outcome, person)
    for p in persons:
        cid, sid = ids[person_key(p.fields)]
        items += [(cid, sid, seq, rec, outcome(rec), p) for seq, rec in enumerate(p.requests, start=1)]
    refs = _references(s, [requested_on(rec).year for *_, rec, _, _ in items])
    case_rows = []
    for (cid, _, _, rec, out, _), ref in zip(items, refs, strict=True):
        status, stage = (CaseStatus.OPEN, Stage.REQUEST) if out in IN_FLIGHT else \
            (CaseStatus.PLAN_IN_FORCE, Stage.PLAN_IN_FORCE) if out == Outcome.IN_FORCE else \
            (CaseStatus.CLOSED, Stage.CLOSED)
        case_rows.append({"reference": ref, "child_id": cid, "kind": CaseKind.NEEDS_ASSESSMENT, "stage": stage,
                          "status": status, "rule_set": statutory.RULE_SET, "requested_on": requested_on(rec),
                          "requester": Requester.OTHER, "flags": [], "plan_issued_on": rec["start_on"],
                          "closed_on": closed_on(rec, out), "closed_reason": CLOSED.get(out), "created_at": now})
    case_ids = _insert(s, Case, case_rows, returning=True)
    steps, audits, requests, placements, in_flight = [], [], [], [], []
    for (_, sid, seq, rec, out, person), case_id, row in zip(items, case_ids, case_rows, strict=True):
        audits.append({"case_id": case_id, "at": now, "on": row["requested_on"], "actor": actor, "action": IMPORTED,
                       "from_stage": None, "to_stage": row["stage"], "detail": {"outcome": out}})
        requests.append({"case_id": case_id, "sen2_person_id": sid, "request_key": request_key(rec, seq), "seq": seq,
                         **_request_row(rec)})
        placements += _placement_rows(case_id, rec)
        if out == Outcome.IN_FORCE:
            steps.append(_annual_row(case_id, *anchor(rec), now))
        elif out in IN_FLIGHT:
            in_flight.append((case_id, rec, out, person))
    for table, rows in ((Step, steps), (AuditEvent, audits), (Sen2Request, requests), (Placement, placements)):
        _insert(s, table, rows)
    return in_flight, [item[4] for item in items]


def _annual_row(case_id: int, cycle: int, start: dt.date, now: dt.datetime) -> dict:
    d = _annual(start)
    return {"case_id": case_id, "key": annual_review_key(cycle), "kind": StepKind.ANNUAL_REVIEW,
            "rule_id": REVIEW_ANNUAL, "role": LA, "started_on": start, "due_on": d.due, "target_on": d.target,
            "disapplied": d.disapplied, "status": StepStatus.OPEN, "details": {}, "created_at": now}


def bring_to_stage(s: Session, case_id: int, rec: dict, out: str, today: dt.date, actor: str) -> None:
    """An in-flight request at its stage, through the acts: the decision to assess and the 20 weeks due from the
    request (reg 5(1), 13(2)); where the council has decided to assess, that decision, which asks for advice
    (reg 6(1)). The acts' notices are not sent: the council's old system sent them."""
    case = s.get(Case, case_id)
    add_step(s, case, key=StepKey.ASSESS_DECISION, kind=StepKind.DECISION_TO_ASSESS, rule_id="assess.decision",
             role=LA, start=case.requested_on)
    add_step(s, case, key=StepKey.PLAN_FINAL, kind=StepKind.FINAL_PLAN, rule_id="plan.final", role=LA,
             start=case.requested_on)
    move_stage(s, case, Stage.DECISION_TO_ASSESS, actor, "decision to assess due", case.requested_on)
    if out == Outcome.ASSESSING:
        decide_to_assess(s, case.reference, True, rec["request_outcome_on"], today, actor)


def update_person(s: Session, person: Person, sen2: Sen2Person, actor: str
                  ) -> tuple[list[tuple[int, dict, str, Person]], list[str]]:
    """A person the store holds, changed by this file: their details, each request's SEN2 fields and placements;
    a plan in force takes a later LastReview (its next cycle from it) and a CeaseDate (the case closes). The
    engine's own state of a case in flight is kept: the file does not move its stage."""
    child = s.get(Child, sen2.child_id)
    child.name = child_name(person.fields)
    child.date_of_birth = person.fields["birth_date"]
    s.add(child)
    for key, value in _person_row(person).items():
        setattr(sen2, key, value)
    sen2.digest = digest(person)
    s.add(sen2)
    held = {r.request_key: r for r in s.exec(select(Sen2Request).where(Sen2Request.sen2_person_id == sen2.id))}
    added = Person(person.index, person.fields)
    for seq, rec in enumerate(person.requests, start=1):
        row = held.get(request_key(rec, seq))
        if row is None:
            added.requests.append(rec)
            continue
        for key, value in _request_row(rec).items():
            setattr(row, key, value)
        row.seq = seq
        s.add(row)
        s.execute(sa.delete(Placement.__table__).where(Placement.__table__.c.case_id == row.case_id))
        _insert(s, Placement, _placement_rows(row.case_id, rec))
        _apply(s, s.get(Case, row.case_id), rec, actor)
    if not added.requests:
        return [], []
    return write_new(s, [added], actor, {person_key(person.fields): (sen2.child_id, sen2.id)})


def _apply(s: Session, case: Case, rec: dict, actor: str) -> None:
    if case.status != CaseStatus.PLAN_IN_FORCE:
        return
    if rec["cease_on"]:
        close_case(s, case, rec["cease_on"], actor, ClosedReason.PLAN_CEASED, "plan ceased (SEN2 return)",
                   cease_reason=rec["cease_reason"])
        return
    annual = s.exec(select(Step).where(Step.case_id == case.id, Step.kind == StepKind.ANNUAL_REVIEW,
                                       Step.status == StepStatus.OPEN)).first()
    reviewing = s.exec(select(Review.id).where(Review.case_id == case.id, Review.status == ReviewStatus.OPEN)).first()
    last = rec["last_review_on"]
    if annual is not None and reviewing is None and last and last > annual.started_on:
        complete_step(s, annual, last, actor, case, source="SEN2 LastReview")
        add_step(s, case, key=annual_review_key(annual_review_cycle(annual.key) + 1), kind=StepKind.ANNUAL_REVIEW,
                 rule_id=REVIEW_ANNUAL, role=LA, start=last)


def import_return(s: Session, data: bytes, today: dt.date, actor: str, dry_run: bool = False) -> Result:
    """Read, check and write one SEN2 return (see the module's docstring); `dry_run` checks and counts only."""
    header, persons, faults = message.read(data)
    result = Result(persons=len(persons), faults=list(faults))
    if header is None:
        return result
    bad = {f.person for f in faults}
    held = {p.person_key: p for p in s.exec(select(Sen2Person))}
    seen: set[str] = set()
    new, changed = [], []
    for person in persons:
        if person.label in bad:
            continue
        own = check(person, today)
        key = person_key(person.fields)
        if key in seen:
            own.append(Fault(person.label, person.path,
                             "the same person (UPN, ULN or name and date of birth) as an earlier Person"))
        seen.add(key)
        if own:
            result.faults += own
            continue
        if key not in held:
            new.append(person)
        elif held[key].digest == digest(person):
            result.unchanged += 1
        else:
            changed.append(person)
    if dry_run:
        result.new, result.updated = len(new), len(changed)
        return _sorted(result)
    quick = [p for p in new if not any(outcome(r) in IN_FLIGHT for r in p.requests)]
    _, written = write_new(s, quick, actor)
    _count(result, written)
    flying = [p for p in new if any(outcome(r) in IN_FLIGHT for r in p.requests)]
    result.new = len(quick) + _write_in_flight(s, flying, today, actor, result)
    for person in changed:
        try:
            with s.begin_nested():
                in_flight, written = update_person(s, person, held[person_key(person.fields)], actor)
                for case_id, rec, out, _ in in_flight:
                    bring_to_stage(s, case_id, rec, out, today, actor)
        except InputError as exc:
            result.faults.append(Fault(person.label, person.path, exc.rule))
            continue
        _count(result, written)
        result.updated += 1
    _record_header(s, header, len(persons))
    return _sorted(result)


def _sorted(result: Result) -> Result:
    """Faults in file order: by person, then element."""
    result.faults.sort(key=lambda f: (int(f.person.split("[")[1].rstrip("]")) if "[" in f.person else 0, f.path))
    return result


def _write_in_flight(s: Session, persons: list[Person], today: dt.date, actor: str, result: Result) -> int:
    """New persons with a request in flight: written set-based, then each case brought to its stage by the acts,
    all in one savepoint. Should an act refuse a case, the savepoint is undone, that person reported, and the
    rest written again without them: nothing of a refused person stays."""
    pending = list(persons)
    while pending:
        failed = None
        try:
            with s.begin_nested():
                in_flight, written = write_new(s, pending, actor)
                for case_id, rec, out, person in in_flight:
                    failed = person
                    bring_to_stage(s, case_id, rec, out, today, actor)
        except InputError as exc:
            if failed is None:  # not an act's refusal of one person: the whole import stops
                raise
            result.faults.append(Fault(failed.label, failed.path, exc.rule))
            pending.remove(failed)
            continue
        _count(result, written)
        break
    return len(pending)


def _count(result: Result, outcomes: list[str]) -> None:
    for out in outcomes:
        result.cases[out] += 1


def _record_header(s: Session, header: message.Header, persons: int) -> None:
    """The file's header, once: the same header imported again adds nothing."""
    same = select(Sen2Return.id).where(Sen2Return.year == header.year, Sen2Return.lea == header.lea,
                                       Sen2Return.reference_date == header.reference_date,
                                       Sen2Return.dmo == header.dmo, Sen2Return.dco == header.dco)
    if s.exec(same).first() is None:
        s.add(Sen2Return(year=header.year, reference_date=header.reference_date, lea=header.lea, dmo=header.dmo,
                         dco=header.dco, software_code=header.software_code, release=header.release, persons=persons,
                         imported_at=utcnow()))
