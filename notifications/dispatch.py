"""The dispatcher: claims pending outbox rows, sends each through a backend, records what the provider said.

Claiming is one atomic statement: `WITH picked AS (SELECT … FOR UPDATE SKIP LOCKED) UPDATE … RETURNING` on
PostgreSQL (two dispatchers take disjoint rows without waiting on each other); on SQLite the same `UPDATE`
runs under the database's single write lock. A claim is a lease: the row becomes `sending` with
`next_attempt_at` = now + `LEASE`; a dispatcher killed before it writes the result leaves the row to be
claimed again once the lease runs out. Each result is committed on its own, so a kill costs at most the one
message in flight: if the provider had already accepted it, it is sent again (at least once, never lost;
see README, "The 202-then-crash window"). Results are fenced by the attempt number, so a dispatcher whose
lease ran out cannot overwrite the row's newer state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from models.db import session
from models.errors import InputError
from models.outbox import OutboxMessage
from models.vocabulary import Channel
from notifications.backends import Backend, Delivery, Rejected, RetryLater

LEASE = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 8
GIVE_UP_AFTER = dt.timedelta(days=3)  # past the message's day: a provider down for a day loses nothing
FIRST_BACKOFF = dt.timedelta(minutes=1)
MAX_BACKOFF = dt.timedelta(hours=1)
OUTBOX = OutboxMessage.__table__
Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4 … minutes after the n-th failed attempt, at most an hour."""
    return min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


@dataclass
class DispatchReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    halted: str | None = None  # why the run stopped early (rate limit, bad key)
    resume_at: dt.datetime | None = None


def _due(now: dt.datetime):
    c = OUTBOX.c
    waiting = sa.or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now)
    lease_over = sa.and_(c.status == "sending", c.next_attempt_at <= now)
    emails = c.channel == Channel.EMAIL  # a letter stays pending until it is printed (no backend posts yet)
    return sa.and_(emails, sa.or_(sa.and_(c.status == "pending", waiting), lease_over))


def claim(s: Session, now: dt.datetime, limit: int) -> list[tuple[int, int]]:
    """Take up to `limit` due rows (pending, or `sending` whose lease ran out): (id, attempt number)."""
    c = OUTBOX.c
    # a CTE, not `IN (subquery)`: PostgreSQL may re-run an IN subquery and so take more than `limit` rows
    picked = sa.select(c.id).where(_due(now)).order_by(c.id).limit(limit).with_for_update(skip_locked=True).cte()
    taken = s.execute(
        sa.update(OUTBOX)
        .where(c.id == picked.c.id, _due(now))
        .values(status="sending", attempts=c.attempts + 1, next_attempt_at=now + LEASE)
        .returning(c.id, c.attempts)
    )
    return sorted((row.id, row.attempts) for row in taken)


def _settle(s: Session, message_id: int, attempt: int, **values) -> bool:
    c = OUTBOX.c
    done = s.execute(sa.update(OUTBOX).where(c.id == message_id, c.attempts == attempt, c.status == "sending")
                     .values(**values))
    return done.rowcount == 1


def _release(s: Session, claimed: list[tuple[int, int]], at: dt.datetime | None) -> None:
    """Give back rows claimed but not tried: pending again, the attempt not counted."""
    for message_id, attempt in claimed:
        _settle(s, message_id, attempt, status="pending", attempts=attempt - 1, next_attempt_at=at)


def _send_one(backend: Backend, message: OutboxMessage) -> Delivery:
    """The backend's answer for one message. Anything a backend raises other than `RetryLater` and `Rejected` is
    that message's failure alone, never the batch's: its reason is the exception's type, since its text may
    hold the address or the body."""
    try:
        return backend.send(message)
    except (RetryLater, Rejected):
        raise
    except Exception as exc:
        raise Rejected(f"{backend.name}: unexpected {type(exc).__name__}") from None


def dispatch(backend: Backend, *, now: Clock = utcnow, url: str | None = None, batch: int = 50) -> DispatchReport:
    """Send every due message; returns what happened. A rate limit or a refused key stops the run."""
    report = DispatchReport()
    while True:
        with session(url) as s:
            claimed = claim(s, now(), batch)
        if not claimed:
            return report
        for index, (message_id, attempt) in enumerate(claimed):
            with session(url) as s:
                message = s.get(OutboxMessage, message_id)
            try:
                delivery = _send_one(backend, message)
            except RetryLater as retry:
                with session(url) as s:
                    if retry.halt:
                        at = retry.at or now() + backoff(attempt)
                        _settle(s, message_id, attempt, status="pending", attempts=attempt - 1, next_attempt_at=at,
                                last_error=retry.reason)
                        _release(s, claimed[index + 1:], at)
                        report.halted, report.resume_at = retry.reason, at
                    elif attempt >= MAX_ATTEMPTS and now().date() > message.on + GIVE_UP_AFTER:
                        _settle(s, message_id, attempt, status="failed", next_attempt_at=None,
                                last_error=f"gave up after {attempt} attempts: {retry.reason}")
                        report.failed += 1
                    else:
                        at = max(retry.at or now(), now() + backoff(attempt))
                        _settle(s, message_id, attempt, status="pending", next_attempt_at=at, last_error=retry.reason)
                        report.retrying += 1
                if retry.halt:
                    return report
            except Rejected as rejected:
                with session(url) as s:
                    _settle(s, message_id, attempt, status="failed", next_attempt_at=None, last_error=rejected.reason)
                report.failed += 1
            else:
                with session(url) as s:
                    _settle(s, message_id, attempt, status="sent", provider=delivery.provider,
                            provider_message_id=delivery.message_id, sent_at=now(), next_attempt_at=None,
                            last_error=None)
                report.sent += 1


def retry_failed(s: Session, message_ids: list[int] | None = None) -> int:
    """Put failed messages back in the queue (after the cause is fixed): returns how many. An id that names no
    message, or one that has not failed, is an InputError: nothing is queued."""
    c = OUTBOX.c
    query = sa.update(OUTBOX).where(c.status == "failed")
    if message_ids:
        status = dict(s.execute(sa.select(c.id, c.status).where(c.id.in_(message_ids))).all())
        for message_id in message_ids:
            if message_id not in status:
                raise InputError("ID", f"no message {message_id}")
            if status[message_id] != "failed":
                raise InputError("ID", f"message {message_id} is {status[message_id]}, not failed")
        query = query.where(c.id.in_(message_ids))
    return s.execute(query.values(status="pending", attempts=0, next_attempt_at=None)).rowcount
