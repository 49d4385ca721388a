"""The named caseworker of a case and their caseload: every open case with its stage, its next statutory
date and what is overdue. Set-based: three queries whatever the number of cases."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.addresses import validate_email
from models.cannot_notify import CannotNotify
from models.cases import AuditEvent, Case, Step
from models.errors import InputError
from models.vocabulary import CaseStatus, Role, StepStatus


def staff_handle(email: str) -> str:
    """The caseworker's staff id in Prefect keys and tags: the council's directory holds no staff number, so the
    name part of their work address, lower-case, anything but a letter or digit a dash (`a.caseworker@…` →
    `a-caseworker`): no domain, and the same handle every day."""
    local = email.partition("@")[0].casefold()
    return "-".join("".join(ch if ch.isascii() and ch.isalnum() else " " for ch in local).split()) or "unnamed"


def assign(s: Session, case: Case, caseworker: str, actor: str) -> Case:
    """Name the case's caseworker: the council's own steps are chased at them from now on."""
    email = validate_email(caseworker, "--caseworker")
    if case.status == CaseStatus.CLOSED:
        raise InputError("REF", f"{case.reference} is closed")
    before, case.caseworker_email = case.caseworker_email, email
    s.add(case)
    s.add(AuditEvent(case_id=case.id, actor=actor, action="caseworker assigned",
                     detail={"from": before, "to": email}))
    return case


@dataclass
class CaseloadRow:
    reference: str
    stage: str
    status: str
    caseworker: str | None
    next_step: str | None = None
    next_due: dt.date | None = None
    overdue: list[str] = field(default_factory=list)  # step keys past their statutory date
    cannot_notify: int = 0


def caseload(s: Session, on: dt.date, caseworker: str | None = None) -> list[CaseloadRow]:
    """Open cases (and plans in force), soonest statutory date first. Overdue: the steps the watch chases (not
    the family's, not set aside by a clock exception) whose date has passed. Three queries of plain rows, each
    joined to the open cases (no list of ids, however many cases)."""
    c, st, cn = Case.__table__.c, Step.__table__.c, CannotNotify.__table__.c
    open_cases = [c.status != CaseStatus.CLOSED]
    if caseworker is not None:  # given empty (an unset variable) or mistyped: refused, not "no open cases"
        open_cases.append(c.caseworker_email == validate_email(caseworker, "--caseworker"))
    conn = s.connection()
    cases = sa.select(c.id, c.reference, c.stage, c.status, c.caseworker_email).where(*open_cases)
    rows = {cid: CaseloadRow(ref, stage, status, worker) for cid, ref, stage, status, worker in conn.execute(cases)}
    if not rows:
        return []
    steps = (sa.select(st.case_id, st.key, st.due_on, st.role, st.disapplied).join(Case.__table__, c.id == st.case_id)
             .where(st.status == StepStatus.OPEN, *open_cases).order_by(st.due_on, st.id))
    for case_id, key, due_on, role, disapplied in conn.execute(steps):
        row = rows[case_id]
        if row.next_due is None:
            row.next_step, row.next_due = key, due_on
        if due_on < on and not disapplied and role != Role.FAMILY:
            row.overdue.append(key)
    unreachable = (sa.select(cn.case_id, sa.func.count()).join(Case.__table__, c.id == cn.case_id)
                   .where(cn.resolved_at.is_(None), *open_cases).group_by(cn.case_id))
    for case_id, count in conn.execute(unreachable):
        rows[case_id].cannot_notify = count
    far = dt.date.max
    return sorted(rows.values(), key=lambda r: (r.next_due or far, r.reference))


def caseworkers(s: Session) -> list[str]:
    """Every caseworker named on a case, open or closed (one indexed query): each has a caseload table, empty
    once their last case closed."""
    return list(s.exec(select(Case.caseworker_email).where(col(Case.caseworker_email).is_not(None)).distinct()))
