"""Escalation queues: a slipping step goes to the person who can unblock it, who acknowledges and resolves it.

Routing (INTERFACES.md): health advice → the designated clinical officer (`dco`); social care advice → the
social care team manager; educational psychology → the principal educational psychologist; the council's
own steps and everything else it owns → the SEN team manager."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_table_artifact
from sqlmodel import Session

from models.cases import Case, utcnow
from models.casework import audit
from models.db import session
from models.errors import InputError
from models.escalation import Escalation, queue_items
from models.escalation import _item as get_escalation

QUEUE_BY_ROLE = {
    "dco": "dco",
    "social_care": "social_care_manager",
    "educational_psychologist": "principal_ep",
}
DEFAULT_QUEUE = "sen_team_manager"
QUEUES = ("dco", "social_care_manager", "principal_ep", "sen_team_manager")


def queue_for(role: str) -> str:
    """The queue that hears about a step of `role` when it slips."""
    return QUEUE_BY_ROLE.get(role, DEFAULT_QUEUE)


def check_queue(queue: str) -> str:
    if queue not in QUEUES:
        raise InputError("QUEUE", f"unknown queue {queue!r} (one of {', '.join(QUEUES)})")
    return queue


def show(s: Session, queue: str, include_resolved: bool = False):
    return queue_items(s, check_queue(queue), include_resolved)


def _item(s: Session, escalation_id: int) -> Escalation:
    item = get_escalation(s, escalation_id)
    if item is None:
        raise InputError("ID", f"no escalation {escalation_id}")
    return item


def acknowledge(s: Session, escalation_id: int, by: str) -> Escalation:
    """Someone on the queue has picked the item up; a second acknowledgement keeps the first."""
    item = _item(s, escalation_id)
    if item.resolved_at is not None:
        raise InputError("ID", f"escalation {escalation_id} is already resolved")
    if item.acknowledged_at is None:
        item.acknowledged_at, item.acknowledged_by = utcnow(), by
        s.add(item)
        audit(s, s.get(Case, item.case_id), by, "escalation acknowledged", escalation=item.id, queue=item.queue)
    return item


def resolve(s: Session, escalation_id: int, by: str, note: str) -> Escalation:
    """Close the item with a note of what was done; the watch opens a new one if the step stays overdue."""
    if not note.strip():
        raise InputError("--note", "must say what was done")
    item = _item(s, escalation_id)
    if item.resolved_at is not None:
        raise InputError("ID", f"escalation {escalation_id} is already resolved")
    if item.acknowledged_at is None:
        item.acknowledged_at, item.acknowledged_by = utcnow(), by
    item.resolved_at, item.resolved_by, item.resolution_note = utcnow(), by, note.strip()
    s.add(item)
    audit(s, s.get(Case, item.case_id), by, "escalation resolved", escalation=item.id, queue=item.queue,
          note=item.resolution_note)
    return item


def artifact_key(queue: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes: `queue-social-care-manager`."""
    return f"queue-{queue.replace('_', '-')}"


@task(name="publish queues")
def publish_queues() -> dict[str, int]:
    """One table artifact per queue, same key every run, so the UI always shows the queue as it stands."""
    sizes = {}
    with session() as s:
        for queue in QUEUES:
            items = queue_items(s, queue)
            rows = [{"escalation": i.id, "case": i.reference, "step": i.step, "due": i.due_on.isoformat(),
                     "tier": i.tier, "opened": i.opened_on.isoformat(), "acknowledged by": i.acknowledged_by or ""}
                    for i in items]
            create_table_artifact(rows or [{"escalation": "", "case": "queue empty"}], key=artifact_key(queue),
                                  description=f"Open escalations on the {queue} queue ({len(items)}), oldest first.")
            sizes[queue] = len(items)
    return sizes
