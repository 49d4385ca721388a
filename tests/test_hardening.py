"""Issue 11 ("Hardening"), part 1: each defect a hostile try of the commands found, as a test that failed on the
code before the fix. On every backend of the `store_url` fixture where the store is involved."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from models import casework, db
from models.cases import AuditEvent, Case, Child, Step
from models.db import session
from models.deadline_watch import SWEPT, UNDONE
from models.errors import InputError
from models.escalation import Escalation
from models.outbox import OutboxMessage
from notifications import compose
from notifications import dispatch as dispatcher
from notifications.backends import Delivery, FileBackend, Rejected, SendGridBackend
from notifications.outbox import enqueue
from tasks.watch import run_watch
from tests.conftest import BACKENDS
from tests.test_review_cycles import plan_in_force

D = dt.date.fromisoformat
TODAY = dt.date(2026, 12, 1)


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def one_line_refusal(result, field_name: str) -> str:
    """The contract for bad input: exit 2, one line `error: FIELD: RULE` on stderr, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {field_name}: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture
def store(store_url, monkeypatch):
    monkeypatch.setenv("EHC_TODAY", TODAY.isoformat())
    return store_url


def _open(name: str, dob: dt.date = dt.date(2015, 1, 1)) -> Case:
    with session() as s:
        return casework.open_case(s, child_name=name, dob=dob, requested_on=dt.date(2026, 11, 2), requester="parent",
                                  today=TODAY, actor="t")


def _at_once(openings: list) -> tuple[list[str], list[str]]:
    """Run the openings in threads released together: (references opened, refusals)."""
    opened, refused, errors = [], [], []
    start = threading.Barrier(len(openings))

    def run(open_one) -> None:
        start.wait()
        try:
            opened.append(open_one().reference)
        except InputError as exc:
            refused.append(str(exc))
        except Exception as exc:  # collected so the assertion shows it
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(o,)) for o in openings]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return opened, refused


# --- defect 4: two open cases for one child ---------------------------------------------------------------


def test_a_name_differing_only_in_case_or_spacing_is_the_same_child(store):
    first = _open("Probe Child")
    for same in ("probe child", "Probe  Child", "  PROBE\tchild "):
        with pytest.raises(InputError, match=rf"--child-name: this child already has an open case \({first.reference}"):
            _open(same)
    assert _open("Probe Child", dob=dt.date(2015, 1, 2)).reference != first.reference  # another child


def test_openings_of_one_new_child_at_the_same_moment_make_one_child_and_one_case(store):
    names = ["Race Child", "race child", "Race  Child", "RACE CHILD"] * 2
    opened, refused = _at_once([lambda n=n: _open(n) for n in names])
    assert len(opened) == 1 and len(refused) == len(names) - 1
    assert all("this child already has an open case" in r for r in refused)
    with session() as s:
        assert len(s.exec(select(Child)).all()) == 1
        assert len(s.exec(select(Case)).all()) == 1


def test_openings_of_a_known_child_at_the_same_moment_make_one_open_case(store):
    closed = _open("Known Child")
    with session() as s:
        case = s.get(Case, closed.id)
        case.status = "closed"
        s.add(case)
    opened, refused = _at_once([lambda: _open("known child")] * 6)
    assert len(opened) == 1 and len(refused) == 5
    with session() as s:
        statuses = sorted(s.exec(select(Case.status)).all())
    assert statuses == ["closed", "open"]


def test_the_store_itself_refuses_a_second_open_case(store):
    """The rule is a constraint, not the check in open_case: a direct insert fails too."""
    case = _open("Direct Child")
    with pytest.raises(sa.exc.IntegrityError), session() as s:
        s.add(Case(reference="EHC-2026-09999", child_id=case.child_id, rule_set=case.rule_set,
                   requested_on=case.requested_on, requester="parent"))
        s.flush()
    with pytest.raises(sa.exc.IntegrityError), session() as s:
        s.add(Child(name=" direct   CHILD", date_of_birth=dt.date(2015, 1, 1)))
        s.flush()


def _store_at_0002(backend: str, tmp_path, stack) -> str:
    from tests.conftest import postgres_schema

    url = (f"sqlite:///{tmp_path / 'old.db'}" if backend == "sqlite"
           else stack.enter_context(postgres_schema(f"ehc_mig_{os.getpid()}")))
    command.upgrade(db.alembic_config(url), "0002")
    return url


def _old_rows(url: str, cases: list[tuple[str, int, str]]) -> sa.Engine:
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO child (id, name, date_of_birth, year_group_offset, family_email, created_at) "
                          "VALUES (1, 'Ann Lee', '2015-01-01', 0, NULL, '2026-01-01'), "
                          "(2, ' ann  LEE', '2015-01-01', 0, 'f@example.org', '2026-01-02'), "
                          "(3, 'Bo Lee', '2015-01-01', 0, NULL, '2026-01-01')"))
        for reference, child_id, status in cases:
            c.execute(sa.text('INSERT INTO "case" (reference, child_id, kind, stage, status, rule_set, requested_on, '
                              "requester, flags, created_at) VALUES (:r, :c, 'needs_assessment', 'request', :s, "
                              "'eng-2014.2', '2026-01-05', 'parent', '[]', '2026-01-05')"),
                      {"r": reference, "c": child_id, "s": status})
    return engine


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_migration_merges_a_child_entered_twice_and_stops_at_two_open_cases(backend, tmp_path):
    with contextlib.ExitStack() as stack:
        url = _store_at_0002(backend, tmp_path, stack)
        engine = _old_rows(url, [("EHC-2026-00001", 1, "closed"), ("EHC-2026-00002", 2, "open")])
        command.upgrade(db.alembic_config(url), "head")
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT id, name_key, family_email FROM child ORDER BY id")).all() == [
                (1, "ann lee", "f@example.org"), (3, "bo lee", None)]
            assert c.execute(sa.text('SELECT reference, child_id FROM "case" ORDER BY id')).all() == [
                ("EHC-2026-00001", 1), ("EHC-2026-00002", 1)]
        command.downgrade(db.alembic_config(url), "0002")
        with engine.begin() as c:
            c.execute(sa.text("DELETE FROM \"case\""))
            c.execute(sa.text("DELETE FROM child"))
        _old_rows(url, [("EHC-2026-00001", 1, "open"), ("EHC-2026-00002", 2, "open")])
        with pytest.raises(RuntimeError, match="more than one open case.*EHC-2026-00001, EHC-2026-00002"):
            command.upgrade(db.alembic_config(url), "head")
        engine.dispose()


# --- defect 1: one bad recipient address blocks every message ---------------------------------------------

INJECTION = "sen@new.example.org\r\nBcc: evil@attacker.example"


def _enqueue(addresses: list[str]) -> list[str]:
    """One message per address, written straight to the outbox (as a store from before the entry check holds)."""
    with session() as s:
        case = casework.open_case(s, child_name="Sam Example", dob=dt.date(2015, 3, 2),
                                  requested_on=dt.date(2026, 11, 2), requester="parent", today=TODAY, actor="t")
        step = casework.case_steps(s, case)[0]
        keys = [f"reminder:step:{step.id}:n{i:02d}" for i in range(len(addresses))]
        for key, address in zip(keys, addresses, strict=True):
            enqueue(s, idempotency_key=key, kind="reminder", recipient_role="sen_caseworker",
                    recipient_email=address, on=TODAY,
                    context={"council": "Demo Borough Council", "action": "decision whether to assess",
                             "regulation": "reg 5(1)", "due": "Monday 14 December 2026", "days_left": 10,
                             "tier": 10, "child_name": None, "child_dob": None}, case=case, step=step)
    return keys


def _outbox() -> dict[str, OutboxMessage]:
    with session() as s:
        return {m.idempotency_key: m for m in s.exec(select(OutboxMessage))}


def test_transfer_out_refuses_a_header_injection_address_without_echoing_it(store):
    ref = plan_in_force("2016-02-01", "2025-09-12", setting=None)
    for bad in (INJECTION, "not-an-address", "two@at@example.org", "x" * 100_000 + "@example.org"):
        result = invoke("plan", "transfer-out", ref, "--aware-on", "2026-11-30", "--move-on", "2026-12-07",
                        "--to-council", "Northshire County Council", "--to-email", bad)
        line = one_line_refusal(result, "--to-email")
        assert "attacker" not in line and "xxxxxxxxxx" not in line and len(line) < 200
    with session() as s:  # nothing written
        assert casework.find_step(s, casework.get_case(s, ref), "transfer.send_plan") is None
    ok = invoke("plan", "transfer-out", ref, "--aware-on", "2026-11-30", "--move-on", "2026-12-07",
                "--to-council", "Northshire County Council", "--to-email", " SEND@Northshire.Example.ORG ")
    assert ok.exit_code == 0, ok.output
    with session() as s:
        step = casework.find_step(s, casework.get_case(s, ref), "transfer.send_plan")
        assert step.details["to_email"] == "SEND@northshire.example.org"  # trimmed, domain in its normal form


def test_a_poison_address_fails_alone_with_its_reason_and_the_others_are_sent(store, tmp_path):
    keys = _enqueue(["a@example.org", INJECTION, "b@example.org"])
    folder = tmp_path / "mail"
    report = dispatcher.dispatch(FileBackend(folder, "sen.team@example.org"), batch=50)
    assert (report.sent, report.failed, report.halted) == (2, 1, None)
    rows = _outbox()
    assert [rows[k].status for k in keys] == ["sent", "failed", "sent"]
    assert "attacker" not in rows[keys[1]].last_error and "not a valid email address" in rows[keys[1]].last_error
    assert len(list(folder.glob("*.eml"))) == 2 and not list(folder.glob("*.part"))
    shown = invoke("outbox", "failed")
    assert shown.exit_code == 0 and shown.stdout.startswith("1 failed message(s)")
    assert str(rows[keys[1]].id) in shown.stdout and "attacker" not in shown.stdout
    assert dispatcher.dispatch(FileBackend(folder, "sen.team@example.org")).sent == 0  # nothing left sending


class Explosive:
    """A backend whose provider client fails in a way no backend foresaw, for one message only."""

    name = "explosive"

    def __init__(self, exc: Exception, poison: str) -> None:
        self.exc, self.poison, self.sent = exc, poison, []

    def send(self, message):
        if message.recipient_email == self.poison:
            raise self.exc
        self.sent.append(message.recipient_email)
        return Delivery(self.name, f"id-{message.id}")


@pytest.mark.parametrize("exc", [ValueError("bad header for poison@example.org: " + "body " * 50),
                                 KeyError("poison@example.org"), RuntimeError("boom"), ZeroDivisionError(),
                                 UnicodeEncodeError("ascii", "é", 0, 1, "no")])
def test_any_exception_a_backend_raises_fails_that_message_alone_with_a_scrubbed_reason(store, exc):
    keys = _enqueue(["a@example.org", "poison@example.org", "b@example.org", "c@example.org"])
    backend = Explosive(exc, "poison@example.org")
    report = dispatcher.dispatch(backend, batch=2)
    assert (report.sent, report.failed) == (3, 1)
    assert backend.sent == ["a@example.org", "b@example.org", "c@example.org"]
    failed = _outbox()[keys[1]]
    assert failed.status == "failed"
    assert failed.last_error == f"explosive: unexpected {type(exc).__name__}"  # no address, no body


def test_the_sendgrid_backend_turns_any_client_failure_into_its_own_kinds():
    backend = SendGridBackend("SG.key", "sen.team@example.org", "Council")

    class Client:
        def send(self, body):
            raise TypeError("Object of type bytes is not JSON serializable")

    backend.client = Client()
    message = OutboxMessage(id=1, idempotency_key="k", kind="reminder", recipient_role="r",
                            recipient_email="a@example.org", subject="s", body_text="t", body_html="h", on=TODAY)
    with pytest.raises(Rejected, match="sendgrid client: TypeError"):
        backend.send(message)
    message.recipient_email = INJECTION
    with pytest.raises(Rejected, match="not a valid email address") as refused:
        backend.send(message)
    assert "attacker" not in refused.value.reason


# --- defect 2: a watch dated in the future ----------------------------------------------------------------


def _counts() -> tuple[int, int, int]:
    with session() as s:
        return (len(s.exec(select(OutboxMessage)).all()), len(s.exec(select(Escalation)).all()),
                len(s.exec(select(AuditEvent)).all()))


def test_a_watch_for_a_day_after_today_or_an_empty_day_is_refused_and_writes_nothing(store):
    _open("Future Child")
    before = _counts()
    for bad in ("2030-01-07", "2026-12-02", ""):
        one_line_refusal(invoke("watch", "--as-of", bad, "--no-send"), "--as-of")
    assert _counts() == before
    assert invoke("watch", "--as-of", "2026-12-01", "--no-send").exit_code == 0  # today itself is fine


def _escalations() -> dict[str, tuple[int, dt.date]]:
    """The escalations of the cases' decisions to assess (their 20 weeks are steps too, escalated only in 2030)."""
    with session() as s:
        return {ref: (e.tier, e.opened_on) for e, ref in s.exec(
            select(Escalation, Case.reference).join(Case, Case.id == Escalation.case_id)
            .join(Step, Step.id == Escalation.step_id).where(Step.key == "assess.decision"))}


def test_a_watch_run_for_a_wrong_day_can_be_undone_and_the_next_real_day_chases_again(store, monkeypatch):
    with session() as s:  # decision due Mon 16 Nov 2026 (6 weeks from Mon 5 Oct): tier 2 on 30 Nov, 3 on 1 Dec
        late = casework.open_case(s, child_name="Late Child", dob=dt.date(2015, 1, 1), requested_on=D("2026-10-05"),
                                  requester="parent", today=TODAY, actor="t").reference
        # decision due Mon 14 Dec 2026: not overdue on any real day here
        fresh = casework.open_case(s, child_name="Fresh Child", dob=dt.date(2015, 1, 1),
                                   requested_on=D("2026-11-02"), requester="parent", today=TODAY, actor="t").reference
    monkeypatch.setenv("EHC_TODAY", "2026-11-30")
    assert invoke("watch", "--no-send").exit_code == 0
    assert _escalations() == {late: (2, D("2026-11-30"))}
    run_watch(D("2030-01-07"))  # a mistyped year, as the watch accepted it before this fix
    wrong = _escalations()
    assert wrong[late][0] > 100 and wrong[fresh] == (wrong[fresh][0], D("2030-01-07"))
    monkeypatch.setenv("EHC_TODAY", "2026-12-01")
    with session() as s:
        written = s.exec(select(OutboxMessage).where(OutboxMessage.on == D("2030-01-07"))).all()
        other = s.exec(select(OutboxMessage).where(OutboxMessage.on != D("2030-01-07"))).all()
        s.get(OutboxMessage, written[0].id).status = "sent"  # one went out before anyone noticed
    undone = invoke("watch", "--undo", "--as-of", "2030-01-07")
    assert undone.exit_code == 0, undone.output
    assert undone.stdout.strip() == (f"2030-01-07: watch undone; messages removed {len(written) - 1} (already sent 1);"
                                     " escalations removed 3, lowered 1")  # fresh's decision, both 20 weeks
    assert _escalations() == {late: (2, D("2026-11-30"))}
    with session() as s:
        kept = s.exec(select(OutboxMessage)).all()
        assert {m.id for m in kept} == {m.id for m in other} | {written[0].id}  # the sent one stays
        assert not s.exec(select(AuditEvent).where(AuditEvent.action == SWEPT, AuditEvent.on == D("2030-01-07"))).all()
        assert s.exec(select(AuditEvent).where(AuditEvent.action == UNDONE)).one().detail["messages_removed"] == \
            len(written) - 1
    today = invoke("watch", "--no-send")
    assert today.exit_code == 0 and "escalations opened 0, raised 1" in today.stdout
    assert _escalations() == {late: (3, D("2026-11-30"))}
    one_line_refusal(invoke("watch", "--undo", "--as-of", "2030-01-07"), "--as-of")  # nothing left to undo
    one_line_refusal(invoke("watch", "--undo"), "--as-of")


# --- defect 5 (configuration): checked before anything is claimed ---------------------------------------


def _statuses() -> list[str]:
    return sorted(m.status for m in _outbox().values())


@pytest.mark.parametrize("variable, value, named, rule", [
    ("EHC_MAIL_FOLDER", None, "EHC_MAIL_FOLDER", "cannot be used as a folder"),
    ("EHC_MAIL_BACKEND", "pigeon", "EHC_MAIL_BACKEND", "must be file or sendgrid, not 'pigeon'"),
    ("EHC_MAIL_BACKEND", "sendgrid", "SENDGRID_API_KEY", "not set, and "),
    ("EHC_REMINDER_DAYS", "{annual_review: [56, 28]", "EHC_REMINDER_DAYS", "cannot be read: it must be JSON"),
    ("EHC_REMINDER_DAYS", '{"annual_review": ["soon"]}', "EHC_REMINDER_DAYS",
     "annual_review.0: Input should be a valid integer"),
])
def test_a_bad_setting_is_one_line_naming_it_and_no_message_is_left_sending(store, tmp_path, monkeypatch,
                                                                            variable, value, named, rule):
    _enqueue(["a@example.org", "b@example.org"])
    if value is None:  # a file where the folder should be
        value = str(tmp_path / "not-a-folder")
        (tmp_path / "not-a-folder").write_text("x")
    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # no Prefect server to hold a Secret block
    before = _counts()
    monkeypatch.setenv(variable, value)
    for command_line in (["outbox", "send"], ["watch"]):
        line = one_line_refusal(invoke(*command_line), named)
        assert rule in line
    monkeypatch.delenv(variable)
    assert _statuses() == ["pending", "pending"] and _counts() == before  # the watch wrote nothing either


# --- defect 7: smaller refusals ---------------------------------------------------------------------------


def test_outbox_retry_of_an_unknown_or_unfailed_message_is_refused(store):
    keys = _enqueue(["a@example.org"])
    one_line_refusal(invoke("outbox", "retry", "999"), "ID")
    pending = _outbox()[keys[0]].id
    assert "not failed" in one_line_refusal(invoke("outbox", "retry", str(pending)), "ID")
    one_line_refusal(invoke("outbox", "retry", "1180591620717411303424"), "[ID]...")
    assert invoke("outbox", "retry").stdout.strip() == "0 message(s) queued again"


def test_queue_commands_refuse_an_empty_by_and_an_id_too_large_for_the_store(store, monkeypatch):
    with session() as s:
        case = casework.open_case(s, child_name="Queue Child", dob=dt.date(2015, 1, 1),
                                  requested_on=D("2026-10-05"), requester="parent", today=TODAY, actor="t")
        step = casework.case_steps(s, case)[0]
        item = Escalation(queue="sen_team_manager", case_id=case.id, step_id=step.id, tier=1, opened_on=TODAY)
        s.add(item)
    before = _counts()
    one_line_refusal(invoke("queue", "ack", str(item.id), "--by", ""), "--by")
    one_line_refusal(invoke("queue", "resolve", str(item.id), "--note", "rang them", "--by", "  "), "--by")
    for command_line in (["queue", "ack", "1180591620717411303424"],
                         ["queue", "resolve", "1180591620717411303424", "--note", "x"]):
        one_line_refusal(invoke(*command_line), "ID")
    assert _counts() == before
    done = invoke("queue", "ack", str(item.id))
    assert done.exit_code == 0 and done.stdout.strip() == f"escalation {item.id} acknowledged by caseworker"


def test_a_start_too_late_to_count_from_is_one_line():
    for command_line in (["deadline", "plan.final", "--start", "9999-12-20"],
                         ["timeline", "--request-date", "9999-12-20"]):
        line = one_line_refusal(invoke(*command_line), command_line[-2])
        assert "after 9999-12-31" in line


def test_a_100000_character_bad_value_is_never_echoed_in_full(store):
    huge = "x" * 100_000
    for command_line, field_name in ((["deadline", huge, "--start", "2026-01-05"], "RULE_ID"),
                                     (["deadline", "plan.final", "--start", huge], "--start"),
                                     (["deadline", "plan.final", "--start", "2026-01-05", "--fact", huge], "--fact"),
                                     (["queue", "show", huge], "QUEUE"),
                                     (["case", "show", huge], "REF")):
        line = one_line_refusal(invoke(*command_line), field_name)
        assert len(line) < 400 and "…" in line


def test_a_watch_counts_only_the_messages_it_wrote_not_a_concurrent_runs(store, monkeypatch):
    """Two watches at once: both read the outbox keys before either writes, so the second finds each of its
    messages written by the first only at the insert. It must not count them as its own."""
    with session() as s:
        casework.open_case(s, child_name="Count Child", dob=dt.date(2015, 1, 1), requested_on=D("2026-10-05"),
                           requester="parent", today=TODAY, actor="t")
    first = run_watch(TODAY)
    assert first.messages == {"escalation": 1, "overdue": 1}
    monkeypatch.setattr(compose, "existing_keys", lambda s, keys: set())  # the read before the other's write
    second = run_watch(TODAY)
    assert second.messages == {} and second.chases == first.chases
