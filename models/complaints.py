"""Complaints against the council about a case: received, acknowledged, responded (upheld, partly or not), and
escalated to the Local Government and Social Care Ombudsman. The response targets are the council's own
(`EHC_COMPLAINT_ACK_DAYS`, `EHC_COMPLAINT_RESPONSE_DAYS`, working days from receipt), local practice and not
law: each is a step with its date, chased and escalated by the deadline watch like any other."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, func, select

from models import statutory
from models.cases import Case, utcnow
from models.casework import add_step, audit, complete_step, find_step, get_case, not_before, not_in_future
from models.errors import InputError
from models.notice import Notice, NoticeKind, Recipient
from models.settings import settings
from models.vocabulary import ComplaintFinding, ComplaintStatus, Role, StepKind, complaint_key

FAMILY = (Recipient(Role.FAMILY),)
ACKNOWLEDGE, RESPOND = "acknowledge", "respond"


class Complaint(SQLModel, table=True):
    """One complaint about a case. What it says stays with the council's complaints file, not here."""

    __table_args__ = (sa.UniqueConstraint("case_id", "n", name="uq_complaint_case_n"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    n: int
    status: str = Field(index=True)  # ComplaintStatus
    received_on: dt.date = Field(index=True)
    acknowledge_by: dt.date
    respond_by: dt.date
    acknowledged_on: dt.date | None = None
    responded_on: dt.date | None = None
    finding: str | None = None  # ComplaintFinding
    escalated_on: dt.date | None = None  # referred to the Ombudsman
    ombudsman_on: dt.date | None = None
    ombudsman_finding: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))


def complaints(s: Session, case: Case) -> list[Complaint]:
    return list(s.exec(select(Complaint).where(Complaint.case_id == case.id).order_by(Complaint.n)))


def get_complaint(s: Session, case: Case, n: int | None) -> Complaint:
    query = select(Complaint).where(Complaint.case_id == case.id)
    query = query.where(Complaint.n == n) if n is not None else query.order_by(col(Complaint.n).desc())
    found = s.exec(query).first()
    if found is None:
        raise InputError("--complaint" if n is not None else "REF", f"{case.reference} has no such complaint")
    return found


def _finding(value: str, field: str) -> ComplaintFinding:
    if value not in tuple(ComplaintFinding):
        raise InputError(field, f"must be one of {', '.join(ComplaintFinding)}")
    return ComplaintFinding(value)


def received(s: Session, reference: str, on: dt.date, today: dt.date, actor: str) -> list[Notice]:
    """A complaint about the case reached the council: its acknowledgement and response are due by the
    council's own targets, in working days from receipt."""
    case = get_case(s, reference)
    not_in_future(on, today)
    not_before(on, case.requested_on, "the request")
    config = settings()
    n = (s.exec(select(func.max(Complaint.n)).where(Complaint.case_id == case.id)).one() or 0) + 1
    ack_by = statutory.within_working_days(on, config.complaint_ack_days)
    respond_by = statutory.within_working_days(on, config.complaint_response_days)
    s.add(Complaint(case_id=case.id, n=n, status=ComplaintStatus.RECEIVED, received_on=on, acknowledge_by=ack_by,
                    respond_by=respond_by))
    for part, due, action in ((ACKNOWLEDGE, ack_by, "acknowledgement of a complaint (council target)"),
                              (RESPOND, respond_by, "response to a complaint (council target)")):
        add_step(s, case, key=complaint_key(n, part), kind=StepKind.COMPLAINT, role=Role.LA, start=on, due=due,
                 details={"action": action, "local_target": True})
    audit(s, case, actor, "complaint received", on=on, complaint=n)
    return []


def acknowledged(s: Session, reference: str, on: dt.date, today: dt.date, actor: str,
                 n: int | None = None) -> list[Notice]:
    """The council acknowledged the complaint, telling the family when it will respond."""
    case = get_case(s, reference)
    c = get_complaint(s, case, n)
    if c.status != ComplaintStatus.RECEIVED:
        raise InputError("--complaint", f"complaint {c.n} of {reference} is already {c.status}")
    not_in_future(on, today)
    complete_step(s, find_step(s, case, complaint_key(c.n, ACKNOWLEDGE)), on, actor, case)
    c.status, c.acknowledged_on = ComplaintStatus.ACKNOWLEDGED, on
    s.add(c)
    return [Notice(NoticeKind.COMPLAINT_ACKNOWLEDGED, on, FAMILY, case_id=case.id, occasion=str(c.n),
                   facts={"received_on": c.received_on, "respond_by": c.respond_by})]


def responded(s: Session, reference: str, on: dt.date, finding: str, today: dt.date, actor: str,
              n: int | None = None) -> list[Notice]:
    """The council's response: upheld, partly upheld or not; the family may then go to the Ombudsman."""
    case = get_case(s, reference)
    c = get_complaint(s, case, n)
    finding = _finding(finding, "--finding")
    if c.status not in (ComplaintStatus.RECEIVED, ComplaintStatus.ACKNOWLEDGED):
        raise InputError("--complaint", f"complaint {c.n} of {reference} is already {c.status}")
    not_in_future(on, today)
    not_before(on, c.received_on, "the complaint")
    ack = find_step(s, case, complaint_key(c.n, ACKNOWLEDGE))
    complete_step(s, ack, on, actor, case)  # a response acknowledges it too
    complete_step(s, find_step(s, case, complaint_key(c.n, RESPOND)), on, actor, case, finding=finding)
    c.status, c.responded_on, c.finding = ComplaintStatus.RESPONDED, on, finding
    c.acknowledged_on = c.acknowledged_on or on
    s.add(c)
    return [Notice(NoticeKind.COMPLAINT_RESPONSE, on, FAMILY, case_id=case.id, occasion=str(c.n),
                   facts={"finding": str(finding), "received_on": c.received_on})]


def escalated(s: Session, reference: str, on: dt.date, today: dt.date, actor: str,
              n: int | None = None) -> list[Notice]:
    """The family took the complaint to the Local Government and Social Care Ombudsman."""
    case = get_case(s, reference)
    c = get_complaint(s, case, n)
    if c.status != ComplaintStatus.RESPONDED:
        raise InputError("--complaint", f"complaint {c.n} of {reference} is {c.status}: the Ombudsman looks at "
                                        "a complaint once the council has responded")
    not_in_future(on, today)
    not_before(on, c.responded_on, "the council's response")
    c.status, c.escalated_on = ComplaintStatus.ESCALATED, on
    s.add(c)
    audit(s, case, actor, "complaint escalated to the Ombudsman", on=on, complaint=c.n)
    return []


def ombudsman_decided(s: Session, reference: str, on: dt.date, finding: str, today: dt.date, actor: str,
                      n: int | None = None) -> list[Notice]:
    """The Ombudsman's decision: the complaint is closed."""
    case = get_case(s, reference)
    c = get_complaint(s, case, n)
    finding = _finding(finding, "--finding")
    if c.status != ComplaintStatus.ESCALATED:
        raise InputError("--complaint", f"complaint {c.n} of {reference} is {c.status}, not with the Ombudsman")
    not_in_future(on, today)
    not_before(on, c.escalated_on, "the referral")
    c.status, c.ombudsman_on, c.ombudsman_finding = ComplaintStatus.CLOSED, on, finding
    s.add(c)
    audit(s, case, actor, "Ombudsman decided", on=on, complaint=c.n, finding=finding)
    return []
