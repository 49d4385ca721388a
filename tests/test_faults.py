"""Faults survived, each ending with every message written once, none lost, and every case moving: PostgreSQL
gone in the middle of a watch; a case's run crashed; the mail provider failing for a day, then back. (The
Prefect API unreachable while acts are recorded: tests/test_nothing_stalls.py; the Prefect server and the
runner restarted: tests/test_needs_assessment_restart.py.)"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import sqlalchemy as sa
from prefect import get_client
from prefect.states import Crashed
from sqlmodel import select

import models.deadline_watch
from deployments.needs_assessment import serving, settle_cases
from deployments.server import prefect_server
from flows.reconcile import reconcile_all
from models import casework
from models.db import session
from models.outbox import OutboxMessage
from notifications import dispatch as dispatcher
from notifications.backends import FileBackend, RetryLater
from tasks.waiting import case_run, start
from tasks.watch import run_watch
from tests.test_watch import expected_keys

D = dt.date.fromisoformat


def open_cases(n: int) -> list[str]:
    refs = []
    with session() as s:
        for i in range(n):  # requests a few days apart: reminders, due today and overdue all fall on one day
            requested = D("2025-01-06") + dt.timedelta(days=3 * i)
            refs.append(casework.open_case(s, child_name=f"Fault Child {i}", dob=D("2015-01-01"),
                                           requested_on=requested, requester="parent", today=requested,
                                           actor="t").reference)
    return refs


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_postgresql_gone_in_the_middle_of_a_watch_loses_nothing_and_writes_nothing_twice(store_url, monkeypatch):
    open_cases(12)
    on = D("2025-02-17")
    chase = models.deadline_watch.chase

    def connection_lost(s, *args):
        notices = chase(s, *args)
        pid = s.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with sa.create_engine(store_url).connect() as admin:  # as a restart does to every session
            admin.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
        return notices

    monkeypatch.setattr(models.deadline_watch, "chase", connection_lost)
    with pytest.raises(sa.exc.OperationalError):
        run_watch(on)
    with session() as s:
        assert s.exec(select(OutboxMessage)).all() == []  # the day's work was one transaction: none of it stands
    monkeypatch.setattr(models.deadline_watch, "chase", chase)
    report = run_watch(on)  # the watch again, once the database is back
    with session() as s:
        keys = [m.idempotency_key for m in s.exec(select(OutboxMessage))]
    assert report.chases > 0 and sorted(keys) == sorted(expected_keys(on)) and len(keys) == len(set(keys))


def test_a_crashed_run_is_retried_by_the_next_reconcile_and_the_case_moves_on(store_url, monkeypatch, tmp_path):
    monkeypatch.setenv("EHC_TODAY", "2026-01-06")
    [ref] = open_cases(1)
    with prefect_server(f"sqlite+aiosqlite:///{tmp_path / 'prefect.db'}", tmp_path / "server.log"), serving():
        start(ref)
        settle_cases([ref])
        run = case_run(ref)
        with get_client(sync_client=True) as client:  # its worker died with it: the server marks it Crashed
            client.set_flow_run_state(run.id, Crashed(message="worker killed"), force=True)
        assert case_run(ref).state.is_crashed()
        assert reconcile_all(D("2026-01-06"))["runs"] == {"retried": 1}
        settle_cases([ref])
        assert case_run(ref).state.is_paused()
        assert reconcile_all(D("2026-01-06"))["runs"] == {"waiting": 1}  # in line: nothing more to do


class DownForADay:
    """A provider that refuses every message (5xx) until `back`, then delivers through the file backend."""

    def __init__(self, folder, now, back: dt.datetime) -> None:
        self.files, self.now, self.back, self.name = FileBackend(folder, "sen.team@example.org"), now, back, "flaky"

    def send(self, message):
        if self.now() < self.back:
            raise RetryLater("500: provider down")
        return self.files.send(message)


def test_the_mail_provider_failing_for_a_day_then_back_sends_every_message_once(store_url, tmp_path):
    open_cases(6)
    run_watch(D("2025-02-17"))
    with session() as s:
        written = {m.idempotency_key for m in s.exec(select(OutboxMessage))}
    assert written
    clock = [dt.datetime(2025, 2, 17, 7, tzinfo=dt.UTC)]
    backend = DownForADay(tmp_path, lambda: clock[0], back=clock[0] + dt.timedelta(days=1))
    for _ in range(48):  # the dispatcher every half hour for a day: every message waits, none is given up
        dispatcher.dispatch(backend, now=lambda: clock[0])
        clock[0] += dt.timedelta(minutes=30)
    with session() as s:
        assert Counter(m.status for m in s.exec(select(OutboxMessage))) == {"pending": len(written)}
    clock[0] += dt.timedelta(hours=2)  # back, and past every back-off
    dispatcher.dispatch(backend, now=lambda: clock[0])
    with session() as s:
        rows = s.exec(select(OutboxMessage)).all()
    delivered = Counter(p.name.split("-")[0] for p in tmp_path.glob("*.eml"))
    assert {m.status for m in rows} == {"sent"} and len(delivered) == len(written) == len(rows)
    assert set(delivered.values()) == {1}
