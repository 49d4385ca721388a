"""Where a message goes: a folder of `.eml` files (the default, so the demo needs no account) or SendGrid.

A backend sends one outbox row and returns the provider's id, or raises `RetryLater` (rate limit, provider
error, network) or `Rejected` (the provider refused this message for good)."""

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

from models.errors import InputError
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


class FileBackend:
    """Writes each message as an RFC 5322 `.eml` file (text and HTML alternatives) into a folder."""

    name = "file"

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder, self.sender = Path(folder), sender

    def send(self, message: OutboxMessage) -> Delivery:
        message_id = uuid.uuid4().hex
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.recipient_email
        mail["Subject"] = message.subject
        mail["Message-ID"] = email.utils.make_msgid(idstring=message_id, domain="ehc.local")
        mail["X-EHC-Outbox-Key"] = message.idempotency_key
        mail.set_content(message.body_text)
        mail.add_alternative(message.body_html, subtype="html")
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{message.id:08d}-{message_id}.eml"
        partial = target.with_suffix(".part")
        partial.write_bytes(bytes(mail))
        partial.replace(target)
        return Delivery(self.name, message_id)


def sendgrid_api_key() -> str:
    """`SENDGRID_API_KEY`, else the Prefect Secret block named by `EHC_SENDGRID_SECRET_BLOCK`."""
    key = os.environ.get("SENDGRID_API_KEY")
    if key:
        return key
    from prefect.blocks.system import Secret

    block = settings().sendgrid_secret_block
    try:
        return Secret.load(block).get()
    except ValueError:
        raise InputError("SENDGRID_API_KEY", f"not set, and no Prefect Secret block {block!r}") from None


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
        # accepted (202): never retried from here on, even without an id, or it would be sent twice
        return Delivery(self.name, _header(response.headers, "X-Message-Id") or "unknown")


def configured_backend() -> Backend:
    """The backend named by `EHC_MAIL_BACKEND` (default `file`, into `EHC_MAIL_FOLDER`)."""
    config = settings()
    if config.mail_backend == "file":
        return FileBackend(Path(config.mail_folder), config.mail_from)
    if config.mail_backend == "sendgrid":
        return SendGridBackend(sendgrid_api_key(), config.mail_from, config.council_name, config.sendgrid_host)
    raise InputError("EHC_MAIL_BACKEND", f"must be file or sendgrid, not {config.mail_backend!r}")
