"""The escalation queues in the Prefect UI: one table artifact per queue, refreshed by every watch.

The queues themselves (routing, opening, acknowledging, resolving) are `models.escalation`."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_table_artifact

from models import cannot_notify
from models.db import session
from models.escalation import QUEUES, queue_items

CANNOT_NOTIFY_KEY = "queue-cannot-notify"


def artifact_key(queue: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes: `queue-social-care-manager`."""
    return f"queue-{queue.replace('_', '-')}"


@task(name="publish queues")
def publish_queues() -> dict[str, int]:
    """One table artifact per queue, and one of the `cannot_notify` queue, same key every run, so the UI always
    shows each queue as it stands."""
    sizes = {}
    with session() as s:
        for queue in QUEUES:
            items = queue_items(s, queue)
            rows = [{"escalation": i.id, "case": i.reference, "step": i.step, "due": i.due_on.isoformat(),
                     "tier": i.tier, "opened": i.opened_on.isoformat(), "acknowledged by": i.acknowledged_by or ""}
                    for i in items]
            create_table_artifact(rows or [{"escalation": "", "case": "queue empty"}], key=artifact_key(queue),
                                  description=f"Open escalations on the {queue} queue ({len(items)}), oldest first.")
            sizes[str(queue)] = len(items)
        unreachable = cannot_notify.items(s)
        rows = [{"item": i.id, "case": i.reference or "", "notice": i.kind, "to": i.recipient_role,
                 "reason": i.reason, "caseworker": i.caseworker or "", "on": i.on.isoformat()} for i in unreachable]
        create_table_artifact(rows or [{"item": "", "case": "queue empty"}], key=CANNOT_NOTIFY_KEY,
                              description=f"Notices nobody could be sent ({len(unreachable)}), for each case's "
                                          "caseworker, oldest first.")
    return sizes
