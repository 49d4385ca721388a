"""What a session keeps of the rows it read (`models.bulk.kept`): a simulated day's cases read at its start
(`casework.read_cases`) leave the acts nothing to read again, and what an act adds in the same session (a review,
a person, an escalation) is found by the next read, as a query would find it."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from models import casework, db, people, review_cycle
from models.escalation import escalate, open_escalations, resolve_step_escalations
from models.review import get_review, reviews_of
from models.vocabulary import PersonRole, Queue, ReviewStatus

D = dt.date.fromisoformat
PARENT = {"name": "Kim Kept-Test", "email": "kim.kept@family.example.org"}


def _plan_in_force(s, name: str) -> casework.Case:
    case = casework.open_case(s, child_name=name, dob=D("2015-03-04"), requested_on=D("2024-01-08"),
                              requester="parent", parent=PARENT, today=D("2024-01-08"), actor="t")
    for step in casework.open_steps(s, case):
        casework.complete_step(s, step, D("2024-01-08"), "t", case)
    review_cycle.put_plan_in_force(s, case, D("2024-05-20"), "t", setting="Oak Primary")
    return case


class Statements:
    """Counts the statements the engine sends while it is entered."""

    def __init__(self) -> None:
        self.count = 0

    def _seen(self, *_args) -> None:
        self.count += 1

    def __enter__(self) -> Statements:
        sa.event.listen(db.engine(), "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc) -> None:
        sa.event.remove(db.engine(), "before_cursor_execute", self._seen)


def test_a_day_read_at_its_start_leaves_its_acts_nothing_to_read_again(store_url, monkeypatch):
    monkeypatch.setenv("EHC_TODAY", "2025-01-06")
    with db.session() as s:
        refs = [_plan_in_force(s, name).reference for name in ("Ada Kept", "Ben Kept")]
        review_cycle.open_review(s, casework.get_case(s, refs[0]), D("2025-01-06"), "t")
    with db.session() as s:
        with Statements() as read:
            casework.read_cases(s, refs)
        assert read.count == 7  # cases, children, steps, clock exceptions, reviews, people, escalations
        with Statements() as again:
            for ref in refs:
                case = casework.get_case(s, ref)
                casework.child_of(s, case)
                casework.find_step(s, case, "plan.final")
                casework.case_exceptions(s, case)
                reviews_of(s, case)
                people.people_of(s, {case.id})
                open_escalations(s, [case.id])
            get_review(s, casework.get_case(s, refs[0]))
        assert again.count == 0
        assert get_review(s, casework.get_case(s, refs[0])).status == ReviewStatus.OPEN
        assert reviews_of(s, casework.get_case(s, refs[1])) == []


def test_what_an_act_adds_in_the_session_is_found_by_the_next_read(store_url, monkeypatch):
    monkeypatch.setenv("EHC_TODAY", "2025-01-06")
    with db.session() as s:
        ref = _plan_in_force(s, "Cy Kept").reference
    with db.session() as s:
        casework.read_cases(s, [ref])
        case = casework.get_case(s, ref)
        opened = review_cycle.open_review(s, case, D("2025-01-06"), "t")
        assert get_review(s, case) is opened and reviews_of(s, case) == [opened]

        people.add_person(s, case, "t", role=PersonRole.PARENT, name="Dee Kept", email="dee.kept@family.example.org")
        assert [p.name for p in people.people_of(s, {case.id})[case.id]] == [PARENT["name"], "Dee Kept"]

        step = casework.find_step(s, case, "review:1:meeting")
        item, _ = escalate(s, queue=Queue.SEN_TEAM_MANAGER, case_id=case.id, step_id=step.id, tier=1,
                           on=D("2025-01-06"))
        assert open_escalations(s, [case.id])[case.id] == [item]
        casework.complete_step(s, step, D("2025-01-06"), "t", case)  # resolves it
        assert item.resolved_at is not None and open_escalations(s, [case.id])[case.id] == []
        assert resolve_step_escalations(s, step, "t") == []  # resolved once
