"""Tasks of the review family: open a cycle, seek preparation-for-adulthood advice, notify the decision,
send each SENCO the term's reviews, and show a review in the Prefect UI without personal data.

Each task reads and writes the case store and is safe to repeat: messages go through the outbox with a
unique key, so a resumed run never sends twice."""

from __future__ import annotations

import datetime as dt

from prefect import runtime, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from models import casework, reviews
from models.contacts import contact_for
from models.db import session
from models.notice import Notice, NoticeKind, Recipient
from models.settings import settings, today
from models.vocabulary import Role
from notifications import compose
from notifications.outbox import enqueue

ADVICE_LABELS = {"adult_social_care": "adult social care", "pfa": "careers (preparation for adulthood)"}


def artifact_key(reference: str) -> str:
    """Prefect artifact keys allow lower-case letters, digits and dashes: one key per plan."""
    return f"review-{reference.lower()}"


@task(task_run_name="open reviews falling due")
def open_due_reviews() -> list[tuple[str, int]]:
    """Open every plan's next review a term ahead of the term its meeting falls due in."""
    on, actor = today(), settings().actor
    opened = []
    with session() as s:
        for case, planned in reviews.pending_cycles(s, on):
            if reviews.falls_due(planned, on):
                review = reviews.open_review(s, case, on, actor)
                opened.append((case.reference, review.cycle))
    return opened


@task(task_run_name="find reviews that changed")
def reviews_to_run() -> list[tuple[str, int]]:
    """(reference, cycle) of the reviews whose store changed since their run last looked, or with no run."""
    with session() as s:
        return [(case.reference, review.cycle) for case, review in reviews.reviews_to_advance(s)]


@task(task_run_name="{reference}: record the review run")
def note_run(reference: str, cycle: int) -> int:
    """Tie the cycle to this run; returns the review's version as this run reads it."""
    with session() as s:
        review = reviews.get_review(s, casework.get_case(s, reference), cycle)
        review.flow_run_id = str(runtime.flow_run.id)
        s.add(review)
        return review.version


@task(task_run_name="{reference}: seek preparation-for-adulthood advice")
def request_review_advice(reference: str, cycle: int) -> int:
    """From Year 9, ask the services the case flags for advice before the meeting (reg 21(6))."""
    sent = 0
    with session() as s:
        case = casework.get_case(s, reference)
        for step in casework.open_steps(s, case):
            if not step.key.startswith(f"review:{cycle}:advice:"):
                continue
            contact = contact_for(s, step.role)
            enqueue(s, idempotency_key=f"advice_request:step:{step.id}", kind="review_advice_request",
                    recipient_role=step.role, recipient_email=contact.email, on=today(), case=case, step=step,
                    context={"council": settings().council_name, "source_label": ADVICE_LABELS[step.source],
                             "due": step.due_on.isoformat(), "meeting": step.started_on.isoformat(),
                             "action": "advice for an annual review"})
            sent += 1
    return sent


@task(task_run_name="{reference}: notify the review decision")
def notify_decision(reference: str, cycle: int) -> bool:
    """Tell the family the council's decision to maintain or amend (reg 20(10)), with what follows from it; a
    decision to cease has its own notice (`tasks.transfer.notify_cease`)."""
    with session() as s:
        case = casework.get_case(s, reference)
        review = reviews.get_review(s, case, cycle)
        if review.decision not in ("maintain", "amend"):
            return False
        next_annual = casework.find_step(s, case, f"review.annual:{cycle + 1}")
        context = {
            "council": settings().council_name, "decision": review.decision, "cycle": cycle,
            "action": f"annual review decision: {review.decision}", "decided_on": review.decided_on.isoformat(),
            "representations_close": _iso(review.representations_close_on),
            "amended_final_due": _iso(review.amended_final_due_on),
            "next_review_due": _iso(next_annual.due_on if next_annual else None),
        }
        compose.write(s, [Notice(NoticeKind.REVIEW_DECISION, review.decided_on, (Recipient(Role.FAMILY),),
                                 case_id=case.id, occasion=str(cycle), facts=context)])
    return True


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


@task(task_run_name="send each SENCO the reviews due this term")
def send_term_lists() -> int:
    """Once a term: each setting's SENCO gets the references and dates of the reviews due in the term.
    The key names the term and the setting, so a daily run sends each list once."""
    on = today()
    label, first, last = reviews.term_of(on)
    sent = 0
    with session() as s:
        for setting, items in reviews.reviews_due_in_term(s, on).items():
            senco = contact_for(s, "senco", setting)
            rows = [{"reference": c.reference, "cycle": r.cycle, "meeting_by": r.meeting_by_on.isoformat(),
                     "annual_due": r.annual_due_on.isoformat(), "pfa": r.pfa_required,
                     "phase_transfer": r.phase_transfer or ""} for c, r in items]
            enqueue(s, idempotency_key=f"review_list:{label}:{setting or 'no setting'}", kind="review_list",
                    recipient_role="senco", recipient_email=senco.email, on=on,
                    context={"council": settings().council_name, "term": label, "setting": setting,
                             "first": first.isoformat(), "last": last.isoformat(), "rows": rows,
                             "action": f"annual reviews due {label}"})
            sent += 1
    return sent


@task(task_run_name="{reference}: show review {cycle}")
def show_review(reference: str, cycle: int) -> dict:
    """A markdown artifact keyed per plan: reference, stage and due dates only, never personal data."""
    with session() as s:
        case = casework.get_case(s, reference)
        review = reviews.get_review(s, case, cycle)
        info = reviews.card(case, review, reviews.cycle_steps(s, review))
    dates = "\n".join(f"| {name.replace('_', ' ')} | {value} |" for name, value in info["dates"].items() if value)
    steps = "\n".join(f"| `{st['key']}` | {st['role']} | {st['due']} | {st['status']} | {st['completed_on'] or ''} |"
                      for st in info["steps"])
    flags = ", ".join(f for f, on in (("under 5: 3-6-monthly (CoP 9.178)", info["early_years"]),
                                      ("preparation for adulthood (reg 21(6))", info["pfa_required"]),
                                      (f"phase transfer ({info['phase_transfer']}, reg 18)", info["phase_transfer"]))
                      if on) or "none"
    create_markdown_artifact(
        key=artifact_key(reference),
        description=f"{reference}: review {cycle}",
        markdown=f"# {reference} · review {cycle}\n\n**Stage:** {info['stage']} ({info['status']})  \n"
                 f"**Flags:** {flags}\n\n| date | |\n|---|---|\n{dates}\n\n"
                 f"| step | who | due | status | done |\n|---|---|---|---|---|\n{steps}\n",
    )
    return {"status": info["status"], "stage": info["stage"],
            "next": min(((st["due"], st["key"]) for st in info["steps"] if st["status"] == "open"), default=None)}


@task(task_run_name="show open reviews")
def show_open_reviews() -> int:
    """One table of every open review: reference, cycle, stage, dates (the caseload at a glance)."""
    with session() as s:
        rows = [{"reference": c.reference, "cycle": r.cycle, "stage": r.stage,
                 "meeting_by": r.meeting_by_on.isoformat(), "meeting": _iso(r.meeting_on) or "",
                 "annual_due": r.annual_due_on.isoformat(), "transfer_due": _iso(r.transfer_due_on) or "",
                 "pfa": r.pfa_required} for c, r in reviews.open_reviews(s)]
    create_table_artifact(key="open-reviews", table=rows or [{"reference": "none"}],
                          description=f"Open reviews on {today()}")
    return len(rows)


@task(task_run_name="{reference}: review {cycle} seen")
def mark_seen(reference: str, cycle: int, version: int) -> None:
    with session() as s:
        reviews.mark_seen(s, reviews.get_review(s, casework.get_case(s, reference), cycle), version)

