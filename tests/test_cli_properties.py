"""Every `ehc` command, given a bad value for one argument at a time (issue 11): exit 2, one line on stderr
starting `error: `, no traceback, no personal data echoed, nothing written.

The commands are read from `cli.main.app`'s click tree, so a new command is never missed: each must have a
baseline here, one valid invocation whose marked values (`Date`, `Ref`, `Text`, …) are replaced one at a time
by generated bad values of their kind. No Prefect: PREFECT_API_URL is unset, so a command that wrongly accepts
a bad value shows up as exit 0 with a warning, not as a server started."""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

import prefect.settings as ps
import pytest
import sqlalchemy as sa
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli.main import app
from models import db, statutory
from models.contacts import DIRECTORY_ROLES
from models.text import NOTE_MAX
from models.vocabulary import (
    ADVICE_ROLES,
    CASE_FLAGS,
    PFA_SOURCES,
    AppealGround,
    AppealOutcome,
    CertificateKind,
    ComplaintFinding,
    DisputeParty,
    DisputeSubject,
    MediationIssue,
    PersonRole,
    PhaseTransfer,
    Prefers,
    Queue,
    Requester,
    ReviewDecision,
    TribunalOrder,
)
from tests.test_review_cycles import plan_in_force

TODAY = "2026-06-30"
CHILD, DOB = "Alex Example", "2015-03-02"  # the assessment's child
PLAN_CHILD, PLAN_DOB = "Robin Fennimore", "2018-05-01"  # the plan's child
PERSONAL = (CHILD, DOB, PLAN_CHILD, PLAN_DOB)
A, P = "EHC-2026-00001", "EHC-2023-00001"  # the case in assessment, the plan in force (opened first)


class Bad(NamedTuple):
    """A value of the baseline that is replaced by bad values of its kind; `allowed`: a choice's set."""

    kind: str
    value: str
    allowed: tuple[str, ...] = ()


Date, Ref, Text, Id = (functools.partial(Bad, kind) for kind in ("date", "ref", "text", "id"))
Email, Fact, Clock = (functools.partial(Bad, kind) for kind in ("email", "fact", "exception"))
Optional, Postcode = (functools.partial(Bad, kind) for kind in ("optional", "postcode"))  # optional: "" clears it


def One(value: str, allowed) -> Bad:  # noqa: N802 (read as the other markers)
    return Bad("choice", value, tuple(str(a) for a in allowed))


RULES = tuple(statutory.RULES)
ON = ("--on", Date("2026-03-16"))
BASELINES: dict[str, list] = {
    "deadline": [One("plan.final", RULES), "--start", Date("2025-01-06"), "--exception",
                 Clock("absence:2025-02-01:2025-03-15"), "--fact", Fact("mediation_certificate=2025-05-02"),
                 "--rule-set", One("eng-2014.3", ("eng-2014.2", "eng-2014.3"))],
    "timeline": ["--request-date", Date("2025-01-06")],
    "year-group": ["--dob", Date("2011-08-31"), "--on", Date("2024-09-01")],
    "watch": ["--as-of", Date("2026-06-29"), "--no-send"],
    "demo": ["--dir", ".ehc-demo"],
    "simulate": ["--start", Date("2025-12-01"), "--days", Id("364"), "--requests", "30", "--plans", "30", "--seed",
                 "1", "--live-days", "7", "--within-20-weeks", "45.9", "--dir", ".ehc-sim"],  # 0 is a count
    "report": ["--from", Date("2026-04-01"), "--to", Date("2026-06-30"), "--out", "report-charts"],
    "serve": ["--host", "127.0.0.1", "--port", Id("4200"), "--dir", ".ehc-site"],  # a host or folder: not text
    "db upgrade": [],
    "case open": ["--child-name", Text("Sam Sample"), "--dob", Date("2016-04-04"), "--requested-on",
                  Date("2026-01-05"), "--requester", One("parent", Requester), "--flag", One("hi", CASE_FLAGS),
                  "--parent-name", Text("Pat Sample"), "--parent-email", Email("pat@example.org"), "--parent-address",
                  Optional("1 High Street"), "--parent-postcode", Postcode("SW1A 1AA"), "--parent-prefers",
                  One("email", ("email", "post"))],
    "case show": [Ref(A)],
    "case decide": [Ref(A), "--assess", One("yes", ("yes", "no")), *ON, "--reasons", Optional("needs met")],
    "case start": [Ref(A)],
    "advice received": [Ref(A), "--source", One("health", ADVICE_ROLES), *ON, "--request-received-on",
                        Date("2026-02-10")],
    "meeting held": [Ref(A), *ON, "--attended", Text("parent"), "--child-views"],
    "draft issued": [Ref(A), *ON, "--setting", Text("Oakfield Primary")],
    "setting replied": [Ref(A), *ON],
    "final issued": [Ref(A), *ON],
    "exception add": [Ref(A), One("personal", statutory.EXCEPTION_KINDS), Date("2026-01-12"), Date("2026-01-23"),
                      "--note", Text("family unwell"), "--fact", Fact("head_advice_requested=2026-01-02")],
    "plan decide": [Ref(A), "--issue", One("yes", ("yes", "no")), *ON, "--reasons", Optional("needs met")],
    "plan cease": [Ref(P), *ON, "--reasons", Text("needs met"), "--no-run"],
    "plan ceased": [Ref(P), *ON, "--no-run"],
    "plan transfer-out": [Ref(P), "--aware-on", Date("2026-06-01"), "--move-on", Date("2026-07-01"),
                          "--to-council", Text("Northshire"), "--to-email", Email("sen@northshire.example.org")],
    "plan transferred": [Ref(P), *ON, "--no-run"],
    "review open": [Ref(P), "--setting", Text("Oak Primary"), "--no-run"],
    "review schedule": [Ref(P), *ON, "--no-run"],
    "review invitations": [Ref(P), *ON, "--no-run"],
    "review circulated": [Ref(P), *ON, "--no-run"],
    "review advice": [Ref(P), "--source", One("pfa", PFA_SOURCES), *ON, "--no-run"],
    "review meeting": [Ref(P), *ON, "--pfa-employment", Text("work experience"), "--pfa-independent-living",
                       Text("travel training"), "--pfa-community", Text("youth club"), "--pfa-health",
                       Text("adult services"), "--no-run"],
    "review report": [Ref(P), *ON, "--no-run"],
    "review decide": [Ref(P), "--decision", One("maintain", ReviewDecision), *ON, "--reasons",
                      Text("the plan still meets the needs"), "--notice-on", Date("2026-03-17"), "--next-setting",
                      Text("Hill High"), "--no-run"],
    "review amend": [Ref(P), *ON, "--next-setting", Text("Hill High"), "--no-run"],
    "review not-amend": [Ref(P), *ON, "--reasons", Text("the representations showed no change is needed"),
                         "--no-run"],
    "review transfer": [Ref(P), "--kind", One("other", PhaseTransfer), *ON, "--no-run"],
    "review show": [Ref(P)],
    "queue show": [One("sen_team_manager", Queue)],
    "queue ack": [Id("1"), "--by", Text("Ada Caseworker")],
    "queue resolve": [Id("1"), "--note", Text("chased the adviser"), "--by", Text("Ada Caseworker")],
    "outbox failed": [],
    "outbox send": [],
    "outbox retry": [Id("1")],
    "mediation wanted": [Ref(P), "--about", One("cease", AppealGround), *ON, "--issue", One("health", MediationIssue)],
    "mediation held": [Ref(P), "--about", One("cease", AppealGround), *ON, "--act", Text("amend section F"),
                       "--icb-act", Text("fund speech therapy")],
    "mediation act-done": [Ref(P), "--mediation", Id("1"), "--act", Id("1"), *ON],
    "mediation certificate": [Ref(P), "--about", One("cease", AppealGround), "--kind",
                              One("declined", CertificateKind), "--from", Date("2026-03-10"), *ON],
    "appeal lodged": [Ref(P), *ON, "--against", One("cease", AppealGround), "--response-due", Date("2026-04-16")],
    "appeal responded": [Ref(P), *ON],
    "appeal hearing": [Ref(P), *ON],
    "appeal conceded": [Ref(P), *ON],
    "appeal decided": [Ref(P), *ON, "--outcome", One("order", AppealOutcome), "--order",
                       One("amend", TribunalOrder)],
    "appeal complied": [Ref(P), "--limit", One("tribunal.amend", RULES), *ON],
    "appeal show": [Ref(P)],
    "complaint received": [Ref(A), *ON],
    "complaint acknowledged": [Ref(A), *ON, "--complaint", Id("1")],
    "complaint responded": [Ref(A), *ON, "--finding", One("upheld", ComplaintFinding), "--complaint", Id("1")],
    "complaint escalated": [Ref(A), *ON, "--complaint", Id("1")],
    "complaint ombudsman": [Ref(A), *ON, "--finding", One("upheld", ComplaintFinding), "--complaint", Id("1")],
    "complaint show": [Ref(A)],
    "dispute raised": [Ref(P), *ON, "--with", One("health", DisputeParty), "--over", One("funding", DisputeSubject)],
    "dispute escalated": [Ref(P), *ON, "--dispute", Id("1")],
    "dispute resolved": [Ref(P), *ON, "--dispute", Id("1"), "--how", Text("funding shared")],
    "dispute show": [Ref(P)],
    "cease-review prompts": ["--on", Date("2026-06-29")],
    "cease-review left-education": [Ref(P), *ON],
    "cease-review considered": [Ref(P), *ON],
    "caseload": ["--caseworker", Email("ada.caseworker@council.example.org")],
    "case assign": [Ref(A), "--caseworker", Email("ada.caseworker@council.example.org")],
    "case setting": [Ref(A), "--current", Id("100000"), "--requested", Id("100001")],  # DfE URNs
    "setting import": ["gias.csv"],  # a file: its rows are checked by tests/test_people.py
    "person add": [Ref(A), "--role", One("parent", PersonRole), "--name", Text("Pat Example"), "--email",
                   Email("pat@example.org"), "--address", Optional("1 High Street"), "--postcode",
                   Postcode("SW1A 1AA"), "--phone", Optional("020 7946 0000"), "--prefers", One("email", Prefers),
                   "--needs", Optional("easy read")],
    "person update": [Ref(A), Id("1"), "--name", Text("Pat Example"), "--email", Email("pat@example.org"),
                      "--address", Optional("1 High Street"), "--postcode", Postcode("SW1A 1AA"), "--phone",
                      Optional("020 7946 0000"), "--prefers", One("email", Prefers), "--needs",
                      Optional("easy read")],
    "person list": [Ref(A)],
    "contact add": ["--role", One("senco", DIRECTORY_ROLES), "--organisation", Text("Oak Primary"), "--email",
                    Email("senco@oak.example.org"), "--name", Optional("Lee Senco"), "--setting", Id("100000")],
    "contact list": [],
    "contact import": ["contacts.csv"],
    "letters pending": ["--dir", "letters"],  # a folder: not text
    "letters printed": [Id("1")],
    "import sen2": ["return.xml"],  # a file: its records are checked by tests/test_sen2.py
    "export sen2": ["--collection-year", Id("2026"), "--out", "return.xml", "--lea", Id("808")],
    "cannot-notify list": ["--caseworker", Email("ada.caseworker@council.example.org")],
    "cannot-notify resolve": [Id("1"), "--note", Text("told by phone")],
}

ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
CONTROL_OR_BIDI = st.sampled_from(["\x00", "\x07", "\x1b[2J", "\r\n", "\x7f", "\u202e", "\u2066", "\u200f",
                                   "\u2028", "\udcff"])
LONG = st.integers(NOTE_MAX + 1, 3 * NOTE_MAX).map(lambda n: "y" * n)


def _spoilt(valid: str) -> st.SearchStrategy[str]:
    """The valid value with a control, bidirectional or invalid character in it."""
    return st.tuples(CONTROL_OR_BIDI, st.integers(0, len(valid))).map(lambda t: valid[:t[1]] + t[0] + valid[t[1]:])


def _not_a_date(value: str) -> bool:
    try:
        statutory.parse_date(value, "--on")
    except ValueError:
        return True
    return False


def _not_an_int(value: str) -> bool:
    try:
        int(value)
    except ValueError:
        return True
    return False


def bad_values(bad: Bad) -> st.SearchStrategy[str]:
    """Values of `bad`'s kind that every command must refuse."""
    empty = st.sampled_from(["", " ", "\t", "   "])
    if bad.kind == "date":
        return st.one_of(empty, st.sampled_from(["2026-02-30", "2026-13-01", "26-01-05", "2026/01/05", "tomorrow",
                                                 "0000-01-01", "2026-1-5", "１２３４-01-01", "2026-06-30T00:00"]),
                         st.text(max_size=20).filter(_not_a_date), _spoilt(bad.value), LONG)
    if bad.kind == "ref":
        return st.one_of(empty, st.sampled_from(["ehc-2026-00001", "EHC-2026-1", "EHC-2026-000001", "EHC-1999-00042",
                                                 "EHC-2026-00001 ", "EHC–2026–00001"]),
                         st.text(max_size=30).filter(lambda v: v not in (A, P)), _spoilt(bad.value), LONG)
    if bad.kind == "text":
        return st.one_of(empty, st.text(alphabet=" \u00a0\u2003\u3000", min_size=1, max_size=5),
                         _spoilt(bad.value), LONG)
    if bad.kind == "optional":
        return st.one_of(_spoilt(bad.value), LONG)
    if bad.kind == "postcode":
        return st.one_of(st.sampled_from(["SW1A", "12345", "SW1A 1AA 1AA", "ZZ"]), _spoilt(bad.value), LONG)
    if bad.kind == "choice":
        return st.one_of(empty, st.sampled_from([a.upper() for a in bad.allowed if a.upper() not in bad.allowed]),
                         st.text(max_size=20).filter(lambda v: v not in bad.allowed), _spoilt(bad.value), LONG)
    if bad.kind == "id":  # int() takes " 42\n" and "4_2": those are ids, not bad ones
        return st.one_of(empty, st.sampled_from(["-1", "0", "1.5", "0x10", "1e3", "1180591620717411303424", "one",
                                                 "4\u202e2", "42\x00"]), st.text(max_size=10).filter(_not_an_int))
    if bad.kind == "email":
        return st.one_of(empty, st.sampled_from(["sen", "sen@", "@example.org", "sen@new.example.org\r\nBcc: x@y.z",
                                                 "a b@example.org"]), _spoilt(bad.value), LONG)
    if bad.kind == "fact":
        return st.one_of(empty, st.sampled_from(["colour=blue", "=2026-01-02", "head_advice_requested=",
                                                 "head_advice_requested"]), _spoilt(bad.value), LONG)
    if bad.kind == "exception":
        return st.one_of(empty, st.sampled_from(["absence", "absence:2025-02-01", "holiday:2025-02-01:2025-03-15",
                                                 "absence:2025-03-15:2025-02-01"]), _spoilt(bad.value), LONG)
    raise AssertionError(f"no bad values for {bad.kind}")


def commands() -> dict[str, object]:
    """Every command of `ehc`, by its words, from the click tree."""
    found = {}

    def walk(cmd, words):
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, [*words, name])
        else:
            found[" ".join(words)] = cmd

    walk(typer.main.get_command(app), [])
    return found


COMMANDS = commands()


def test_every_command_has_a_baseline_and_every_baseline_a_command():
    assert sorted(set(COMMANDS) - set(BASELINES)) == [], "add a baseline for each new command"
    assert sorted(set(BASELINES) - set(COMMANDS)) == []


def test_every_value_a_command_takes_is_in_its_baseline():
    """A baseline names every option that takes a value, so every argument is tried."""
    for words, cmd in COMMANDS.items():
        given = {token for token in BASELINES.get(words, []) if isinstance(token, str)}
        for param in cmd.params:
            if param.param_type_name == "option" and not getattr(param, "is_flag", False):
                assert set(param.opts) & given, (words, param.opts)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store with a case in assessment and a plan in force; no Prefect API; the clock at TODAY."""
    url = f"sqlite:///{tmp_path_factory.mktemp('properties') / 'ehc.db'}"
    with pytest.MonkeyPatch.context() as mp, ps.temporary_settings(updates={ps.PREFECT_API_URL: ""}):
        mp.setenv("EHC_DATABASE_URL", url)
        mp.setenv("EHC_TODAY", TODAY)
        mp.chdir(tmp_path_factory.mktemp("cwd"))
        db.upgrade(url)
        assert plan_in_force(PLAN_DOB, "2024-02-29", name=PLAN_CHILD) == P
        opened = CliRunner().invoke(app, ["case", "open", "--child-name", CHILD, "--dob", DOB, "--requested-on",
                                          "2026-01-05", "--requester", "parent"])
        assert opened.stdout.strip() == A, opened.output
        yield url
    db.dispose_engine(url)


def counts(url: str) -> dict[str, int]:
    with db.engine(url).connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        return {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}


MUTABLE = {words: [i for i, token in enumerate(BASELINES.get(words, [])) if isinstance(token, Bad)]
           for words in COMMANDS}


@pytest.mark.parametrize("words", [w for w in COMMANDS if MUTABLE[w]])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(data=st.data())
def test_a_bad_value_is_refused_in_one_line_with_nothing_written(store, words, data):
    baseline = BASELINES[words]
    at = data.draw(st.sampled_from(MUTABLE[words]), label="argument")
    value = data.draw(bad_values(baseline[at]), label="bad value")
    args = [*words.split(), *[value if i == at else (t.value if isinstance(t, Bad) else t)
                              for i, t in enumerate(baseline)]]
    before = counts(store)
    result = CliRunner().invoke(app, args)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (args, result.output)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert not any(p in result.output for p in PERSONAL)
    assert len(lines[0]) < 600  # a long bad value is never echoed in full
    assert counts(store) == before
