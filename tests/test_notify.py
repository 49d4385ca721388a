"""The GOV.UK Notify backend against a loopback stand-in for api.notifications.service.gov.uk that checks each
request as Notify's API documents it: `POST /v2/notifications/email` (email_address, template_id,
personalisation, reference) and `POST /v2/notifications/letter` (reference, content: the PDF in base64,
postage), each with a JWT bearer token (HS256 over {"iss": service id, "iat": now} signed with the key's secret,
as the official client builds it); it answers 201, or on cue 400, 403, 429 or 500."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from pypdf import PdfReader

from models import casework, db
from models.outbox import OutboxMessage
from models.vocabulary import Channel, OutboxStatus
from notifications import dispatch as dispatcher
from notifications.backends import NotifyBackend, Rejected, RetryLater, configured_backend

SERVICE_ID, SECRET = str(uuid.uuid4()), str(uuid.uuid4())
API_KEY = f"ehc_test-{SERVICE_ID}-{SECRET}"  # Notify's key: name, service id, secret
TEMPLATE_ID = str(uuid.uuid4())
DETAILS = {"name": "Test Borough Council", "address": "Civic Centre, Testbury", "postcode": "TS1 1AA",
           "sen_team_email": "sen@council.test.gov.uk", "sen_team_phone": None}
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
ERRORS = {400: ("BadRequestError", "Can't send to this recipient using a team-only API key"),
          403: ("AuthError", "Invalid token: API key not found"),
          429: ("RateLimitError", "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds"),
          500: ("Exception", "Internal server error")}


class StandIn:
    """What the engine posted, what it got wrong against Notify's API, and the answers queued for it."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict]] = []
        self.wrong: list[str] = []
        self.cues: deque = deque()
        self.lock = threading.Lock()

    def check(self, handler: BaseHTTPRequestHandler, body: dict) -> list[str]:
        wrong = []
        auth = handler.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return ["no bearer token"]
        token = auth.removeprefix("Bearer ")
        if jwt.get_unverified_header(token).get("alg") != "HS256":
            wrong.append("token not HS256")
        try:
            claims = jwt.decode(token, SECRET, algorithms=["HS256"])
        except jwt.PyJWTError as exc:
            return [f"token: {exc}"]
        if claims.get("iss") != SERVICE_ID:
            wrong.append("iss is not the service id")
        if abs(claims.get("iat", 0) - time.time()) > 30:  # Notify refuses a token more than 30 s off
            wrong.append("iat not within 30 seconds")
        if handler.headers.get("Content-Type") != "application/json":
            wrong.append("not JSON")
        if handler.path == "/v2/notifications/email":
            if not {"email_address", "template_id"} <= set(body) or set(body) - {
                    "email_address", "template_id", "personalisation", "reference", "email_reply_to_id"}:
                wrong.append(f"email fields {sorted(body)}")
            if set(body.get("personalisation", {})) != {"subject", "body"}:
                wrong.append("personalisation is not ((subject)) and ((body))")
        elif handler.path == "/v2/notifications/letter":
            if set(body) - {"reference", "content", "postage"} or not {"reference", "content"} <= set(body):
                wrong.append(f"letter fields {sorted(body)}")
            if not base64.b64decode(body.get("content", "")).startswith(b"%PDF"):
                wrong.append("content is not a base64 PDF")
            if body.get("postage") not in (None, "first", "second", "economy"):
                wrong.append("postage")
        else:
            wrong.append(f"path {handler.path}")
        return wrong

    def answer(self, handler: BaseHTTPRequestHandler) -> tuple[int, bytes]:
        body = json.loads(handler.rfile.read(int(handler.headers["Content-Length"])))
        with self.lock:
            wrong = self.check(handler, body)
            self.requests.append((handler.path, body))
            self.wrong += wrong
            status = self.cues.popleft() if self.cues else 201
        if wrong:
            status = 400
        if status == 201:
            return 201, json.dumps({"id": str(uuid.uuid4()), "reference": body.get("reference")}).encode()
        error, message = ERRORS[status]
        return status, json.dumps({"status_code": status, "errors": [{"error": error, "message": message}]}).encode()


@pytest.fixture
def notify():
    stand_in = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            status, payload = stand_in.answer(self)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield stand_in
    server.shutdown()
    server.server_close()


def backend(url: str, letters: bool = True) -> NotifyBackend:
    return NotifyBackend(API_KEY, TEMPLATE_ID, url, letters, DETAILS)


def message(channel: Channel = Channel.EMAIL, **values) -> OutboxMessage:
    fields = {"id": 7, "idempotency_key": "notice:final_plan:case:1:to:family:person:2", "kind": "final_plan",
              "recipient_role": "family", "subject": "EHC-2026-00001: final EHC plan issued (reg 13(2))",
              "body_text": "Test Borough Council sends you the final EHC plan.\n\nSecond paragraph.",
              "body_html": "<p>x</p>", "on": dt.date(2026, 3, 2), "channel": channel}
    if channel == Channel.LETTER:
        fields |= {"recipient_email": None, "postal_address": "Lou Post-Test, 9 Mill Lane, Testbury, TS2 2BB"}
    else:
        fields |= {"recipient_email": "pat@family.test.org.uk"}
    return OutboxMessage(**(fields | values))


def test_an_email_and_a_precompiled_letter_are_sent_as_notify_documents_them(notify):
    sent = backend(notify.url)
    email = sent.send(message())
    letter = sent.send(message(Channel.LETTER))
    assert notify.wrong == [] and email.provider == letter.provider == "notify"
    assert email.message_id != letter.message_id and uuid.UUID(letter.message_id)
    (email_path, email_body), (letter_path, letter_body) = notify.requests
    assert email_path == "/v2/notifications/email" and letter_path == "/v2/notifications/letter"
    assert email_body == {"email_address": "pat@family.test.org.uk", "template_id": TEMPLATE_ID,
                          "reference": "notice:final_plan:case:1:to:family:person:2",
                          "personalisation": {"subject": message().subject, "body": message().body_text}}
    assert letter_body["reference"] == "notice:final_plan:case:1" and letter_body["postage"] == "second"
    text = PdfReader(io.BytesIO(base64.b64decode(letter_body["content"]))).pages[0].extract_text()
    assert "Lou Post-Test" in text and "TS2 2BB" in text and "final EHC plan" in text


@pytest.mark.parametrize(("status", "outcome", "halt"), [(400, Rejected, None), (403, RetryLater, True),
                                                         (429, RetryLater, True), (500, RetryLater, False)])
def test_notify_answers_map_to_retry_later_or_rejected(notify, status, outcome, halt):
    notify.cues.append(status)
    with pytest.raises(outcome) as raised:
        backend(notify.url).send(message())
    assert notify.wrong == [] and raised.value.reason.startswith(f"{status}: ") and "@" not in raised.value.reason
    assert raised.value.reason.endswith(ERRORS[status][1])
    if halt is not None:
        assert raised.value.halt is halt


def test_an_unreachable_notify_is_retried_later():
    with pytest.raises(RetryLater) as raised:  # nothing listens on port 9: the client's own 503
        backend("http://127.0.0.1:9").send(message())
    assert not raised.value.halt and raised.value.reason.startswith("503")


def test_the_dispatcher_sends_letters_through_notify_retries_a_500_and_fails_a_400(notify, store_url):
    with db.session() as s:
        case = casework.open_case(s, child_name="Ada Notify-Test", dob=dt.date(2016, 1, 1),
                                  requested_on=dt.date(2026, 3, 2), requester="parent", today=dt.date(2026, 3, 2),
                                  actor="test")
        rows = [message(Channel.LETTER, id=None, case_id=case.id, idempotency_key="letter"),
                message(id=None, case_id=case.id, idempotency_key="refused"),
                message(id=None, case_id=case.id, idempotency_key="busy")]
        s.add_all(rows)
        s.flush()
        ids = [r.id for r in rows]
    notify.cues.extend([201, 400, 500])
    report = dispatcher.dispatch(backend(notify.url), now=lambda: NOW, url=store_url)
    assert (report.sent, report.failed, report.retrying) == (1, 1, 1) and notify.wrong == []
    with db.session() as s:
        letter, refused, busy = (s.get(OutboxMessage, i) for i in ids)
        assert (letter.status, letter.provider) == (OutboxStatus.SENT, "notify")
        assert refused.status == OutboxStatus.FAILED and "team-only API key" in refused.last_error
        retry_at = busy.next_attempt_at
        retry_at = retry_at if retry_at.tzinfo else retry_at.replace(tzinfo=dt.UTC)  # SQLite: without its zone
        assert busy.status == OutboxStatus.PENDING and retry_at > NOW and busy.attempts == 1
    email_only = dispatcher.dispatch(backend(notify.url, letters=False), now=lambda: NOW + dt.timedelta(hours=1),
                                     url=store_url)
    assert email_only.sent == 1  # the busy email; a letter would wait for the print queue


def test_notify_is_chosen_by_configuration(monkeypatch, notify):
    monkeypatch.setenv("EHC_MAIL_BACKEND", "notify")
    monkeypatch.setenv("NOTIFY_API_KEY", API_KEY)
    monkeypatch.setenv("EHC_NOTIFY_HOST", notify.url)
    monkeypatch.setenv("EHC_LETTER_BACKEND", "notify")
    chosen = configured_backend()
    assert chosen.name == "notify" and chosen.channels == (Channel.EMAIL, Channel.LETTER)
    monkeypatch.setenv("EHC_MAIL_BACKEND", "file")
    both = configured_backend()
    assert both.name == "file+notify" and both.channels == (Channel.EMAIL, Channel.LETTER)
    monkeypatch.setenv("EHC_LETTER_BACKEND", "post")
    with pytest.raises(Exception, match="EHC_LETTER_BACKEND"):
        configured_backend()
