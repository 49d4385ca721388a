"""The escalation queues in the Prefect UI: one table artifact per queue, refreshed by every watch.

The queues themselves (routing, opening, acknowledging, resolving) are `models.escalation`."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_table_artifact

from models.db import session
from models.escalation import QUEUES, queue_items


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
            sizes[str(queue)] = len(items)
    return sizes
