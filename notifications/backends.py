"""Where a message goes: a folder of `.eml` files (the default, so the demo needs no account) or SendGrid.

A backend sends one outbox row and returns the provider's id, or raises `RetryLater` (rate limit, provider
error, network) or `Rejected` (this message cannot be sent as it is). Like GOV.UK Notify's clients, each backend
turns every failure of its provider into one of these two; the dispatcher still treats anything else a backend
raises as the failure of that one message."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
import re
import urllib.error
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from models.addresses import validate_email
from models.errors import InputError, shown
from models.outbox import OutboxMessage
from models.settings import settings

ADDRESS = re.compile(r"[^\s@<>\"']+@[^\s@<>\"']+")


@dataclass(frozen=True)
class Delivery:
    provider: str
    message_id: str


class RetryLater(Exception):
    """Try again later: at `at` when the provider said when (429), else after the dispatcher's back-off.
    `halt` stops the batch (rate limit, bad key): the rest of it would fail the same way."""

    def __init__(self, reason: str, at: dt.datetime | None = None, halt: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.at, self.halt = reason, at, halt


class Rejected(Exception):
    """The provider refused the message (a 4xx other than 429): retrying would not help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Backend(Protocol):
    name: str

    def send(self, message: OutboxMessage) -> Delivery: ...


def scrub(text: str) -> str:
    """A provider's reason without any email address in it: reasons are shown in artifacts and logs."""
    return ADDRESS.sub("[address]", text)[:500]


def recipient(message: OutboxMessage) -> str:
    """The message's address, or `Rejected` when it is not one (a row written before addresses were checked on
    entry, or by hand): a line break in it would inject a header."""
    try:
        return validate_email(message.recipient_email or "", "recipient")
    except InputError as exc:
        raise Rejected(scrub(str(exc))) from None


class FileBackend:
    """Writes each message as an RFC 5322 `.eml` file (text and HTML alternatives) into a folder."""

    name = "file"

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder, self.sender = Path(folder), sender

    def send(self, message: OutboxMessage) -> Delivery:
        """`Rejected` for a message that cannot be made into an email; `RetryLater` (halting) when the folder
        cannot be written, since every other message would fail the same way."""
        message_id = uuid.uuid4().hex
        try:
            mail = EmailMessage()
            mail["From"] = self.sender
            mail["To"] = recipient(message)
            mail["Subject"] = message.subject
            mail["Message-ID"] = email.utils.make_msgid(idstring=message_id, domain="ehc.local")
            mail["X-EHC-Outbox-Key"] = message.idempotency_key
            mail.set_content(message.body_text)
            mail.add_alternative(message.body_html, subtype="html")
            data = bytes(mail)
        except Rejected:
            raise
        except Exception as exc:  # a header with a line break, an undecodable body: this message only
            raise Rejected(f"file: not a valid email ({type(exc).__name__})") from None
        target = self.folder / f"{message.id:08d}-{message_id}.eml"
        partial = target.with_suffix(".part")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(data)
            partial.replace(target)
        except OSError as exc:
            raise RetryLater(f"file: cannot write to EHC_MAIL_FOLDER ({exc.strerror or type(exc).__name__})",
                             halt=True) from None
        return Delivery(self.name, message_id)


def sendgrid_api_key() -> str:
    """`SENDGRID_API_KEY`, else the Prefect Secret block named by `EHC_SENDGRID_SECRET_BLOCK`."""
    key = os.environ.get("SENDGRID_API_KEY")
    if key:
        return key
    from prefect.blocks.system import Secret

    block = settings().sendgrid_secret_block
    try:
        key = Secret.load(block).get()
    except ValueError:
        raise InputError("SENDGRID_API_KEY", f"not set, and no Prefect Secret block {shown(block)}") from None
    except Exception as exc:  # no Prefect server to ask: a setting to fix too, not a traceback
        raise InputError("SENDGRID_API_KEY", f"not set, and the Prefect Secret block {shown(block)} could not be "
                                             f"loaded ({type(exc).__name__})") from None
    if not isinstance(key, str) or not key.strip():
        raise InputError("SENDGRID_API_KEY", f"not set, and the Prefect Secret block {shown(block)} is empty")
    return key


def _header(headers, name: str) -> str | None:
    return headers.get(name) if headers is not None else None


def _when(headers, now: dt.datetime) -> dt.datetime | None:
    """When a rate-limited sender may come back: `X-RateLimit-Reset` (epoch seconds), else `Retry-After`."""
    reset = _header(headers, "X-RateLimit-Reset")
    if reset and reset.strip().isdigit():
        return dt.datetime.fromtimestamp(int(reset), dt.UTC)
    return _retry_after(headers, now)


def _retry_after(headers, now: dt.datetime) -> dt.datetime | None:
    """`Retry-After`, in seconds or as an HTTP date (a relay may send it)."""
    retry_after = _header(headers, "Retry-After")
    if retry_after and retry_after.strip().isdigit():
        return now + dt.timedelta(seconds=int(retry_after))
    if retry_after:
        try:
            return email.utils.parsedate_to_datetime(retry_after).astimezone(dt.UTC)
        except (TypeError, ValueError):
            return None
    return None


def _reason(exc: HTTPError) -> str:
    body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else str(exc.body or "")
    try:
        messages = [e.get("message", "") for e in json.loads(body).get("errors", [])]
    except (ValueError, AttributeError):
        messages = [body]
    return scrub(f"{exc.status_code}: {'; '.join(m for m in messages if m) or exc.reason}")


class SendGridBackend:
    """SendGrid v3 mail send through the official client; one message (one recipient) per request."""

    name = "sendgrid"

    def __init__(self, api_key: str, sender: str, sender_name: str, host: str = "https://api.sendgrid.com",
                 now=lambda: dt.datetime.now(dt.UTC)) -> None:
        self.client = SendGridAPIClient(api_key=api_key, host=host)
        self.sender, self.sender_name, self.now = sender, sender_name, now

    def body(self, message: OutboxMessage) -> dict:
        return {
            "personalizations": [{"to": [{"email": message.recipient_email}]}],
            "from": {"email": self.sender, "name": self.sender_name},
            "subject": message.subject,
            "content": [{"type": "text/plain", "value": message.body_text},
                        {"type": "text/html", "value": message.body_html}],
            "categories": ["ehc", message.kind],
            "custom_args": {"outbox_key": message.idempotency_key},
        }

    def send(self, message: OutboxMessage) -> Delivery:
        """Every failure of the client becomes `RetryLater` or `Rejected`; nothing else escapes."""
        recipient(message)
        try:
            response = self.client.send(self.body(message))
        except HTTPError as exc:
            if exc.status_code == 429:
                raise RetryLater(_reason(exc), _when(exc.headers, self.now()), halt=True) from None
            if exc.status_code in (401, 403):
                raise RetryLater(_reason(exc), halt=True) from None
            if exc.status_code >= 500:  # every answer carries X-RateLimit-Reset; only a 429 means wait for it
                raise RetryLater(_reason(exc), _retry_after(exc.headers, self.now())) from None
            raise Rejected(_reason(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise RetryLater(scrub(f"network: {exc}")) from None
        except Exception as exc:  # the client failed on this message (bad JSON, an encoding): retrying won't help
            raise Rejected(f"sendgrid client: {type(exc).__name__}") from None
        # accepted (202): never retried from here on, even without an id, or it would be sent twice
        return Delivery(self.name, _header(response.headers, "X-Message-Id") or "unknown")


def mail_folder(folder: str) -> Path:
    """`EHC_MAIL_FOLDER` as a folder the file backend can write, made if missing; InputError otherwise."""
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError("EHC_MAIL_FOLDER", f"cannot be used as a folder ({exc.strerror or type(exc).__name__})") \
            from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError("EHC_MAIL_FOLDER", "is a folder this user cannot write")
    return path


def configured_backend() -> Backend:
    """The backend named by `EHC_MAIL_BACKEND` (default `file`, into `EHC_MAIL_FOLDER`), its configuration checked
    before anything is claimed: a bad setting is an InputError naming the variable, not a batch left `sending`."""
    config = settings()
    validate_email(config.mail_from, "EHC_MAIL_FROM")
    if config.mail_backend == "file":
        return FileBackend(mail_folder(config.mail_folder), config.mail_from)
    if config.mail_backend == "sendgrid":
        return SendGridBackend(sendgrid_api_key(), config.mail_from, config.council_name, config.sendgrid_host)
    raise InputError("EHC_MAIL_BACKEND", f"must be file or sendgrid, not {shown(config.mail_backend)}")
