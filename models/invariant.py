"""The invariant every open case keeps: at least one open, dated step that someone other than the family owes
(and so is chased for), or a run working on it. A case that breaks it goes to the SEN team manager's queue with
the reason, as a step of its own (`case.stalled`) that the watch chases like any other."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, select

from models.cases import AuditEvent, Case, Step
from models.casework import add_step, complete_step, find_step, get_case
from models.escalation import escalate
from models.review import Review
from models.vocabulary import (
    ASSESSMENT_STAGES,
    CaseStatus,
    Queue,
    ReviewStatus,
    Role,
    StepKey,
    StepKind,
    StepStatus,
)

RECONCILE_ACTOR = "reconcile"


class Stalled(NamedTuple):
    case_id: int
    reference: str
    stage: str


def _owed(stalled_too: bool = False):
    """An open step someone other than the family owes, on the outer query's case."""
    st = Step.__table__.alias("owed").c
    query = sa.select(st.id).where(st.case_id == Case.__table__.c.id, st.status == StepStatus.OPEN,
                                   st.role != Role.FAMILY)
    return query if stalled_too else query.where(st.key != StepKey.CASE_STALLED)


def stalled_cases(s: Session) -> list[Stalled]:
    """Open cases (assessments in progress, plans in force) with no open step anyone but the family owes; the
    `case.stalled` step itself does not count, so a flagged case stays listed until it moves again."""
    c = Case.__table__.c
    query = (sa.select(c.id, c.reference, c.stage).where(c.status != CaseStatus.CLOSED, ~sa.exists(_owed()))
             .order_by(c.id))
    return [Stalled(*row) for row in s.connection().execute(query)]


def holds(s: Session, reference: str) -> bool:
    """Whether the case keeps the invariant from the store alone (closed, or something open that is owed)."""
    case = get_case(s, reference)
    if case.status == CaseStatus.CLOSED:
        return True
    return s.exec(select(Step.id).where(Step.case_id == case.id, Step.status == StepStatus.OPEN,
                                        Step.role != Role.FAMILY)).first() is not None


def flag_stalled(s: Session, stalled: Stalled, on: dt.date, reason: str) -> Step:
    """Put a stalled case on the SEN team manager's queue with the reason: a step due today, chased by the watch,
    and its escalation opened at once. Flagging a flagged case changes nothing."""
    case = s.get(Case, stalled.case_id)
    step = add_step(s, case, key=StepKey.CASE_STALLED, kind=StepKind.STALLED, role=Role.LA, start=on, due=on,
                    details={"reason": reason, "stage": stalled.stage})
    escalate(s, queue=Queue.SEN_TEAM_MANAGER, case_id=case.id, step_id=step.id, tier=1, on=on)
    s.add(AuditEvent(case_id=case.id, actor=RECONCILE_ACTOR, action="case stalled", on=on, detail={"reason": reason}))
    return step


def clear_recovered(s: Session, on: dt.date) -> int:
    """Close the `case.stalled` step of every case that has moved again (or closed): returns how many."""
    c, st = Case.__table__.c, Step.__table__.c
    query = sa.select(st.id).where(st.key == StepKey.CASE_STALLED, st.status == StepStatus.OPEN,
                                   st.case_id == c.id, sa.or_(c.status == CaseStatus.CLOSED, sa.exists(_owed())))
    cleared = 0
    for step_id in list(s.connection().execute(query).scalars()):
        step = s.get(Step, step_id)
        case = s.get(Case, step.case_id)
        complete_step(s, step, max(on, step.started_on), RECONCILE_ACTOR, case, note="the case moved again")
        cleared += 1
    return cleared


def stalled_step(s: Session, case: Case) -> Step | None:
    return find_step(s, case, StepKey.CASE_STALLED)


RECONCILED = "runs reconciled"


def assessments_expecting_runs(s: Session, case_ids: set[int] | None = None) -> list[str]:
    """References of the cases whose needs assessment is in progress (each should have a run waiting or working),
    all of them or those among `case_ids`."""
    c = Case.__table__.c
    query = sa.select(c.reference).where(c.status == CaseStatus.OPEN, c.stage.in_(list(ASSESSMENT_STAGES)))
    if case_ids is not None:
        query = query.where(c.id.in_(case_ids))
    return list(s.connection().execute(query.order_by(c.id)).scalars())


def reviews_expecting_runs(s: Session, case_ids: set[int] | None = None) -> list[tuple[str, int]]:
    """(reference, cycle) of every open review (each should have its cycle's run waiting or working)."""
    c, r = Case.__table__.c, Review.__table__.c
    query = (sa.select(c.reference, r.cycle).join(Review.__table__, r.case_id == c.id)
             .where(r.status == ReviewStatus.OPEN, c.status != CaseStatus.CLOSED))
    if case_ids is not None:
        query = query.where(c.id.in_(case_ids))
    return [tuple(row) for row in s.connection().execute(query.order_by(c.id))]


def changed_since_last_reconcile(s: Session) -> tuple[set[int], int]:
    """The cases with an audit event since the last reconciliation, and the newest audit id (its watermark)."""
    a = AuditEvent.__table__.c
    last = s.connection().execute(sa.select(a.detail).where(a.case_id.is_(None), a.action == RECONCILED)
                                  .order_by(a.id.desc()).limit(1)).scalar()
    since = int(last["audit_id"]) if last else 0
    newest = s.connection().execute(sa.select(sa.func.max(a.id))).scalar() or 0
    changed = set(s.connection().execute(sa.select(a.case_id).where(a.id > since, a.case_id.is_not(None))
                                         .distinct()).scalars())
    return changed, newest


def record_reconciled(s: Session, on: dt.date, watermark: int, **counts) -> None:
    s.add(AuditEvent(case_id=None, actor=RECONCILE_ACTOR, action=RECONCILED, on=on,
                     detail={"audit_id": watermark, **counts}))
