"""The case card on the case's run and the run's tags, as the store says (`models.case_card`): published by the
run itself each time it shows its stage, after an act recorded from a shell, and by the daily watch.

A card is a markdown artifact keyed `case-<reference>` on the case's current run; the run's tags are its case,
its stage, `caseworker:<staff id>` and, while a step is late, `overdue`. Nothing personal in either."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from prefect.client.schemas.actions import ArtifactCreate
from prefect.client.schemas.objects import FlowRun

from models.case_card import (
    OVERDUE_TAG,
    Awaited,
    CardFacts,
    card_key,
    read_card,
    render,
    run_tags,
)
from models.casework import get_case
from models.db import session

OWN_TAGS = (OVERDUE_TAG,)  # the tags this module keeps, beside `caseworker:` ones


def read(reference: str) -> CardFacts:
    with session() as s:
        return read_card(s, get_case(s, reference))


def tags_for(facts: CardFacts, on: dt.date, tags: list[str]) -> list[str]:
    """The run's tags with the caseworker and `overdue` brought in line with the store; the others kept."""
    kept = [t for t in tags if t not in OWN_TAGS and not t.startswith("caseworker:")]
    return [*kept, *run_tags(facts, on)]


def publish(client, facts: CardFacts, run_id: UUID, on: dt.date, awaited: Awaited | None) -> None:
    """The card on the run `run_id` (from inside the run or from another process: the same key, a new version)."""
    client.create_artifact(ArtifactCreate(key=card_key(facts.reference), type="markdown",
                                          description=f"{facts.reference}: the case card",
                                          data=render(facts, on, awaited), flow_run_id=run_id))


def show(client, facts: CardFacts, run_id: UUID, tags: list[str], on: dt.date, awaited: Awaited | None,
         base: list[str] | None = None) -> bool:
    """Publish the card on the run and bring its tags (`base`, else the run's own `tags`) in line with the store;
    returns whether the tags changed."""
    wanted = tags_for(facts, on, tags if base is None else base)
    changed = sorted(wanted) != sorted(tags)
    if changed:
        client.update_flow_run(run_id, tags=wanted)
    publish(client, facts, run_id, on, awaited)
    return changed


def show_on(client, run: FlowRun, on: dt.date, awaited: Awaited | None) -> bool:
    """As `show`, for a run read from the API (an act recorded from a shell, the watch)."""
    return show(client, read(run.parameters["reference"]), run.id, list(run.tags), on, awaited)
