"""Appeals to the First-tier Tribunal (SEND) (CFA s51): lodged, the council's response, the hearing, and the
end: dismissed, an order (reg 44), a concession before the response (reg 45), withdrawn. Each order's and
concession's limit (`tribunal.*`, `unopposed.*`) is a step the deadline watch chases and escalates.

A refused case (closed) that an order or a concession obliges the council to assess, or to make a plan, is
re-opened: status open, stage `tribunal_order`, the limits as its steps. It is not put back on the needs
assessment's run, whose stages date advice from the refused decision.

`appeal_window_closes` is the day a decision to cease stops being appealable (CFA s45; reg 29-31)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, func, select

from models import statutory
from models.assessment import appeal_rights, plan_in_force, request_ordered_advice
from models.cases import Case, Step, utcnow
from models.casework import (
    add_step,
    audit,
    cancel_step,
    close_case,
    complete_step,
    find_step,
    get_case,
    move_stage,
    not_before,
    not_in_future,
    open_step,
)
from models.decision_notices import ground_of, notice_on
from models.errors import InputError
from models.mediation import certificate_on
from models.notice import Notice, NoticeKind, Recipient
from models.vocabulary import (
    APPEAL_PENDING,
    AppealGround,
    AppealOutcome,
    AppealStatus,
    CaseStatus,
    ClosedReason,
    Role,
    Stage,
    StepKey,
    StepKind,
    StepStatus,
    TribunalOrder,
    appeal_key,
)

FAMILY = (Recipient(Role.FAMILY),)
RESPONSE = "response"
OUTCOMES = tuple(AppealOutcome)
ENDED = {AppealOutcome.DISMISSED: AppealStatus.DISMISSED, AppealOutcome.ORDER: AppealStatus.ORDERED,
         AppealOutcome.WITHDRAWN: AppealStatus.WITHDRAWN}

ORDERS_FOR = {  # what the Tribunal may order on each ground (CFA s51(2); reg 43-44)
    AppealGround.REFUSAL_TO_ASSESS: (TribunalOrder.ASSESS,),
    AppealGround.REFUSAL_TO_ISSUE: (TribunalOrder.MAKE_PLAN, TribunalOrder.ASSESS),
    AppealGround.CONTENTS: (TribunalOrder.AMEND, TribunalOrder.SCHOOL),
    AppealGround.SCHOOL: (TribunalOrder.SCHOOL, TribunalOrder.AMEND),
    AppealGround.CEASE: (TribunalOrder.CONTINUE, TribunalOrder.CONTINUE_AMENDED),
    AppealGround.REFUSAL_TO_AMEND: (TribunalOrder.AMEND,),
}
ORDER_LIMITS = {  # an order → its limits (spec §2.6), each a step `appeal:<n>:<limit>`
    TribunalOrder.ASSESS: ("tribunal.assess", "tribunal.not_to_issue", "tribunal.plan"),
    TribunalOrder.MAKE_PLAN: ("tribunal.draft", "tribunal.final"),
    TribunalOrder.AMEND: ("tribunal.amend",),
    TribunalOrder.SCHOOL: ("tribunal.school",),
    TribunalOrder.CONTINUE: ("tribunal.continue",),
    TribunalOrder.CONTINUE_AMENDED: ("tribunal.continue", "tribunal.amend"),
}
CONCESSION_LIMITS = {  # a ground conceded before the response → its limits (reg 45); a cease conceded: none
    AppealGround.REFUSAL_TO_ASSESS: ("unopposed.assess", "unopposed.not_to_issue", "unopposed.plan"),
    AppealGround.REFUSAL_TO_ISSUE: ("unopposed.draft", "unopposed.final"),
    AppealGround.CONTENTS: ("unopposed.amend",),
    AppealGround.SCHOOL: ("unopposed.school",),
    AppealGround.REFUSAL_TO_AMEND: ("unopposed.amend",),
    AppealGround.CEASE: (),
}
NO_PLAN, PLAN = ("tribunal.not_to_issue", "unopposed.not_to_issue"), ("tribunal.plan", "unopposed.plan")
ASSESS = ("tribunal.assess", "unopposed.assess")  # the council told the family it will assess
FINAL = (*PLAN, "tribunal.final", "unopposed.final")  # a final plan issued: in force


class Appeal(SQLModel, table=True):
    """One appeal of a case to the Tribunal, against one decision (its ground and notice date)."""

    __table_args__ = (sa.UniqueConstraint("case_id", "n", name="uq_appeal_case_n"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    n: int
    ground: str  # AppealGround
    notice_on: dt.date  # the decision appealed against
    register_by: dt.date  # appeal.register, with any mediation certificate
    lodged_on: dt.date
    status: str = Field(index=True)  # AppealStatus
    response_due_on: dt.date | None = None  # set by the Tribunal's directions
    responded_on: dt.date | None = None
    hearing_on: dt.date | None = None
    tribunal_order: str | None = None  # TribunalOrder
    ended_on: dt.date | None = None  # decided, conceded or withdrawn
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))


def appeals(s: Session, case: Case) -> list[Appeal]:
    return list(s.exec(select(Appeal).where(Appeal.case_id == case.id).order_by(Appeal.n)))


def current(s: Session, case: Case) -> Appeal:
    """The case's latest appeal; none is an input error."""
    found = s.exec(select(Appeal).where(Appeal.case_id == case.id).order_by(col(Appeal.n).desc())).first()
    if found is None:
        raise InputError("REF", f"{case.reference} has no appeal (`ehc appeal lodged`)")
    return found


def _pending(s: Session, case: Case) -> Appeal:
    appeal = current(s, case)
    if appeal.status not in APPEAL_PENDING:
        raise InputError("REF", f"appeal {appeal.n} of {case.reference} has ended ({appeal.status})")
    return appeal


def register_by(s: Session, case: Case, ground: AppealGround, decided_on: dt.date) -> dt.date:
    """`appeal.register` for a decision: 2 months from its notice, or a month from a mediation certificate if
    later, rolled forward (Tribunal rules 12, 20(1)(c))."""
    cert = certificate_on(s, case, ground, decided_on)
    facts = {"mediation_certificate": cert} if cert else {}
    return statutory.deadline("appeal.register", decided_on, facts=facts, rule_set=case.rule_set).due


def lodged(s: Session, reference: str, against: str, on: dt.date, today: dt.date, actor: str,
           response_due: dt.date | None = None) -> list[Notice]:
    """The family's appeal was registered by the Tribunal on `on`, by `appeal.register`. The council's response,
    due by the Tribunal's directions (`response_due`), is a step."""
    case = get_case(s, reference)
    ground = ground_of(against)
    decided_on = notice_on(s, case, ground)
    not_in_future(on, today)
    not_before(on, decided_on, "the decision's notice")
    last = register_by(s, case, ground, decided_on)
    if on > last:
        raise InputError("--on", f"after appeal.register ({last}; Tribunal rule 20(1)(c))")
    if response_due is not None:
        not_before(response_due, on, "the appeal", "--response-due")
    for other in appeals(s, case):
        if other.ground == ground and other.notice_on == decided_on:
            raise InputError("--against", f"{reference} already has appeal {other.n} against this decision")
    n = (s.exec(select(func.max(Appeal.n)).where(Appeal.case_id == case.id)).one() or 0) + 1
    appeal = Appeal(case_id=case.id, n=n, ground=ground, notice_on=decided_on, register_by=last, lodged_on=on,
                    status=AppealStatus.LODGED, response_due_on=response_due)
    s.add(appeal)
    s.flush()
    if response_due is not None:
        add_step(s, case, key=appeal_key(n, RESPONSE), kind=StepKind.APPEAL, role=Role.LA, start=on,
                 due=response_due, details={"action": "the council's response to the appeal (Tribunal directions)"})
    audit(s, case, actor, "appeal lodged", on=on, appeal=n, against=ground)
    return [Notice(NoticeKind.APPEAL_LODGED, on, FAMILY, case_id=case.id, occasion=str(n),
                   facts={"against": str(ground), "lodged_on": on})]


def responded(s: Session, reference: str, on: dt.date, today: dt.date, actor: str) -> list[Notice]:
    """The council sent its response to the Tribunal."""
    case = get_case(s, reference)
    appeal = _pending(s, case)
    if appeal.status != AppealStatus.LODGED:
        raise InputError("REF", f"appeal {appeal.n} of {reference} was already responded to ({appeal.responded_on})")
    not_in_future(on, today)
    not_before(on, appeal.lodged_on, "the appeal")
    step = find_step(s, case, appeal_key(appeal.n, RESPONSE))
    if step is not None:
        complete_step(s, step, on, actor, case)
    appeal.status, appeal.responded_on = AppealStatus.RESPONDED, on
    s.add(appeal)
    audit(s, case, actor, "appeal responded to", on=on, appeal=appeal.n)
    return []


def hearing(s: Session, reference: str, listed_for: dt.date, actor: str) -> list[Notice]:
    """The Tribunal listed the hearing for a day (which may be ahead)."""
    case = get_case(s, reference)
    appeal = _pending(s, case)
    not_before(listed_for, appeal.lodged_on, "the appeal", "--on")
    appeal.hearing_on = listed_for
    s.add(appeal)
    audit(s, case, actor, "appeal hearing listed", on=listed_for, appeal=appeal.n)
    return []


def _limit_steps(s: Session, case: Case, appeal: Appeal, limits: tuple[str, ...], kind: str, start: dt.date) -> list:
    return [add_step(s, case, key=appeal_key(appeal.n, limit), kind=kind, rule_id=limit, role=Role.LA, start=start)
            for limit in limits]


def _reopen(s: Session, case: Case, on: dt.date, actor: str, why: str) -> None:
    """A refused (closed) case the council must now assess, or make a plan for: open again, its limits as steps."""
    if case.status != CaseStatus.CLOSED:
        return
    case.status, case.closed_on, case.closed_reason = CaseStatus.OPEN, None, None
    move_stage(s, case, Stage.TRIBUNAL_ORDER, actor, f"case re-opened: {why}", on)


def _keep_plan(s: Session, case: Case, actor: str, why: str) -> None:
    """A decision to cease overturned: its step is cancelled and the plan stays in force."""
    cease = find_step(s, case, StepKey.PLAN_CEASE)
    if cease is not None and cease.status == StepStatus.OPEN:
        cancel_step(s, cease, actor, why)
        if case.stage == Stage.CEASING:
            move_stage(s, case, Stage.PLAN_IN_FORCE, actor, why, cease.started_on)


def _what_by(steps: list[Step]) -> list[dict]:
    return [{"what": statutory.RULES[st.rule_id].summary, "by": st.due_on, "limit": st.rule_id} for st in steps]


def conceded(s: Session, reference: str, on: dt.date, today: dt.date, actor: str) -> list[Notice]:
    """The council told the Tribunal on `on` (U) that it will not oppose the appeal, before its response
    (reg 45): the appeal is treated as determined and the `unopposed.*` limits run from U."""
    case = get_case(s, reference)
    appeal = _pending(s, case)
    if appeal.status != AppealStatus.LODGED:
        raise InputError("REF", f"appeal {appeal.n} of {reference} was responded to on {appeal.responded_on}: "
                                "a concession comes before the response (reg 45)")
    not_in_future(on, today)
    not_before(on, appeal.lodged_on, "the appeal")
    ground = AppealGround(appeal.ground)
    if ground in (AppealGround.REFUSAL_TO_ASSESS, AppealGround.REFUSAL_TO_ISSUE):
        _reopen(s, case, on, actor, f"appeal {appeal.n} not opposed (reg 45)")
    if ground == AppealGround.CEASE:
        _keep_plan(s, case, actor, f"appeal {appeal.n} against ceasing not opposed (reg 45)")
    steps = _limit_steps(s, case, appeal, CONCESSION_LIMITS[ground], StepKind.UNOPPOSED_APPEAL, on)
    response = find_step(s, case, appeal_key(appeal.n, RESPONSE))
    if response is not None:
        cancel_step(s, response, actor, "appeal not opposed")
    appeal.status, appeal.ended_on = AppealStatus.CONCEDED, on
    s.add(appeal)
    audit(s, case, actor, "appeal not opposed", on=on, appeal=appeal.n, limits=[st.rule_id for st in steps])
    return [Notice(NoticeKind.APPEAL_CONCEDED, on, FAMILY, case_id=case.id, occasion=str(appeal.n),
                   facts={"against": str(ground), "acts": _what_by(steps)})]


def decided(s: Session, reference: str, outcome: str, on: dt.date, today: dt.date, actor: str,
            order: str | None = None) -> list[Notice]:
    """The appeal ended on `on` (O): dismissed, withdrawn, or an order whose `tribunal.*` limits run from O
    (reg 44). A dismissed cease appeal lets the council cease at once (`tribunal.cease`, due = O)."""
    case = get_case(s, reference)
    appeal = _pending(s, case)
    if outcome not in OUTCOMES:
        raise InputError("--outcome", f"must be one of {', '.join(OUTCOMES)}")
    ground = AppealGround(appeal.ground)
    if outcome == AppealOutcome.ORDER:
        allowed = ORDERS_FOR[ground]
        if order not in allowed:
            raise InputError("--order", f"an appeal against {ground} may order {', '.join(allowed)}")
    elif order is not None:
        raise InputError("--order", f"only with --outcome order, not {outcome}")
    not_in_future(on, today)
    not_before(on, appeal.lodged_on, "the appeal")
    steps = []
    if outcome == AppealOutcome.ORDER:
        order = TribunalOrder(order)
        if order in (TribunalOrder.ASSESS, TribunalOrder.MAKE_PLAN):
            _reopen(s, case, on, actor, f"the Tribunal's order to {order} (appeal {appeal.n}, reg 44)")
        if order in (TribunalOrder.CONTINUE, TribunalOrder.CONTINUE_AMENDED):
            _keep_plan(s, case, actor, f"the Tribunal's order to continue the plan (appeal {appeal.n})")
        steps = _limit_steps(s, case, appeal, ORDER_LIMITS[order], StepKind.TRIBUNAL_ORDER, on)
        appeal.tribunal_order = order
    response = find_step(s, case, appeal_key(appeal.n, RESPONSE))
    if response is not None and response.status == StepStatus.OPEN:
        cancel_step(s, response, actor, f"appeal {outcome}")
    appeal.status, appeal.ended_on = ENDED[AppealOutcome(outcome)], on
    s.add(appeal)
    facts = {"against": str(ground), "outcome": str(outcome), "order": order, "acts": _what_by(steps)}
    if outcome == AppealOutcome.DISMISSED and ground == AppealGround.CEASE:
        facts["may_cease_on"] = statutory.deadline("tribunal.cease", on, rule_set=case.rule_set).due
    audit(s, case, actor, f"appeal {outcome}", on=on, appeal=appeal.n, order=order,
          limits=[st.rule_id for st in steps])
    return [Notice(NoticeKind.APPEAL_DECIDED, on, FAMILY, case_id=case.id, occasion=str(appeal.n), facts=facts)]


def limit_met(s: Session, reference: str, limit: str, on: dt.date, today: dt.date, actor: str) -> list[Notice]:
    """The council did what an order or concession required (`limit`, e.g. `tribunal.assess`). What follows is
    written with it, as the assessment's acts write theirs: telling the family it will assess asks every source
    for advice; issuing the final plan settles the decision whether to issue and puts the plan in force, its
    first review due, by the code an assessment's final plan goes through; a notice that no plan will be issued
    closes the case again, and is itself appealable (its notice carries the rights)."""
    case = get_case(s, reference)
    appeal = current(s, case)
    step = open_step(s, case, appeal_key(appeal.n, limit), "--limit")
    not_in_future(on, today)
    complete_step(s, step, on, actor, case)
    if limit in ASSESS:
        return request_ordered_advice(s, case, on)
    if limit in PLAN:
        for other in NO_PLAN:
            decision = find_step(s, case, appeal_key(appeal.n, other))
            if decision is not None:
                complete_step(s, decision, on, actor, case, issue=True)
    if limit in FINAL:
        return plan_in_force(s, case, on, actor)
    if limit in NO_PLAN:  # a fresh decision not to issue, with its own rights of mediation and appeal (reg 10)
        close_case(s, case, on, actor, ClosedReason.NOT_TO_ISSUE, f"no plan after the appeal {appeal.n}",
                   limit=limit)
        return [Notice(NoticeKind.REFUSAL_TO_ISSUE, on, FAMILY, case_id=case.id, step_id=step.id,
                       occasion=f"appeal:{appeal.n}", facts={**appeal_rights(case, on), "notice_on": on,
                                                             "reasons": None})]
    return []


def appeal_window_closes(s: Session, case: Case) -> dt.date | None:
    """The last day the decision to cease the case's plan is appealable or under appeal: the later of
    `appeal.register` from its notice (moved by any mediation certificate) and the end of any appeal against it;
    None while an appeal is pending. The plan is maintained until then (CFA s45; reg 29-31); it may cease after."""
    cease = find_step(s, case, StepKey.PLAN_CEASE)
    if cease is None:
        raise InputError("REF", f"{case.reference} has no decision to cease")
    decided_on = cease.started_on
    closes = register_by(s, case, AppealGround.CEASE, decided_on)
    for appeal in appeals(s, case):
        if appeal.ground != AppealGround.CEASE or appeal.notice_on != decided_on:
            continue
        if appeal.status in APPEAL_PENDING:
            return None
        closes = max(closes, appeal.ended_on)
    return closes
