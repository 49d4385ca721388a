"""Issue 11 (hardening), part 2: each defect a test that fails on the code before it.

Defect 5: a review or plan command records its act, then meets a Prefect API that is not set or does not
answer: one warning line, exit 0, the act stands. Defect 7: the smaller refusals (one line, exit 2, nothing
written). Free text is checked at entry by `models.text.clean`."""

from __future__ import annotations

import datetime as dt

import prefect.settings as ps
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli.main import app
from models import assessment, casework, db
from models.casework import find_step, get_case
from models.db import session
from models.review import current_review
from models.text import COUNCIL_MAX, NAME_MAX, NOTE_MAX, clean, printable
from models.vocabulary import StepKey
from tests.test_review_cycles import plan_in_force

API = {"unset": "", "down": "http://127.0.0.1:9/api"}
NAME = "Robin Fennimore"


def ehc(monkeypatch, today: str, *args: str):
    monkeypatch.setenv("EHC_TODAY", today)
    return CliRunner().invoke(app, list(args))


def counts(url: str) -> dict[str, int]:
    """Rows in every table of the store."""
    engine = db.engine(url)
    with engine.connect() as conn:
        tables = [t for t in sa.inspect(conn).get_table_names() if t != "alembic_version"]
        return {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}


def refused(result, field: str) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}: "), result.stderr
    return lines[0]


def warned_once(result) -> None:
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: the Prefect run of EHC-"), result.stderr


# --- defect 5: a command that has recorded its act never crashes on Prefect ---------------------------------


REVIEW_CHAIN = (  # (today, the command after `ehc`) for one plan's review cycle, {ref} its reference
    ("2024-09-02", "review open {ref}"),
    ("2024-09-02", "review schedule {ref} --on 2025-01-20"),
    ("2025-01-06", "review invitations {ref} --on 2025-01-06"),
    ("2025-01-06", "review circulated {ref} --on 2025-01-06"),
    ("2025-01-20", "review meeting {ref} --on 2025-01-20"),
    ("2025-01-27", "review report {ref} --on 2025-01-27"),
    ("2025-02-10", "review decide {ref} --decision amend --on 2025-02-10"),
    ("2025-03-10", "review amend {ref} --on 2025-03-10"),
)
CEASE_CHAIN = (("2024-11-20", "plan cease {ref} --on 2024-11-20 --reasons needs-met"),
               ("2025-01-21", "plan ceased {ref} --on 2025-01-21"))
TRANSFER_CHAIN = (("2024-11-01", "plan transfer-out {ref} --aware-on 2024-11-01 --move-on 2024-12-01 "
                                 "--to-council Northshire --to-email sen@northshire.example.org"),
                  ("2024-11-15", "plan transferred {ref} --on 2024-11-15"))


@pytest.mark.parametrize("api", sorted(API))
@pytest.mark.parametrize("chain", [REVIEW_CHAIN, CEASE_CHAIN, TRANSFER_CHAIN], ids=["review", "cease", "transfer"])
def test_review_and_plan_acts_stand_and_warn_once_when_prefect_is_not_reached(store_url, monkeypatch, api, chain):
    ref = plan_in_force("2018-05-01", "2024-02-29", name=NAME)
    with ps.temporary_settings(updates={ps.PREFECT_API_URL: API[api]}):
        for today, command in chain:
            before = counts(store_url)
            result = ehc(monkeypatch, today, *command.format(ref=ref).split())
            if "transfer-out" in command:  # it wakes nothing: the review carries on until the plan is sent
                assert result.exit_code == 0 and not result.stderr.strip(), result.output
            else:
                warned_once(result)
            assert counts(store_url)["audit_event"] > before["audit_event"]  # the act stands
    with session() as s:
        assert get_case(s, ref).status in {"plan_in_force", "closed"}


# --- defect 7: the smaller refusals; free text checked at entry --------------------------------------------


@pytest.fixture
def no_prefect():
    """No Prefect API: each act warns that its run was not woken, and nothing starts a server."""
    with ps.temporary_settings(updates={ps.PREFECT_API_URL: ""}):
        yield


def opened(monkeypatch, name: str = NAME, day: str = "2026-01-05") -> str:
    result = ehc(monkeypatch, day, "case", "open", "--child-name", name, "--dob", "2015-03-02", "--requested-on",
                 day, "--requester", "parent")
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def at_coproduction(monkeypatch) -> str:
    """A case whose five pieces of advice are in (the flow's requests made here, as its run would)."""
    ref = opened(monkeypatch)
    assert ehc(monkeypatch, "2026-02-09", "case", "decide", ref, "--assess", "yes", "--on", "2026-02-09")\
        .exit_code == 0
    with session() as s:
        for source in assessment.start_assessment(s, ref):
            assessment.request_advice(s, ref, source)
    for source in ("parent", "education", "health", "social_care", "ep"):
        assert ehc(monkeypatch, "2026-03-16", "advice", "received", ref, "--source", source, "--on", "2026-03-16")\
            .exit_code == 0
    return ref


def refused_and_unwritten(store_url, monkeypatch, today: str, field: str, *args: str) -> str:
    before = counts(store_url)
    line = refused(ehc(monkeypatch, today, *args), field)
    assert counts(store_url) == before
    return line


def test_a_move_we_learnt_of_afterwards_is_sent_within_15_working_days_of_learning(store_url, no_prefect, monkeypatch):
    """Reg 15(2): a council that learns of the move after it happened sends the plan within 15 working days
    beginning with the day it became aware (the move date has passed, so it cannot be the due date)."""
    ref = plan_in_force("2018-05-01", "2024-02-29", name=NAME)
    assert ehc(monkeypatch, "2024-11-01", "plan", "transfer-out", ref, "--aware-on", "2024-11-01", "--move-on",
               "2024-10-01", "--to-council", "Northshire", "--to-email", "sen@northshire.example.org").exit_code == 0
    with session() as s:
        step = find_step(s, get_case(s, ref), StepKey.TRANSFER_SEND_PLAN)
        assert (step.started_on, step.due_on) == (dt.date(2024, 11, 1), dt.date(2024, 11, 21))


def test_a_second_transfer_out_never_replaces_the_first_destination(store_url, no_prefect, monkeypatch):
    ref = plan_in_force("2018-05-01", "2024-02-29", name=NAME)
    first = ("--aware-on", "2024-11-01", "--move-on", "2024-12-01")
    assert ehc(monkeypatch, "2024-11-01", "plan", "transfer-out", ref, *first, "--to-council", "Northshire",
               "--to-email", "sen@northshire.example.org").exit_code == 0
    line = refused_and_unwritten(store_url, monkeypatch, "2024-11-02", "REF", "plan", "transfer-out", ref, *first,
                                 "--to-council", "Southshire", "--to-email", "sen@southshire.example.org")
    assert "Northshire" in line
    with session() as s:
        assert find_step(s, get_case(s, ref), StepKey.TRANSFER_SEND_PLAN).details["to_council"] == "Northshire"


@pytest.mark.parametrize("attended", ["", "  ", "senco\u202e", "x" * 201])
def test_meeting_held_refuses_an_empty_or_bad_role(store_url, no_prefect, monkeypatch, attended):
    ref = at_coproduction(monkeypatch)
    line = refused_and_unwritten(store_url, monkeypatch, "2026-03-30", "--attended", "meeting", "held", ref, "--on",
                                 "2026-03-30", "--attended", "parent", "--attended", attended, "--child-views")
    assert attended.strip() == "" or attended not in line


@pytest.mark.parametrize("reason", ["", " \t ", "x" * (NOTE_MAX + 1), "needs met\x1b[2J"])
def test_plan_cease_refuses_an_empty_over_long_or_control_reason(store_url, no_prefect, monkeypatch, reason):
    ref = plan_in_force("2018-05-01", "2024-02-29", name=NAME)
    line = refused_and_unwritten(store_url, monkeypatch, "2024-11-20", "--reasons", "plan", "cease", ref, "--on",
                                 "2024-11-20", "--reasons", reason)
    assert len(line) < 200


def test_exception_add_refuses_an_unknown_fact(store_url, no_prefect, monkeypatch):
    ref = opened(monkeypatch)
    line = refused_and_unwritten(store_url, monkeypatch, "2026-01-30", "--fact", "exception", "add", ref, "personal",
                                 "2026-01-12", "2026-01-23", "--fact", "colour=blue")
    assert "'colour'" in line


def test_exception_add_refuses_a_period_wholly_outside_the_clock(store_url, no_prefect, monkeypatch):
    ref = opened(monkeypatch)  # open: assess.decision (6 weeks) and plan.final (20 weeks: 2026-05-25)
    refused_and_unwritten(store_url, monkeypatch, "2026-06-30", "FROM", "exception", "add", ref, "personal",
                          "2026-06-01", "2026-06-20")
    refused_and_unwritten(store_url, monkeypatch, "2026-06-30", "FROM", "exception", "add", ref, "personal",
                          "2025-12-01", "2025-12-20")
    assert ehc(monkeypatch, "2026-06-30", "exception", "add", ref, "personal", "2026-01-12", "2026-01-23")\
        .exit_code == 0


def test_review_schedule_refuses_a_meeting_after_the_review_period_ends(store_url, no_prefect, monkeypatch):
    ref = plan_in_force("2018-05-01", "2024-02-29", name=NAME)
    assert ehc(monkeypatch, "2024-09-02", "review", "open", ref).exit_code == 0
    with session() as s:
        ends = current_review(s, get_case(s, ref)).annual_due_on
    line = refused_and_unwritten(store_url, monkeypatch, "2024-09-02", "--on", "review", "schedule", ref, "--on",
                                 str(ends + dt.timedelta(days=1)))
    assert str(ends) in line
    assert ehc(monkeypatch, "2024-09-02", "review", "schedule", ref, "--on", str(ends)).exit_code == 0


BAD_NAMES = {
    "invalid byte": "Robin \udcff Fennimore",  # what Python makes of a non-UTF-8 byte in argv (PEP 383)
    "control": "Robin\x07 Fennimore",
    "escape": "Robin \x1b[31mFennimore",
    "bidi override": "Robin \u202eeromminneF",
    "bidi isolate": "Robin \u2066Fennimore\u2069",
    "line separator": "Robin\u2028Fennimore",
    "over-long": "Robin " + "x" * NAME_MAX,
    "empty": "   ",
}


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_case_open_refuses_a_bad_name_in_one_line_without_echoing_it(store_url, monkeypatch, name):
    line = refused_and_unwritten(store_url, monkeypatch, "2026-01-05", "--child-name", "case", "open",
                                 "--child-name", name, "--dob", "2015-03-02", "--requested-on", "2026-01-05",
                                 "--requester", "parent")
    assert "Robin" not in line and "Fennimore" not in line and len(line) < 200


def test_a_name_of_another_script_with_joiners_is_kept():
    assert clean("  Zoë Nūr-Ahmadī  ", "--child-name", NAME_MAX) == "Zoë Nūr-Ahmadī"
    assert clean("Mehr\u200cnoosh", "--child-name", NAME_MAX) == "Mehr\u200cnoosh"  # ZWNJ: Persian spelling
    assert clean("x" * NAME_MAX, "--child-name", NAME_MAX) == "x" * NAME_MAX


def test_notes_and_council_names_have_length_limits(store_url, no_prefect, monkeypatch):
    ref = opened(monkeypatch)
    line = refused_and_unwritten(store_url, monkeypatch, "2026-01-30", "--note", "exception", "add", ref, "personal",
                                 "2026-01-12", "2026-01-23", "--note", "n" * (NOTE_MAX + 1))
    assert "n" * 50 not in line
    plan = plan_in_force("2018-05-01", "2024-02-29", name="Sam Other")
    line = refused_and_unwritten(store_url, monkeypatch, "2024-11-01", "--to-council", "plan", "transfer-out", plan,
                                 "--aware-on", "2024-11-01", "--move-on", "2024-12-01", "--to-council",
                                 "C" * (COUNCIL_MAX + 1), "--to-email", "sen@northshire.example.org")
    assert "C" * 50 not in line


def test_case_show_never_prints_control_or_bidi_characters_raw(store_url, monkeypatch):
    ref = opened(monkeypatch)
    with session() as s:  # as a store written before these checks may hold them
        child = casework.child_of(s, get_case(s, ref))
        child.name = "Robin \u202eeromminneF\x1b[2J"
        s.add(child)
    out = ehc(monkeypatch, "2026-01-05", "case", "show", ref).stdout
    assert "\u202e" not in out and "\x1b" not in out
    assert "Robin \\u202eeromminneF\\x1b[2J" in out
    assert printable("Zoë\u200c") == "Zoë\u200c"


# --- found by tests/test_cli_properties.py ---------------------------------------------------------------


def test_a_flag_with_a_line_separator_is_refused_not_stripped(store_url, monkeypatch):
    before = counts(store_url)
    refused(ehc(monkeypatch, "2026-01-05", "case", "open", "--child-name", NAME, "--dob", "2015-03-02",
                "--requested-on", "2026-01-05", "--requester", "parent", "--flag", "\u2028hi"), "--flag")
    assert counts(store_url) == before


@pytest.mark.parametrize("args", [("complaint", "escalated", "--complaint"), ("dispute", "escalated", "--dispute"),
                                  ("mediation", "act-done", "--act")])
def test_a_number_too_large_for_the_store_is_refused(store_url, no_prefect, monkeypatch, args):
    ref = plan_in_force("2018-05-01", "2024-02-29", name=NAME)
    group, command, option = args
    extra = ["--mediation", "1"] if option == "--act" else []
    refused_and_unwritten(store_url, monkeypatch, "2024-11-20", option, group, command, ref, "--on", "2024-11-20",
                          *extra, option, "1180591620717411303424")


def test_cease_review_prompts_refuses_an_empty_day(store_url, monkeypatch):
    refused_and_unwritten(store_url, monkeypatch, "2026-06-30", "--on", "cease-review", "prompts", "--on", "")


PEOPLE_REFUSALS = {  # (field, the command after `ehc`, {ref} the case's reference)
    "needs padded": ("--needs", ["person", "add", "{ref}", "--role", "parent", "--name", "Pat", "--needs",
                                 "\u2028easy read"]),
    "email empty": ("--email", ["person", "add", "{ref}", "--role", "parent", "--name", "Pat", "--email", ""]),
    "name bidi": ("--name", ["person", "add", "{ref}", "--role", "parent", "--name", "Pat \u202eX"]),
    "caseload empty": ("--caseworker", ["caseload", "--caseworker", ""]),
    "cannot-notify empty": ("--caseworker", ["cannot-notify", "list", "--caseworker", ""]),
    "email padded": ("--caseworker", ["cannot-notify", "list", "--caseworker", "\r\nada@council.example.org"]),
    "setting empty": ("--setting", ["contact", "add", "--role", "senco", "--organisation", "Oak", "--email",
                                    "senco@oak.example.org", "--setting", ""]),
    "organisation control": ("--organisation", ["contact", "add", "--role", "senco", "--organisation", "Oak\x1b[2J",
                                                "--email", "senco@oak.example.org"]),
    "id too large": ("ID", ["cannot-notify", "resolve", "1180591620717411303424", "--note", "told"]),
}


@pytest.mark.parametrize("field, args", PEOPLE_REFUSALS.values(), ids=PEOPLE_REFUSALS.keys())
def test_the_people_commands_refuse_bad_text_empty_filters_and_huge_ids(store_url, monkeypatch, field, args):
    ref = opened(monkeypatch)
    refused_and_unwritten(store_url, monkeypatch, "2026-01-05", field, *[a.format(ref=ref) for a in args])
