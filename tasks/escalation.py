"""The escalation queues in the Prefect UI: one table artifact per queue, refreshed by every watch, and one
long-lived run per queue (`dco-queue`, …) suspended on a form listing the queue's open items, on which the DCO or
the manager acknowledges or resolves each.

The queues themselves (routing, opening, acknowledging, resolving) are `models.escalation`. The form's answer
is read back from the run's last suspension each time the run starts again, recorded in the store (idempotent:
an item already resolved is passed over), and the run suspends afresh with the refreshed list."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import httpx
from prefect import get_client, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound, PrefectException, PrefectHTTPStatusError
from prefect.input import RunInput
from pydantic import Field, create_model

from models import cannot_notify
from models.contacts import staff_member
from models.db import session
from models.errors import InputError
from models.escalation import QUEUES, QueueItem, act_on_queue, queue_items
from models.settings import today
from models.vocabulary import QueueAct
from tasks.waiting import api_answers, newest_run, reschedule

CANNOT_NOTIFY_KEY = "queue-cannot-notify"
ESCALATION_QUEUE = "escalation-queue"
ITEM = re.compile(r"^item_(\d+)$")


def artifact_key(queue: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes: `queue-social-care-manager`."""
    return f"queue-{queue.replace('_', '-')}"


def run_name(queue: str) -> str:
    """The queue's run: `dco-queue`, `social-care-manager-queue`."""
    return f"{queue.replace('_', '-')}-queue"


def age(item: QueueItem, on: dt.date) -> int:
    """Days the item has been on the queue."""
    return (on - item.opened_on).days


def _rows(items: list[QueueItem], on: dt.date) -> list[dict]:
    return [{"escalation": i.id, "case": i.reference, "step": i.step, "due": i.due_on.isoformat(), "tier": i.tier,
             "age (days)": age(i, on), "opened": i.opened_on.isoformat(), "acknowledged by": i.acknowledged_by or ""}
            for i in items]


def publish_queue(queue: str, items: list[QueueItem], on: dt.date) -> None:
    """The queue's table artifact, same key every time, so the UI shows the queue as it stands."""
    create_table_artifact(_rows(items, on) or [{"escalation": "", "case": "queue empty"}], key=artifact_key(queue),
                          description=f"Open escalations on the {queue} queue ({len(items)}), oldest first, with "
                                      f"each item's tier and age in days on {on}. Act on them on the "
                                      f"`{run_name(queue)}` run's form, or `ehc queue ack|resolve`.")


@task(name="publish queues")
def publish_queues(on: dt.date | None = None) -> dict[str, int]:
    """One table artifact per queue (each item's age counted to `on`, default today), and one of the
    `cannot_notify` queue, same key every run, so the UI always shows each queue as it stands."""
    sizes = {}
    on = on or today()
    with session() as s:
        for queue in QUEUES:
            items = queue_items(s, queue)
            publish_queue(queue, items, on)
            sizes[str(queue)] = len(items)
        unreachable = cannot_notify.items(s)
        rows = [{"item": i.id, "case": i.reference or "", "notice": i.kind, "to": i.recipient_role,
                 "reason": i.reason, "caseworker": i.caseworker or "", "on": i.on.isoformat()} for i in unreachable]
        create_table_artifact(rows or [{"item": "", "case": "queue empty"}], key=CANNOT_NOTIFY_KEY,
                              description=f"Notices nobody could be sent ({len(unreachable)}), for each case's "
                                          "caseworker, oldest first.")
    return sizes


# --- the queue's form -------------------------------------------------------------------------------


def digest(items: list[QueueItem], on: dt.date) -> str:
    """What the form shows on `on` (each item's age is counted to it), in 8 hex digits: the watch refreshes a run
    whose form shows another list or another day's ages."""
    shown = [on.isoformat(), *((i.id, i.tier, i.acknowledged_by) for i in items)]
    return hashlib.sha256(json.dumps(shown).encode()).hexdigest()[:8]


def pause_key(queue: str, suspensions: int, items: list[QueueItem], on: dt.date) -> str:
    """`dco-3-1a2b3c4d`: the queue, how many times its run has suspended before, and the list it shows."""
    return f"{queue.replace('_', '-')}-{suspensions}-{digest(items, on)}"


def shown_digest(run: FlowRun) -> str | None:
    """The digest of the list a suspended queue run's form shows, read back from its pause key."""
    key = run.state.state_details.pause_key if run.state and run.state.is_paused() else None
    return key.rpartition("-")[2] if key else None


def queue_form(queue: str, items: list[QueueItem], on: dt.date, refused: str | None = None) -> type[RunInput]:
    """The typed form: one explicit choice per open item (no default), who is recording, and the note a
    resolution needs. Items are named by case reference, step, tier and age: no personal data."""
    fields: dict = {}
    for i in items:
        state = f"acknowledged by {i.acknowledged_by}" if i.acknowledged_by else "not yet acknowledged"
        fields[f"item_{i.id}"] = (QueueAct, Field(title=f"{i.reference} · {i.step} · tier {i.tier} · {age(i, on)} "
                                                        f"days on the queue",
                                                  description=f"Escalation {i.id}: due {i.due_on}, {state}. "
                                                              "Acknowledge, resolve or leave (no default)."))
    fields["recorded_by"] = (str, Field(description="Who is recording this: your name or email as the council's "
                                                    "directory has it (the audit keeps it)"))
    fields["note"] = (str, Field("", description="What was done: needed for each item you resolve"))
    form = create_model("QueueActs", __base__=RunInput, **fields)
    lines = [f"- `{i.reference}` {i.step}: tier **{i.tier}**, **{age(i, on)}** days, due {i.due_on}" for i in items]
    why = f"**Your last answer was refused:** {refused}\n\n" if refused else ""
    description = (f"### The {queue} queue on {on}: {len(items)} open item(s)\n\n{why}"
                   + ("\n".join(lines) or "Nothing open.")
                   + "\n\nOr from a shell: `ehc queue ack ID --by NAME`, `ehc queue resolve ID --note …`")
    return form.with_initial_data(description=description)


def record_answer(queue: str, answer: dict) -> str | None:
    """Record a queue form's answer in the store, in the name of who gave it (checked against the council's
    directory), all or nothing. Returns why it was refused (the field and the rule), else None."""
    choices = {int(m.group(1)): value for key, value in answer.items() if (m := ITEM.match(key))}
    try:
        with session() as s:
            who = staff_member(s, answer.get("recorded_by"))
            done = act_on_queue(s, queue, choices, f"{who} (Prefect form)", answer.get("note"))
    except (InputError, ValueError) as exc:
        error = exc if isinstance(exc, InputError) else InputError("choice", "acknowledge, resolve or leave")
        get_run_logger().warning("%s queue answer refused: %s", queue, error)
        return f"{error.field}: {error.rule}"
    get_run_logger().info("%s queue: %s", queue, done)
    return None


@task(name="record queue answer", task_run_name="{queue} queue answer", cache_policy=NO_CACHE)
def record_last_answer(queue: str, run_id) -> tuple[int, str | None]:
    """The answer given on the run's last suspension, if any, recorded; returns how many times the run has
    suspended and why the answer was refused (else None). Recording twice changes nothing."""
    with get_client(sync_client=True) as client:
        paused = sorted((st for st in client.read_flow_run_states(run_id) if st.is_paused()),
                        key=lambda st: st.timestamp)
        keyset = paused[-1].state_details.run_input_keyset if paused else None
        try:
            raw = client.read_flow_run_input(run_id, keyset["response"]) if keyset else None
        except PrefectHTTPStatusError as exc:  # 404: suspended, then run again by the watch without an answer
            if exc.response.status_code != 404:
                raise
            raw = None
    return len(paused), (record_answer(queue, json.loads(raw)) if raw else None)


# --- one run per queue: the watch keeps each there and current ---------------------------------------


def queue_run(queue: str) -> FlowRun | None:
    """The queue's newest run, found by its `queue:` tag."""
    return newest_run(ESCALATION_QUEUE, f"queue:{queue}")


def refresh_queue_run(queue: str) -> str:
    """Make sure the queue's run exists and its form shows the queue as the store has it: start it if missing,
    run it again if its form is stale, crashed, failed or finished. Returns what was done, in a word."""
    run = queue_run(queue)
    if run is None:
        run_deployment(f"{ESCALATION_QUEUE}/{ESCALATION_QUEUE}", parameters={"queue": str(queue)},
                       flow_run_name=run_name(queue), timeout=0, tags=[f"queue:{queue}"],
                       idempotency_key=f"{ESCALATION_QUEUE}:{queue}", as_subflow=False)
        return "started"
    state = run.state
    if state.is_paused():
        with session() as s:
            current = digest(queue_items(s, queue), today())
        if shown_digest(run) == current:
            return "current"
        reschedule(run, "the queue changed in the store")
        return "refreshed"
    if state.is_final():
        reschedule(run, f"the run was {state.name}; the queue keeps one", forget_pauses=not state.is_completed())
        return "retried"
    return "running"


@task(name="refresh queue runs", cache_policy=NO_CACHE)
def refresh_queue_runs() -> dict[str, str]:
    """Each queue's run, there and current (the daily watch). Without the Prefect API, or before a runner serves
    the deployment, the next watch catches up: the store keeps the queue."""
    if not api_answers():
        return {str(queue): "not reached" for queue in QUEUES}
    done = {}
    for queue in QUEUES:
        try:
            done[str(queue)] = refresh_queue_run(queue)
        except ObjectNotFound:  # no deployment to start it from: the next watch
            done[str(queue)] = "no deployment"
        except (PrefectException, httpx.HTTPError, OSError) as exc:  # the API went away mid-pass
            get_run_logger().warning("queue run %s: %s", queue, type(exc).__name__)
            done[str(queue)] = "not reached"
    return done
