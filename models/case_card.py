"""The case card: what a caseworker needs to see of one case on its Prefect run (reference, stage, the named
caseworker, each statutory date and its state, what is late, what the run waits for and how to move it), and the
run's tags the UI filters by. Read from the store in a fixed number of queries however many cases; rendered by
a pure function. Nothing personal: the case is named by its reference, never the child or the family."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import statutory
from models.caseload import staff_handle
from models.cases import AuditEvent, Case, ClockException, Contact, Step
from models.review import Review, card
from models.vocabulary import CaseStatus, Role, StepStatus

CARDS_SHOWN = "case cards shown"
CARDS_ACTOR = "deadline-watch"
OVERDUE_TAG = "overdue"
CASEWORKER_TAG = "caseworker:"
UNASSIGNED = "unassigned"


class Awaited(NamedTuple):
    """The act a run is suspended for: its form's name on the run, what it records, its regulation, and the
    command that records it from a shell (with the case's reference)."""

    form: str
    title: str
    regulation: str
    command: str


@dataclass
class CardFacts:
    """One case as its card shows it (plain store rows, no personal data)."""

    case_id: int
    reference: str
    stage: str
    status: str
    caseworker: str | None  # the caseworker's work address
    caseworker_name: str | None = None  # as the directory names them
    steps: list[Step] = field(default_factory=list)
    exceptions: list[ClockException] = field(default_factory=list)
    review: Review | None = None  # the case's latest review cycle


def card_key(reference: str) -> str:
    """`case-ehc-2026-00001`: Prefect artifact keys allow lower-case letters, digits and dashes only."""
    return "case-" + "".join(ch if ch.isalnum() else "-" for ch in reference.lower())


def read_cards(s: Session, case_ids: set[int] | list[int]) -> dict[int, CardFacts]:
    """The cards' facts of the given cases: five queries, whatever their number."""
    ids = sorted(case_ids)
    if not ids:
        return {}
    cases = s.exec(select(Case.id, Case.reference, Case.stage, Case.status, Case.caseworker_email)
                   .where(col(Case.id).in_(ids)))
    facts = {cid: CardFacts(cid, ref, stage, status, worker) for cid, ref, stage, status, worker in cases}
    for step in s.exec(select(Step).where(col(Step.case_id).in_(ids)).order_by(Step.due_on, Step.id)):
        facts[step.case_id].steps.append(step)
    for exc in s.exec(select(ClockException).where(col(ClockException.case_id).in_(ids))
                      .order_by(ClockException.start_on, ClockException.id)):
        facts[exc.case_id].exceptions.append(exc)
    for review in s.exec(select(Review).where(col(Review.case_id).in_(ids)).order_by(Review.cycle)):
        facts[review.case_id].review = review  # the latest cycle last
    workers = {f.caseworker for f in facts.values() if f.caseworker}
    if workers:
        names = {email.casefold(): name for email, name in s.exec(
            select(Contact.email, Contact.name).where(col(Contact.name).is_not(None)))}
        for f in facts.values():
            f.caseworker_name = names.get((f.caseworker or "").casefold())
    return facts


def read_card(s: Session, case: Case) -> CardFacts:
    return read_cards(s, [case.id])[case.id]


def is_late(step: Step, on: dt.date) -> bool:
    """Past its statutory date and still owed: open, not set aside by a clock exception, not the family's (their
    windows are rights, not duties). What the watch chases and escalates, and the caseload counts overdue."""
    return (step.status == StepStatus.OPEN and step.due_on < on and not step.disapplied
            and step.role != Role.FAMILY)


def late_steps(facts: CardFacts, on: dt.date) -> list[Step]:
    return [st for st in facts.steps if is_late(st, on)]


def _days(n: int) -> str:
    return f"{n} day{'' if n == 1 else 's'}"


def _setting_aside(step: Step, exceptions: list[ClockException]) -> str:
    kinds = statutory.case_exception_kinds(step.rule_id) if step.rule_id else ()
    which = [f"{e.kind} {e.start_on} to {e.end_on}" for e in exceptions
             if (e.step_id in (None, step.id)) and e.kind in kinds]
    return "set aside by a clock exception" + (f" ({'; '.join(which)})" if which else "")


def step_state(step: Step, on: dt.date, exceptions: list[ClockException] = ()) -> str:
    """A step's state on `on`, in a caseworker's words: done on DATE, cancelled, set aside by an exception,
    overdue N days, due today, due in N days (a family's window: open or closed)."""
    if step.status == StepStatus.DONE:
        late = f", {_days((step.completed_on - step.due_on).days)} late" if step.completed_on > step.due_on else ""
        return f"done on {step.completed_on}{late}"
    if step.status == StepStatus.CANCELLED:
        return "cancelled"
    if step.disapplied:
        return _setting_aside(step, list(exceptions))
    days = (step.due_on - on).days
    if step.role == Role.FAMILY:
        return "the family's window is open" if days >= 0 else "the family's window has closed"
    if days < 0:
        return f"**overdue {_days(-days)}**"
    return "due today" if days == 0 else f"due in {_days(days)}"


def caseworker_tag(facts: CardFacts) -> str:
    """`caseworker:<staff id>`: the staff handle of the named caseworker (`caseworker:unassigned` without one)."""
    return CASEWORKER_TAG + (staff_handle(facts.caseworker) if facts.caseworker else UNASSIGNED)


def run_tags(facts: CardFacts, on: dt.date) -> list[str]:
    """The tags the case's run carries beyond its case and stage: its caseworker, and `overdue` while a step
    is late (a closed case is late on nothing)."""
    late = facts.status != CaseStatus.CLOSED and bool(late_steps(facts, on))
    return [caseworker_tag(facts), *([OVERDUE_TAG] if late else [])]


def render(facts: CardFacts, on: dt.date, awaited: Awaited | None = None) -> str:
    """The card as Markdown, as of `on`. Pure: facts in, text out."""
    who = facts.caseworker_name or facts.caseworker
    worker = (f"{who} (`{caseworker_tag(facts)}`)" if facts.caseworker
              else "none named yet: `ehc case assign REF --caseworker EMAIL`")
    lines = [f"# {facts.reference} · {facts.stage.replace('_', ' ')}", "",
             f"**As of** {on} · **status** {facts.status.replace('_', ' ')} · **caseworker** {worker}", ""]
    late = late_steps(facts, on) if facts.status != CaseStatus.CLOSED else []
    lines += ["## What is late", ""]
    lines += [f"- `{st.key}` ({st.role}, {st.rule_id or 'no statutory rule'}): due {st.due_on}, "
              f"overdue {_days((on - st.due_on).days)}" for st in late] or ["- nothing"]
    lines += ["", "## What the run waits for", ""]
    if awaited is not None:
        lines += [f"**{awaited.title}** ({awaited.regulation}).", "",
                  f"To move it: the form `{awaited.form}` on this run (**Resume**), or from a shell:",
                  "", f"    {awaited.command}"]
    elif facts.status == CaseStatus.CLOSED:
        lines.append("nothing: the case is closed")
    else:
        lines.append("nothing on a form at this moment (the run is working, or waits for the next stage)")
    lines += ["", "## Statutory dates", "", "| step | who | rule | due | state |", "|---|---|---|---|---|"]
    lines += [f"| `{st.key}` | {st.role} | {st.rule_id or ''} | {st.due_on} | "
              f"{step_state(st, on, facts.exceptions)} |" for st in facts.steps]
    if facts.exceptions:
        lines += ["", "## Clock exceptions", ""]
        lines += [f"- {e.kind}: {e.start_on} to {e.end_on} ({statutory.EXCEPTION_REGULATIONS.get(e.kind, '')})"
                  for e in facts.exceptions]
    if facts.review is not None:
        info = card(Case(reference=facts.reference), facts.review, [])
        flags = [f for f, is_on in (("under 5: 3-6-monthly (CoP 9.178)", info["early_years"]),
                                    ("preparation for adulthood (reg 21(6))", info["pfa_required"]),
                                    (f"phase transfer ({info['phase_transfer']}, reg 18)", info["phase_transfer"]))
                 if is_on]
        lines += ["", f"## Review {info['cycle']}: {info['stage'].replace('_', ' ')} ({info['status']})", "",
                  f"**Flags:** {', '.join(flags) or 'none'}", "", "| date | |", "|---|---|"]
        lines += [f"| {name.replace('_', ' ')} | {value} |" for name, value in info["dates"].items() if value]
    return "\n".join(lines) + "\n"


# --- which cases' cards and tags the daily watch refreshes ---------------------------------------------


def changed_since_cards(s: Session, on: dt.date) -> tuple[set[int], int]:
    """The cases whose card or tags may have changed since the watch last showed them: every case with an act
    since then (audit events after its watermark: acts recorded while Prefect was unreachable too), and every case
    with a step that has become late since that day (on the first pass: every case with a late step). Returns
    them and the newest audit id (the next watermark). Two indexed queries."""
    a, st = AuditEvent.__table__.c, Step.__table__.c
    conn = s.connection()
    last = conn.execute(sa.select(a.detail, a.on).where(a.case_id.is_(None), a.action == CARDS_SHOWN)
                        .order_by(a.id.desc()).limit(1)).first()
    since, since_on = (int(last.detail["audit_id"]), last.on) if last else (0, None)
    newest = conn.execute(sa.select(sa.func.max(a.id))).scalar() or 0
    changed = set(conn.execute(sa.select(a.case_id).where(a.id > since, a.case_id.is_not(None))
                               .distinct()).scalars())
    became_late = [st.status == StepStatus.OPEN, st.due_on < on, st.disapplied.is_(False), st.role != Role.FAMILY]
    if since_on is not None:
        became_late.append(st.due_on >= since_on)  # late on `on`, not yet late when the cards were last shown
    changed |= set(conn.execute(sa.select(st.case_id).where(*became_late).distinct()).scalars())
    return changed, newest


def record_cards_shown(s: Session, on: dt.date, watermark: int, **counts) -> None:
    """The watermark of the cards shown: recorded only once Prefect took them, so a watch that could not reach it
    leaves them for the next."""
    s.add(AuditEvent(case_id=None, actor=CARDS_ACTOR, action=CARDS_SHOWN, on=on,
                     detail={"audit_id": watermark, **counts}))
