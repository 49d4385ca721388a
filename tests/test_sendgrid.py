"""The SendGrid backend against a loopback stand-in for api.sendgrid.com that checks every request body against
SendGrid's own v3 mail-send schema (tests/reference/sendgrid/tsg_mail_v3.json, `custom_args` defect patched as
the reference README says) plus the limits the schema cannot express (≤ 1000 recipients, each address once),
and answers 202 with X-Message-Id, or on cue 429 with X-RateLimit-*, 400, 401 or 500."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import threading
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from models import casework
from models.db import session
from models.errors import InputError
from models.outbox import OutboxMessage
from notifications import dispatch as dispatcher
from notifications.backends import SendGridBackend, sendgrid_api_key
from notifications.outbox import enqueue

SPEC = Path(__file__).parent / "reference" / "sendgrid" / "tsg_mail_v3.json"
SHARED_SPEC = Path(__file__).resolve().parents[2] / "shared" / "reference" / "sendgrid" / "tsg_mail_v3.json"
SPEC_SHA256 = "4ba24d0feb8a6b347f60528161d1cf0e7591987d2b3a64a6533685dc2b39d19f"
KEY = "SG.test-key"
TOO_MANY = b'{"errors":[{"field":null,"message":"too many requests"}]}'
NOW = dt.datetime(2025, 2, 18, 7, 0, tzinfo=dt.UTC)


def mail_send_validator() -> Draft202012Validator:
    spec = json.loads(SPEC.read_text())
    schema = copy.deepcopy(spec["components"]["requestBodies"]["PostMailSend"]["content"]["application/json"]["schema"])
    # Known defect (reference README): the live API wants an object of strings, the spec says string.
    schema["properties"]["custom_args"] = {"type": "object", "additionalProperties": {"type": "string"}}
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "components": spec["components"]}
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def contract_errors(validator: Draft202012Validator, body) -> list[str]:
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(body)]
    if errors:
        return errors
    addresses = [r["email"].lower() for p in body["personalizations"]
                 for field in ("to", "cc", "bcc") for r in p.get(field, [])]
    if len(addresses) > 1000:
        errors.append(f"{len(addresses)} recipients: at most 1000 per request")
    if len(set(addresses)) != len(addresses):
        errors.append("each unique address may appear only once per request")
    return errors


class StandIn:
    """What the engine posted (valid bodies), what it got wrong, and the answers queued for it."""

    def __init__(self) -> None:
        self.validator = mail_send_validator()
        self.bodies: list[dict] = []
        self.invalid: list[list[str]] = []
        self.auth: list[str] = []
        self.cues: deque = deque()
        self.reset_at = int(NOW.timestamp()) + 90
        self.lock = threading.Lock()

    def answer(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict, bytes]:
        if handler.path != "/v3/mail/send":
            return 404, {}, b'{"errors":[{"message":"not found"}]}'
        body = json.loads(handler.rfile.read(int(handler.headers["Content-Length"])))
        with self.lock:
            self.auth.append(handler.headers.get("Authorization", ""))
            cue = self.cues.popleft() if self.cues else "202"
            if handler.headers.get("Authorization") != f"Bearer {KEY}":
                cue = "401"
            errors = contract_errors(self.validator, body)
            if errors:
                self.invalid.append(errors)
                cue = "400"
            elif cue == "202":
                self.bodies.append(body)
        limits = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "599", "X-RateLimit-Reset": str(self.reset_at)}
        if cue == "202":
            return 202, {**limits, "X-Message-Id": uuid.uuid4().hex[:22]}, b""
        if cue == "429":
            return 429, {**limits, "X-RateLimit-Remaining": "0"}, TOO_MANY
        if cue == "retry-after":
            return 429, {"Retry-After": "120"}, TOO_MANY
        if cue == "400":
            message = "; ".join(errors) if errors else "The to email does not contain a valid address: x@y"
            return 400, {}, json.dumps({"errors": [{"message": message, "field": "personalizations.0.to",
                                                    "help": None}]}).encode()
        if cue == "401":
            return 401, {}, b'{"errors":[{"field":null,"message":"authorization required"}]}'
        return 500, limits, b'{"errors":[{"field":null,"message":"internal error"}]}'


@pytest.fixture
def sendgrid_standin():
    standin = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            status, headers, payload = standin.answer(self)
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(payload))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    standin.host = f"http://127.0.0.1:{server.server_address[1]}"
    yield standin
    server.shutdown()
    server.server_close()


def backend(standin, now=lambda: NOW) -> SendGridBackend:
    return SendGridBackend(KEY, "sen.team@example.org", "Demo Borough Council", host=standin.host, now=now)


def enqueue_messages(n: int) -> list[str]:
    """n real messages (rendered from the templates) on one case."""
    keys = []
    with session() as s:
        case = casework.open_case(s, child_name="Sam Example", dob=dt.date(2015, 3, 2),
                                  requested_on=dt.date(2025, 1, 6), requester="parent", today=dt.date(2025, 1, 6),
                                  actor="t")
        step = casework.case_steps(s, case)[0]
        for i in range(n):
            key = f"reminder:step:{step.id}:test-{i}"
            enqueue(s, idempotency_key=key, kind="reminder", recipient_role="sen_caseworker",
                    recipient_email=f"caseworker{i}@example.org", on=dt.date(2025, 2, 7),
                    context={"council": "Demo Borough Council", "action": "decision whether to assess",
                             "regulation": "reg 5(1)", "due": "Monday 17 February 2025", "days_left": 10,
                             "tier": 10, "child_name": None, "child_dob": None},
                    case=case, step=step)
            keys.append(key)
    return keys


def outbox() -> dict[str, OutboxMessage]:
    with session() as s:
        return {m.idempotency_key: m for m in s.exec(select(OutboxMessage))}


def as_utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def test_vendored_schema_is_the_shared_one():
    data = SPEC.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SPEC_SHA256
    if SHARED_SPEC.exists():
        assert data == SHARED_SPEC.read_bytes()


def test_the_stand_in_holds_the_real_contract():
    """It would catch a wrong body: the schema's own rules and the two it cannot express."""
    validator = mail_send_validator()
    good = {"personalizations": [{"to": [{"email": "a@example.org"}]}], "from": {"email": "b@example.org"},
            "subject": "EHC-2025-00001: reminder", "content": [{"type": "text/plain", "value": "x"}],
            "custom_args": {"outbox_key": "k"}}
    assert contract_errors(validator, good) == []
    for broken in (
        {**good, "subject": ""},
        {**good, "custom_args": "k"},
        {**good, "categories": [str(i) for i in range(11)]},
        {**good, "personalizations": [{"to": [{"email": f"{i}@example.org"}]} for i in range(1001)]},
        {**good, "personalizations": [{"to": [{"email": f"{i}@example.org"}]} for i in range(600)]
         + [{"to": [{"email": f"x{i}@example.org"}], "cc": [{"email": f"c{i}@example.org"}]} for i in range(300)]},
        {**good, "personalizations": [{"to": [{"email": "a@example.org"}]}, {"to": [{"email": "A@example.org"}]}]},
        {**good, "from": {"email": "not an address"}},
    ):
        assert contract_errors(validator, broken), broken


def test_each_message_is_posted_once_with_a_valid_body_and_the_provider_id_is_recorded(store_url, sendgrid_standin):
    keys = enqueue_messages(5)
    report = dispatcher.dispatch(backend(sendgrid_standin), now=lambda: NOW, batch=2)
    assert (report.sent, report.failed, sendgrid_standin.invalid) == (5, 0, [])
    assert sorted(b["custom_args"]["outbox_key"] for b in sendgrid_standin.bodies) == sorted(keys)
    assert set(sendgrid_standin.auth) == {f"Bearer {KEY}"}
    rows = outbox()
    assert all(rows[k].status == "sent" and rows[k].provider == "sendgrid" and len(rows[k].provider_message_id) == 22
               for k in keys)
    assert all(as_utc(rows[k].sent_at) == NOW for k in keys)
    body = sendgrid_standin.bodies[0]
    assert body["subject"].startswith("EHC-2025-00001: reminder")
    assert "Sam" not in json.dumps(sendgrid_standin.bodies)  # EHC_PERSONAL_DATA_IN_MESSAGES defaults to none
    assert dispatcher.dispatch(backend(sendgrid_standin), now=lambda: NOW).sent == 0


def test_429_waits_until_the_rate_limit_resets(store_url, sendgrid_standin):
    keys = enqueue_messages(3)
    sendgrid_standin.cues.extend(["202", "429"])
    report = dispatcher.dispatch(backend(sendgrid_standin), now=lambda: NOW)
    reset = dt.datetime.fromtimestamp(sendgrid_standin.reset_at, dt.UTC)
    assert (report.sent, report.resume_at) == (1, reset)
    rows = outbox()
    assert [rows[k].status for k in keys] == ["sent", "pending", "pending"]
    assert [as_utc(rows[k].next_attempt_at) for k in keys[1:]] == [reset, reset]
    assert [rows[k].attempts for k in keys] == [1, 0, 0]  # a rate limit is not the message's fault
    assert "too many requests" in rows[keys[1]].last_error
    just_before = reset - dt.timedelta(seconds=1)
    assert dispatcher.dispatch(backend(sendgrid_standin), now=lambda: just_before).sent == 0
    assert dispatcher.dispatch(backend(sendgrid_standin), now=lambda: reset).sent == 2
    assert len(sendgrid_standin.bodies) == 3 and sendgrid_standin.invalid == []


def test_a_relay_retry_after_is_honoured(store_url, sendgrid_standin):
    (key,) = enqueue_messages(1)
    sendgrid_standin.cues.append("retry-after")
    report = dispatcher.dispatch(backend(sendgrid_standin), now=lambda: NOW)
    assert report.resume_at == NOW + dt.timedelta(seconds=120)
    assert as_utc(outbox()[key].next_attempt_at) == NOW + dt.timedelta(seconds=120)


def test_5xx_is_retried_with_back_off_then_given_up(store_url, sendgrid_standin):
    (key,) = enqueue_messages(1)
    sendgrid_standin.cues.extend(["500", "500", "202"])
    clock = [NOW]
    send = backend(sendgrid_standin, now=lambda: clock[0])
    assert dispatcher.dispatch(send, now=lambda: clock[0]).retrying == 1
    row = outbox()[key]
    assert (row.status, as_utc(row.next_attempt_at), row.attempts) == ("pending", NOW + dt.timedelta(minutes=1), 1)
    clock[0] = NOW + dt.timedelta(seconds=59)
    assert dispatcher.dispatch(send, now=lambda: clock[0]).retrying == 0  # not yet
    clock[0] = NOW + dt.timedelta(minutes=1)
    dispatcher.dispatch(send, now=lambda: clock[0])
    assert as_utc(outbox()[key].next_attempt_at) == clock[0] + dt.timedelta(minutes=2)
    clock[0] += dt.timedelta(minutes=2)
    assert dispatcher.dispatch(send, now=lambda: clock[0]).sent == 1
    assert outbox()[key].status == "sent" and len(sendgrid_standin.bodies) == 1

    (key2,) = [k for k in enqueue_more(1)]
    sendgrid_standin.cues.extend(["500"] * dispatcher.MAX_ATTEMPTS)
    clock[0] += dispatcher.GIVE_UP_AFTER  # given up only once the message is that far past its day
    for _ in range(dispatcher.MAX_ATTEMPTS):
        clock[0] += dispatcher.MAX_BACKOFF
        dispatcher.dispatch(send, now=lambda: clock[0])
    row = outbox()[key2]
    assert row.status == "failed" and row.last_error.startswith(f"gave up after {dispatcher.MAX_ATTEMPTS} attempts")


def enqueue_more(n: int) -> list[str]:
    with session() as s:
        case = casework.get_case(s, "EHC-2025-00001")
        step = casework.case_steps(s, case)[0]
        keys = [f"due_today:step:{step.id}:more-{i}" for i in range(n)]
        for key in keys:
            enqueue(s, idempotency_key=key, kind="due_today", recipient_role="sen_caseworker",
                    recipient_email="more@example.org", on=dt.date(2025, 2, 17),
                    context={"council": "C", "action": "decision whether to assess", "regulation": None,
                             "due": "Monday 17 February 2025", "tier": 0, "child_name": None, "child_dob": None},
                    case=case, step=step)
    return keys


def test_400_fails_the_message_with_the_reason_and_the_command_line_shows_it(store_url, sendgrid_standin):
    keys = enqueue_messages(2)
    sendgrid_standin.cues.extend(["400", "202"])
    report = dispatcher.dispatch(backend(sendgrid_standin), now=lambda: NOW)
    assert (report.sent, report.failed) == (1, 1)
    row = outbox()[keys[0]]
    assert row.status == "failed"
    assert row.last_error == "400: The to email does not contain a valid address: [address]"
    result = CliRunner().invoke(app, ["outbox", "failed"])
    assert result.exit_code == 0, result.output
    assert "EHC-2025-00001" in result.output and "valid address" in result.output
    assert "caseworker0@example.org" not in result.output


def test_a_refused_key_stops_the_run_and_loses_nothing(store_url, sendgrid_standin):
    keys = enqueue_messages(2)
    bad = SendGridBackend("SG.wrong", "sen.team@example.org", "C", host=sendgrid_standin.host, now=lambda: NOW)
    report = dispatcher.dispatch(bad, now=lambda: NOW)
    assert report.sent == 0 and report.halted.startswith("401")
    assert [outbox()[k].status for k in keys] == ["pending", "pending"]
    later = NOW + dispatcher.MAX_BACKOFF
    assert dispatcher.dispatch(backend(sendgrid_standin), now=lambda: later).sent == 2


def test_the_key_comes_from_a_prefect_secret_block_when_the_environment_has_none(prefect_server, monkeypatch):
    from prefect.blocks.system import Secret

    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)
    monkeypatch.setenv("EHC_SENDGRID_SECRET_BLOCK", "ehc-test-sendgrid")
    Secret(value=KEY).save("ehc-test-sendgrid", overwrite=True)
    assert sendgrid_api_key() == KEY
    monkeypatch.setenv("EHC_SENDGRID_SECRET_BLOCK", "ehc-test-no-such-block")
    with pytest.raises(InputError, match="SENDGRID_API_KEY: not set, and no Prefect Secret block"):
        sendgrid_api_key()
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.from-env")
    assert sendgrid_api_key() == "SG.from-env"
