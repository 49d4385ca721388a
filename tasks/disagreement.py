"""The acts of disagreement resolution as typed events (mediation, appeals, complaints, disputes, cease-review
prompts): each records its act in `models` and returns its notices; `tasks.waiting.record` writes both in one
transaction. No run waits on these yet: `waits_on` names the store condition a run would wait on (a step key,
`<n>` for the case's current mediation, appeal, complaint or dispute), for when they get Prefect forms."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from models import appeals, cease_prompts, complaints, disputes, mediation
from models.vocabulary import CEASE_REVIEW_KEY
from tasks.waiting import CaseEvent


class MediationWanted(CaseEvent):
    """The family told the mediation adviser it wants mediation about a decision, on these issues (reg 33-37)."""

    waits_on: ClassVar[str] = "mediation:<n>:held"
    title: ClassVar[str] = "mediation wanted"
    regulation: ClassVar[str] = "reg 33"
    command: ClassVar[str] = "ehc mediation wanted {ref} --about GROUND --issue ISSUE --on DATE"

    about: str
    issues: list[str]
    on: dt.date

    def record(self, s, on_today, actor):
        return mediation.wanted(s, self.reference, self.about, self.issues, self.on, on_today, actor)


class MediationHeld(CaseEvent):
    """Mediation took place; the acts of any agreement, the council's and the ICB's (reg 42)."""

    waits_on: ClassVar[str] = "mediation:<n>:held"
    title: ClassVar[str] = "mediation held"
    regulation: ClassVar[str] = "reg 42"
    command: ClassVar[str] = "ehc mediation held {ref} --about GROUND --on DATE [--act TEXT] [--icb-act TEXT]"

    about: str
    on: dt.date
    acts: list[str] = []
    icb_acts: list[str] = []

    def record(self, s, on_today, actor):
        return mediation.held(s, self.reference, self.about, self.on, on_today, actor, self.acts, self.icb_acts)


class MediationActDone(CaseEvent):
    """An act of a mediation agreement done (reg 42)."""

    waits_on: ClassVar[str] = "mediation:<n>:act:<i>"
    title: ClassVar[str] = "agreed act done"
    regulation: ClassVar[str] = "reg 42"
    command: ClassVar[str] = "ehc mediation act-done {ref} --mediation N --act I --on DATE"

    mediation: int
    act: int
    on: dt.date

    def record(self, s, on_today, actor):
        return mediation.agreed_act_done(s, self.reference, self.mediation, self.act, self.on, on_today, actor)


class MediationCertificate(CaseEvent):
    """The mediation certificate: declined, not arranged, or after mediation (reg 34, 39)."""

    waits_on: ClassVar[str] = "mediation:<n>:held"
    title: ClassVar[str] = "mediation certificate"
    regulation: ClassVar[str] = "reg 34, 39"
    command: ClassVar[str] = ("ehc mediation certificate {ref} --about GROUND --kind declined|not_arranged|after "
                              "--from DATE --on DATE")

    about: str
    kind: str
    limit_from: dt.date
    on: dt.date

    def record(self, s, on_today, actor):
        return mediation.certificate(s, self.reference, self.about, self.kind, self.limit_from, self.on, on_today,
                                     actor)


class AppealLodged(CaseEvent):
    """The Tribunal registered the family's appeal (CFA s51; Tribunal rule 20(1)(c))."""

    waits_on: ClassVar[str] = "appeal:<n>:response"
    title: ClassVar[str] = "appeal lodged"
    regulation: ClassVar[str] = "CFA s51"
    command: ClassVar[str] = "ehc appeal lodged {ref} --on DATE --against GROUND [--response-due DATE]"

    against: str
    on: dt.date
    response_due: dt.date | None = None

    def record(self, s, on_today, actor):
        return appeals.lodged(s, self.reference, self.against, self.on, on_today, actor, self.response_due)


class AppealResponded(CaseEvent):
    """The council's response sent to the Tribunal."""

    waits_on: ClassVar[str] = "appeal:<n>:response"
    title: ClassVar[str] = "response to the appeal"
    regulation: ClassVar[str] = "Tribunal directions"
    command: ClassVar[str] = "ehc appeal responded {ref} --on DATE"

    on: dt.date

    def record(self, s, on_today, actor):
        return appeals.responded(s, self.reference, self.on, on_today, actor)


class AppealHearing(CaseEvent):
    """The day the Tribunal listed the hearing for."""

    waits_on: ClassVar[str] = "appeal:<n>:response"
    title: ClassVar[str] = "hearing listed"
    regulation: ClassVar[str] = "Tribunal directions"
    command: ClassVar[str] = "ehc appeal hearing {ref} --on DATE"

    on: dt.date

    def record(self, s, on_today, actor):
        return appeals.hearing(s, self.reference, self.on, actor)


class AppealConceded(CaseEvent):
    """The council told the Tribunal it will not oppose the appeal, before its response (reg 45)."""

    waits_on: ClassVar[str] = "appeal:<n>:response"
    title: ClassVar[str] = "appeal not opposed"
    regulation: ClassVar[str] = "reg 45"
    command: ClassVar[str] = "ehc appeal conceded {ref} --on DATE"

    on: dt.date

    def record(self, s, on_today, actor):
        return appeals.conceded(s, self.reference, self.on, on_today, actor)


class AppealDecided(CaseEvent):
    """The appeal ended: dismissed, an order (reg 44), or withdrawn."""

    waits_on: ClassVar[str] = "appeal:<n>:response"
    title: ClassVar[str] = "appeal decided"
    regulation: ClassVar[str] = "reg 44"
    command: ClassVar[str] = "ehc appeal decided {ref} --on DATE --outcome dismissed|order|withdrawn [--order ORDER]"

    outcome: str
    on: dt.date
    order: str | None = None

    def record(self, s, on_today, actor):
        return appeals.decided(s, self.reference, self.outcome, self.on, on_today, actor, self.order)


class AppealLimitMet(CaseEvent):
    """The council did what an order or a concession required (a `tribunal.*` or `unopposed.*` limit)."""

    waits_on: ClassVar[str] = "appeal:<n>:<limit>"
    title: ClassVar[str] = "order carried out"
    regulation: ClassVar[str] = "reg 44-45"
    command: ClassVar[str] = "ehc appeal complied {ref} --limit LIMIT --on DATE"

    limit: str
    on: dt.date

    def record(self, s, on_today, actor):
        return appeals.limit_met(s, self.reference, self.limit, self.on, on_today, actor)


class ComplaintReceived(CaseEvent):
    """A complaint about the case reached the council."""

    waits_on: ClassVar[str] = "complaint:<n>:acknowledge"
    title: ClassVar[str] = "complaint received"
    regulation: ClassVar[str] = "the council's complaints procedure"
    command: ClassVar[str] = "ehc complaint received {ref} --on DATE"

    on: dt.date

    def record(self, s, on_today, actor):
        return complaints.received(s, self.reference, self.on, on_today, actor)


class ComplaintAcknowledged(CaseEvent):
    waits_on: ClassVar[str] = "complaint:<n>:acknowledge"
    title: ClassVar[str] = "complaint acknowledged"
    regulation: ClassVar[str] = "the council's complaints procedure"
    command: ClassVar[str] = "ehc complaint acknowledged {ref} --on DATE"

    on: dt.date
    complaint: int | None = None

    def record(self, s, on_today, actor):
        return complaints.acknowledged(s, self.reference, self.on, on_today, actor, self.complaint)


class ComplaintResponded(CaseEvent):
    waits_on: ClassVar[str] = "complaint:<n>:respond"
    title: ClassVar[str] = "complaint responded to"
    regulation: ClassVar[str] = "the council's complaints procedure"
    command: ClassVar[str] = "ehc complaint responded {ref} --on DATE --finding upheld|partly-upheld|not-upheld"

    on: dt.date
    finding: str
    complaint: int | None = None

    def record(self, s, on_today, actor):
        return complaints.responded(s, self.reference, self.on, self.finding, on_today, actor, self.complaint)


class ComplaintEscalated(CaseEvent):
    waits_on: ClassVar[str] = "complaint:<n>:respond"
    title: ClassVar[str] = "complaint taken to the Ombudsman"
    regulation: ClassVar[str] = "Local Government Act 1974, Part 3"
    command: ClassVar[str] = "ehc complaint escalated {ref} --on DATE"

    on: dt.date
    complaint: int | None = None

    def record(self, s, on_today, actor):
        return complaints.escalated(s, self.reference, self.on, on_today, actor, self.complaint)


class OmbudsmanDecided(CaseEvent):
    waits_on: ClassVar[str] = "complaint:<n>:respond"
    title: ClassVar[str] = "the Ombudsman's decision"
    regulation: ClassVar[str] = "Local Government Act 1974, Part 3"
    command: ClassVar[str] = "ehc complaint ombudsman {ref} --on DATE --finding FINDING"

    on: dt.date
    finding: str
    complaint: int | None = None

    def record(self, s, on_today, actor):
        return complaints.ombudsman_decided(s, self.reference, self.on, self.finding, on_today, actor,
                                            self.complaint)


class DisputeRaised(CaseEvent):
    """The council raised a dispute with health or social care over the case's provision or funding."""

    waits_on: ClassVar[str] = "dispute:<n>:resolve"
    title: ClassVar[str] = "dispute raised"
    regulation: ClassVar[str] = "the local disputes protocol"
    command: ClassVar[str] = "ehc dispute raised {ref} --with health|social_care --over provision|funding --on DATE"

    party: str
    subject: str
    on: dt.date

    def record(self, s, on_today, actor):
        return disputes.raised(s, self.reference, self.party, self.subject, self.on, on_today, actor)


class DisputeEscalated(CaseEvent):
    waits_on: ClassVar[str] = "dispute:<n>:disputes_process"
    title: ClassVar[str] = "dispute escalated"
    regulation: ClassVar[str] = "the local disputes protocol"
    command: ClassVar[str] = "ehc dispute escalated {ref} --on DATE"

    on: dt.date
    dispute: int | None = None

    def record(self, s, on_today, actor):
        return disputes.escalated(s, self.reference, self.on, on_today, actor, self.dispute)


class DisputeResolved(CaseEvent):
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
