"""The dispatcher: the file backend, two dispatchers at once, and a dispatcher killed (SIGKILL) mid-batch and
restarted: every message is sent once, bar the one documented window (killed between the provider's
acceptance and our write: that message is sent again, never lost)."""

from __future__ import annotations

import datetime as dt
import email
import os
import subprocess
import sys
import threading
from collections import Counter
from email import policy
from pathlib import Path

import pytest
from sqlmodel import select

from models import casework
from models.db import session
from models.outbox import OutboxMessage
from notifications import dispatch as dispatcher
from notifications.backends import FileBackend
from notifications.outbox import enqueue
from tests.conftest import REPO

N = 12


def enqueue_messages(n: int = N) -> list[str]:
    with session() as s:
        case = casework.open_case(s, child_name="Sam Example", dob=dt.date(2015, 3, 2),
                                  requested_on=dt.date(2025, 1, 6), requester="parent", today=dt.date(2025, 1, 6),
                                  actor="t")
        step = casework.case_steps(s, case)[0]
        keys = [f"reminder:step:{step.id}:n{i:02d}" for i in range(n)]
        for i, key in enumerate(keys):
            enqueue(s, idempotency_key=key, kind="reminder", recipient_role="sen_caseworker",
                    recipient_email=f"worker{i}@example.org", on=dt.date(2025, 2, 7),
                    context={"council": "Demo Borough Council", "action": "decision whether to assess",
                             "regulation": "reg 5(1)", "due": "Monday 17 February 2025", "days_left": 10,
                             "tier": 10, "child_name": None, "child_dob": None}, case=case, step=step)
    return keys


def delivered(folder: Path) -> Counter:
    """How many times each outbox key reached the 'provider' (one .eml file per delivery)."""
    return Counter(email.message_from_bytes(p.read_bytes(), policy=policy.default)["X-EHC-Outbox-Key"]
                   for p in folder.glob("*.eml"))


def statuses() -> Counter:
    with session() as s:
        return Counter(m.status for m in s.exec(select(OutboxMessage)))


def test_the_file_backend_writes_a_readable_email_and_the_id_is_recorded(store_url, tmp_path):
    (key,) = enqueue_messages(1)
    report = dispatcher.dispatch(FileBackend(tmp_path, "sen.team@example.org"))
    assert report.sent == 1
    (path,) = tmp_path.glob("*.eml")
    mail = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert mail["To"] == "worker0@example.org" and mail["X-EHC-Outbox-Key"] == key
    assert mail["Subject"].startswith("EHC-2025-00001: reminder")
    assert mail.get_body(("plain",)).get_content().startswith("Demo Borough Council: a reminder")
    assert "<strong>EHC-2025-00001</strong>" in mail.get_body(("html",)).get_content()
    with session() as s:
        (row,) = s.exec(select(OutboxMessage)).all()
    assert (row.status, row.provider, row.attempts) == ("sent", "file", 1)
    assert row.provider_message_id in path.name


def test_two_dispatchers_at_once_send_each_message_once(store_url, tmp_path):
    keys = enqueue_messages(40)
    backend = FileBackend(tmp_path, "sen.team@example.org")
    barrier, reports = threading.Barrier(2), []

    def run():
        barrier.wait()
        reports.append(dispatcher.dispatch(backend, batch=3))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert delivered(tmp_path) == Counter({k: 1 for k in keys})
    assert sum(r.sent for r in reports) == 40 and statuses() == Counter(sent=40)


def test_a_late_dispatcher_cannot_overwrite_a_newer_claim(store_url):
    enqueue_messages(1)
    now = dt.datetime(2025, 2, 7, 7, tzinfo=dt.UTC)
    with session() as s:
        ((message_id, first),) = dispatcher.claim(s, now, 10)
    with session() as s:
        assert dispatcher.claim(s, now + dt.timedelta(minutes=5), 10) == []  # leased: nobody else takes it
    with session() as s:
        ((_, second),) = dispatcher.claim(s, now + dispatcher.LEASE, 10)  # the lease ran out
    with session() as s:
        assert not dispatcher._settle(s, message_id, first, status="sent")
        assert dispatcher._settle(s, message_id, second, status="sent")
    assert second == first + 1


KILLER = """
import os, signal, sys
from pathlib import Path
from notifications.backends import FileBackend
from notifications.dispatch import dispatch

class KilledMidBatch(FileBackend):
    '''Delivers normally, then SIGKILLs its own process at message number KILL_AT, before or after delivering.'''
    count = 0
    def send(self, message):
        KilledMidBatch.count += 1
        if KilledMidBatch.count == int(sys.argv[2]) and sys.argv[3] == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        delivery = super().send(message)
        if KilledMidBatch.count == int(sys.argv[2]) and sys.argv[3] == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return delivery

dispatch(KilledMidBatch(Path(sys.argv[1]), "sen.team@example.org"), batch=5)
"""


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_dispatcher_killed_mid_batch_and_restarted_sends_each_message_once(store_url, tmp_path, when):
    keys = enqueue_messages()
    folder = tmp_path / "mail"
    killed = subprocess.run([sys.executable, "-c", KILLER, str(folder), "7", when], cwd=REPO, env=os.environ.copy(),
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    assert sum(delivered(folder).values()) == (6 if when == "before" else 7)
    assert statuses() == Counter(sent=6, sending=4, pending=2)  # message 7 and the rest of its batch of 5: leased

    # Restarted at once: the dead dispatcher's lease still holds, so only the untouched rows go out.
    backend = FileBackend(folder, "sen.team@example.org")
    assert dispatcher.dispatch(backend).sent == 2
    # After the lease: the rows it had claimed but not finished are sent.
    later = dt.datetime.now(dt.UTC) + dispatcher.LEASE + dt.timedelta(seconds=1)
    assert dispatcher.dispatch(backend, now=lambda: later).sent == 4
    assert statuses() == Counter(sent=N)
    counts = delivered(folder)
    seventh = keys[6]
    if when == "before":
        assert counts == Counter({k: 1 for k in keys})
    else:  # the documented window: accepted by the provider, killed before our write: sent again
        assert counts == Counter({k: 2 if k == seventh else 1 for k in keys})
