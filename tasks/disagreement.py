"""The acts of disagreement resolution as typed events, one form each (mediation, appeals, complaints, disputes,
cease-review prompts): each records its act in `models` and returns its notices; `tasks.waiting.record` writes
both in one transaction. `ehc mediation | appeal | complaint | dispute` builds its commands from them.

Each mediation, appeal, complaint and dispute of a case has its own run (`flows.disagreement`), named
`EHC-YYYY-NNNNN appeal 1`, started when the thread opens and suspended on the form of the next act it waits for
(`WAITS`); `waits_on` names that condition of the store (`models.threads`; `<n>`: the case's latest of its
kind). The run ends when the thread waits on nothing more. `bring_in_line` is what `ehc` does after recording
an act: wake the run with it, else start, catch up or retry it as the reconciler would."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import ObjectNotFound

from models import appeals, cease_prompts, complaints, disputes, mediation, threads
from models.casework import get_case
from models.db import session
from models.deadline_watch import WATCH_ACTOR
from models.vocabulary import (
    CEASE_REVIEW_KEY,
    AppealGround,
    AppealOutcome,
    CertificateKind,
    ComplaintFinding,
    DisputeParty,
    DisputeSubject,
    MediationIssue,
    Thread,
    TribunalOrder,
)
from tasks.waiting import CaseEvent, case_run, catch_up, reconcile_run, reschedule, wake

LIMITS = tuple(dict.fromkeys(limit for limits in (*appeals.ORDER_LIMITS.values(), *appeals.CONCESSION_LIMITS.values())
                             for limit in limits))
AppealLimit = Literal[LIMITS]  # an order's or a concession's limit (reg 44-45): an explicit choice on the form


class MediationEvent(CaseEvent):
    flow: ClassVar[str] = Thread.MEDIATION


class AppealEvent(CaseEvent):
    flow: ClassVar[str] = Thread.APPEAL


class ComplaintEvent(CaseEvent):
    flow: ClassVar[str] = Thread.COMPLAINT


class DisputeEvent(CaseEvent):
    flow: ClassVar[str] = Thread.DISPUTE


class MediationWanted(MediationEvent):
    """The family told the mediation adviser it wants mediation about a decision, on these issues (reg 33-37)."""

    waits_on: ClassVar[str] = "mediation:<n>:held"
    title: ClassVar[str] = "mediation wanted"
    regulation: ClassVar[str] = "reg 33"
    command: ClassVar[str] = "ehc mediation wanted {ref} --about GROUND --issue ISSUE --on DATE"

    about: AppealGround
    issues: list[MediationIssue]
    on: dt.date

    def record(self, s, on_today, actor):
        return mediation.wanted(s, self.reference, self.about, self.issues, self.on, on_today, actor)


class MediationHeld(MediationEvent):
    """Mediation took place; the acts of any agreement, the council's and the ICB's (reg 42)."""

    waits_on: ClassVar[str] = "mediation:<n>:held"
    title: ClassVar[str] = "mediation held"
    regulation: ClassVar[str] = "reg 42"
    command: ClassVar[str] = "ehc mediation held {ref} --about GROUND --on DATE [--act TEXT] [--icb-act TEXT]"

    about: AppealGround
    on: dt.date
    acts: list[str] = []
    icb_acts: list[str] = []

    def record(self, s, on_today, actor):
        return mediation.held(s, self.reference, self.about, self.on, on_today, actor, self.acts, self.icb_acts)


class MediationActDone(MediationEvent):
    """An act of a mediation agreement done (reg 42)."""

    waits_on: ClassVar[str] = "mediation:<n>:acts"
    title: ClassVar[str] = "agreed act done"
    regulation: ClassVar[str] = "reg 42"
    command: ClassVar[str] = "ehc mediation act-done {ref} --mediation N --act I --on DATE"

    mediation: int
    act: int
    on: dt.date

    def record(self, s, on_today, actor):
        return mediation.agreed_act_done(s, self.reference, self.mediation, self.act, self.on, on_today, actor)


class MediationCertificate(MediationEvent):
    """The mediation certificate: declined, not arranged, or after mediation (reg 34, 39)."""

    waits_on: ClassVar[str] = "mediation:<n>:certificate"
    title: ClassVar[str] = "mediation certificate"
    regulation: ClassVar[str] = "reg 34, 39"
    command: ClassVar[str] = ("ehc mediation certificate {ref} --about GROUND --kind declined|not_arranged|after "
                              "--from DATE --on DATE")

    about: AppealGround
    kind: CertificateKind
    limit_from: dt.date
    on: dt.date

    def record(self, s, on_today, actor):
        return mediation.certificate(s, self.reference, self.about, self.kind, self.limit_from, self.on, on_today,
                                     actor)


class AppealLodged(AppealEvent):
    """The Tribunal registered the family's appeal (CFA s51; Tribunal rule 20(1)(c))."""

    waits_on: ClassVar[str] = "appeal:<n>:response"
    title: ClassVar[str] = "appeal lodged"
    regulation: ClassVar[str] = "CFA s51"
    command: ClassVar[str] = "ehc appeal lodged {ref} --on DATE --against GROUND [--response-due DATE]"

    against: AppealGround
    on: dt.date
    response_due: dt.date | None = None

    def record(self, s, on_today, actor):
        return appeals.lodged(s, self.reference, self.against, self.on, on_today, actor, self.response_due)


class AppealResponded(AppealEvent):
    """The council's response sent to the Tribunal."""

    waits_on: ClassVar[str] = "appeal:<n>:response"
    title: ClassVar[str] = "response to the appeal"
    regulation: ClassVar[str] = "Tribunal directions"
    command: ClassVar[str] = "ehc appeal responded {ref} --on DATE"

    on: dt.date

    def record(self, s, on_today, actor):
        return appeals.responded(s, self.reference, self.on, on_today, actor)


class AppealHearing(AppealEvent):
    """The day the Tribunal listed the hearing for."""

    waits_on: ClassVar[str] = "appeal:<n>:response"
    title: ClassVar[str] = "hearing listed"
    regulation: ClassVar[str] = "Tribunal directions"
    command: ClassVar[str] = "ehc appeal hearing {ref} --on DATE"

    on: dt.date

    def record(self, s, on_today, actor):
        return appeals.hearing(s, self.reference, self.on, actor)


class AppealConceded(AppealEvent):
    """The council told the Tribunal it will not oppose the appeal, before its response (reg 45)."""

    waits_on: ClassVar[str] = "appeal:<n>:response"
    title: ClassVar[str] = "appeal not opposed"
    regulation: ClassVar[str] = "reg 45"
    command: ClassVar[str] = "ehc appeal conceded {ref} --on DATE"

    on: dt.date

    def record(self, s, on_today, actor):
        return appeals.conceded(s, self.reference, self.on, on_today, actor)


class AppealDecided(AppealEvent):
    """The appeal ended: dismissed, an order (reg 44), or withdrawn."""

    waits_on: ClassVar[str] = "appeal:<n>:decision"
    title: ClassVar[str] = "appeal decided"
    regulation: ClassVar[str] = "reg 44"
    command: ClassVar[str] = "ehc appeal decided {ref} --on DATE --outcome dismissed|order|withdrawn [--order ORDER]"

    outcome: AppealOutcome
    on: dt.date
    order: TribunalOrder | None = None

    def record(self, s, on_today, actor):
        return appeals.decided(s, self.reference, self.outcome, self.on, on_today, actor, self.order)


class AppealLimitMet(AppealEvent):
    """The council did what an order or a concession required (a `tribunal.*` or `unopposed.*` limit)."""

    waits_on: ClassVar[str] = "appeal:<n>:limits"
    title: ClassVar[str] = "order carried out"
    regulation: ClassVar[str] = "reg 44-45"
    command: ClassVar[str] = "ehc appeal complied {ref} --limit LIMIT --on DATE"

    limit: AppealLimit
    on: dt.date

    def record(self, s, on_today, actor):
        return appeals.limit_met(s, self.reference, self.limit, self.on, on_today, actor)


class ComplaintReceived(ComplaintEvent):
    """A complaint about the case reached the council."""

    waits_on: ClassVar[str] = "complaint:<n>:acknowledge"
    title: ClassVar[str] = "complaint received"
    regulation: ClassVar[str] = "the council's complaints procedure"
    command: ClassVar[str] = "ehc complaint received {ref} --on DATE"

    on: dt.date

    def record(self, s, on_today, actor):
        return complaints.received(s, self.reference, self.on, on_today, actor)


class ComplaintAcknowledged(ComplaintEvent):
    waits_on: ClassVar[str] = "complaint:<n>:acknowledge"
    title: ClassVar[str] = "complaint acknowledged"
    regulation: ClassVar[str] = "the council's complaints procedure"
    command: ClassVar[str] = "ehc complaint acknowledged {ref} --on DATE"

    on: dt.date
    complaint: int | None = None

    def record(self, s, on_today, actor):
        return complaints.acknowledged(s, self.reference, self.on, on_today, actor, self.complaint)


class ComplaintResponded(ComplaintEvent):
    waits_on: ClassVar[str] = "complaint:<n>:respond"
    title: ClassVar[str] = "complaint responded to"
    regulation: ClassVar[str] = "the council's complaints procedure"
    command: ClassVar[str] = "ehc complaint responded {ref} --on DATE --finding upheld|partly-upheld|not-upheld"

    on: dt.date
    finding: ComplaintFinding
    complaint: int | None = None

    def record(self, s, on_today, actor):
        return complaints.responded(s, self.reference, self.on, self.finding, on_today, actor, self.complaint)


class ComplaintEscalated(ComplaintEvent):
    waits_on: ClassVar[str] = "complaint:<n>:respond"
    title: ClassVar[str] = "complaint taken to the Ombudsman"
    regulation: ClassVar[str] = "Local Government Act 1974, Part 3"
    command: ClassVar[str] = "ehc complaint escalated {ref} --on DATE"

    on: dt.date
    complaint: int | None = None

    def record(self, s, on_today, actor):
        return complaints.escalated(s, self.reference, self.on, on_today, actor, self.complaint)


class OmbudsmanDecided(ComplaintEvent):
    waits_on: ClassVar[str] = "complaint:<n>:ombudsman"
    title: ClassVar[str] = "the Ombudsman's decision"
    regulation: ClassVar[str] = "Local Government Act 1974, Part 3"
    command: ClassVar[str] = "ehc complaint ombudsman {ref} --on DATE --finding FINDING"

    on: dt.date
    finding: ComplaintFinding
    complaint: int | None = None

    def record(self, s, on_today, actor):
        return complaints.ombudsman_decided(s, self.reference, self.on, self.finding, on_today, actor,
                                            self.complaint)


class DisputeRaised(DisputeEvent):
    """The council raised a dispute with health or social care over the case's provision or funding."""

    waits_on: ClassVar[str] = "dispute:<n>:resolve"
    title: ClassVar[str] = "dispute raised"
    regulation: ClassVar[str] = "the local disputes protocol"
    command: ClassVar[str] = "ehc dispute raised {ref} --with health|social_care --over provision|funding --on DATE"

    party: DisputeParty
    subject: DisputeSubject
    on: dt.date

    def record(self, s, on_today, actor):
        return disputes.raised(s, self.reference, self.party, self.subject, self.on, on_today, actor)


class DisputeEscalated(DisputeEvent):
    waits_on: ClassVar[str] = "dispute:<n>:resolve"
    title: ClassVar[str] = "dispute escalated"
    regulation: ClassVar[str] = "the local disputes protocol"
    command: ClassVar[str] = "ehc dispute escalated {ref} --on DATE"

    on: dt.date
    dispute: int | None = None

    def record(self, s, on_today, actor):
        return disputes.escalated(s, self.reference, self.on, on_today, actor, self.dispute)


class DisputeResolved(DisputeEvent):
    waits_on: ClassVar[str] = "dispute:<n>:resolve"
    title: ClassVar[str] = "dispute resolved"
    regulation: ClassVar[str] = "the local disputes protocol"
    command: ClassVar[str] = "ehc dispute resolved {ref} --on DATE --how TEXT"

    on: dt.date
    how: str
    dispute: int | None = None

    def record(self, s, on_today, actor):
        return disputes.resolved(s, self.reference, self.on, self.how, on_today, actor, self.dispute)


class LeftEducation(CaseEvent):
    """The young person left education or training: consider ceasing the plan (CFA s45(1)(b))."""

    waits_on: ClassVar[str] = CEASE_REVIEW_KEY
    title: ClassVar[str] = "left education"
    regulation: ClassVar[str] = "CFA s45"
    command: ClassVar[str] = "ehc cease-review left-education {ref} --on DATE"

    on: dt.date

    def record(self, s, on_today, actor):
        cease_prompts.left_education(s, self.reference, self.on, on_today, actor)
        return []


class CeaseReviewConsidered(CaseEvent):
    """The council considered ceasing the plan."""

    waits_on: ClassVar[str] = CEASE_REVIEW_KEY
    title: ClassVar[str] = "ceasing considered"
    regulation: ClassVar[str] = "CFA s45-46"
    command: ClassVar[str] = "ehc cease-review considered {ref} --on DATE"

    on: dt.date

    def record(self, s, on_today, actor):
        cease_prompts.considered(s, self.reference, self.on, on_today, actor)
        return []


# --- each thread's run: what it waits for, and bringing it in line with the store -------------------

WAITS: dict[Thread, tuple[type[CaseEvent], ...]] = {  # the acts a thread's run waits for, in the order they come
    Thread.MEDIATION: (MediationHeld, MediationCertificate, MediationActDone),
    Thread.APPEAL: (AppealResponded, AppealDecided, AppealLimitMet),
    Thread.COMPLAINT: (ComplaintAcknowledged, ComplaintResponded, OmbudsmanDecided),
    Thread.DISPUTE: (DisputeResolved,),
}


def run_name(reference: str, thread: str, n: int) -> str:
    """`EHC-YYYY-NNNNN appeal 1`: a case reference and a count, nothing personal."""
    return f"{reference} {thread} {n}"


def current(reference: str, thread: str) -> tuple[int | None, bool]:
    """The case's latest thread of the kind (its number, or None) and whether it still waits on an act."""
    with session() as s:
        case = get_case(s, reference)
        row = threads.latest(s, case, thread)
        if row is None:
            return None, False
        waits = any(threads.waits(s, case, form.waits_on)[0] for form in WAITS[Thread(thread)])
        return row.n, waits


def next_wait(reference: str, thread: str, n: int) -> type[CaseEvent] | None:
    """The form the thread's run waits on next, or None: the thread waits on nothing more, or a later one of
    its kind has been opened (its acts are recorded on that one, by its own run)."""
    with session() as s:
        case = get_case(s, reference)
        latest = threads.latest(s, case, thread)
        if latest is None or latest.n != n:
            return None
        return next((form for form in WAITS[Thread(thread)] if threads.waits(s, case, form.waits_on)[0]), None)


def reconcile_thread(reference: str, thread: str) -> str:
    """Bring the case's latest thread's run in line with the store (`tasks.waiting.reconcile_run`): start it
    when the thread opens, run it again when the store has moved past its form or it ended while the thread
    still waits; a thread that waits on nothing more has its suspended run run again, to end, and so has the
    run of an earlier thread of the kind still suspended when a later one opens. In a word."""
    n, waits = current(reference, thread)
    if n is None:
        return "no thread"
    name = run_name(reference, thread, n)
    run = case_run(reference, thread)
    if run is not None and run.name != name and run.state.is_paused():  # an earlier one's run: run again, it ends
        reschedule(run, f"{thread} {n} opened: the acts are recorded on it")
    if waits:
        return reconcile_run(reference, WAITS[Thread(thread)], flow=thread, name=name, stage=thread, n=n)
    if run is not None and run.name == name and run.state.is_paused():
        return "ended" if catch_up(run, WAITS[Thread(thread)]) else "waiting"
    return "none waiting"


def bring_in_line(event: CaseEvent) -> str:
    """After `ehc` recorded `event`: resume the thread's run with it if the run is suspended on that act (as the
    needs assessment's and the review's are woken), else bring the run in line as the reconciler would."""
    thread = Thread(event.flow)
    try:
        run = case_run(event.reference, thread)
        n, _ = current(event.reference, thread)
        if run is not None and n is not None and run.name == run_name(event.reference, thread, n):
            said = wake(event)
            if said == "resumed":
                return said
        return reconcile_thread(event.reference, thread)
    except ObjectNotFound:  # no deployment to start it from: the reconciler starts it once one is served
        return "no deployment"


# --- the daily watch: cease-review prompts ----------------------------------------------------------


@task(name="cease-review prompts", task_run_name="cease-review prompts {on}", cache_policy=NO_CACHE)
def prompt_cease_reviews(on: dt.date) -> int:
    """Open a cease-review prompt for each young person with a plan in force who has reached 25 (CFA s46), run
    by the deadline watch before it chases, so a prompt opened today is chased from today. Once per case: a case
    already prompted, or with a decision to cease, is passed over, so every day's watch may run it."""
    with session() as s:
        opened = len(cease_prompts.prompt_aged_25(s, on, WATCH_ACTOR))
    get_run_logger().info("%s: %d cease review prompt%s opened", on, opened, "" if opened == 1 else "s")
    return opened
