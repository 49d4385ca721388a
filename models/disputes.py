"""Disputes between the council and health or social care over a case's provision or funding: raised, escalated
to the disputes process of the local offer, resolved and how. Each stage is a step with the council's own
target (`EHC_DISPUTE_RESOLVE_DAYS` working days; local practice, not law), owed by the other service (the ICB's
designated clinical officer, or social care) and chased and escalated by the deadline watch like any step."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, func, select

from models import statutory
from models.cases import Case, utcnow
from models.casework import add_step, audit, complete_step, get_case, not_before, not_in_future, open_step
from models.errors import InputError
from models.notice import Notice, NoticeKind, Recipient
from models.settings import settings
from models.text import NOTE_MAX, clean
from models.vocabulary import DisputeParty, DisputeStatus, DisputeSubject, Role, StepKind, dispute_key

RESOLVE, DISPUTES_PROCESS = "resolve", "disputes_process"
OWED_BY = {DisputeParty.HEALTH: Role.DCO, DisputeParty.SOCIAL_CARE: Role.SOCIAL_CARE}  # → its queue
TOLD = {DisputeParty.HEALTH: Role.DCO, DisputeParty.SOCIAL_CARE: Role.SOCIAL_CARE_MANAGER}


class Dispute(SQLModel, table=True):
    """One dispute over a case between the council and another service."""

    __table_args__ = (sa.UniqueConstraint("case_id", "n", name="uq_dispute_case_n"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    n: int
    party: str  # DisputeParty
    subject: str  # DisputeSubject
    status: str = Field(index=True)  # DisputeStatus
    raised_on: dt.date = Field(index=True)
    escalated_on: dt.date | None = None
    resolved_on: dt.date | None = None
    resolution: str | None = None  # how it was resolved, in the council's words
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))


def disputes(s: Session, case: Case) -> list[Dispute]:
    return list(s.exec(select(Dispute).where(Dispute.case_id == case.id).order_by(Dispute.n)))


def get_dispute(s: Session, case: Case, n: int | None) -> Dispute:
    query = select(Dispute).where(Dispute.case_id == case.id)
    query = query.where(Dispute.n == n) if n is not None else query.order_by(col(Dispute.n).desc())
    found = s.exec(query).first()
    if found is None:
        raise InputError("--dispute" if n is not None else "REF", f"{case.reference} has no such dispute")
    return found


def _stage(s: Session, case: Case, d: Dispute, part: str, on: dt.date, action: str):
    party = DisputeParty(d.party)
    return add_step(s, case, key=dispute_key(d.n, part), kind=StepKind.DISPUTE, role=OWED_BY[party], start=on,
                    due=statutory.within_working_days(on, settings().dispute_resolve_days),
                    details={"action": action, "local_target": True})


def _notice(kind: NoticeKind, d: Dispute, case: Case, on: dt.date, step_id: int | None, stage: str = RESOLVE,
            **facts) -> Notice:
    party = DisputeParty(d.party)
    return Notice(kind, on, (Recipient(TOLD[party]),), case_id=case.id, step_id=step_id, occasion=f"{d.n}:{stage}",
                  facts={"party": str(party), "subject": d.subject, **facts})


def raised(s: Session, reference: str, party: str, subject: str, on: dt.date, today: dt.date,
           actor: str) -> list[Notice]:
    """The council raised a dispute with health or social care over the case's provision or funding."""
    case = get_case(s, reference)
    if party not in tuple(DisputeParty):
        raise InputError("--with", f"must be one of {', '.join(DisputeParty)}")
    if subject not in tuple(DisputeSubject):
        raise InputError("--over", f"must be one of {', '.join(DisputeSubject)}")
    not_in_future(on, today)
    not_before(on, case.requested_on, "the request")
    n = (s.exec(select(func.max(Dispute.n)).where(Dispute.case_id == case.id)).one() or 0) + 1
    d = Dispute(case_id=case.id, n=n, party=party, subject=subject, status=DisputeStatus.RAISED, raised_on=on)
    s.add(d)
    s.flush()
    step = _stage(s, case, d, RESOLVE, on, f"resolution of a dispute over {subject} (local protocol)")
    audit(s, case, actor, "dispute raised", on=on, dispute=n, party=party, subject=subject)
    return [_notice(NoticeKind.DISPUTE_RAISED, d, case, on, step.id, resolve_by=step.due_on, escalated=False)]


def escalated(s: Session, reference: str, on: dt.date, today: dt.date, actor: str,
              n: int | None = None) -> list[Notice]:
    """Not resolved between the services: escalated to the disputes process, with its own target."""
    case = get_case(s, reference)
    d = get_dispute(s, case, n)
    if d.status != DisputeStatus.RAISED:
        raise InputError("--dispute", f"dispute {d.n} of {reference} is already {d.status}")
    not_in_future(on, today)
    first = open_step(s, case, dispute_key(d.n, RESOLVE), "--dispute")
    complete_step(s, first, on, actor, case, outcome="escalated")
    d.status, d.escalated_on = DisputeStatus.ESCALATED, on
    s.add(d)
    step = _stage(s, case, d, DISPUTES_PROCESS, on, f"a dispute over {d.subject} in the disputes process")
    audit(s, case, actor, "dispute escalated", on=on, dispute=d.n)
    return [_notice(NoticeKind.DISPUTE_RAISED, d, case, on, step.id, DISPUTES_PROCESS, resolve_by=step.due_on,
                    escalated=True)]


def resolved(s: Session, reference: str, on: dt.date, how: str, today: dt.date, actor: str,
             n: int | None = None) -> list[Notice]:
    """The dispute was resolved, and how (kept in the store; the notice says only that it was)."""
    case = get_case(s, reference)
    d = get_dispute(s, case, n)
    if d.status == DisputeStatus.RESOLVED:
        raise InputError("--dispute", f"dispute {d.n} of {reference} was resolved on {d.resolved_on}")
    if not how.strip():
        raise InputError("--how", "say how it was resolved")
    how = clean(how, "--how", NOTE_MAX)
    not_in_future(on, today)
    part = RESOLVE if d.status == DisputeStatus.RAISED else DISPUTES_PROCESS
    complete_step(s, open_step(s, case, dispute_key(d.n, part), "--dispute"), on, actor, case, outcome="resolved")
    d.status, d.resolved_on, d.resolution = DisputeStatus.RESOLVED, on, how.strip()
    s.add(d)
    audit(s, case, actor, "dispute resolved", on=on, dispute=d.n)
    return [_notice(NoticeKind.DISPUTE_RESOLVED, d, case, on, None, resolved_on=on)]
