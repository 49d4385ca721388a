"""The outbox writes a message once per idempotency key, and never hides a fault as a duplicate."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from models import casework
from models.cases import Step
from models.db import session
from models.outbox import OutboxMessage
from notifications.outbox import enqueue

CONTEXT = {"source_label": "health", "due": "2025-02-17", "council": "Demo Borough Council"}


def _case(s):
    return casework.open_case(s, child_name="Outbox Child", dob=dt.date(2015, 3, 2), requested_on=dt.date(2025, 1, 6),
                              requester="parent", today=dt.date(2025, 1, 7), actor="t")


def _enqueue(s, case):
    return enqueue(s, idempotency_key="advice_request:step:1", kind="advice_request", recipient_role="dco",
                   recipient_email="dco@example.org", on=dt.date(2025, 1, 7), context=CONTEXT, case=case)


def test_the_same_key_twice_writes_one_row_and_returns_it(store_url):
    with session() as s:
        case = _case(s)
        first = _enqueue(s, case)
        second = _enqueue(s, case)
        assert second.id == first.id
        assert s.exec(select(func.count()).select_from(OutboxMessage)).one() == 1
    assert first.subject == "EHC-2025-00001: request for health advice, due 2025-02-17"


def test_a_fault_that_is_not_a_duplicate_key_is_raised_not_swallowed(store_url):
    with session() as s:
        case = _case(s)
        ghost = Step(id=999_999, case_id=case.id, key="ghost", kind="advice", role="dco",
                     started_on=dt.date(2025, 1, 7), due_on=dt.date(2025, 2, 18))  # never stored
        with pytest.raises(IntegrityError):  # the foreign key refuses the row
            enqueue(s, idempotency_key="advice_request:step:999999", kind="advice_request", recipient_role="dco",
                    recipient_email="dco@example.org", on=dt.date(2025, 1, 7), context=CONTEXT, case=case,
                    step=ghost)


def test_opening_a_case_audits_request_then_decision_to_assess(store_url):
    with session() as s:
        case = _case(s)
        moves = [(e.from_stage, e.to_stage) for e in casework.audit_log(s, case)]
    assert moves == [(None, "request"), ("request", "decision_to_assess")]


def test_a_wording_rendered_once_for_many_messages_is_word_for_word_the_same():
    """A watch day words each distinct chase once and puts in the reference and escalation number after
    (`render.Renderer`): every message reads exactly as rendered on its own, a reference that is not a plain word
    (here one HTML would escape) is rendered on its own, and days_left 1 still says "day"."""
    from notifications.render import Renderer, render

    chase = {"council": "Example Council", "child_name": None, "child_dob": None, "action": "advice",
             "regulation": "SEND Regulations 2014, reg 8(1)", "due": "Friday 13 March 2026", "tier": 1,
             "source_label": "health", "organisation": "Oak & Ash School", "council_details": {"name": "Example"}}
    renderer, calls = Renderer(), []
    cases = [("reminder", {**chase, "days_left": days}) for days in (1, 3)]
    cases += [("escalation", {**chase, "days_overdue": days, "queue": "dco", "responsible": "dco",
                              "escalation_id": number}) for days in (1, 8) for number in (7, 1234)]
    for kind, context in cases:
        for reference in ("EHC-2026-00001", "EHC-2026-00002", "EHC-<b>&-1"):
            words = renderer(kind, {**context, "reference": reference})
            assert words == render(kind, {**context, "reference": reference})
            calls.append(words)
    assert "in 1 day." in calls[0].text and "in 3 days." in calls[3].text
    assert "ehc queue ack 1234;" in calls[-1].text and "EHC-&lt;b&gt;&amp;-1" in calls[-1].html
    assert len(renderer._wordings) == 4  # one render per distinct wording (kind, days), not per message
