"""Disagreement resolution on both backends: a refused case through mediation, an appeal and an order to assess,
the order's steps chased by the watch; a conceded appeal's unopposed limits; the appeal window on ceasing with
and without a mediation certificate; a complaint and a council-health dispute from received to resolved, chased
when late; cease-review prompts at 25; every act refused on bad input (one line, exit 2, nothing written).
Every date is worked by hand from the spec (§1 counting rules, §2.5-§2.6) in the comment beside it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from cli.main import app
from models import assessment, casework, cease_prompts, threads
from models.appeals import Appeal, appeal_window_closes
from models.cases import AuditEvent, Case, Step
from models.complaints import Complaint
from models.db import session
from models.disputes import Dispute
from models.escalation import Escalation
from models.mediation import Mediation
from models.outbox import OutboxMessage
from models.vocabulary import CaseStatus, Role, Stage, StepKey, StepKind, StepStatus
from notifications import compose, requirements
from tasks.disagreement import WAITS, next_wait
from tasks.watch import run_watch

D = dt.date.fromisoformat
NAME = "Ariadne Quillfeather"  # must never leave the store
R = D("2025-01-06")  # request (Monday)
REFUSED = D("2025-02-10")  # decision not to assess notified (Monday)

PARENT = {"name": "Pat Parent-Test", "email": "pat.parent@family.example.org"}  # told every notice


def ehc(monkeypatch, today: str, *args: str):
    monkeypatch.setenv("EHC_TODAY", today)
    return CliRunner().invoke(app, list(args))


def ok(monkeypatch, today: str, *args: str) -> str:
    result = ehc(monkeypatch, today, *args)
    assert result.exit_code == 0, result.output
    return result.output


def refused_case() -> str:
    """A case refused an assessment, with its notice written."""
    with session() as s:
        case = casework.open_case(s, child_name=NAME, dob=D("2015-03-02"), requested_on=R, requester="parent",
                                  parent=PARENT, today=R, actor="caseworker")
        ref = case.reference
    with session() as s:
        compose.write(s, assessment.decide_to_assess(s, ref, False, REFUSED, REFUSED, "caseworker"))
    return ref


def steps(ref: str) -> dict[str, Step]:
    with session() as s:
        return {st.key: st for st in casework.case_steps(s, casework.get_case(s, ref))}


DISAGREEMENT_KINDS = ("mediation_", "appeal_", "complaint_", "dispute_")


def outbox() -> list[OutboxMessage]:
    with session() as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def weekdays(first: dt.date, last: dt.date):
    day = first
    while day <= last:
        if day.weekday() < 5:
            yield day
        day += dt.timedelta(days=1)


CHASE_KINDS = ("reminder", "due_today", "overdue", "escalation", "dco_digest")


def chases_of(step_id: int) -> list[tuple[dt.date, str, str]]:
    """The watch's messages about one step."""
    return [(m.on, m.kind, m.recipient_role) for m in outbox() if m.step_id == step_id and m.kind in CHASE_KINDS]


def test_a_refused_case_goes_through_mediation_an_appeal_and_an_order_to_assess(store_url, monkeypatch):
    ref = refused_case()
    # mediation.contact: 2025-02-10 + 2 months = 2025-04-10; wanted on 03-03 about education and health
    ok(monkeypatch, "2025-03-03", "mediation", "wanted", ref, "--about", "refusal-to-assess", "--on", "2025-03-03",
       "--issue", "education", "--issue", "health")
    st = steps(ref)
    assert st["mediation:1:held"].due_on == D("2025-04-02")  # 30 days from 03-03
    assert st["mediation:1:held"].role == Role.LA
    assert st["mediation:1:health_notify"].due_on == D("2025-03-06")  # 3 working days after Mon 03-03
    assert st["mediation:1:health_notify"].status == StepStatus.DONE  # the ICB's notice is written with the act
    assert (st["mediation:1:held_health"].role, st["mediation:1:held_health"].due_on) == (Role.DCO, D("2025-04-02"))
    ok(monkeypatch, "2025-03-20", "mediation", "held", ref, "--about", "refusal-to-assess", "--on", "2025-03-20")
    assert {steps(ref)[k].status for k in ("mediation:1:held", "mediation:1:held_health")} == {StepStatus.DONE}
    # certificate after mediation: due 3 working days after Thu 03-20 = Tue 03-25; issued Mon 03-24
    ok(monkeypatch, "2025-03-24", "mediation", "certificate", ref, "--about", "refusal-to-assess", "--kind", "after",
       "--from", "2025-03-20", "--on", "2025-03-24")
    with session() as s:
        m = s.exec(select(Mediation)).one()
        assert (m.certificate_due_on, m.certificate_on) == (D("2025-03-25"), D("2025-03-24"))
    # appeal.register: later of 02-10 + 2 m = 04-10 and certificate + 1 m = Thu 04-24 → 04-24
    ok(monkeypatch, "2025-04-22", "appeal", "lodged", ref, "--on", "2025-04-22", "--against", "refusal-to-assess",
       "--response-due", "2025-05-20")
    with session() as s:
        assert s.exec(select(Appeal)).one().register_by == D("2025-04-24")
    assert steps(ref)["appeal:1:response"].due_on == D("2025-05-20")
    ok(monkeypatch, "2025-05-19", "appeal", "responded", ref, "--on", "2025-05-19")
    ok(monkeypatch, "2025-05-19", "appeal", "hearing", ref, "--on", "2025-07-01")
    # the order to assess on Mon 07-07 (O): tribunal.assess O + 2 w, not_to_issue O + 10 w, plan O + 14 w
    ok(monkeypatch, "2025-07-07", "appeal", "decided", ref, "--on", "2025-07-07", "--outcome", "order",
       "--order", "assess")
    st = steps(ref)
    assert {k: (v.rule_id, v.due_on) for k, v in st.items() if v.kind == StepKind.TRIBUNAL_ORDER} == {
        "appeal:1:tribunal.assess": ("tribunal.assess", D("2025-07-21")),
        "appeal:1:tribunal.not_to_issue": ("tribunal.not_to_issue", D("2025-09-15")),
        "appeal:1:tribunal.plan": ("tribunal.plan", D("2025-10-13")),
    }
    with session() as s:
        case = casework.get_case(s, ref)
        assert (case.status, case.stage, case.closed_reason) == (CaseStatus.OPEN, Stage.TRIBUNAL_ORDER, None)
    # the watch chases the order's first limit: reminders 10 and 3 days before, due, overdue and escalated
    assess = st["appeal:1:tribunal.assess"]
    for day in weekdays(D("2025-07-07"), D("2025-07-22")):
        run_watch(day)
    assert chases_of(assess.id) == [
        (D("2025-07-11"), "reminder", Role.SEN_CASEWORKER), (D("2025-07-18"), "reminder", Role.SEN_CASEWORKER),
        (D("2025-07-21"), "due_today", Role.SEN_CASEWORKER), (D("2025-07-22"), "overdue", Role.SEN_CASEWORKER),
        (D("2025-07-22"), "escalation", Role.SEN_TEAM_MANAGER)]
    ok(monkeypatch, "2025-07-23", "appeal", "complied", ref, "--limit", "tribunal.assess", "--on", "2025-07-23")
    with session() as s:
        escalation = s.exec(select(Escalation).where(Escalation.step_id == assess.id)).one()
        assert escalation.resolved_at is not None
    # what the family and the ICB were told; no subject carries the child's name
    family = [m.kind for m in outbox() if m.recipient_role == Role.FAMILY]
    assert family == ["not_to_assess", "mediation_arranging", "mediation_certificate",
                      "appeal_lodged", "appeal_decided", "advice_request"]  # assessing as ordered: their advice
    assert [m.kind for m in outbox() if m.recipient_role == Role.DCO] == ["assessment_decision_copy",
                                                                           "mediation_health", "advice_request"]
    decided = next(m for m in outbox() if m.kind == "appeal_decided")
    assert "carry out an EHC needs assessment" in decided.body_text and "Monday 21 July 2025" in decided.body_text
    certificate = next(m for m in outbox() if m.kind == "mediation_certificate")
    assert "Thursday 24 April 2025" in certificate.body_text
    assert "mediation@mediation.testshire.org.uk" in certificate.body_text  # the council's (tests/conftest.py)
    assert all(NAME not in m.subject and NAME not in m.body_text for m in outbox())
    shown = ok(monkeypatch, "2025-07-23", "appeal", "show", ref)
    assert "appeal 1 against refusal-to-assess: ordered" in shown
    says_what_the_law_requires(outbox())


def says_what_the_law_requires(messages) -> None:
    """Each disagreement notice carries every element its requirement names (notifications/requirements)."""
    told = [m for m in messages if m.kind in requirements.REQUIRED and m.kind.startswith(DISAGREEMENT_KINDS)]
    assert told
    assert {m.kind: requirements.missing(m.kind, {}, m.body_text) for m in told} == {m.kind: [] for m in told}


def test_without_a_certificate_the_appeal_must_be_registered_by_two_months(store_url, monkeypatch):
    ref = refused_case()
    late = ehc(monkeypatch, "2025-04-22", "appeal", "lodged", ref, "--on", "2025-04-22", "--against",
               "refusal-to-assess")
    assert late.exit_code == 2
    assert late.output == "error: --on: after appeal.register (2025-04-10; Tribunal rule 20(1)(c))\n"
    ok(monkeypatch, "2025-04-10", "appeal", "lodged", ref, "--on", "2025-04-10", "--against", "refusal-to-assess")


def test_a_conceded_appeal_runs_its_unopposed_limits(store_url, monkeypatch):
    ref = refused_case()
    ok(monkeypatch, "2025-04-01", "appeal", "lodged", ref, "--on", "2025-04-01", "--against", "refusal-to-assess",
       "--response-due", "2025-05-27")
    # U = Thu 2025-05-01: unopposed.assess U + 2 w, not_to_issue U + 10 w, plan U + 14 w
    ok(monkeypatch, "2025-05-01", "appeal", "conceded", ref, "--on", "2025-05-01")
    st = steps(ref)
    assert {v.rule_id: v.due_on for v in st.values() if v.kind == StepKind.UNOPPOSED_APPEAL} == {
        "unopposed.assess": D("2025-05-15"), "unopposed.not_to_issue": D("2025-07-10"),
        "unopposed.plan": D("2025-08-07")}
    assert st["appeal:1:response"].status == StepStatus.CANCELLED
    with session() as s:
        assert casework.get_case(s, ref).status == CaseStatus.OPEN
    run_watch(D("2025-05-16"))  # the first watch: unopposed.assess is a day overdue
    assert chases_of(st["appeal:1:unopposed.assess"].id) == [
        (D("2025-05-16"), "overdue", Role.SEN_CASEWORKER), (D("2025-05-16"), "escalation", Role.SEN_TEAM_MANAGER)]
    conceded = next(m for m in outbox() if m.kind == "appeal_conceded")
    assert "Thursday 7 August 2025" in conceded.body_text
    # the plan issued within unopposed.plan settles the decision whether to issue
    ok(monkeypatch, "2025-08-01", "appeal", "complied", ref, "--limit", "unopposed.plan", "--on", "2025-08-01")
    assert steps(ref)["appeal:1:unopposed.not_to_issue"].status == StepStatus.DONE
    with session() as s:  # and puts the plan in force, as a plan issued under an order (reg 45)
        assert casework.get_case(s, ref).status == CaseStatus.PLAN_IN_FORCE
    assert steps(ref)["review.annual:1"].due_on == D("2026-07-31")  # 12 months starting with 2025-08-01


def test_a_concession_after_the_response_is_refused(store_url, monkeypatch):
    ref = refused_case()
    ok(monkeypatch, "2025-04-01", "appeal", "lodged", ref, "--on", "2025-04-01", "--against", "refusal-to-assess")
    ok(monkeypatch, "2025-04-20", "appeal", "responded", ref, "--on", "2025-04-20")
    late = ehc(monkeypatch, "2025-05-01", "appeal", "conceded", ref, "--on", "2025-05-01")
    assert late.exit_code == 2 and "a concession comes before the response (reg 45)" in late.output


def plan_in_force_with_cease(decided_on: dt.date, dob: str = "2012-05-01") -> str:
    """A plan in force and a decision to cease notified on `decided_on`: the `plan.cease` step the ceasing acts
    write (rule appeal.register, from the notice)."""
    with session() as s:
        case = casework.open_case(s, child_name=NAME, dob=D(dob), requested_on=D("2023-01-09"), requester="parent",
                                  parent=PARENT, today=D("2023-01-09"), actor="caseworker")
        casework.close_case(s, case, D("2023-05-01"), "test", "withdrawn", "set up")  # its steps out of the way
        case.status, case.stage, case.plan_issued_on = CaseStatus.PLAN_IN_FORCE, Stage.CEASING, D("2023-05-01")
        case.closed_on = case.closed_reason = None
        casework.add_step(s, case, key=StepKey.PLAN_CEASE, kind=StepKind.CEASE, rule_id="appeal.register",
                          role=Role.LA, start=decided_on)
        return case.reference


def window(ref: str) -> dt.date | None:
    with session() as s:
        return appeal_window_closes(s, casework.get_case(s, ref))


def test_the_appeal_window_on_ceasing_with_and_without_a_certificate(store_url, monkeypatch):
    plain = plan_in_force_with_cease(D("2025-03-10"))
    assert window(plain) == D("2025-05-12")  # 03-10 + 2 m = Sat 05-10 → Mon 05-12 (r12)
    too_soon = ehc(monkeypatch, "2025-05-12", "plan", "ceased", plain, "--on", "2025-05-12", "--no-run")
    assert too_soon.exit_code == 2 and "until the appeal window closes on 2025-05-12" in too_soon.stderr
    assert ehc(monkeypatch, "2025-05-13", "plan", "ceased", plain, "--on", "2025-05-13", "--no-run").exit_code == 0
    certified = plan_in_force_with_cease(D("2025-03-10"), dob="2012-06-01")
    ok(monkeypatch, "2025-03-20", "mediation", "wanted", certified, "--about", "cease", "--on", "2025-03-20",
       "--issue", "education")
    ok(monkeypatch, "2025-04-28", "mediation", "held", certified, "--about", "cease", "--on", "2025-04-28")
    ok(monkeypatch, "2025-05-02", "mediation", "certificate", certified, "--about", "cease", "--kind", "after",
       "--from", "2025-04-28", "--on", "2025-05-02")
    assert window(certified) == D("2025-06-02")  # certificate 05-02 + 1 m = Mon 06-02, later than 05-12
    assert steps(certified)["plan.cease"].due_on == D("2025-06-02")  # the cease step moves with it
    early = ehc(monkeypatch, "2025-05-20", "plan", "ceased", certified, "--on", "2025-05-20", "--no-run")
    assert early.exit_code == 2 and "until the appeal window closes on 2025-06-02" in early.stderr  # not 05-12
    ok(monkeypatch, "2025-05-30", "appeal", "lodged", certified, "--on", "2025-05-30", "--against", "cease")
    assert window(certified) is None  # pending: the plan is maintained
    pending = ehc(monkeypatch, "2025-07-01", "plan", "ceased", certified, "--on", "2025-07-01", "--no-run")
    assert pending.exit_code == 2 and "appeal against the decision to cease is pending" in pending.stderr
    ok(monkeypatch, "2025-09-15", "appeal", "decided", certified, "--on", "2025-09-15", "--outcome", "dismissed")
    assert window(certified) == D("2025-09-15")  # the appeal's end is later
    dismissed = next(m for m in outbox() if m.kind == "appeal_decided")
    assert "The council may cease the EHC plan from Monday 15 September 2025." in dismissed.body_text


def test_an_order_to_continue_keeps_the_plan(store_url, monkeypatch):
    ref = plan_in_force_with_cease(D("2025-03-10"))
    ok(monkeypatch, "2025-04-01", "appeal", "lodged", ref, "--on", "2025-04-01", "--against", "cease")
    ok(monkeypatch, "2025-09-15", "appeal", "decided", ref, "--on", "2025-09-15", "--outcome", "order",
       "--order", "continue-amended")
    st = steps(ref)
    assert st["plan.cease"].status == StepStatus.CANCELLED
    assert (st["appeal:1:tribunal.continue"].due_on, st["appeal:1:tribunal.amend"].due_on) == (
        D("2025-09-15"), D("2025-10-20"))  # due = O; O + 5 weeks
    with session() as s:
        assert casework.get_case(s, ref).stage == Stage.PLAN_IN_FORCE


def test_a_complaint_runs_from_received_to_resolved_chased_when_late(store_url, monkeypatch):
    ref = refused_case()
    ok(monkeypatch, "2025-03-03", "complaint", "received", ref, "--on", "2025-03-03")
    st = steps(ref)
    # council targets: 10 working days after Mon 03-03 = Mon 03-17; 20 = Mon 03-31
    assert (st["complaint:1:acknowledge"].due_on, st["complaint:1:respond"].due_on) == (D("2025-03-17"),
                                                                                          D("2025-03-31"))
    run_watch(D("2025-03-18"))  # not acknowledged in time: overdue, on the SEN team manager's queue
    assert chases_of(st["complaint:1:acknowledge"].id) == [
        (D("2025-03-18"), "overdue", Role.SEN_CASEWORKER), (D("2025-03-18"), "escalation", Role.SEN_TEAM_MANAGER)]
    overdue = next(m for m in outbox() if m.kind == "overdue")
    assert "acknowledgement of a complaint (council target)" in overdue.body_text
    ok(monkeypatch, "2025-03-19", "complaint", "acknowledged", ref, "--on", "2025-03-19")
    ok(monkeypatch, "2025-03-28", "complaint", "responded", ref, "--on", "2025-03-28", "--finding", "not-upheld")
    ok(monkeypatch, "2025-04-10", "complaint", "escalated", ref, "--on", "2025-04-10")
    ok(monkeypatch, "2025-07-01", "complaint", "ombudsman", ref, "--on", "2025-07-01", "--finding", "partly-upheld")
    with session() as s:
        c = s.exec(select(Complaint)).one()
        assert (c.status, c.finding, c.ombudsman_finding) == ("closed", "not-upheld", "partly-upheld")
        assert s.exec(select(Escalation)).one().resolved_at is not None
    family = [m for m in outbox() if m.recipient_role == Role.FAMILY and m.kind.startswith("complaint")]
    assert [m.kind for m in family] == ["complaint_acknowledged", "complaint_response"]
    assert "Monday 31 March 2025 (the council's own target, not a statutory limit)" in family[0].body_text
    assert "Ombudsman" in family[1].body_text and "not upheld" in family[1].body_text
    says_what_the_law_requires(outbox())


def test_the_complaint_targets_are_configurable(store_url, monkeypatch):
    monkeypatch.setenv("EHC_COMPLAINT_ACK_DAYS", "5")
    monkeypatch.setenv("EHC_COMPLAINT_RESPONSE_DAYS", "15")
    ref = refused_case()
    ok(monkeypatch, "2025-03-03", "complaint", "received", ref, "--on", "2025-03-03")
    st = steps(ref)
    assert (st["complaint:1:acknowledge"].due_on, st["complaint:1:respond"].due_on) == (D("2025-03-10"),
                                                                                          D("2025-03-24"))


def test_a_council_health_dispute_runs_from_raised_to_resolved_chased_when_late(store_url, monkeypatch):
    ref = refused_case()
    ok(monkeypatch, "2025-03-03", "dispute", "raised", ref, "--with", "health", "--over", "funding", "--on",
       "2025-03-03")
    first = steps(ref)["dispute:1:resolve"]
    assert (first.role, first.due_on) == (Role.DCO, D("2025-03-31"))  # 20 working days after Mon 03-03
    run_watch(D("2025-04-01"))
    assert chases_of(first.id) == [(D("2025-04-01"), "overdue", Role.DCO)]
    with session() as s:
        assert s.exec(select(Escalation)).one().queue == "dco"  # on the DCO's queue, told in the day's digest
    assert [(m.on, m.recipient_role) for m in outbox() if m.kind == "dco_digest"] == [(D("2025-04-01"), Role.DCO)]
    ok(monkeypatch, "2025-04-02", "dispute", "escalated", ref, "--on", "2025-04-02")
    second = steps(ref)["dispute:1:disputes_process"]
    assert second.due_on == D("2025-05-02")  # 20 working days after Wed 04-02, over Good Friday and Easter Monday
    ok(monkeypatch, "2025-04-25", "dispute", "resolved", ref, "--on", "2025-04-25", "--how",
       "ICB funds half the speech and language therapy")
    with session() as s:
        d = s.exec(select(Dispute)).one()
        assert (d.status, d.resolved_on) == ("resolved", D("2025-04-25"))
        assert s.exec(select(Escalation)).one().resolved_at is not None
    told = [m for m in outbox() if m.kind.startswith("dispute")]
    assert [(m.kind, m.recipient_role) for m in told] == [("dispute_raised", Role.DCO), ("dispute_raised", Role.DCO),
                                                          ("dispute_resolved", Role.DCO)]
    assert "escalated to the disputes process" in told[1].subject
    assert all("speech" not in m.body_text for m in told)  # how it was resolved stays in the store
    says_what_the_law_requires(outbox())


def test_cease_review_prompts_at_25_and_on_leaving_education(store_url, monkeypatch):
    with session() as s:
        for name, dob in (("Older One", D("2000-05-01")), ("Younger One", D("2000-09-02"))):
            case = casework.open_case(s, child_name=name, dob=dob, requested_on=D("2024-01-08"), requester="parent",
                                      parent=PARENT, today=D("2024-01-08"), actor="caseworker")
            casework.close_case(s, case, D("2024-05-01"), "test", "withdrawn", "set up")
            case.status, case.stage = CaseStatus.PLAN_IN_FORCE, Stage.PLAN_IN_FORCE
            case.plan_issued_on = D("2024-05-01")
            case.closed_on = case.closed_reason = None
        s.flush()
        refs = [c.reference for c in s.exec(select(Case).order_by(Case.id))]
    with session() as s:
        assert [d.reference for d in cease_prompts.due_prompts(s, D("2025-06-01"))] == [refs[0]]
    opened = ok(monkeypatch, "2025-06-01", "cease-review", "prompts", "--on", "2025-06-01")
    assert opened == "1 cease review prompt opened\n"
    prompt = steps(refs[0])["cease.review_prompt"]
    assert prompt.due_on == D("2025-07-31")  # 25 on 2025-05-01: the academic year ends 31 July (reg 46(1)(a))
    again = ok(monkeypatch, "2025-06-02", "cease-review", "prompts", "--on", "2025-06-02")
    assert again == "0 cease review prompts opened\n"
    assert cease_prompts.end_of_academic_year_turning(D("2000-09-02")) == D("2026-07-31")  # 25 in Sept 2025
    assert cease_prompts.end_of_academic_year_turning(D("2000-07-31")) == D("2025-07-31")  # 25 on its last day
    assert cease_prompts.end_of_academic_year_turning(D("2000-08-01")) == D("2026-07-31")  # 25 on the next's first
    assert cease_prompts.end_of_academic_year_turning(D("2000-02-29")) == D("2025-07-31")  # 25 on 1 March 2025
    ok(monkeypatch, "2025-06-03", "cease-review", "left-education", refs[1], "--on", "2025-06-02")
    assert steps(refs[1])["cease.review_prompt"].due_on == D("2025-06-02")
    ok(monkeypatch, "2025-06-04", "cease-review", "considered", refs[1], "--on", "2025-06-04")
    assert steps(refs[1])["cease.review_prompt"].status == StepStatus.DONE


def _counts() -> tuple:
    with session() as s:
        return tuple(s.exec(select(func.count()).select_from(t)).one()
                     for t in (OutboxMessage, AuditEvent, Step, Mediation, Appeal, Complaint, Dispute))


BAD = [  # (today, command…, the one line expected)
    ("2025-03-03", ["mediation", "wanted", "{ref}", "--about", "sideways", "--on", "2025-03-03", "--issue",
                    "health"], "error: --about: must be one of refusal-to-assess, refusal-to-issue, contents, school, "
                               "cease, refusal-to-amend"),
    ("2025-03-03", ["mediation", "wanted", "{ref}", "--about", "contents", "--on", "2025-03-03", "--issue",
                    "health"], "error: --about: {ref} has no decision of the kind contents to disagree with"),
    ("2025-03-03", ["mediation", "wanted", "{ref}", "--about", "refusal-to-assess", "--on", "2025-03-03", "--issue",
                    "transport"], "error: --issue: unknown issue 'transport' (one of education, health, social_care)"),
    ("2025-03-03", ["mediation", "wanted", "{ref}", "--about", "refusal-to-assess", "--on", "2025-03-04",
                    "--issue", "health"], "error: --on: 2025-03-04 is in the future"),
    ("2025-05-01", ["mediation", "wanted", "{ref}", "--about", "refusal-to-assess", "--on", "2025-04-11",
                    "--issue", "health"], "error: --on: after mediation.contact (2025-04-10, 2 months from the "
                                          "notice, reg 33)"),
    ("2025-03-03", ["mediation", "held", "{ref}", "--about", "refusal-to-assess", "--on", "2025-03-03"],
     "error: --about: {ref} has no mediation about refusal-to-assess (`ehc mediation wanted`)"),
    ("2025-03-03", ["mediation", "certificate", "{ref}", "--about", "refusal-to-assess", "--kind", "late",
                    "--from", "2025-03-01", "--on", "2025-03-03"],
     "error: --kind: must be one of declined, not_arranged, after"),
    ("2025-03-03", ["mediation", "certificate", "{ref}", "--about", "refusal-to-assess", "--kind", "declined",
                    "--from", "2025-03-04", "--on", "2025-03-03"],
     "error: --on: 2025-03-03 is before the day its limit runs from (2025-03-04)"),
    ("2025-03-03", ["appeal", "lodged", "{ref}", "--on", "2025-03-03", "--against", "school"],
     "error: --against: {ref} has no decision of the kind school to disagree with"),
    ("2025-03-03", ["appeal", "lodged", "{ref}", "--on", "2025-02-01", "--against", "refusal-to-assess"],
     "error: --on: 2025-02-01 is before the decision's notice (2025-02-10)"),
    ("2025-03-03", ["appeal", "responded", "{ref}", "--on", "2025-03-03"],
     "error: REF: {ref} has no appeal (`ehc appeal lodged`)"),
    ("2025-03-03", ["appeal", "decided", "{ref}", "--on", "2025-03-03", "--outcome", "order"],
     "error: REF: {ref} has no appeal (`ehc appeal lodged`)"),
    ("2025-03-03", ["complaint", "received", "{ref}", "--on", "2025-03-31"],
     "error: --on: 2025-03-31 is in the future"),
    ("2025-03-03", ["complaint", "acknowledged", "{ref}", "--on", "2025-03-03"],
     "error: REF: {ref} has no such complaint"),
    ("2025-03-03", ["dispute", "raised", "{ref}", "--with", "police", "--over", "funding", "--on", "2025-03-03"],
     "error: --with: must be one of health, social_care"),
    ("2025-03-03", ["dispute", "raised", "{ref}", "--with", "health", "--over", "transport", "--on", "2025-03-03"],
     "error: --over: must be one of provision, funding"),
    ("2025-03-03", ["dispute", "resolved", "{ref}", "--on", "2025-03-03", "--how", "x"],
     "error: REF: {ref} has no such dispute"),
    ("2025-03-03", ["cease-review", "left-education", "{ref}", "--on", "2025-03-03"],
     "error: REF: {ref} has no plan in force"),
    ("2025-03-03", ["appeal", "lodged", "EHC-2025-9", "--on", "2025-03-03", "--against", "cease"],
     "error: REF: 'EHC-2025-9' is not a case reference of the form EHC-YYYY-NNNNN"),
]


@pytest.mark.parametrize(("today", "args", "line"), BAD, ids=[" ".join(b[1][:2]) + f" {i}" for i, b in enumerate(BAD)])
def test_every_act_is_refused_on_bad_input(store_url, monkeypatch, today, args, line):
    ref = refused_case()
    before = _counts()
    result = ehc(monkeypatch, today, *[a.format(ref=ref) for a in args])
    assert result.exit_code == 2
    assert result.output == line.format(ref=ref) + "\n"
    assert _counts() == before


def test_acts_on_an_order_and_a_mediation_refused_in_sequence(store_url, monkeypatch):
    """Acts out of order: a second appeal on the same decision, an order the ground does not allow, a limit the
    order did not set, a dispute resolved without saying how, a complaint escalated before its response."""
    ref = refused_case()
    ok(monkeypatch, "2025-03-03", "appeal", "lodged", ref, "--on", "2025-03-03", "--against", "refusal-to-assess")
    ok(monkeypatch, "2025-03-03", "complaint", "received", ref, "--on", "2025-03-03")
    ok(monkeypatch, "2025-03-03", "dispute", "raised", ref, "--with", "social_care", "--over", "provision", "--on",
       "2025-03-03")
    before = _counts()
    cases = [
        (["appeal", "lodged", ref, "--on", "2025-03-04", "--against", "refusal-to-assess"],
         f"error: --against: {ref} already has appeal 1 against this decision"),
        (["appeal", "decided", ref, "--on", "2025-03-04", "--outcome", "order", "--order", "school"],
         "error: --order: an appeal against refusal-to-assess may order assess"),
        (["appeal", "decided", ref, "--on", "2025-03-04", "--outcome", "dismissed", "--order", "assess"],
         "error: --order: only with --outcome order, not dismissed"),
        (["appeal", "complied", ref, "--limit", "tribunal.plan", "--on", "2025-03-04"],
         f"error: --limit: appeal:1:tribunal.plan is not open on {ref} (stage closed, status closed)"),
        (["dispute", "resolved", ref, "--on", "2025-03-04", "--how", " "], "error: --how: say how it was resolved"),
        (["complaint", "escalated", ref, "--on", "2025-03-04"],
         f"error: --complaint: complaint 1 of {ref} is received: the Ombudsman looks at a complaint once the council "
         "has responded"),
        (["complaint", "responded", ref, "--on", "2025-03-04", "--finding", "maybe"],
         "error: --finding: must be one of upheld, partly-upheld, not-upheld"),
    ]
    for args, line in cases:
        result = ehc(monkeypatch, "2025-03-04", *args)
        assert (result.exit_code, result.output) == (2, line + "\n"), args
    assert _counts() == before


def test_a_mediation_agreement_becomes_steps_chased_for_the_council_and_the_icb(store_url, monkeypatch):
    ref = refused_case()
    ok(monkeypatch, "2025-03-03", "mediation", "wanted", ref, "--about", "refusal-to-assess", "--on", "2025-03-03",
       "--issue", "education", "--issue", "health")
    ok(monkeypatch, "2025-03-20", "mediation", "held", ref, "--about", "refusal-to-assess", "--on", "2025-03-20",
       "--act", "re-consider the request with the new EP report", "--icb-act", "send the paediatric report")
    st = steps(ref)
    acts = [st["mediation:1:act:1"], st["mediation:1:act:2"]]
    assert [(a.rule_id, a.role, a.due_on) for a in acts] == [  # 2 weeks from the agreement, Thu 03-20
        ("mediation.agreement_act", Role.LA, D("2025-04-03")), ("mediation.agreement_act", Role.DCO, D("2025-04-03"))]
    agreement = next(m for m in outbox() if m.kind == "mediation_agreement")
    assert "Send the paediatric report: by Thursday 3 April 2025." in agreement.body_text
    ok(monkeypatch, "2025-04-01", "mediation", "act-done", ref, "--mediation", "1", "--act", "1", "--on", "2025-04-01")
    run_watch(D("2025-04-04"))
    assert chases_of(acts[0].id) == []
    assert chases_of(acts[1].id) == [(D("2025-04-04"), "overdue", Role.DCO)]


def test_certificates_declined_and_not_arranged(store_url, monkeypatch):
    declined = refused_case()
    # declined: the adviser was told on Fri 03-07; certificate due 3 working days on, Wed 03-12; issued Thu 03-13
    ok(monkeypatch, "2025-03-13", "mediation", "certificate", declined, "--about", "refusal-to-assess", "--kind",
       "declined", "--from", "2025-03-07", "--on", "2025-03-13")
    with session() as s:
        m = s.exec(select(Mediation)).one()
        assert (m.status, m.certificate_due_on, m.certificate_on) == ("declined", D("2025-03-12"), D("2025-03-13"))
        audit = s.exec(select(AuditEvent).where(AuditEvent.action == "mediation certificate")).one()
        assert audit.detail["late"] is True
    # appeal.register: later of 04-10 and 03-13 + 1 m = 04-13 (Sunday) → Mon 04-14
    ok(monkeypatch, "2025-04-14", "appeal", "lodged", declined, "--on", "2025-04-14", "--against",
       "refusal-to-assess")
    again = ehc(monkeypatch, "2025-03-14", "mediation", "certificate", declined, "--about", "refusal-to-assess",
                "--kind", "declined", "--from", "2025-03-07", "--on", "2025-03-14")
    assert again.exit_code == 2 and "already has its certificate (2025-03-13)" in again.output


def test_a_mediation_the_council_cannot_arrange(store_url, monkeypatch):
    ref = refused_case()
    ok(monkeypatch, "2025-03-03", "mediation", "wanted", ref, "--about", "refusal-to-assess", "--on", "2025-03-03",
       "--issue", "social_care")
    after = ehc(monkeypatch, "2025-03-20", "mediation", "certificate", ref, "--about", "refusal-to-assess", "--kind",
                "after", "--from", "2025-03-20", "--on", "2025-03-20")
    assert after.exit_code == 2 and "has not been held" in after.output
    ok(monkeypatch, "2025-03-26", "mediation", "certificate", ref, "--about", "refusal-to-assess", "--kind",
       "not_arranged", "--from", "2025-03-24", "--on", "2025-03-26")
    assert steps(ref)["mediation:1:held"].status == StepStatus.CANCELLED
    with session() as s:
        assert s.exec(select(Mediation)).one().certificate_due_on == D("2025-03-27")  # 3 wd after Mon 03-24


def test_no_plan_after_an_ordered_assessment_is_a_new_appealable_refusal(store_url, monkeypatch):
    ref = refused_case()
    ok(monkeypatch, "2025-04-01", "appeal", "lodged", ref, "--on", "2025-04-01", "--against", "refusal-to-assess")
    ok(monkeypatch, "2025-07-07", "appeal", "decided", ref, "--on", "2025-07-07", "--outcome", "order",
       "--order", "assess")
    ok(monkeypatch, "2025-07-14", "appeal", "complied", ref, "--limit", "tribunal.assess", "--on", "2025-07-14")
    ok(monkeypatch, "2025-09-08", "appeal", "complied", ref, "--limit", "tribunal.not_to_issue", "--on", "2025-09-08")
    with session() as s:
        case = casework.get_case(s, ref)
        assert (case.status, case.closed_reason) == (CaseStatus.CLOSED, "not_to_issue")
    assert steps(ref)["appeal:1:tribunal.plan"].status == StepStatus.CANCELLED
    refusal = [m for m in outbox() if m.kind == "not_to_issue"][-1]
    assert "decision not to issue an EHC plan" in refusal.subject
    assert "Monday 10 November 2025" in refusal.body_text  # 09-08 + 2 months (Mon): the new appeal deadline
    ok(monkeypatch, "2025-10-01", "appeal", "lodged", ref, "--on", "2025-10-01", "--against", "refusal-to-issue")


def test_an_ordered_assessment_asks_for_advice_and_its_plan_goes_into_force(store_url, monkeypatch):
    """An order to assess writes what follows it, as a decision to assess does: telling the family it will assess
    asks every source for advice that day (reg 6(1)); the plan issued under the order is in force with its first
    review due, through the code an assessment's final plan goes through (CFA s44(1); reg 13(2))."""
    ref = refused_case()
    ok(monkeypatch, "2025-04-01", "appeal", "lodged", ref, "--on", "2025-04-01", "--against", "refusal-to-assess")
    ok(monkeypatch, "2025-07-07", "appeal", "decided", ref, "--on", "2025-07-07", "--outcome", "order",
       "--order", "assess")
    assert not [k for k in steps(ref) if k.startswith("advice:")]  # not before the council says it will assess
    ok(monkeypatch, "2025-07-14", "appeal", "complied", ref, "--limit", "tribunal.assess", "--on", "2025-07-14")
    advice = {k: v for k, v in steps(ref).items() if k.startswith("advice:")}
    assert sorted(advice) == ["advice:education", "advice:ep", "advice:health", "advice:parent", "advice:social_care"]
    # advice.provide: 6 weeks from Mon 07-14 = Mon 08-25 (calendar weeks; a bank holiday does not move it)
    assert {(v.status, v.started_on, v.due_on) for v in advice.values()} == {
        (StepStatus.OPEN, D("2025-07-14"), D("2025-08-25"))}
    requests = [m for m in outbox() if m.kind == "advice_request"]
    assert {m.recipient_role for m in requests} == {Role.FAMILY, Role.SENCO, Role.DCO, Role.SOCIAL_CARE,
                                                    Role.EDUCATIONAL_PSYCHOLOGIST}
    assert {m.on for m in requests} == {D("2025-07-14")}
    for source in ("parent", "education", "health", "social_care", "ep"):
        ok(monkeypatch, "2025-08-20", "advice", "received", ref, "--source", source, "--on", "2025-08-20")
    st = steps(ref)
    assert StepKey.COPRODUCTION_MEETING not in st  # under the order, its own limits come next, not week 16
    with session() as s:
        assert casework.get_case(s, ref).stage == Stage.TRIBUNAL_ORDER
    # the final plan within tribunal.plan (07-07 + 14 weeks = Mon 10-13), issued Mon 10-06
    ok(monkeypatch, "2025-10-06", "appeal", "complied", ref, "--limit", "tribunal.plan", "--on", "2025-10-06")
    st = steps(ref)
    assert st["appeal:1:tribunal.not_to_issue"].status == StepStatus.DONE
    with session() as s:
        case = casework.get_case(s, ref)
        assert (case.status, case.stage, case.plan_issued_on) == (CaseStatus.PLAN_IN_FORCE, Stage.PLAN_IN_FORCE,
                                                                  D("2025-10-06"))
    # review.annual: the period of 12 months starting with the issue day, 2025-10-06 to 2026-10-05
    assert (st["review.annual:1"].started_on, st["review.annual:1"].due_on) == (D("2025-10-06"), D("2026-10-05"))
    final = [m for m in outbox() if m.kind == "final_plan"]
    assert [m.recipient_role for m in final] == [Role.FAMILY] and final[0].on == D("2025-10-06")
    assert "Monday 8 December 2025" in final[0].body_text  # appeal.register: 10-06 + 2 months = Sat 12-06 → Mon


def test_what_a_mediation_s_run_waits_on_in_turn(store_url, monkeypatch):
    """The store's conditions a mediation's run is suspended on (`models.threads`): held, then its certificate
    (3 working days after Thu 03-20: Tue 03-25), then each agreed act (2 weeks from 03-20: 04-03); then nothing."""
    ref = refused_case()

    def waiting_on():
        with session() as s:
            case = casework.get_case(s, ref)
            return [(form.__name__, threads.waits(s, case, form.waits_on)[1]) for form in WAITS["mediation"]
                    if threads.waits(s, case, form.waits_on)[0]]

    assert waiting_on() == [] and next_wait(ref, "mediation", 1) is None
    ok(monkeypatch, "2025-03-03", "mediation", "wanted", ref, "--about", "refusal-to-assess", "--on", "2025-03-03",
       "--issue", "education")
    assert waiting_on() == [("MediationHeld", D("2025-04-02"))]
    ok(monkeypatch, "2025-03-20", "mediation", "held", ref, "--about", "refusal-to-assess", "--on", "2025-03-20",
       "--act", "amend section F")
    assert waiting_on() == [("MediationCertificate", D("2025-03-25")), ("MediationActDone", D("2025-04-03"))]
    ok(monkeypatch, "2025-03-24", "mediation", "certificate", ref, "--about", "refusal-to-assess", "--kind", "after",
       "--from", "2025-03-20", "--on", "2025-03-24")
    assert [name for name, _ in waiting_on()] == ["MediationActDone"]
    with session() as s:
        assert (ref, "mediation", 1) in threads.expecting_runs(s)
    ok(monkeypatch, "2025-03-31", "mediation", "act-done", ref, "--mediation", "1", "--act", "1", "--on", "2025-03-31")
    assert waiting_on() == [] and next_wait(ref, "mediation", 1) is None
    with session() as s:
        assert (ref, "mediation", 1) not in threads.expecting_runs(s)
