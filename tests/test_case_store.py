"""`ehc case open|show`, `ehc db upgrade` and `models.casework`, on every backend of the `store_url` fixture."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os

import pytest
import sqlalchemy as sa
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from models import casework, db, statutory
from models.cases import AuditEvent, Case, Step
from models.db import session
from models.errors import InputError
from tests.conftest import BACKENDS, postgres_schema

D = dt.date.fromisoformat
TODAY = "2025-03-01"
OPEN = ["case", "open", "--child-name", "Alex Example", "--dob", "2015-03-02", "--requested-on", "2025-01-06",
        "--requester", "parent"]


@pytest.fixture
def store(store_url, monkeypatch):
    monkeypatch.setenv("EHC_TODAY", TODAY)
    return store_url


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def counts(url: str) -> dict[str, int]:
    """Rows in every table of the store."""
    with db.engine(url).connect() as conn:
        tables = [t for t in sa.inspect(conn).get_table_names() if t != "alembic_version"]
        return {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}


def open_case(**overrides) -> Case:
    args = {"child_name": "Alex Example", "dob": D("2015-03-02"), "requested_on": D("2025-01-06"),
            "requester": "parent", "today": D(TODAY), "actor": "test", **overrides}
    with session() as s:
        return casework.open_case(s, **args)


def with_option(option: str, value: str) -> list[str]:
    args = list(OPEN)
    args[args.index(option) + 1] = value
    return args


# --- opening and showing a case ------------------------------------------------------------------


def test_case_open_prints_the_reference_and_writes_the_first_steps(store):
    result = invoke(*OPEN)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "EHC-2025-00001"
    with session() as s:
        case = casework.get_case(s, "EHC-2025-00001")
        (step, final) = casework.case_steps(s, case)
        events = casework.audit_log(s, case)
    assert case.rule_set == statutory.RULE_SET == "eng-2014.3"
    assert case.requested_on == D("2025-01-06") and case.requester == "parent" and case.status == "open"
    assert step.key == step.rule_id == "assess.decision" and step.status == "open"
    assert step.due_on == statutory.deadline("assess.decision", D("2025-01-06")).due == D("2025-02-17")
    assert step.target_on == step.due_on and not step.disapplied
    assert (final.key, final.status, final.due_on) == ("plan.final", "open", D("2025-05-26"))  # watched from R
    assert [e.action for e in events][0] == "request registered"
    assert all(e.actor for e in events) and events[0].on == D("2025-01-06")


def test_references_increment_within_the_year_of_the_request(store):
    first = invoke(*OPEN)
    second = invoke(*with_option("--child-name", "Sam Example"))
    earlier_year = invoke(*with_option("--child-name", "Jo Example")[:-4], "--requested-on", "2024-12-20",
                          "--requester", "setting")
    assert [r.stdout.strip() for r in (first, second, earlier_year)] == [
        "EHC-2025-00001", "EHC-2025-00002", "EHC-2024-00001"]
    assert all(casework.REFERENCE.match(r.stdout.strip()) for r in (first, second, earlier_year))


def test_case_show_json_lists_steps_and_deadlines(store):
    invoke(*OPEN)
    result = invoke("case", "show", "EHC-2025-00001", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["reference"] == "EHC-2025-00001" and data["rule_set"] == "eng-2014.3"
    assert data["requested_on"] == "2025-01-06"
    assert [(st["key"], st["due"], st["status"]) for st in data["steps"]] == [
        ("assess.decision", "2025-02-17", "open"), ("plan.final", "2025-05-26", "open")]
    assert "Alex" not in result.stdout  # the JSON view names the case, not the child


def test_case_show_plain_prints_every_date_in_full(store):
    """Piped output is 80 columns to rich: a table there cut the due date to '2025-02-…'."""
    case = open_case()
    _add_exception(case.reference, kind="personal", start=D("2025-01-20"), end=D("2025-01-31"))
    result = invoke("case", "show", "EHC-2025-00001")
    assert result.exit_code == 0
    assert "EHC-2025-00001" in result.stdout and "eng-2014.3" in result.stdout
    (line,) = [ln for ln in result.stdout.splitlines() if ln.startswith("assess.decision")]
    assert "2025-01-06" in line and "2025-02-17*" in line and "2025-03-01" in line and "open" in line


def test_a_case_stored_under_eng_2014_2_keeps_its_rule_set(store):
    """A case opened before eng-2014.3 computes every limit of eng-2014.2 under it, and takes a §2.6 limit
    from eng-2014.3, the set that first defines it."""
    reference = open_case().reference
    with session() as s:
        s.get(Case, casework.get_case(s, reference).id).rule_set = "eng-2014.2"
    with session() as s:
        case = casework.get_case(s, reference)
        final = casework.compute_due(s, case, "plan.final", D("2025-01-06"))
        order = casework.compute_due(s, case, "tribunal.plan", D("2025-01-06"))
    assert case.rule_set == "eng-2014.2"
    assert final.rule_set == "eng-2014.2" and final.due == D("2025-05-26")  # R + 20 w
    assert order.rule_set == "eng-2014.3" and order.due == D("2025-04-14")  # O + 14 w
    result = invoke("case", "show", reference)
    assert result.exit_code == 0 and "eng-2014.2" in result.stdout


# --- bad input: exit 2, one line naming field and rule, nothing written ------------------------------


@pytest.mark.parametrize("option, value, field, rule", [
    ("--requested-on", "2015-03-01", "--requested-on", "before the date of birth"),
    ("--requested-on", "2025-03-02", "--requested-on", "in the future"),  # the injected today is 1 Mar
    ("--dob", "2025-03-02", "--dob", "in the future"),
    ("--dob", "2000-01-06", "--dob", "under 25"),  # 25th birthday on the request day
    ("--dob", "1990-05-01", "--dob", "under 25"),
    ("--dob", "2015-02-29", "--dob", "real calendar date"),
    ("--dob", "02/03/2015", "--dob", "YYYY-MM-DD"),
    ("--requested-on", "2025-01-32", "--requested-on", "real calendar date"),
    ("--requested-on", "2025-1-6", "--requested-on", "YYYY-MM-DD"),
    ("--requester", "grandparent", "--requester", "parent, young-person, setting, other"),
    ("--child-name", "  ", "--child-name", "must not be empty"),
])
def test_bad_input_writes_nothing(store, option, value, field, rule):
    invoke(*with_option("--child-name", "Someone Else"))  # the store is not empty
    before = counts(store)
    result = invoke(*with_option(option, value))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}: ") and rule in lines[0], lines
    assert result.stdout == ""
    assert counts(store) == before


def test_aged_24_on_the_request_day_is_accepted(store):
    result = invoke(*with_option("--dob", "2000-01-07"))
    assert result.exit_code == 0, result.stderr


def test_second_open_case_for_the_same_child_is_refused_and_writes_nothing(store):
    assert invoke(*OPEN).exit_code == 0
    before = counts(store)
    result = invoke(*with_option("--requested-on", "2025-02-10"))
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: --child-name: ") and "EHC-2025-00001" in line
    assert counts(store) == before


def test_a_closed_case_does_not_block_a_new_request(store):
    case = open_case()
    with session() as s:
        stored = casework.get_case(s, case.reference)
        stored.status = "closed"
        s.add(stored)
    again = open_case(requested_on=D("2025-02-10"))
    assert again.reference == "EHC-2025-00002" and again.child_id == case.child_id


@pytest.mark.parametrize("reference, rule", [("EHC-2025-00009", "no case"), ("ehc-2025-1", "EHC-YYYY-NNNNN")])
def test_case_show_unknown_or_malformed_reference(store, reference, rule):
    result = invoke("case", "show", reference)
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: REF: ") and rule in line


# --- clock exceptions on a case ------------------------------------------------------------------


def _step(reference: str, key: str = "assess.decision") -> Step:
    with session() as s:
        case = casework.get_case(s, reference)
        return s.exec(select(Step).where(Step.case_id == case.id, Step.key == key)).one()


def _add_exception(reference: str, **kwargs):
    with session() as s:
        case = casework.get_case(s, reference)
        return casework.add_exception(s, case, actor="test", **kwargs)


@pytest.mark.parametrize("kwargs, rule", [
    ({"kind": "missed_appointment", "start": D("2025-01-20"), "end": D("2025-01-20")}, "none of the open limits"),
    ({"kind": "holiday", "start": D("2025-01-20"), "end": D("2025-03-01")}, "unknown exception kind"),
    ({"kind": "absence", "start": D("2025-01-10"), "end": D("2025-02-05")}, "4 weeks"),  # 27 days
    ({"kind": "closure", "start": D("2025-01-10"), "end": D("2025-02-06"), "facts": {
        "head_advice_requested": "2025-01-09"}}, "4 weeks"),  # closed 10 Jan … 5 Feb = 27 days
    ({"kind": "closure", "start": D("2025-01-10"), "end": D("2025-02-28")}, "head_advice_requested"),
    ({"kind": "personal", "start": D("2025-02-10"), "end": D("2025-01-20")}, "before it starts"),
])
def test_add_exception_rejects_bad_input_and_writes_nothing(store, kwargs, rule):
    case = open_case()
    before, step_before = counts(store), _step(case.reference)
    with pytest.raises(InputError) as err:
        _add_exception(case.reference, **kwargs)
    assert rule in str(err.value)
    assert counts(store) == before
    after = _step(case.reference)
    assert (after.due_on, after.target_on, after.disapplied) == (step_before.due_on, step_before.target_on, False)


def test_add_exception_for_a_kind_the_step_does_not_take(store):
    """missed_appointment is for advice only (reg 8(2)(c)): refused on the decision step even when named."""
    case = open_case()
    with pytest.raises(InputError):
        _add_exception(case.reference, kind="missed_appointment", start=D("2025-01-20"), end=D("2025-01-20"),
                       step_key="assess.decision")


def test_valid_personal_exception_disapplies_and_moves_the_target_only(store):
    case = open_case()  # assess.decision due 17 Feb 2025; its clock is 7 Jan … 17 Feb
    before = counts(store)
    _add_exception(case.reference, kind="personal", start=D("2025-01-20"), end=D("2025-01-31"),
                   evidence_note="hospital stay")
    step = _step(case.reference)
    assert step.due_on == D("2025-02-17")  # the statutory date never moves
    assert step.disapplied and step.target_on == D("2025-03-01")  # 17 Feb + 12 days
    after = counts(store)
    assert after["clock_exception"] == before["clock_exception"] + 1
    with session() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "clock exception recorded")).all()
    assert len(events) == 1 and events[0].detail["kind"] == "personal"
    assert "reg" in events[0].detail["regulation"]


def test_valid_closure_with_the_head_asked_in_the_window(store):
    # request Mon 7 Jul 2025: decision due 18 Aug; school closed 19 Jul, re-opens 3 Sep; 31 closed days inside
    case = open_case(requested_on=D("2025-07-07"), today=D("2025-07-20"))
    _add_exception(case.reference, kind="closure", start=D("2025-07-19"), end=D("2025-09-03"),
                   facts={"head_advice_requested": "2025-07-18"})
    step = _step(case.reference)
    assert (step.due_on, step.target_on, step.disapplied) == (D("2025-08-18"), D("2025-09-18"), True)


def test_exception_outside_the_clock_is_recorded_but_not_applied(store):
    case = open_case()
    _add_exception(case.reference, kind="personal", start=D("2025-03-01"), end=D("2025-03-20"))
    step = _step(case.reference)
    assert (step.due_on, step.target_on, step.disapplied) == (D("2025-02-17"), D("2025-02-17"), False)


def _with_order_limit(reference: str) -> None:
    """An order's limit open beside the decision: tribunal.assess from Mon 20 Jan 2025, due Mon 3 Feb."""
    with session() as s:
        case = casework.get_case(s, reference)
        casework.add_step(s, case, key="appeal:1:tribunal.assess", kind="tribunal_order", rule_id="tribunal.assess",
                          role="la", start=D("2025-01-20"))


def test_an_absence_of_2_to_4_weeks_sets_aside_only_the_limits_that_admit_it(store):
    """A 16-day absence (21 Jan … 5 Feb) is refused by the 4-week rule of assess.decision (reg 5(4)) and admitted by
    tribunal.assess (§2.6: a continuous 2 weeks, 14 days of it inside the clock 21 Jan … 3 Feb): it is recorded
    and applied to the order's limit alone."""
    case = open_case()
    _with_order_limit(case.reference)
    _add_exception(case.reference, kind="absence", start=D("2025-01-21"), end=D("2025-02-05"))
    decision, order = _step(case.reference), _step(case.reference, "appeal:1:tribunal.assess")
    assert (decision.due_on, decision.target_on, decision.disapplied) == (D("2025-02-17"), D("2025-02-17"), False)
    assert (order.due_on, order.target_on, order.disapplied) == (D("2025-02-03"), D("2025-02-17"), True)  # + 14 days
    with session() as s:  # re-applied later (any act recomputes): still only where the law admits it
        casework.recompute_deadlines(s, casework.get_case(s, case.reference))
    assert not _step(case.reference).disapplied and _step(case.reference, "appeal:1:tribunal.assess").disapplied


def test_an_absence_too_short_for_every_open_limit_is_refused_by_the_laxest(store):
    case = open_case()
    _with_order_limit(case.reference)
    before = counts(store)
    with pytest.raises(InputError) as err:  # 10 days: under the 2 weeks even the order's limit asks
        _add_exception(case.reference, kind="absence", start=D("2025-01-21"), end=D("2025-01-30"))
    assert "for tribunal.assess an absence must be a continuous period of at least 2 weeks (14 days)" in str(err.value)
    assert counts(store) == before


def test_an_absence_of_4_weeks_sets_aside_both(store):
    case = open_case()
    _with_order_limit(case.reference)
    _add_exception(case.reference, kind="absence", start=D("2025-01-08"), end=D("2025-02-06"))  # 30 days
    decision, order = _step(case.reference), _step(case.reference, "appeal:1:tribunal.assess")
    assert (decision.target_on, decision.disapplied) == (D("2025-03-19"), True)  # 17 Feb + 30 days
    assert (order.target_on, order.disapplied) == (D("2025-02-17"), True)  # 3 Feb + 14 days (21 Jan … 3 Feb)


# --- migrations ----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_build_the_store_from_empty(backend, tmp_path):
    with contextlib.ExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / 'empty.db'}"
        else:
            url = stack.enter_context(postgres_schema(f"ehc_empty_{os.getpid()}"))
        check = sa.create_engine(url)
        assert db.current_revision(check) is None
        assert db.upgrade(url) == db.head_revision(url)
        assert db.current_revision(check) == db.head_revision(url)
        tables = set(sa.inspect(check).get_table_names())
        assert {"child", "case", "step", "contact", "clock_exception", "audit_event", "notification_outbox",
                "escalation"} <= tables
        check.dispose()


def test_db_upgrade_is_idempotent_and_keeps_the_data(store):
    invoke(*OPEN)
    before = counts(store)
    first, second = invoke("db", "upgrade"), invoke("db", "upgrade")
    assert first.exit_code == second.exit_code == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout == f"case store at revision {db.head_revision(store)}\n"
    assert counts(store) == before


def test_two_closures_each_use_their_own_head_advice_date(store):
    """Each closure is judged by the day the head was asked for *that* closure (spec §3, reg 10(4)(a))."""
    # plan.final from Thu 1 May 2025: due 18 Sep; clock 2 May … 18 Sep
    case = open_case(requested_on=D("2025-05-01"), today=D("2025-05-02"))
    with session() as s:
        casework.add_step(s, casework.get_case(s, case.reference), key="plan.final", kind="final_plan",
                          rule_id="plan.final", role=casework.LA, start=D("2025-05-01"))
    # closed 10 May, re-opens 10 Jun (asked 5 May): 10 May … 9 Jun = 31 days
    _add_exception(case.reference, kind="closure", start=D("2025-05-10"), end=D("2025-06-10"),
                   facts={"head_advice_requested": "2025-05-05"}, step_key="plan.final")
    # closed 19 Jul, re-opens 3 Sep (asked 18 Jul): 19 Jul … 2 Sep = 46 days
    _add_exception(case.reference, kind="closure", start=D("2025-07-19"), end=D("2025-09-03"),
                   facts={"head_advice_requested": "2025-07-18"}, step_key="plan.final")
    step = _step(case.reference, "plan.final")
    assert (step.due_on, step.disapplied) == (D("2025-09-18"), True)
    assert step.target_on == D("2025-12-04")  # 18 Sep + 31 + 46 = 4 Dec


def test_cases_opened_at_once_get_distinct_references(store_url):
    """Eight caseworkers registering requests in the same instant: every request gets its own reference."""
    import threading

    references, errors = [], []

    def register(i: int) -> None:
        try:
            with session() as s:
                case = casework.open_case(s, child_name=f"Concurrent Child {i}", dob=dt.date(2015, 1, 1),
                                          requested_on=dt.date(2025, 1, 6), requester="parent",
                                          today=dt.date(2025, 2, 1), actor="t")
                references.append(case.reference)
        except Exception as exc:  # collected so the assertion shows it
            errors.append(repr(exc))

    threads = [threading.Thread(target=register, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(references) == [f"EHC-2025-{n:05d}" for n in range(1, 9)]


def test_children_known_to_the_store_reopened_at_once_get_distinct_references(store_url):
    """A second request for children whose first case closed writes no child row before taking its reference:
    eight such openings at the same instant still get one reference each (SQLite takes the write lock first)."""
    import threading

    from models.vocabulary import ClosedReason

    for i in range(8):
        with session() as s:
            case = casework.open_case(s, child_name=f"Returning Child {i}", dob=dt.date(2015, 1, 1),
                                      requested_on=dt.date(2024, 1, 8), requester="parent",
                                      today=dt.date(2024, 2, 1), actor="t")
            casework.close_case(s, case, dt.date(2024, 2, 1), "t", ClosedReason.WITHDRAWN, "withdrawn")
    references, errors = [], []
    start = threading.Barrier(8)

    def register(i: int) -> None:
        start.wait()
        try:
            with session() as s:
                references.append(casework.open_case(
                    s, child_name=f"Returning Child {i}", dob=dt.date(2015, 1, 1), requested_on=dt.date(2025, 1, 6),
                    requester="parent", today=dt.date(2025, 2, 1), actor="t").reference)
        except Exception as exc:  # collected so the assertion shows it
            errors.append(repr(exc))

    threads = [threading.Thread(target=register, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(references) == [f"EHC-2025-{n:05d}" for n in range(1, 9)]
