"""The deadline watch: chase every open step by its statutory date, escalate what slips, never send twice.

For each open step the tier of the day comes from `statutory.chase_tier`: reminders (10 and 3 days before by
default, per step kind in `EHC_REMINDER_DAYS`), due today, overdue (which opens an escalation), then still
overdue every 7 days at a rising tier, until the step is done or a clock exception sets its limit aside.
A run sends the tiers that fell due since the previous run (so Monday catches up on the weekend, and a
step created since then gets its latest tier); the outbox key (tier, step, day) makes any overlap a no-op.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from sqlmodel import Session, col, select

from models import statutory
from models.cases import Case, Child, Contact, Step
from models.casework import LA
from models.contacts import contact_for
from models.db import session
from models.errors import InputError
from models.settings import Settings, settings
from models.watch import (
    OpenStep,
    Sweep,
    escalate,
    existing_keys,
    failed_messages,
    last_sweep,
    max_step_id,
    open_due_dates,
    queue_items,
    record_sweep,
    steps_to_chase,
)
from notifications.backends import configured_backend
from notifications.dispatch import DispatchReport, dispatch
from notifications.outbox import enqueue, enqueue_once
from tasks.escalation import queue_for

DEFAULT_REMINDER_DAYS = (10, 3)
KIND_REMINDER_DAYS = {"annual_review": (56, 28, 10)}  # a review needs arranging weeks ahead (reg 20(3): 2 weeks)
REPEAT_EVERY = 7
PERSONAL_DATA = ("none", "name", "name_and_dob")
TEMPLATE = {"reminder": "reminder", "due_today": "due_today", "overdue": "overdue", "still_overdue": "overdue"}

ACTIONS = {
    "assess.decision": ("decision whether to assess", "SEND Regulations 2014, reg 5(1)"),
    "advice.provide": ("advice", "SEND Regulations 2014, reg 8(1)"),
    "plan.not_to_issue": ("notice of a decision not to issue a plan", "SEND Regulations 2014, reg 10(1)"),
    "plan.draft_latest": ("draft EHC plan", "SEND Regulations 2014, reg 13(1)-(2)"),
    "plan.final": ("final EHC plan", "SEND Regulations 2014, reg 13(2)"),
    "plan.setting_consultation": ("reply to the consultation on naming a setting", "CFA 2014, s39"),
    "review.annual": ("annual review of the EHC plan", "CFA 2014, s44(1)"),
    "review.meeting_latest": ("annual review meeting", "SEND Code of Practice 9.169"),
    "review.invitations": ("invitations to the review meeting", "SEND Regulations 2014, reg 20(3)"),
    "review.advice_circulated": ("advice circulated before the review meeting", "SEND Regulations 2014, reg 20(4)"),
    "review.report": ("review report", "SEND Regulations 2014, reg 20(7)"),
    "review.decision": ("review decision", "SEND Regulations 2014, reg 20(10)"),
    "review.phase_transfer": ("phase transfer review and amended plan", "SEND Regulations 2014, reg 18"),
    "amend.final": ("amended final EHC plan", "SEND Regulations 2014, reg 22(3)"),
    "reassess.decision": ("decision whether to re-assess", "SEND Regulations 2014, reg 25(1)"),
    "reassess.final": ("final plan after re-assessment", "SEND Regulations 2014, reg 27(2)"),
}
SOURCE_LABELS = {
    "education": "educational",
    "health": "health",
    "social_care": "social care",
    "ep": "educational psychology",
    "hi": "hearing impairment",
    "vi": "visual impairment",
    "pfa": "preparing for adulthood",
    "adult_social_care": "adult social care",
}


@dataclass(frozen=True)
class DueChase:
    """A tier that fell due for a step and has not been sent by an earlier run."""

    step: OpenStep
    chase: statutory.Chase


@dataclass
class WatchReport:
    on: dt.date
    swept: int = 0
    chases: int = 0
    messages: dict[str, int] = field(default_factory=dict)
    escalations_opened: int = 0
    escalations_raised: int = 0
    digest: bool = False

    def count(self, kind: str) -> None:
        self.messages[kind] = self.messages.get(kind, 0) + 1


def reminder_days_by_kind() -> dict[str, tuple[int, ...]]:
    configured = {kind: tuple(days) for kind, days in settings().reminder_days.items()}
    for kind, days in configured.items():
        if not days or any(d <= 0 for d in days):
            raise InputError("EHC_REMINDER_DAYS", f"{kind}: give one or more whole days before the due date")
    return {**KIND_REMINDER_DAYS, **configured}


def due_chases(rows: list[OpenStep], on: dt.date, since: Sweep | None,
               by_kind: dict[str, tuple[int, ...]]) -> list[DueChase]:
    """The tiers to send on `on`: per step its latest tier, if it fell due after the previous run's day (or the
    step is newer than that run). Pure: rows in, chases out."""
    chase_tier, since_on, newest = statutory.chase_tier, since.on if since else None, since.max_step_id if since else 0
    due = []
    for row in rows:
        chase = chase_tier(row.due_on, on, by_kind.get(row.kind, DEFAULT_REMINDER_DAYS), REPEAT_EVERY, row.started_on)
        if chase is not None and (since_on is None or chase.on > since_on or row.id > newest):
            due.append(DueChase(row, chase))
    return due


def sweep(s: Session, on: dt.date, since: Sweep | None) -> tuple[int, list[DueChase]]:
    """The tiers to send on `on`. Set-based: first the distinct due dates within the longest reminder horizon
    (index only), then only the steps due on a date whose tier fell due since the previous run, or created since
    it. Returns the rows read and the chases."""
    by_kind = reminder_days_by_kind()
    horizon = max(max(days) for days in (DEFAULT_REMINDER_DAYS, *by_kind.values()))
    due_by = statutory.within_days(on, horizon)
    if since is None:  # the first run: every step gets its latest tier
        rows = steps_to_chase(s, due_by)
    else:
        dates = open_due_dates(s, due_by)
        groups: dict[tuple[int, ...], list[str]] = {}
        for kind, days in by_kind.items():
            groups.setdefault(tuple(days), []).append(kind)

        def fell_due(days: tuple[int, ...]) -> list[dt.date]:
            chases = ((d, statutory.chase_tier(d, on, days, REPEAT_EVERY)) for d in dates)
            return [d for d, chase in chases if chase is not None and chase.on > since.on]

        wanted = {None: fell_due(DEFAULT_REMINDER_DAYS), **{tuple(k): fell_due(days) for days, k in groups.items()}}
        rows = steps_to_chase(s, due_by, wanted, since.max_step_id)
    return len(rows), due_chases(rows, on, since, by_kind)


def _long_date(d: dt.date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"


class _Directory:
    """Contacts by role, looked up once per run; the council's own steps go to the SEN caseworkers."""

    def __init__(self, s: Session) -> None:
        self.s, self.cache = s, {}

    def role_for(self, role: str) -> str:
        if role == LA:
            return "sen_caseworker"
        try:
            self.email(role)
        except InputError:
            return "sen_caseworker"
        return role

    def email(self, role: str) -> str:
        if role not in self.cache:
            self.cache[role] = contact_for(self.s, role).email
        return self.cache[role]

    def email_for(self, step: Step, role: str) -> str:
        """The step's own contact where it names one (a setting's SENCO), else the role's."""
        if step.contact_id is not None and role == step.role:
            key = f"contact:{step.contact_id}"
            if key not in self.cache:
                self.cache[key] = self.s.get(Contact, step.contact_id).email
            return self.cache[key]
        return self.email(role)


def _about_child(s: Session, case: Case, allowed: str) -> dict:
    """What a body may say about the child: nothing unless the council's setting allows it."""
    if allowed == "none":
        return {"child_name": None, "child_dob": None}
    child = s.get(Child, case.child_id)
    dob = _long_date(child.date_of_birth) if allowed == "name_and_dob" else None
    return {"child_name": child.name, "child_dob": dob}


def _context(s: Session, config: Settings, case: Case, step: Step, chase: statutory.Chase, on: dt.date) -> dict:
    rule = statutory.RULES.get(step.rule_id or "")
    fallback = (rule.summary, rule.source) if rule else (step.key.replace(".", " ").replace("_", " "), None)
    action, regulation = ACTIONS.get(step.rule_id or "", fallback)
    source_label = SOURCE_LABELS.get(step.source or "", step.source)
    if step.rule_id == "advice.provide" and source_label:
        action = f"{source_label} advice"
    return {
        "council": config.council_name,
        "action": action,
        "regulation": regulation,
        "source_label": source_label,
        "due": _long_date(step.due_on),
        "tier": chase.level,
        "days_overdue": (on - step.due_on).days,
        "days_left": (step.due_on - on).days,
        "organisation": step.organisation,
        **_about_child(s, case, config.personal_data_in_messages),
    }


def act(s: Session, on: dt.date, chases: list[DueChase], report: WatchReport) -> None:
    """Write each chase to the outbox and, once a step is overdue, open or raise its escalation."""
    if not chases:
        return
    config = settings()  # read once: building the settings costs milliseconds
    if config.personal_data_in_messages not in PERSONAL_DATA:
        raise InputError("EHC_PERSONAL_DATA_IN_MESSAGES", f"must be one of {', '.join(PERSONAL_DATA)}")
    step_ids = [c.step.id for c in chases]
    steps = {st.id: st for st in s.exec(select(Step).where(col(Step.id).in_(step_ids)))}
    cases = {c.id: c for c in s.exec(select(Case).where(col(Case.id).in_({st.case_id for st in steps.values()})))}
    directory = _Directory(s)
    key = {c.step.id: f"{c.chase.tier}:step:{c.step.id}:{c.chase.on.isoformat()}" for c in chases}
    written = existing_keys(s, list(key.values()))  # by an earlier or a concurrent run: counted once, not here
    for due in sorted(chases, key=lambda c: c.step.id):  # one order for every run: concurrent runs never deadlock
        step, chase = steps[due.step.id], due.chase
        case = cases[step.case_id]
        recipient = directory.role_for(step.role)
        kind = TEMPLATE[chase.tier]
        context = None
        if key[step.id] not in written:
            context = _context(s, config, case, step, chase, on)
            _, new = enqueue_once(s, idempotency_key=key[step.id], kind=kind, recipient_role=recipient,
                                  recipient_email=directory.email_for(step, recipient), on=on, context=context,
                                  case=case, step=step)
            if new:  # not a concurrent run's: each run counts only what it wrote
                report.count(kind)
        if chase.tier not in ("overdue", "still_overdue"):
            continue
        queue = queue_for(step.role)
        item, change = escalate(s, queue=queue, case_id=case.id, step_id=step.id, tier=chase.level, on=on)
        report.escalations_opened += change == "opened"
        report.escalations_raised += change == "raised"
        if change and queue != "dco":  # the DCO hears about health advice in one daily digest instead
            context = context or _context(s, config, case, step, chase, on)
            _, new = enqueue_once(s, idempotency_key=f"escalation:step:{step.id}:{chase.level}", kind="escalation",
                                  recipient_role=queue, recipient_email=directory.email(queue), on=on,
                                  context={**context, "queue": queue, "escalation_id": item.id,
                                           "responsible": recipient}, case=case, step=step)
            if new:
                report.count("escalation")


def dco_digest(s: Session, on: dt.date) -> bool:
    """One message a day to the designated clinical officer listing the open health escalations."""
    items = queue_items(s, "dco")
    if not items:
        return False
    lines = [{"id": i.id, "reference": i.reference, "step": i.step, "due": _long_date(i.due_on), "tier": i.tier,
              "opened": _long_date(i.opened_on), "acknowledged": i.acknowledged_by is not None} for i in items]
    enqueue(s, idempotency_key=f"dco_digest:day:{on.isoformat()}", kind="dco_digest", recipient_role="dco",
            recipient_email=contact_for(s, "dco").email, on=on,
            context={"council": settings().council_name, "action": "overdue health advice", "due": _long_date(on),
                     "items": lines})
    return True


def run_watch(on: dt.date, url: str | None = None) -> WatchReport:
    """One day of the watch, in one unit of work: chases, escalations, the DCO's digest, and the sweep's log."""
    report = WatchReport(on)
    with session(url) as s:
        since = last_sweep(s, on)
        newest = max_step_id(s)
        report.swept, chases = sweep(s, on, since)
        report.chases = len(chases)
        act(s, on, chases, report)
        report.digest = dco_digest(s, on)
        record_sweep(s, on, newest, chases=report.chases, **{f"sent_{k}": v for k, v in report.messages.items()})
    return report


@task(name="watch the day")
def watch_the_day(on: dt.date) -> WatchReport:
    report = run_watch(on)
    get_run_logger().info("%s: %d chases, messages %s, escalations opened %d raised %d", on, report.chases,
                          report.messages, report.escalations_opened, report.escalations_raised)
    return report


@task(name="send messages")
def send_messages() -> DispatchReport:
    report = dispatch(configured_backend())
    get_run_logger().info("sent %d, retrying %d, failed %d%s", report.sent, report.retrying, report.failed,
                          f"; stopped: {report.halted}" if report.halted else "")
    return report


@task(name="publish failed messages")
def publish_failed() -> int:
    """The failed-messages artifact: case reference, kind, role and reason; no address, no body."""
    with session() as s:
        rows = failed_messages(s)
    create_table_artifact(
        [{"message": r.id, "case": r.reference or "", "kind": r.kind, "to (role)": r.recipient_role,
          "attempts": r.attempts, "reason": r.reason or ""} for r in rows] or [{"message": "", "case": "none failed"}],
        key="failed-messages",
        description=f"Messages the provider refused ({len(rows)}); fix the cause, then `ehc outbox retry`.")
    return len(rows)
