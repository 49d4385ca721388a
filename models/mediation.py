"""Mediation (SEND Regs 2014 reg 32-42): the family wants it, the council (and the ICB for health issues)
arrange it, the adviser's certificate lets the family appeal and moves the appeal deadline, an agreement's acts
become steps. Every act returns its notices; the certificate is not the council's act, so it is recorded with
its date and the limit it ran under, not chased."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, Session, SQLModel, col, func, select

from models import statutory
from models.cases import Case, utcnow
from models.casework import (
    add_step,
    audit,
    cancel_step,
    complete_step,
    find_step,
    get_case,
    not_before,
    not_in_future,
    open_step,
    recompute_deadlines,
)
from models.decision_notices import ground_of, notice_on
from models.errors import InputError
from models.notice import Notice, NoticeKind, Recipient
from models.text import NOTE_MAX, clean
from models.vocabulary import (
    AppealGround,
    CertificateKind,
    MediationIssue,
    MediationStatus,
    Role,
    StepKey,
    StepKind,
    StepStatus,
    mediation_key,
)

FAMILY = (Recipient(Role.FAMILY),)
ICB = (Recipient(Role.DCO),)
HELD, HEALTH_NOTIFY, HELD_HEALTH = "held", "health_notify", "held_health"


class Mediation(SQLModel, table=True):
    """One mediation of a case about one decision (its ground and notice date), from the family's wish to the
    certificate."""

    __table_args__ = (sa.UniqueConstraint("case_id", "n", name="uq_mediation_case_n"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    n: int
    ground: str  # AppealGround: the decision it is about
    notice_on: dt.date  # the decision's notice: mediation.contact and appeal.register run from it
    issues: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str
    wanted_on: dt.date | None = None
    held_on: dt.date | None = None
    agreement_on: dt.date | None = None
    certificate_kind: str | None = None
    certificate_from: dt.date | None = None  # the day the certificate's limit ran from
    certificate_due_on: dt.date | None = None  # mediation.certificate_<kind>
    certificate_on: dt.date | None = None
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))


def _issues(values: Iterable[str]) -> list[str]:
    issues = sorted(set(values))
    if not issues:
        raise InputError("--issue", f"name at least one of {', '.join(MediationIssue)}")
    unknown = [i for i in issues if i not in tuple(MediationIssue)]
    if unknown:
        raise InputError("--issue", f"unknown issue {unknown[0][:40]!r} (one of {', '.join(MediationIssue)})")
    return issues


def mediations(s: Session, case: Case) -> list[Mediation]:
    return list(s.exec(select(Mediation).where(Mediation.case_id == case.id).order_by(Mediation.n)))


def current(s: Session, case: Case, ground: AppealGround, field: str = "--about") -> Mediation:
    found = s.exec(select(Mediation).where(Mediation.case_id == case.id, Mediation.ground == ground)
                   .order_by(col(Mediation.n).desc())).first()
    if found is None:
        raise InputError(field, f"{case.reference} has no mediation about {ground} (`ehc mediation wanted`)")
    return found


def certificate_on(s: Session, case: Case, ground: AppealGround, decided_on: dt.date) -> dt.date | None:
    """The day a mediation certificate about this decision was issued: the fact that moves `appeal.register`."""
    return s.exec(select(func.max(Mediation.certificate_on)).where(
        Mediation.case_id == case.id, Mediation.ground == ground, Mediation.notice_on == decided_on)).one()


def _next_n(s: Session, case: Case) -> int:
    return (s.exec(select(func.max(Mediation.n)).where(Mediation.case_id == case.id)).one() or 0) + 1


def _rights(case: Case, decided_on: dt.date, certificate: dt.date | None = None) -> dict:
    facts = {"mediation_certificate": certificate} if certificate else {}
    return {"appeal_by": statutory.deadline("appeal.register", decided_on, facts=facts, rule_set=case.rule_set).due}


def wanted(s: Session, reference: str, about: str, issues: Iterable[str], on: dt.date, today: dt.date,
           actor: str) -> list[Notice]:
    """The family told the mediation adviser it wants mediation, within `mediation.contact` of the decision
    (reg 33); the council must arrange it within `mediation.held` (reg 36-37), and tell the ICB within
    `mediation.health_notify` where health issues are in dispute (it then arranges their mediation)."""
    case = get_case(s, reference)
    ground = ground_of(about, "--about")
    decided_on = notice_on(s, case, ground, "--about")
    issues = _issues(issues)
    not_in_future(on, today)
    not_before(on, decided_on, "the decision's notice")
    contact_by = statutory.deadline("mediation.contact", decided_on, rule_set=case.rule_set).due
    if on > contact_by:
        raise InputError("--on", f"after mediation.contact ({contact_by}, 2 months from the notice, reg 33)")
    open_ = s.exec(select(Mediation).where(Mediation.case_id == case.id, Mediation.ground == ground,
                                           Mediation.notice_on == decided_on)).first()
    if open_ is not None:
        raise InputError("--about", f"{reference} already has mediation {open_.n} about this decision")
    m = Mediation(case_id=case.id, n=_next_n(s, case), ground=ground, notice_on=decided_on, issues=issues,
                  status=MediationStatus.WANTED, wanted_on=on)
    s.add(m)
    s.flush()
    held = add_step(s, case, key=mediation_key(m.n, HELD), kind=StepKind.MEDIATION, rule_id="mediation.held",
                    role=Role.LA, start=on, details={"action": "mediation arranged and held (reg 36-37)"})
    notices = [Notice(NoticeKind.MEDIATION_ARRANGING, on, FAMILY, case_id=case.id, step_id=held.id,
                      occasion=str(m.n), facts={"held_by": held.due_on, "issues": issues,
                                                **_rights(case, decided_on)})]
    if MediationIssue.HEALTH in issues:  # the ICB is told by this notice, written with the act
        told = add_step(s, case, key=mediation_key(m.n, HEALTH_NOTIFY), kind=StepKind.MEDIATION,
                        rule_id="mediation.health_notify", role=Role.LA, start=on,
                        details={"action": "ICB told that health issues are in dispute"})
        complete_step(s, told, max(today, on), actor, case)
        health = add_step(s, case, key=mediation_key(m.n, HELD_HEALTH), kind=StepKind.MEDIATION,
                          rule_id="mediation.held", role=Role.DCO, start=told.completed_on,
                          details={"action": "mediation of the health issues arranged and held (reg 36)"})
        notices.append(Notice(NoticeKind.MEDIATION_HEALTH, told.completed_on, ICB, case_id=case.id,
                              step_id=health.id, occasion=str(m.n), facts={"held_by": health.due_on}))
    audit(s, case, actor, "mediation wanted", on=on, mediation=m.n, about=ground, issues=issues)
    return notices


def _held_steps(s: Session, case: Case, m: Mediation):
    return [st for st in (find_step(s, case, mediation_key(m.n, HELD)),
                          find_step(s, case, mediation_key(m.n, HELD_HEALTH))) if st is not None]


def held(s: Session, reference: str, about: str, on: dt.date, today: dt.date, actor: str,
         acts: Iterable[str] = (), icb_acts: Iterable[str] = ()) -> list[Notice]:
    """Mediation took place on `on`. Each act of an agreement reached (reg 42) is a step due within
    `mediation.agreement_act` of the agreement: the council's, or the ICB's for a health act."""
    case = get_case(s, reference)
    m = current(s, case, ground_of(about, "--about"))
    if m.status != MediationStatus.WANTED:
        raise InputError("--about", f"mediation {m.n} of {reference} is {m.status}, not awaiting its meeting")
    not_in_future(on, today)
    not_before(on, m.wanted_on, "mediation was wanted")
    agreed = [(Role.LA, a) for a in acts] + [(Role.DCO, a) for a in icb_acts]
    if any(not text.strip() for _, text in agreed):
        raise InputError("--act", "an agreed act must say what it is")
    agreed = [(role, clean(text, "--act" if role == Role.LA else "--icb-act", NOTE_MAX)) for role, text in agreed]
    for step in _held_steps(s, case, m):
        complete_step(s, step, on, actor, case)
    m.status, m.held_on = MediationStatus.HELD, on
    steps = []
    for i, (role, text) in enumerate(agreed, start=1):
        steps.append(add_step(s, case, key=mediation_key(m.n, f"act:{i}"), kind=StepKind.MEDIATION,
                              rule_id="mediation.agreement_act", role=role, start=on,
                              details={"agreed": text.strip(), "action": f"act {i} of a mediation agreement"}))
    s.add(m)
    audit(s, case, actor, "mediation held", on=on, mediation=m.n, agreed_acts=len(agreed))
    if not steps:
        return []
    m.agreement_on = on
    return [Notice(NoticeKind.MEDIATION_AGREEMENT, on, FAMILY, case_id=case.id, occasion=str(m.n),
                   facts={"acts": [{"what": st.details["agreed"], "by": st.due_on} for st in steps]})]


def agreed_act_done(s: Session, reference: str, n: int, act: int, on: dt.date, today: dt.date,
                    actor: str) -> list[Notice]:
    """An act of a mediation agreement is done (reg 42)."""
    case = get_case(s, reference)
    step = open_step(s, case, mediation_key(n, f"act:{act}"), "--act")
    not_in_future(on, today)
    complete_step(s, step, on, actor, case)
    return []


def certificate(s: Session, reference: str, about: str, kind: str, limit_from: dt.date, on: dt.date,
                today: dt.date, actor: str) -> list[Notice]:
    """The mediation adviser's (or mediator's) certificate issued on `on` (reg 34, 39): `declined` (the family
    does not want mediation: it may appeal at once), `not_arranged` (the council could not arrange it in 30
    days; its steps are cancelled) or `after` (mediation has ended). `limit_from` is the day its limit runs from.
    The certificate date moves `appeal.register` to a month after it where that is later, and with it the day a
    plan may cease (CFA s45)."""
    case = get_case(s, reference)
    ground = ground_of(about, "--about")
    if kind not in tuple(CertificateKind):
        raise InputError("--kind", f"must be one of {', '.join(CertificateKind)}")
    not_in_future(on, today)
    not_before(on, limit_from, "the day its limit runs from")
    if kind == CertificateKind.DECLINED:
        decided_on = notice_on(s, case, ground, "--about")
        not_before(limit_from, decided_on, "the decision's notice", "--from")
        m = s.exec(select(Mediation).where(Mediation.case_id == case.id, Mediation.ground == ground,
                                           Mediation.notice_on == decided_on)).first()
        if m is None:
            m = Mediation(case_id=case.id, n=_next_n(s, case), ground=ground, notice_on=decided_on,
                          status=MediationStatus.DECLINED)
    else:
        m = current(s, case, ground)
        if kind == CertificateKind.AFTER and m.held_on is None:
            raise InputError("--kind", f"mediation {m.n} of {reference} has not been held (`ehc mediation held`)")
        if kind == CertificateKind.NOT_ARRANGED and m.status != MediationStatus.WANTED:
            raise InputError("--kind", f"mediation {m.n} of {reference} is {m.status}")
        not_before(limit_from, m.held_on or m.wanted_on, "the mediation", "--from")
    if m.certificate_on is not None:
        raise InputError("--kind", f"mediation {m.n} of {reference} already has its certificate ({m.certificate_on})")
    if kind == CertificateKind.NOT_ARRANGED:
        for step in _held_steps(s, case, m):
            cancel_step(s, step, actor, "mediation could not be arranged within 30 days")
        m.status = MediationStatus.NOT_ARRANGED
    m.certificate_kind, m.certificate_from, m.certificate_on = kind, limit_from, on
    m.certificate_due_on = statutory.deadline(f"mediation.certificate_{kind}", limit_from,
                                              rule_set=case.rule_set).due
    s.add(m)
    s.flush()
    _move_cease_window(s, case, m)
    audit(s, case, actor, "mediation certificate", on=on, mediation=m.n, kind=kind,
          due=m.certificate_due_on.isoformat(), late=on > m.certificate_due_on)
    return [Notice(NoticeKind.MEDIATION_CERTIFICATE, on, FAMILY, case_id=case.id, occasion=str(m.n),
                   facts={"certificate_on": on, **_rights(case, m.notice_on, on)})]


def _move_cease_window(s: Session, case: Case, m: Mediation) -> None:
    """A certificate about a decision to cease moves the day its `plan.cease` step (appeal.register) falls due."""
    cease = find_step(s, case, StepKey.PLAN_CEASE)
    if m.ground != AppealGround.CEASE or cease is None or cease.status != StepStatus.OPEN:
        return
    facts = {**(cease.details.get("facts") or {}), "mediation_certificate": m.certificate_on.isoformat()}
    cease.details = {**cease.details, "facts": facts}
    s.add(cease)
    recompute_deadlines(s, case)
