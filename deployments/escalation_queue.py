"""How the escalation queues run for real: the `escalation-queue` deployment, one run per queue, started and kept
current by the daily watch; a suspended queue run occupies nothing while it waits.

`python -m deployments.escalation_queue` serves it (a long-lived process, like `flow.serve`)."""

from __future__ import annotations

from flows.escalation_queue import FLOW_NAME, escalation_queue

TAGS = ["ehc", "queue"]


def deployment():
    return escalation_queue.to_deployment(name=FLOW_NAME, tags=TAGS,
                                          description="One run per escalation queue, started by the watch; its "
                                                      "form acknowledges and resolves the queue's items.")


if __name__ == "__main__":
    escalation_queue.serve(name=FLOW_NAME, tags=TAGS)
