"""End to end through the real Prefect flow (test harness server, a runner serving the deployment), with the
clock injected through EHC_TODAY: every scripted case of the demo, plus a refusal to issue."""

from __future__ import annotations

import datetime as dt

import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from models import assessment, casework, db, statutory
from models.cases import Step
from models.outbox import OutboxMessage
from models.vocabulary import ADVICE_ROLES
from tasks.waiting import case_run
from tests.needs_assessment_pathway import DEMO_SCRIPTS, REFUSED_TO_ISSUE

ON_TIME, LATE_HEALTH, REFUSED, ABSENCE = (DEMO_SCRIPTS[n] for n in ("on_time", "late_health", "refused", "absence"))

D = dt.date.fromisoformat


@pytest.fixture
def pathway(needs_assessment_demo, monkeypatch) -> dict[str, str]:
    """Story → reference of the cases driven through the flow; the store they were driven in."""
    url, refs = needs_assessment_demo
    monkeypatch.setenv("EHC_DATABASE_URL", url)
    return refs


def steps(reference: str) -> dict[str, Step]:
    with db.session() as s:
        return {st.key: st for st in casework.case_steps(s, casework.get_case(s, reference))}


def outbox(reference: str) -> list[OutboxMessage]:
    from sqlmodel import select

    with db.session() as s:
        case = casework.get_case(s, reference)
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.case_id == case.id)))


def task_runs(run_id) -> list:
    found, page = [], 200  # the API's largest page
    with get_client(sync_client=True) as client:
        while batch := client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])),
                                             limit=page, offset=len(found)):
            found += batch
    return found


def test_final_plan_in_week_19_puts_the_plan_in_force_with_its_first_review(pathway):
    ref = pathway[ON_TIME.story]
    with db.session() as s:
        case = casework.get_case(s, ref)
        trail = casework.audit_log(s, case)
    st = steps(ref)
    assert case.status == case.stage == "plan_in_force" and case.plan_issued_on == D("2026-05-15")
    week_18, week_19 = statutory.within_weeks(case.requested_on, 18), statutory.within_weeks(case.requested_on, 19)
    assert week_18 < case.plan_issued_on <= week_19 <= st["plan.final"].due_on
    review = st["review.annual:1"]
    assert (review.kind, review.rule_id, review.status, review.started_on) == ("annual_review", "review.annual",
                                                                               "open", D("2026-05-15"))
    assert review.due_on == D("2027-05-14")
    assert review.details["setting"] == "Oakfield Primary"  # the reviews (and the SENCO's termly list) know it
    assert all(st[f"advice:{src}"].status == "done" for src in ("parent", "education", "health", "social_care", "ep"))
    assert st["coproduction.meeting"].details["child_views_captured"] is True
    assert st["plan.setting_consultation:1"].completed_on == D("2026-04-20")
    moves = [(e.from_stage, e.to_stage) for e in trail if e.to_stage][2:]  # after `ehc case open`'s own two
    assert moves == [("decision_to_assess", "advice"),
                     ("advice", "coproduction"), ("coproduction", "draft_plan"), ("draft_plan", "representations"),
                     ("representations", "plan_in_force")]
    assert all(e.actor and e.at for e in trail)
    kinds = sorted(m.kind for m in outbox(ref))
    assert kinds == (["advice_request"] * 5 + ["assessment_decision_copy"] * 3  # the DCO, social care, the school
                     + ["considering_assessment", "draft_plan", "final_plan"] + ["final_plan_copy"] * 2
                     + ["request_copy"] * 2 + ["setting_consultation", "to_assess"])  # the school named after reg 4
    run = case_run(ref)
    assert run.name == ref and run.parameters == {"reference": ref} and run.state.is_completed()
    assert set(run.tags) >= {f"case:{ref}", "stage:plan_in_force"}
    names = [t.name for t in task_runs(run.id)]
    assert names and all(n.startswith(ref) for n in names)
    assert any(f"case:{ref}" in t.tags and "stage:advice" in t.tags for t in task_runs(run.id))


def test_each_advice_request_is_sent_once_however_often_the_run_resumed(pathway):
    ref = pathway[ON_TIME.story]
    requests = [m for m in outbox(ref) if m.kind == "advice_request"]
    assert sorted(m.recipient_role for m in requests) == sorted(
        ADVICE_ROLES[s] for s in ("parent", "education", "health", "social_care", "ep"))
    assert all(m.on == D("2026-02-09") and ref in m.subject and "due 2026-03-23" in m.subject for m in requests)
    runs = task_runs(case_run(ref).id)
    executed = [t for t in runs if t.name.startswith(f"{ref} request advice")]
    # the decision's own act asked for the advice; the run's advice stage ran once after it and found each
    # request written (idempotent); every later execution passed over the stage the case had left
    assert sum(1 for t in executed if t.state.name == "Completed") == 5 and len(executed) == 5


def test_a_resumed_run_passes_over_the_stages_the_case_has_left(pathway):
    ref = pathway[ON_TIME.story]
    run = case_run(ref)
    with get_client(sync_client=True) as client:
        executions = sum(1 for st in client.read_flow_run_states(run.id) if st.name == "Running")
    assert executions == 7  # the start, then the decision, advice, meeting, decision to issue, draft, final
    names = [t.name for t in task_runs(run.id)]
    assert names.count(f"{ref} waiting on assess.decision") == 1  # the run waited on it once, then moved on
    # each stage ran in the execution after the act that opened it (the act wrote what follows it), and was passed
    # over once the case had left it: the advice stage once; co-production for the meeting and the decision
    assert names.count(f"{ref} start assessment") == 1
    assert names.count(f"{ref} open co-production") == 2 and names.count(f"{ref} draft notices") == 1


def test_every_case_run_ends_in_its_own_state_after_the_runner_stops(pathway):
    """Stopping the runner as the last event's execution ends must not mark that run Cancelled."""
    for ref in pathway.values():
        assert case_run(ref).state.is_completed(), (ref, case_run(ref).state.name)


def test_refused_to_assess_closes_the_case_with_mediation_and_appeal_dates(pathway):
    ref = pathway[REFUSED.story]
    with db.session() as s:
        case = casework.get_case(s, ref)
    decision = steps(ref)["assess.decision"]
    assert (case.status, case.stage, case.closed_on, case.closed_reason) == ("closed", "closed", D("2026-02-09"),
                                                                            "not_to_assess")
    assert decision.details["mediation_contact_by"] == "2026-04-09"  # 2 months from the notice (reg 33)
    assert decision.details["appeal_register_by"] == "2026-04-09"  # a working day: no roll-forward (r12)
    assert "advice:health" not in steps(ref)
    [notice] = [m for m in outbox(ref) if m.kind == "not_to_assess"]
    assert "Thursday 9 April 2026" in notice.body_text and ref in notice.subject
    assert case_run(ref).state.is_completed() and "stage:closed" in case_run(ref).tags


def test_refused_to_issue_closes_the_case_and_cancels_the_open_limits(pathway):
    ref = pathway[REFUSED_TO_ISSUE.story]
    with db.session() as s:
        case = casework.get_case(s, ref)
    st = steps(ref)
    assert (case.status, case.closed_reason, case.closed_on) == ("closed", "not_to_issue", D("2026-04-06"))
    assert st["plan.decision"].due_on == D("2026-04-27")  # week 16 (reg 10(1))
    assert st["plan.decision"].details["appeal_register_by"] == statutory.deadline(
        "appeal.register", D("2026-04-06")).due.isoformat()
    assert st["plan.final"].status == "cancelled" and "plan.draft" not in st
    assert [m.kind for m in outbox(ref)].count("not_to_issue") == 1


def test_late_health_advice_is_recorded_late_and_the_case_carries_on(pathway):
    ref = pathway[LATE_HEALTH.story]
    st = steps(ref)
    health = st["advice:health"]
    assert (health.due_on, health.completed_on) == (D("2026-03-23"), D("2026-04-13"))
    with db.session() as s:
        t = assessment.timeline(s, ref)
        trail = casework.audit_log(s, casework.get_case(s, ref))
    assert [x["late"] for x in t["steps"] if x["key"] == "advice:health"] == [True]
    assert any(e.detail.get("step") == "advice:health" and e.detail.get("late") for e in trail)
    assert st["coproduction.meeting"].completed_on == D("2026-04-20")  # only after the last advice
    assert t["status"] == "plan_in_force"


def test_family_absence_sets_the_20_week_limit_aside_with_a_working_target(pathway):
    ref = pathway[ABSENCE.story]
    with db.session() as s:
        t = assessment.timeline(s, ref)
    final = next(x for x in t["steps"] if x["key"] == "plan.final")
    expected = statutory.deadline("plan.final", D("2026-01-05"),
                                  [statutory.ClockException("absence", D("2026-02-16"), D("2026-03-29"))])
    assert final["due"] == D("2026-05-25") == expected.due  # the statutory date stays
    assert final["disapplied"] and final["target"] == expected.target == D("2026-07-06")
    assert final["due"] < final["done"] == D("2026-06-22") and not final["late"]  # set aside: inside the target
    draft = next(x for x in t["steps"] if x["key"] == "plan.draft")  # derived from the final: set aside with it
    assert draft["due"] == D("2026-05-10") and draft["disapplied"] and draft["target"] == D("2026-06-21")
    assert draft["due"] < draft["done"] == D("2026-06-01") and not draft["late"]
    [exception] = t["exceptions"]
    assert exception["kind"] == "absence" and "10(4)" in exception["regulation"]
    assert "pfa" in [x["key"].split(":")[1] for x in t["steps"] if x["key"].startswith("advice:")]  # Year 9+
    assert t["status"] == "plan_in_force"
