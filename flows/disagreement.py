"""Flows `mediation`, `appeal`, `complaint`, `dispute`: one run per disagreement thread of a case, named
`EHC-YYYY-NNNNN appeal 1` and tagged with the case and the thread as its stage (mediation: SEND Regs 2014
reg 32-42; appeals: CFA s51, reg 43-45; complaints and disputes: the council's procedures).

`ehc` starts a thread's run when the thread opens (mediation wanted, appeal lodged, complaint received, dispute
raised). The run suspends (`tasks.waiting.wait_for`) on the form of the next act the thread waits for (the
council's response to an appeal, then the Tribunal's decision, then each limit of an order or a concession; a
mediation held, its certificate, the acts agreed; a complaint acknowledged, responded to, decided by the
Ombudsman; a dispute resolved) and holds no process. The act arrives on the form in the Prefect UI, or from `ehc`,
which records the same event and wakes the run. A resumed run reads the store again; it ends Completed when the
thread waits on nothing more. The reconciler starts, catches up and retries these runs like the others."""

from __future__ import annotations

from prefect import flow, tags
from prefect.states import Completed, State

from models.vocabulary import Thread
from tasks.disagreement import next_wait
from tasks.waiting import show_stage, wait_for


def follow(reference: str, thread: Thread, n: int) -> State:
    """Wait for each act the thread waits for, in turn, until it waits on nothing more."""
    with tags(f"case:{reference}", f"stage:{thread}"):
        while (form := next_wait(reference, thread, n)) is not None:
            wait_for(reference, form)
    show_stage(reference, thread)
    return Completed(message=f"{thread} {n}: waits on nothing more")


@flow(name=str(Thread.MEDIATION), flow_run_name="{reference} mediation {n}", persist_result=True)
def mediation(reference: str, n: int) -> State:
    """A mediation: held (30 days, reg 36-37), its certificate (reg 39), the acts agreed (2 weeks, reg 42)."""
    return follow(reference, Thread.MEDIATION, n)


@flow(name=str(Thread.APPEAL), flow_run_name="{reference} appeal {n}", persist_result=True)
def appeal(reference: str, n: int) -> State:
    """An appeal: the council's response, the Tribunal's decision, each limit of an order (reg 44) or of a
    concession (reg 45)."""
    return follow(reference, Thread.APPEAL, n)


@flow(name=str(Thread.COMPLAINT), flow_run_name="{reference} complaint {n}", persist_result=True)
def complaint(reference: str, n: int) -> State:
    """A complaint: acknowledged, responded to (the council's targets), the Ombudsman's decision if escalated."""
    return follow(reference, Thread.COMPLAINT, n)


@flow(name=str(Thread.DISPUTE), flow_run_name="{reference} dispute {n}", persist_result=True)
def dispute(reference: str, n: int) -> State:
    """A dispute with health or social care: resolved, between the services or by the disputes process."""
    return follow(reference, Thread.DISPUTE, n)


FLOWS = (mediation, appeal, complaint, dispute)
