"""How a case waits and wakes: the one protocol shared by the needs assessment and the annual review.

A case waits on a condition of the store (an open step). Its run suspends (`suspend_flow_run`) with the typed
form of the act it waits for, keyed `<form>-<progress>` (the form's slug and a count of the case's recorded
events), and holds no process. The act arrives from the Prefect UI form, which resumes the run with the answer,
or from `ehc`, which records the same typed event in the store first and then wakes the run (`wake`) once the
store no longer waits on what the run is suspended on. Either way the store decides: a resumed run reads it
again, and a suspension whose key is unchanged hands back the form's answer for the run to record.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from collections.abc import Iterable
from typing import ClassVar, NamedTuple
from uuid import UUID

from prefect import get_client, get_run_logger, task
from prefect.cache_policies import INPUTS, NO_CACHE, RUN_ID, CacheKeyFnPolicy
from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterTags
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.responses import SetStateStatus
from prefect.client.schemas.sorting import FlowRunSort
from prefect.context import FlowRunContext
from prefect.flow_runs import resume_flow_run, suspend_flow_run
from prefect.input import RunInput
from prefect.runtime import flow_run
from prefect.settings import PREFECT_API_URL
from prefect.states import Scheduled
from prefect.utilities.asyncutils import run_coro_as_sync
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema
from sqlmodel import Session

from models import waiting as store
from models.case_card import Awaited, CardFacts, run_tags
from models.casework import get_case
from models.contacts import staff_member
from models.db import session
from models.errors import InputError
from models.notice import Notice
from models.settings import today
from notifications import compose
from tasks import case_card

NEEDS_ASSESSMENT = "needs-assessment"
ANNUAL_REVIEW = "annual-review"
UI_ACTOR = "caseworker (Prefect form)"
BUSY = ("PENDING", "RUNNING")


def _task_name(ctx, _inputs) -> str:
    return ctx.task.name


# A task that writes runs once per case run, task and inputs; later executions of the run read its persisted
# result ("Cached"). Not keyed on the task's source: looking that up costs ~2 s per module in a fresh process.
ONCE_PER_RUN = INPUTS + RUN_ID + CacheKeyFnPolicy(cache_key_fn=_task_name)


class CaseEvent(RunInput):
    """An act a caseworker records on a case: one decision or happening, one typed form. `waits_on` is the store
    condition a run waiting for this act is suspended on (a step key; `advice` for every advice step;
    `{cycle}` stands for the case's current review cycle); `flow` the flow whose run waits for it."""

    reference: SkipJsonSchema[str] = ""  # the case the run is for: not on the form, so it cannot be changed there
    recorded_by: str | None = Field(None, description="Who is recording this: your name or email as the council's "
                                                       "directory has it (the audit keeps it)")
    flow: ClassVar[str] = NEEDS_ASSESSMENT
    waits_on: ClassVar[str]
    title: ClassVar[str]
    regulation: ClassVar[str]
    command: ClassVar[str]

    def record(self, s, on_today, actor) -> list[Notice]:
        """Write the act to the store; returns the notices it implies (each subclass names its act in `models`)."""
        raise NotImplementedError

    @classmethod
    def slug(cls) -> str:
        """The form's name as a pause key allows it: `DecisionToAssess` → `decision-to-assess`."""
        return re.sub(r"(?<!^)(?=[A-Z])", "-", cls.__name__).lower()

    @classmethod
    def awaited(cls, reference: str) -> Awaited:
        """What a run suspended on this form waits for, as the case card says it."""
        return Awaited(cls.slug(), cls.title, cls.regulation, cls.command.format(ref=reference))


def form_named(slug: str | None) -> type[CaseEvent] | None:
    """The form a pause key names, among every form this process has loaded."""
    forms, found = list(CaseEvent.__subclasses__()), None
    while forms and found is None:
        form = forms.pop()
        forms += form.__subclasses__()
        found = form if form.slug() == slug and hasattr(form, "title") else None
    return found


def awaited_by(run: FlowRun) -> Awaited | None:
    """What a run read from the API is suspended for, if it is."""
    form = form_named(paused_on(run))
    return form.awaited(run.parameters["reference"]) if form else None


def pause_key(form: type[CaseEvent], progress: int) -> str:
    """`<form slug>-<progress>`: deterministic for a given state of the store."""
    return f"{form.slug()}-{progress}"


def paused_on(run: FlowRun) -> str | None:
    """The slug of the form a suspended run waits for, read back from its pause key."""
    key = run.state.state_details.pause_key if run.state and run.state.is_paused() else None
    return key.rpartition("-")[0] if key else None


def still_waiting(reference: str, form: type[CaseEvent]) -> bool:
    """Whether the case still waits on the act, read by the flow itself (a resumed run mostly finds it done)."""
    with session() as s:
        return store.waiting(s, reference, form.waits_on).open


@task(name="waiting on", task_run_name="{reference} waiting on {key}", cache_policy=NO_CACHE)
def waiting_on(reference: str, key: str) -> store.Waiting:
    """What the run is about to wait on, and the dates at stake: the last task a waiting case shows. Read from
    the store; the store is the truth, not the run."""
    with session() as s:
        return store.waiting(s, reference, key)


def briefing(reference: str, form: type[CaseEvent], w: store.Waiting) -> str:
    """The Markdown shown above the form: the case, the date at stake and the limit that matters most."""
    due = f"**{w.due}** ({form.regulation})" if w.due else "not set"
    limit = f"- {w.limit_label}: **{w.limit_due}**\n" if w.limit_due else ""
    return (f"### {reference}: {form.title}\n\n- Stage: `{w.stage}`\n- Due: {due}\n{limit}\n"
            f"Record it here, or from a shell: `{form.command.format(ref=reference)}`")


def show_stage(reference: str, stage: str, *extra: str, form: type[CaseEvent] | None = None) -> None:
    """Keep the run's tags on the case's stage (`case:REF`, `stage:advice`), its caseworker and whether it is
    overdue, so the UI filters by them; and publish the case card on the run, with the act it waits for."""
    shown = [f"case:{reference}", f"stage:{stage}", *extra]
    case_card.show(FlowRunContext.get().client, case_card.read(reference), UUID(flow_run.id), list(flow_run.tags),
                   today(), form.awaited(reference) if form else None, base=shown)  # the run's own client


def asked(reference: str, form: type[CaseEvent], w: store.Waiting) -> type[CaseEvent]:
    """The form as the run asks it: its briefing above. The reference is not given to it (Prefect's initial data
    would put it back on the form as an editable field); `record_event` takes the run's own."""
    return form.with_initial_data(description=briefing(reference, form, w))


def wait_for(reference: str, form: type[CaseEvent], *tags: str) -> None:
    """Wait, holding nothing, until the store says the act is recorded. Each suspension is keyed by how far the
    case has come, so a resumed run that finds the store moved on suspends afresh rather than reusing an
    answer, and one that finds it unchanged takes the answer given on the form."""
    while still_waiting(reference, form):
        w = waiting_on(reference, form.waits_on)
        if not w.open:  # the act arrived between the two reads
            continue
        show_stage(reference, w.stage, *tags, form=form)
        given = suspend_flow_run(wait_for_input=asked(reference, form, w), key=pause_key(form, w.progress),
                                 timeout=None)
        record_event(reference, given)


def record(event: CaseEvent, actor: str) -> list[Notice]:
    """Record an act and write its notices to the outbox, in one transaction: nothing half-written."""
    with session() as s:
        return record_in(s, event, actor)


def record_in(s: Session, event: CaseEvent, actor: str) -> list[Notice]:
    """Record an act and write its notices to the outbox in the caller's transaction."""
    notices = event.record(s, today(), actor)
    compose.write(s, notices)
    return notices


@task(name="record event", task_run_name="{reference} record {given.__class__.__name__}", cache_policy=ONCE_PER_RUN)
def record_event(reference: str, given: CaseEvent) -> bool:
    """Record an answer given on the Prefect form, in the name of who gave it (checked against the council's
    directory). A bad answer is audited as rejected (so the form is asked again) and never half-written."""
    given.reference = given.reference or reference
    if given.reference != reference:
        error = InputError("reference", f"the form is for {reference}")
    else:
        try:
            with session() as s:
                actor = staff_member(s, given.recorded_by)
            record(given, f"{actor} (Prefect form)")
            return True
        except InputError as exc:
            error = exc
    get_run_logger().warning("%s rejected: %s", given.__class__.__name__, error)
    with session() as s:
        store.reject_input(s, get_case(s, reference), UI_ACTOR, given.__class__.__name__, error)
    return False


# --- finding a case's run, starting it, waking it ---------------------------------------------------


def newest_run(flow: str, tag: str) -> FlowRun | None:
    """The newest run of `flow` carrying `tag` (`case:REF`, `queue:dco`)."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[flow])),
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[tag])),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=1)
    return runs[0] if runs else None


def case_run(reference: str, flow: str = NEEDS_ASSESSMENT) -> FlowRun | None:
    """The case's newest run of `flow`, found by its `case:` tag."""
    return newest_run(flow, f"case:{reference}")


CONCURRENT_STARTS = 16  # run creations in flight at once: the Prefect client's own pool of connections


class RunStart(NamedTuple):
    """One run to start for a case: a run of the deployment `flow/flow` with its name, tags and parameters.
    Its idempotency key (flow and run name) makes a second start return the first run."""

    flow: str
    name: str
    tags: list[str]
    parameters: dict

    @property
    def idempotency_key(self) -> str:
        return f"{self.flow}:{self.name}"


def run_start(facts: CardFacts, on: dt.date, flow: str = NEEDS_ASSESSMENT, name: str | None = None,
              stage: str = "request", **parameters) -> RunStart:
    """The run the case is started with: named `name` (default: its reference), tagged with its case, stage,
    caseworker and whether it is overdue on `on`, given its reference (nothing personal)."""
    tags = [f"case:{facts.reference}", f"stage:{stage}", *run_tags(facts, on)]
    return RunStart(flow, name or facts.reference, tags, {"reference": facts.reference, **parameters})


def start(reference: str, flow: str = NEEDS_ASSESSMENT, name: str | None = None, stage: str = "request",
          **parameters) -> FlowRun:
    """Start a run of the deployment `flow/flow` for the case, once (a second start returns the first)."""
    (run,) = start_all([run_start(case_card.read(reference), today(), flow, name, stage, **parameters)])
    if isinstance(run, BaseException):
        raise run
    return run


def start_all(starts: list[RunStart]) -> list[FlowRun | BaseException]:
    """Start the runs, `CONCURRENT_STARTS` at a time, each once: its idempotency key makes a repeat (or a pass
    after a crash) return the run already made. Never a subflow of the caller (a scheduler's run): a subflow
    cannot suspend. In the order given: each run, or the error that kept it from starting."""
    return run_coro_as_sync(_start_all(starts)) if starts else []


async def _start_all(starts: list[RunStart]) -> list[FlowRun | BaseException]:
    in_flight = asyncio.Semaphore(CONCURRENT_STARTS)
    async with get_client() as client:
        deployments = {flow: (await client.read_deployment_by_name(f"{flow}/{flow}")).id
                       for flow in dict.fromkeys(s.flow for s in starts)}

        async def create(s: RunStart) -> FlowRun:
            async with in_flight:
                return await client.create_flow_run_from_deployment(
                    deployments[s.flow], parameters=s.parameters, name=s.name, tags=s.tags,
                    idempotency_key=s.idempotency_key)

        return await asyncio.gather(*(create(s) for s in starts), return_exceptions=True)


def settle(run_id: UUID, after: UUID | None = None, timeout: float = 120) -> FlowRun:
    """Wait until the run is suspended or finished in a state other than `after` (a state id)."""
    stop = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            run = client.read_flow_run(run_id)
            state = run.state
            if state.id != after and (state.is_paused() or state.is_final()):
                return run
            if time.monotonic() > stop:
                raise TimeoutError(f"flow run {run.name} still {state.name} after {timeout}s")
            time.sleep(0.2)


def wake(event: CaseEvent, wait: float = 60) -> str:
    """After `ehc` has recorded `event` in the store: resume the case's run if it is suspended on that kind of
    act and the store no longer waits on it (the run then shows its card itself); else refresh the case card
    and tags on the run. Returns what happened, in a word."""
    run = case_run(event.reference, event.flow)
    if run is None:
        return "no run"
    if run.state.type.value in BUSY:  # it may have read the store just before the event was recorded
        run = settle(run.id, timeout=wait)
    if run.state.is_paused() and paused_on(run) == event.slug() and not still_waiting(event.reference, type(event)):
        resume_flow_run(run.id, run_input=event.model_dump(mode="json", exclude={"reference"}))  # the run's own
        return "resumed"
    with get_client(sync_client=True) as client:
        case_card.show_on(client, run, today(), awaited_by(run))
    # e.g. advice from one source while others are outstanding: nothing for the run yet
    return "suspended" if run.state.is_paused() else run.state.name.lower()


# --- reconciling: the store is the truth ------------------------------------------------------------


def api_configured() -> bool:
    """Whether a Prefect API is configured (`PREFECT_API_URL`); without one, Prefect would start a temporary
    server of its own for each command, which reaches no runner."""
    return bool(PREFECT_API_URL.value())


def api_answers() -> bool:
    """Whether the Prefect API answers now (reconciliation is skipped, not failed, while it does not)."""
    if not api_configured():
        return False
    try:
        with get_client(sync_client=True) as client:
            return client.api_healthcheck() is None
    except Exception:  # noqa: BLE001 (any fault reaching the API means: not now)
        return False


def reschedule(run: FlowRun, why: str, forget_pauses: bool = False) -> None:
    """Run it again from the top now: its process starts afresh and reads the store. `forget_pauses` for a run
    that crashed or failed: the server's own rules then clear its used pause keys, so a wait it was in when it
    died is asked afresh instead of answered with an input nobody gave."""
    state = Scheduled(name="Reconciled", message=why)
    with get_client(sync_client=True) as client:
        if forget_pauses and client.set_flow_run_state(run.id, state).status == SetStateStatus.ACCEPT:
            return
        client.set_flow_run_state(run.id, Scheduled(name="Reconciled", message=why), force=True)


def catch_up(run: FlowRun, forms: Iterable[type[CaseEvent]]) -> bool:
    """Run a suspended run again, without an answer, when the store no longer waits on the act it is suspended
    on (recorded with Prefect unreachable or with `--no-run`, or the case closed): it reads the store again and
    finds nothing to record. Returns whether it was run again."""
    form = {f.slug(): f for f in forms}.get(paused_on(run) or "")
    if form is not None and still_waiting(run.parameters["reference"], form):
        return False
    reschedule(run, "the store has moved past what the run waits on")
    return True


def reconcile_run(reference: str, forms: Iterable[type[CaseEvent]], flow: str = NEEDS_ASSESSMENT,
                  name: str | None = None, stage: str = "request", **parameters) -> str:
    """Bring the case's run of `flow` in line with the store, which expects one: start it if it is missing, run
    it again if it is suspended on an act the store no longer waits on (recorded while Prefect was away), has
    crashed or failed, or finished while the store still expects it. Returns what was done, in a word."""
    name = name or reference
    run = case_run(reference, flow)
    if run is None or run.name != name:
        start(reference, flow, name=name, stage=stage, **parameters)
        return "started"
    state = run.state
    if state.is_paused():
        return "resumed" if catch_up(run, forms) else "waiting"
    if state.is_crashed() or state.is_failed() or state.is_completed():
        reschedule(run, f"the run was {state.name}; the store still expects it", forget_pauses=not state.is_completed())
        return "retried"
    return "running"
