"""The public interface of issue 3 item 3: `ehc deadline`, `ehc timeline`, `ehc year-group`.

The installed `ehc` script is run as a subprocess for each command's contract; the many bad-input cases go
through typer's CliRunner on the same app (same code path, faster)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

EHC = Path(sys.executable).with_name("ehc")
JSON_KEYS = {"rule", "start", "due", "disapplied", "exceptions_applied", "target"}


def ehc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "EHC_DATABASE_URL": f"sqlite:///{cwd / 'ehc.db'}"}
    return subprocess.run([str(EHC), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


# --- success, through the installed script ---------------------------------------------------------


def test_deadline_json_is_one_object_with_the_stated_keys(tmp_path):
    result = ehc("deadline", "plan.final", "--start", "2025-01-06", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"rule": "plan.final", "start": "2025-01-06", "due": "2025-05-26",
                                         "disapplied": False, "exceptions_applied": [], "target": "2025-05-26"}


def test_deadline_json_with_exceptions_and_facts(tmp_path):
    result = ehc("deadline", "plan.final", "--start", "2025-04-01", "--exception", "closure:2025-07-19:2025-09-03",
                 "--exception", "personal:2025-05-01:2025-05-10", "--fact", "head_advice_requested=2025-07-18",
                 "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # due 19 Aug; closure 19 Jul … 19 Aug (32 days) + personal 1-10 May (10) = 42 days → 30 Sep
    assert json.loads(result.stdout) == {"rule": "plan.final", "start": "2025-04-01", "due": "2025-08-19",
                                         "disapplied": True, "exceptions_applied": ["closure", "personal"],
                                         "target": "2025-09-30"}


def test_deadline_plain_prints_the_statutory_date(tmp_path):
    result = ehc("deadline", "appeal.register", "--start", "2025-03-10", "--fact",
                 "mediation_certificate=2025-05-02", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2025-06-02" in result.stdout


def test_timeline_json_is_keyed_by_identifier(tmp_path):
    result = ehc("timeline", "--request-date", "2025-01-06", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {rid: d["due"] for rid, d in data.items()} == {
        "assess.decision": "2025-02-17", "plan.not_to_issue": "2025-04-28", "plan.draft_latest": "2025-05-11",
        "plan.final": "2025-05-26"}
    assert all(set(d) == JSON_KEYS and d["rule"] == rid and d["start"] == "2025-01-06" for rid, d in data.items())
    assert not (tmp_path / "ehc.db").exists()  # the clock commands never create a case store


def test_year_group_json(tmp_path):
    result = ehc("year-group", "--dob", "2011-08-31", "--on", "2024-09-01", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["year_group"] == 9
    plain = invoke("year-group", "--dob", "2011-09-01", "--on", "2024-09-01")
    assert plain.exit_code == 0 and plain.stdout.strip() == "8"


def test_bad_input_through_the_script_is_one_line_and_exit_2(tmp_path):
    result = ehc("deadline", "plan.final", "--start", "2025-02-30", "--json", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: --start: '2025-02-30' is not a real calendar date in the form YYYY-MM-DD"]


def test_a_bad_date_of_birth_is_named_but_never_echoed():
    result = invoke("year-group", "--dob", "2011-02-30", "--on", "2024-09-01")
    assert result.exit_code == 2 and "--dob" in result.output and "2011-02-30" not in result.output


# --- more success cases, in process ----------------------------------------------------------------


@pytest.mark.parametrize("args, expected", [
    (["assess.decision", "--start", "2025-01-06"], {"due": "2025-02-17"}),
    (["review.phase_transfer", "--start", "2026-09-01", "--fact", "transfer=other"], {"due": "2026-02-14"}),
    (["review.phase_transfer", "--start", "2026-09-01", "--fact", "transfer=post16"], {"due": "2026-03-30"}),
    (["review.phase_transfer_meeting_latest", "--start", "2026-09-01", "--fact", "transfer=other"],
     {"due": "2025-11-22"}),
    (["advice.provide", "--start", "2025-01-20", "--exception", "missed_appointment:2025-02-10"],
     {"due": "2025-03-03", "target": "2025-03-03", "disapplied": True, "exceptions_applied": ["missed_appointment"]}),
    (["plan.final", "--start", "2025-01-06", "--exception", "absence:2025-02-01:2025-03-15"],
     {"due": "2025-05-26", "target": "2025-07-08", "disapplied": True, "exceptions_applied": ["absence"]}),
    (["plan.final", "--start", "2025-01-06", "--exception", "personal:2025-06-01:2025-06-30"],
     {"due": "2025-05-26", "target": "2025-05-26", "disapplied": False, "exceptions_applied": []}),
    # §2.6: O + 14 w = 14 Apr; an absence of 1 … 14 Feb (2 weeks, in the period) → target 14 Apr + 14
    (["tribunal.plan", "--start", "2025-01-06", "--exception", "absence:2025-02-01:2025-02-14"],
     {"due": "2025-04-14", "target": "2025-04-28", "disapplied": True, "exceptions_applied": ["absence"]}),
    (["plan.final", "--start", "2025-01-06", "--rule-set", "eng-2014.2"], {"due": "2025-05-26"}),
])
def test_deadline_json_values(args, expected):
    result = invoke("deadline", *args, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == JSON_KEYS
    assert {k: data[k] for k in expected} == expected


def test_a_limit_from_a_later_rule_set_says_so():
    """An eng-2014.2 case takes tribunal.plan from eng-2014.3, the set that first defines it."""
    later = invoke("deadline", "tribunal.plan", "--start", "2025-01-06", "--rule-set", "eng-2014.2")
    assert later.exit_code == 0 and later.stdout.strip() == "tribunal.plan: due 2025-04-14 (rule set eng-2014.3)"
    own = invoke("deadline", "tribunal.plan", "--start", "2025-01-06")
    assert own.exit_code == 0 and own.stdout.strip() == "tribunal.plan: due 2025-04-14"


@pytest.mark.parametrize("as_json", [[], ["--json"]])
def test_mid_year_phase_transfer_warns_on_stderr(as_json):
    result = invoke("deadline", "review.phase_transfer", "--start", "2026-01-05", "--fact", "transfer=other", *as_json)
    assert result.exit_code == 0
    assert "2026-02-14" in result.stdout and result.stderr.startswith("warning: ")
    if as_json:
        assert set(json.loads(result.stdout)) == JSON_KEYS


# --- bad input: exit 2, one line naming the field and the rule (issue 3 item 5) ---------------------


@pytest.mark.parametrize("args, field, rule", [
    # malformed or impossible dates
    (["deadline", "plan.final", "--start", "2025-02-30"], "--start", "real calendar date"),
    (["deadline", "plan.final", "--start", "06/01/2025"], "--start", "YYYY-MM-DD"),
    (["deadline", "plan.final", "--start", "2025-W02-1"], "--start", "YYYY-MM-DD"),
    (["deadline", "plan.final", "--start", "2025-01-06", "--exception", "absence:2025-02-31:2025-03-31"],
     "--exception FROM", "real calendar date"),
    (["deadline", "appeal.register", "--start", "2025-03-10", "--fact", "mediation_certificate=2025-13-02"],
     "mediation_certificate", "real calendar date"),
    (["timeline", "--request-date", "2025-00-10"], "--request-date", "real calendar date"),
    (["year-group", "--dob", "2011-02-29", "--on", "2024-09-01"], "--dob", "real calendar date"),
    (["year-group", "--dob", "2011-08-31", "--on", "2010-09-01"], "--on", "before the date of birth"),
    # unknown rule identifier or exception kind
    (["deadline", "plan.finale", "--start", "2025-01-06"], "RULE_ID", "unknown rule identifier"),
    (["deadline", "plan.final", "--start", "2025-01-06", "--exception", "holiday:2025-02-01:2025-03-01"],
     "--exception", "unknown exception kind"),
    # a kind given for a limit it does not apply to
    (["deadline", "plan.final", "--start", "2025-01-06", "--exception", "missed_appointment:2025-02-10"],
     "--exception", "does not apply to plan.final"),
    (["deadline", "advice.provide", "--start", "2025-01-20", "--exception", "closure:2025-07-19:2025-09-03",
      "--fact", "head_advice_requested=2025-07-18"], "--exception", "does not apply to advice.provide"),
    # a period ending before it starts
    (["deadline", "plan.final", "--start", "2025-01-06", "--exception", "personal:2025-03-01:2025-02-01"],
     "--exception", "before it starts"),
    # absence or closure shorter than 4 weeks
    (["deadline", "plan.final", "--start", "2025-01-06", "--exception", "absence:2025-02-01:2025-02-27"],
     "--exception", "4 weeks"),
    (["deadline", "plan.final", "--start", "2025-04-01", "--exception", "closure:2025-07-19:2025-08-15",
      "--fact", "head_advice_requested=2025-07-18"], "--exception", "4 weeks"),
    (["deadline", "tribunal.plan", "--start", "2025-01-06", "--exception", "absence:2025-02-01:2025-02-13"],
     "--exception", "2 weeks"),  # 13 days
    # an unknown rule set
    (["deadline", "plan.final", "--start", "2025-01-06", "--rule-set", "eng-2014.1"], "--rule-set",
     "unknown rule set"),
    # a missing fact a rule needs
    (["deadline", "review.phase_transfer", "--start", "2026-09-01"], "--fact", "transfer"),
    (["deadline", "transfer.send_plan", "--start", "2025-03-03"], "--fact", "move_date"),
    (["deadline", "transfer.review", "--start", "2025-06-02"], "--fact", "last_review"),
    (["deadline", "plan.final", "--start", "2025-04-01", "--exception", "closure:2025-07-19:2025-09-03"],
     "--fact", "head_advice_requested"),
    # a fact with a value outside its rule, or not a fact of the rule at all
    (["deadline", "review.phase_transfer", "--start", "2026-09-01", "--fact", "transfer=secondary"],
     "transfer", "post16 or other"),
    (["deadline", "appeal.register", "--start", "2025-03-10", "--fact", "mediaton_certificate=2025-05-02"],
     "--fact", "mediaton_certificate"),
    (["deadline", "plan.final", "--start", "2025-01-06", "--fact", "transfer"], "--fact", "NAME=VALUE"),
])
def test_bad_input_exits_2_with_one_line(args, field, rule):
    result = invoke(*args)
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {field}: "), lines[0]
    assert rule in lines[0]


@pytest.mark.parametrize("args, line", [
    (["deadline", "plan.final"], "error: --start: Missing option '--start'."),
    (["deadline", "--start", "2025-01-06"], "error: RULE_ID: Missing argument 'RULE_ID'."),
    (["deadline", "plan.final", "--start"], "error: --start: Option '--start' requires an argument."),
    (["deadline", "plan.final", "--start", "2025-01-06", "--strat", "x"], "error: --strat: No such option: --strat"),
    (["year-group", "--dob", "2011-08-31"], "error: --on: Missing option '--on'."),
    (["case", "open", "--child-name", "Alex Example"], "error: --dob: Missing option '--dob'."),
    (["case", "show"], "error: REF: Missing argument 'REF'."),
    (["deadlines"], "error: arguments: No such command 'deadlines'"),
])
def test_usage_errors_are_one_line_too(args, line):
    """A missing or unknown option is bad input like any other: one line, exit 2 (not click's usage box)."""
    result = invoke(*args)
    assert result.exit_code == 2
    (only,) = result.stderr.splitlines()
    assert only.startswith(line), only


def test_no_arguments_still_prints_the_help():
    assert "Usage" in invoke().output and "Usage" in invoke("case").output
    assert invoke("--help").exit_code == 0
