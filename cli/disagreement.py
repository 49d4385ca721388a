"""`ehc mediation | appeal | complaint | dispute | cease-review`: disagreement resolution. Each command builds the
typed event of its act (`tasks.disagreement`: the same event the Prefect form gives, its choices named once
there), records it and its notices in one transaction (`tasks.waiting.record`), then wakes the thread's run
(`tasks.disagreement.bring_in_line`: started when the thread opens). The groups are put together in
`cli.main`."""

from __future__ import annotations

import types
import typing

import typer

from cli.common import ID_RANGE, date_arg, input_errors, print_json
from cli.runs import reach
from models import appeals, casework, cease_prompts, complaints, disputes, mediation
from models.db import session
from models.settings import settings, today
from models.vocabulary import StepKey, StepKind, Thread
from tasks import disagreement as ev
from tasks import waiting


def choices(event: type[waiting.CaseEvent], field: str) -> str:
    """The choices the event's form offers for `field` (a StrEnum or a Literal, in a list or optional), as
    `a | b | c`: the command's help says what the form says."""
    kind = event.model_fields[field].annotation
    while typing.get_origin(kind) in (list, typing.Union, types.UnionType):
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    return " | ".join(typing.get_args(kind) if typing.get_origin(kind) is typing.Literal else map(str, kind))


REF = typer.Argument(..., metavar="REF", help="the case reference, EHC-YYYY-NNNNN")
ON = typer.Option(..., "--on", help="YYYY-MM-DD: the day it happened")
ABOUT = typer.Option(..., "--about", help=f"the decision: {choices(ev.MediationWanted, 'about')}")
ISSUES = typer.Option(..., "--issue", help=f"{choices(ev.MediationWanted, 'issues')}; repeat")

mediation_app = typer.Typer(help="Mediation (SEND Regs 2014 reg 32-42).", no_args_is_help=True)
appeal_app = typer.Typer(help="Appeals to the First-tier Tribunal (SEND) and its orders (CFA s51; reg 43-45).",
                         no_args_is_help=True)
complaint_app = typer.Typer(help="Complaints about a case, to the council and the Ombudsman (local targets).",
                            no_args_is_help=True)
dispute_app = typer.Typer(help="Disputes with health or social care over provision or funding.", no_args_is_help=True)
cease_review_app = typer.Typer(help="Prompts to consider ceasing a plan: 25, or left education (CFA s45-46).",
                               no_args_is_help=True)


def record(event: type[waiting.CaseEvent], what: str, **values) -> None:
    """Record the act and its notices, then wake its thread's run; prints one line. The values go to the act
    as typed (`model_construct`): the act checks each and names the command's option when one is bad."""
    given = event.model_construct(**values)
    notices = waiting.record(given, settings().actor)
    line = f"{given.reference}: {what} ({len(notices)} notice{'' if len(notices) == 1 else 's'}"
    if given.flow in tuple(Thread):
        valid = event.model_validate(dict(given))  # the act took it: as the form would give it
        said = reach(given.reference, lambda: ev.bring_in_line(valid), "the next reconcile brings it in line",
                     unset="not woken", unreached="not reached")
        line += f"; run {said}"
    typer.echo(line + ")")


# --- mediation -----------------------------------------------------------------------------------


@mediation_app.command("wanted")
@input_errors
def mediation_wanted(reference: str = REF, about: str = ABOUT, on: str = ON,
                     issue: list[str] = ISSUES) -> None:
    """The family wants mediation (within 2 months of the notice, reg 33); the council arranges it in 30 days."""
    record(ev.MediationWanted, "mediation wanted", reference=reference, about=about, issues=issue,
           on=date_arg(on, "--on"))


@mediation_app.command("held")
@input_errors
def mediation_held(reference: str = REF, about: str = ABOUT, on: str = ON,
                   act: list[str] = typer.Option([], "--act", help="an act the council agreed; repeat"),
                   icb_act: list[str] = typer.Option([], "--icb-act", help="an act the ICB agreed; repeat")) -> None:
    """Mediation took place; each agreed act is due within 2 weeks (reg 42)."""
    record(ev.MediationHeld, "mediation held", reference=reference, about=about, on=date_arg(on, "--on"), acts=act,
           icb_acts=icb_act)


@mediation_app.command("act-done")
@input_errors
def mediation_act_done(reference: str = REF, n: int = typer.Option(..., "--mediation", help="its number", **ID_RANGE),
                       act: int = typer.Option(..., "--act", help="the act's number", **ID_RANGE),
                       on: str = ON) -> None:
    """An act of a mediation agreement is done (reg 42)."""
    record(ev.MediationActDone, "agreed act done", reference=reference, mediation=n, act=act,
           on=date_arg(on, "--on"))


@mediation_app.command("certificate")
@input_errors
def mediation_certificate(reference: str = REF, about: str = ABOUT,
                          kind: str = typer.Option(..., "--kind", help=choices(ev.MediationCertificate, "kind")),
                          limit_from: str = typer.Option(..., "--from", help="YYYY-MM-DD: the day its limit runs "
                                                         "from (adviser told / council told it / mediation ended)"),
                          on: str = ON) -> None:
    """The mediation certificate issued: it moves the appeal deadline (reg 34, 39; Tribunal rule 20)."""
    record(ev.MediationCertificate, f"mediation certificate ({kind})", reference=reference, about=about, kind=kind,
           limit_from=date_arg(limit_from, "--from"), on=date_arg(on, "--on"))


# --- appeals -------------------------------------------------------------------------------------


@appeal_app.command("lodged")
@input_errors
def appeal_lodged(reference: str = REF, on: str = ON,
                  against: str = typer.Option(..., "--against", help=choices(ev.AppealLodged, "against")),
                  response_due: str | None = typer.Option(None, "--response-due",
                                                          help="YYYY-MM-DD: the council's response, as directed")
                  ) -> None:
    """The Tribunal registered the family's appeal (by appeal.register)."""
    due = date_arg(response_due, "--response-due") if response_due else None
    record(ev.AppealLodged, f"appeal against {against} lodged", reference=reference, against=against,
           on=date_arg(on, "--on"), response_due=due)


@appeal_app.command("responded")
@input_errors
def appeal_responded(reference: str = REF, on: str = ON) -> None:
    """The council's response sent to the Tribunal."""
    record(ev.AppealResponded, "appeal responded to", reference=reference, on=date_arg(on, "--on"))


@appeal_app.command("hearing")
@input_errors
def appeal_hearing(reference: str = REF, on: str = typer.Option(..., "--on", help="YYYY-MM-DD: the day listed")
                   ) -> None:
    """The day the Tribunal listed the hearing for."""
    record(ev.AppealHearing, "hearing listed", reference=reference, on=date_arg(on, "--on"))


@appeal_app.command("conceded")
@input_errors
def appeal_conceded(reference: str = REF, on: str = ON) -> None:
    """The council will not oppose the appeal, before its response: the unopposed.* limits run (reg 45)."""
    record(ev.AppealConceded, "appeal not opposed", reference=reference, on=date_arg(on, "--on"))


@appeal_app.command("decided")
@input_errors
def appeal_decided(reference: str = REF, on: str = ON,
                   outcome: str = typer.Option(..., "--outcome", help=choices(ev.AppealDecided, "outcome")),
                   order: str | None = typer.Option(None, "--order", help=choices(ev.AppealDecided, "order"))
                   ) -> None:
    """The appeal ended; an order's tribunal.* limits run from its date (reg 44)."""
    record(ev.AppealDecided, f"appeal {outcome}" + (f": {order}" if order else ""), reference=reference,
           outcome=outcome, order=order, on=date_arg(on, "--on"))


@appeal_app.command("complied")
@input_errors
def appeal_complied(reference: str = REF, on: str = ON,
                    limit: str = typer.Option(..., "--limit", help=choices(ev.AppealLimitMet, "limit"))) -> None:
    """The council did what an order or concession required, within its limit."""
    record(ev.AppealLimitMet, f"{limit} met", reference=reference, limit=limit, on=date_arg(on, "--on"))


@appeal_app.command("show")
@input_errors
def appeal_show(reference: str = REF, as_json: bool = typer.Option(False, "--json")) -> None:
    """A case's mediations, appeals, their steps and, for a decision to cease, the day its appeal window closes."""
    with session() as s:
        data = show_data(s, casework.get_case(s, reference))
    if as_json:
        print_json(data)
        return
    typer.echo(f"{reference}")
    for m in data["mediations"]:
        typer.echo(f"  mediation {m['n']} about {m['ground']}: {m['status']}; certificate {m['certificate_on']}")
    for a in data["appeals"]:
        typer.echo(f"  appeal {a['n']} against {a['ground']}: {a['status']} (lodged {a['lodged_on']}, by "
                   f"{a['register_by']}){' order ' + a['tribunal_order'] if a['tribunal_order'] else ''}")
    for st in data["steps"]:
        typer.echo(f"  {st['key']:<36} {st['status']:<9} due {st['due_on']}  {st['completed_on'] or ''}")
    if "appeal_window_closes" in data:
        closes = data["appeal_window_closes"] or "not while an appeal is pending"
        typer.echo(f"  appeal window on ceasing closes: {closes}")


DISAGREEMENT_STEPS = (StepKind.MEDIATION, StepKind.APPEAL, StepKind.TRIBUNAL_ORDER, StepKind.UNOPPOSED_APPEAL)


def show_data(s, case) -> dict:
    def row(obj, *names):
        return {n: getattr(obj, n) for n in names}

    data = {
        "reference": case.reference, "status": case.status, "stage": case.stage,
        "mediations": [row(m, "n", "ground", "notice_on", "issues", "status", "wanted_on", "held_on",
                           "certificate_kind", "certificate_on", "certificate_due_on")
                       for m in mediation.mediations(s, case)],
        "appeals": [row(a, "n", "ground", "notice_on", "register_by", "lodged_on", "status", "responded_on",
                        "hearing_on", "tribunal_order", "ended_on") for a in appeals.appeals(s, case)],
        "steps": [row(st, "key", "rule_id", "role", "status", "started_on", "due_on", "completed_on")
                  for st in casework.case_steps(s, case) if st.kind in DISAGREEMENT_STEPS],
    }
    if casework.find_step(s, case, StepKey.PLAN_CEASE) is not None:
        data["appeal_window_closes"] = appeals.appeal_window_closes(s, case)
    return data


# --- complaints and disputes ---------------------------------------------------------------------

N_COMPLAINT = typer.Option(None, "--complaint", help="its number (default: the latest)", **ID_RANGE)
N_DISPUTE = typer.Option(None, "--dispute", help="its number (default: the latest)", **ID_RANGE)
FINDING = typer.Option(..., "--finding", help=choices(ev.ComplaintResponded, "finding"))


@complaint_app.command("received")
@input_errors
def complaint_received(reference: str = REF, on: str = ON) -> None:
    """A complaint about the case reached the council: acknowledgement and response targets start."""
    record(ev.ComplaintReceived, "complaint received", reference=reference, on=date_arg(on, "--on"))


@complaint_app.command("acknowledged")
@input_errors
def complaint_acknowledged(reference: str = REF, on: str = ON, n: int | None = N_COMPLAINT) -> None:
    record(ev.ComplaintAcknowledged, "complaint acknowledged", reference=reference, on=date_arg(on, "--on"),
           complaint=n)


@complaint_app.command("responded")
@input_errors
def complaint_responded(reference: str = REF, on: str = ON, finding: str = FINDING,
                        n: int | None = N_COMPLAINT) -> None:
    record(ev.ComplaintResponded, f"complaint responded to: {finding}", reference=reference,
           on=date_arg(on, "--on"), finding=finding, complaint=n)


@complaint_app.command("escalated")
@input_errors
def complaint_escalated(reference: str = REF, on: str = ON, n: int | None = N_COMPLAINT) -> None:
    """The family took the complaint to the Local Government and Social Care Ombudsman."""
    record(ev.ComplaintEscalated, "complaint escalated to the Ombudsman", reference=reference,
           on=date_arg(on, "--on"), complaint=n)


@complaint_app.command("ombudsman")
@input_errors
def complaint_ombudsman(reference: str = REF, on: str = ON, finding: str = FINDING,
                        n: int | None = N_COMPLAINT) -> None:
    """The Ombudsman's decision: the complaint is closed."""
    record(ev.OmbudsmanDecided, f"Ombudsman decided: {finding}", reference=reference, on=date_arg(on, "--on"),
           finding=finding, complaint=n)


@complaint_app.command("show")
@input_errors
def complaint_show(reference: str = REF) -> None:
    with session() as s:
        case = casework.get_case(s, reference)
        print_json([c.model_dump(exclude={"created_at"}) for c in complaints.complaints(s, case)])


@dispute_app.command("raised")
@input_errors
def dispute_raised(reference: str = REF, on: str = ON,
                   party: str = typer.Option(..., "--with", help=choices(ev.DisputeRaised, "party")),
                   subject: str = typer.Option(..., "--over", help=choices(ev.DisputeRaised, "subject"))) -> None:
    record(ev.DisputeRaised, f"dispute with {party} over {subject} raised", reference=reference, party=party,
           subject=subject, on=date_arg(on, "--on"))


@dispute_app.command("escalated")
@input_errors
def dispute_escalated(reference: str = REF, on: str = ON, n: int | None = N_DISPUTE) -> None:
    """Escalated to the disputes process."""
    record(ev.DisputeEscalated, "dispute escalated", reference=reference, on=date_arg(on, "--on"), dispute=n)


@dispute_app.command("resolved")
@input_errors
def dispute_resolved(reference: str = REF, on: str = ON, n: int | None = N_DISPUTE,
                     how: str = typer.Option(..., "--how", help="how it was resolved (kept in the store)")) -> None:
    record(ev.DisputeResolved, "dispute resolved", reference=reference, on=date_arg(on, "--on"), how=how, dispute=n)


@dispute_app.command("show")
@input_errors
def dispute_show(reference: str = REF) -> None:
    with session() as s:
        case = casework.get_case(s, reference)
        print_json([d.model_dump(exclude={"created_at"}) for d in disputes.disputes(s, case)])


# --- cease-review prompts ------------------------------------------------------------------------


@cease_review_app.command("prompts")
@input_errors
def cease_review_prompts(on: str | None = typer.Option(None, "--on", help="YYYY-MM-DD (default today)")) -> None:
    """Open a prompt for every young person with a plan in force who has reached 25."""
    day = date_arg(on, "--on") if on is not None else today()  # given empty (an unset variable): refused
    with session() as s:
        opened = len(cease_prompts.prompt_aged_25(s, day, settings().actor))
    typer.echo(f"{opened} cease review prompt{'' if opened == 1 else 's'} opened")


@cease_review_app.command("left-education")
@input_errors
def cease_review_left(reference: str = REF, on: str = ON) -> None:
    record(ev.LeftEducation, "left education: cease review prompted", reference=reference,
           on=date_arg(on, "--on"))


@cease_review_app.command("considered")
@input_errors
def cease_review_considered(reference: str = REF, on: str = ON) -> None:
    record(ev.CeaseReviewConsidered, "ceasing considered", reference=reference, on=date_arg(on, "--on"))
