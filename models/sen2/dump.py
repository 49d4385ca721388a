"""`ehc export sen2`: the SEN2 return written from the case store.

Cases the SEN2 import brought in: what the store's own tables hold is written from them (the request date, the
decision to assess, the plan's start, its cease date, the last review as the anchor of the plan's open review
cycle); the rest of each record from `sen2_request`, `sen2_person` and `placement`. Cases opened in the engine:
their request, decision to assess and decision to issue from their steps, the person as `child` holds them (sex
U, ethnicity NOBT: not obtained), a plan of theirs with the setting it names (`_engine_plan`; one naming none is
left out and counted). One query per table (Core rows, no ORM objects), none per person.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from types import SimpleNamespace

import sqlalchemy as sa
from sqlmodel import Session, select

from models.assessment import DECISIONS
from models.cases import Case, Child, Step
from models.errors import InputError
from models.sen2 import message
from models.sen2.load import PERSON_KEYS, REQUEST_COLUMNS
from models.sen2.message import Code, Part
from models.sen2.tables import Placement, Sen2Person, Sen2Request, Sen2Return
from models.vocabulary import CaseStatus, ClosedReason, StepKey, StepKind, StepStatus, annual_review_cycle

THURSDAY = 3
CASE_COLUMNS = ("id", "child_id", "status", "requested_on", "plan_issued_on", "closed_on", "closed_reason")


def reference_date(year: int) -> dt.date:
    """SEN2's census day: the third Thursday of January of the collection year (18 January 2024)."""
    first = dt.date(year, 1, 1)
    return first + dt.timedelta(days=(THURSDAY - first.weekday()) % 7 + 14)


def _header(s: Session, year: int, lea: str | None) -> message.Header:
    last = s.exec(select(Sen2Return).order_by(Sen2Return.id.desc())).first()
    same_year = s.exec(select(Sen2Return).where(Sen2Return.year == year).order_by(Sen2Return.id.desc())).first()
    if lea is None and last is None:
        raise InputError("--lea", "no SEN2 return imported yet: give the council's 3-digit LA code")
    ref = same_year.reference_date if same_year and same_year.reference_date else reference_date(year)
    return message.Header(year, ref, lea or last.lea, last.dmo if last else "N", last.dco if last else "N",
                          last.software_code if last else None, last.release if last else None)


def export_return(s: Session, year: int, lea: str | None = None) -> tuple[bytes, int, int]:
    """The return for collection year `year`: every case requested by its census day that is open, has a plan
    in force, or closed from 1 January of the year before. Returns (XML, persons, engine plans left out)."""
    header = _header(s, year, lea)
    since = dt.date(year - 1, 1, 1)
    in_return = sa.and_(Case.requested_on <= header.reference_date,
                        sa.or_(Case.status != CaseStatus.CLOSED, Case.closed_on >= since))
    r, c, p = Sen2Request.__table__.c, Case.__table__.c, Sen2Person.__table__.c
    rows = s.execute(
        sa.select(*(r[k] for k in REQUEST_COLUMNS), *(p[k] for k in PERSON_KEYS), Child.__table__.c.date_of_birth,
                  *(c[k].label(f"case_{k}") for k in CASE_COLUMNS))
        .join_from(Sen2Request.__table__, Case.__table__, c.id == r.case_id)
        .join(Sen2Person.__table__, p.id == r.sen2_person_id)
        .join(Child.__table__, Child.__table__.c.id == p.child_id)
        .where(in_return)
        .order_by(p.id, r.seq)
    ).mappings().all()
    native = s.exec(
        select(Case, Child, Sen2Person)
        .join(Child, Child.id == Case.child_id)
        .outerjoin(Sen2Person, Sen2Person.child_id == Child.id)
        .where(in_return, ~sa.exists().where(Sen2Request.case_id == Case.id))
        .order_by(Case.id)
    ).all()
    placements: dict[int, list[dict]] = defaultdict(list)
    for p in s.execute(sa.select(Placement.__table__)).mappings():
        placements[p["case_id"]].append({k: p[k] for k in message.PLACEMENT_KEYS} | {"part": p["part"]})
    steps: dict[int, dict[str, SimpleNamespace]] = defaultdict(dict)
    st = Step.__table__.c
    wanted = sa.or_(st.key.in_((StepKey.ASSESS_DECISION, StepKey.PLAN_DECISION, StepKey.PLAN_FINAL)),
                    sa.and_(st.kind == StepKind.ANNUAL_REVIEW, st.status == StepStatus.OPEN))
    columns = (st.case_id, st.key, st.kind, st.status, st.started_on, st.completed_on, st.disapplied, st.details)
    for step in s.execute(sa.select(*columns).where(wanted)).mappings():
        steps[step["case_id"]][StepKind.ANNUAL_REVIEW if step["kind"] == StepKind.ANNUAL_REVIEW else step["key"]] = \
            SimpleNamespace(**step)
    persons: dict[int, tuple[dict, list[dict]]] = {}  # by child
    for row in rows:
        case = SimpleNamespace(**{k: row[f"case_{k}"] for k in CASE_COLUMNS})
        if case.child_id not in persons:
            persons[case.child_id] = ({**{k: row[k] for k in PERSON_KEYS}, "birth_date": row["date_of_birth"]}, [])
        rec = {k: row[k] for k in REQUEST_COLUMNS}
        rec["placements"] = placements.get(case.id, [])
        persons[case.child_id][1].append(_from_store(rec, case, steps.get(case.id, {})))
    left_out = 0
    for case, child, person in native:
        named = case.requested_setting_urn or case.current_setting_urn
        if case.plan_issued_on is not None and named is None:  # SEN2 needs the plan's PlanDetail: its setting
            left_out += 1
            continue
        if case.child_id not in persons:
            persons[case.child_id] = (_engine_person(child, person), [])
        rec = _engine_request(case, steps.get(case.id, {}))
        if case.plan_issued_on is not None:
            rec = _engine_plan(rec, case, named)
        persons[case.child_id][1].append(rec)
    return message.write(header, list(persons.values())), len(persons), left_out


def _engine_person(child: Child, person: Sen2Person | None) -> dict:
    if person is not None:
        return {**{k: getattr(person, k) for k in PERSON_KEYS}, "birth_date": child.date_of_birth}
    forename, _, surname = child.name.strip().rpartition(" ")
    return {"surname": surname, "forename": forename or surname, "birth_date": child.date_of_birth, "sex": "U",
            "ethnicity": "NOBT", "postcode": "", "upn": None, "uln": None, "upn_unknown": None}


def _engine_request(case: Case, steps: dict[str, SimpleNamespace]) -> dict:
    """A request opened in the engine, from its steps: decision to assess (reg 5), to issue (reg 10), and whether
    an exception set the 20 weeks aside (reg 13(3): SEN2's Week20)."""
    rec = {key: None for _, key, _ in message.SCALARS}
    rec.update(received_on=case.requested_on, has_assessment=False, has_named_plan=False, has_active_plans=False,
               placements=[], sen_needs=[])
    rec["request_outcome"], rec["request_outcome_on"] = _outcome(steps.get(StepKey.ASSESS_DECISION), case,
                                                                 ClosedReason.NOT_TO_ASSESS)
    if rec["request_outcome"] == Code.YES:
        rec["has_assessment"] = True
        rec["assessment_outcome"], rec["assessment_outcome_on"] = _outcome(steps.get(StepKey.PLAN_DECISION), case,
                                                                           ClosedReason.NOT_TO_ISSUE)
        final = steps.get(StepKey.PLAN_FINAL)
        rec["week20"] = bool(final and final.disapplied)
    return rec


def _engine_plan(rec: dict, case: Case, urn: int) -> dict:
    """A plan issued in the engine: the decision to issue (its step's day, else the plan's), the NamedPlan from
    the plan's start and the setting it names (URN, SENSetting OLA as for any placement arranged by the council,
    no SEN unit or resourced provision recorded), ceased where the case closed so. ActivePlans is not written:
    it needs the type of need (SENneed) and the placement's entry date, which the store does not record."""
    if rec["assessment_outcome"] != Code.YES:
        rec["assessment_outcome"], rec["assessment_outcome_on"] = Code.YES, case.plan_issued_on
    rec.update(has_assessment=True, has_named_plan=True, start_on=case.plan_issued_on, placements=[
        {**dict.fromkeys(message.PLACEMENT_KEYS), "urn": f"{urn:06d}", "setting_type": "OLA", "rank": 1,
         "sen_unit": False, "resourced_provision": False, "part": Part.PLAN}])
    if case.closed_reason == ClosedReason.PLAN_CEASED:
        rec["cease_on"] = case.closed_on
    return rec


def _outcome(step: SimpleNamespace | None, case: Case, refusal: ClosedReason) -> tuple[str, dt.date | None]:
    """SEN2's Y/N/A/W for a decision step."""
    if step is not None and step.status == StepStatus.DONE:
        return (Code.YES if step.details.get(DECISIONS[step.key]) else Code.NO), step.completed_on
    if case.closed_reason == refusal:
        return Code.NO, case.closed_on
    if case.status == CaseStatus.CLOSED:
        return Code.WITHDRAWN, case.closed_on
    return Code.AWAITING, None


def _from_store(rec: dict, case: SimpleNamespace, steps: dict[str, SimpleNamespace]) -> dict:
    """The record with what the store holds itself written from the store."""
    if rec["received_on"]:
        rec["received_on"] = case.requested_on
    decided = steps.get(StepKey.ASSESS_DECISION)
    if decided is not None and rec["request_outcome"] != Code.HISTORICAL:
        if decided.status == StepStatus.OPEN:
            rec["request_outcome"], rec["request_outcome_on"] = Code.AWAITING, None
        elif decided.status == StepStatus.DONE:
            rec["request_outcome"] = Code.YES if decided.details.get(DECISIONS[StepKey.ASSESS_DECISION]) else Code.NO
            rec["request_outcome_on"] = decided.completed_on
        elif case.closed_reason == ClosedReason.WITHDRAWN:
            rec["request_outcome"], rec["request_outcome_on"] = Code.WITHDRAWN, case.closed_on
    if case.closed_reason == ClosedReason.NOT_TO_ASSESS:
        rec["request_outcome"], rec["request_outcome_on"] = Code.NO, case.closed_on
    if rec["has_named_plan"]:
        rec["start_on"] = case.plan_issued_on
    if case.closed_reason == ClosedReason.PLAN_CEASED:
        rec["cease_on"], rec["has_active_plans"] = case.closed_on, False
        rec["placements"] = [p for p in rec["placements"] if p["part"] == Part.PLAN]
    annual = steps.get(StepKind.ANNUAL_REVIEW)
    if annual is not None and annual_review_cycle(annual.key) > 1:
        rec["last_review_on"] = annual.started_on
    return rec
