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
from models.cases import Case, Child
from models.db import session
from models.errors import InputError
from tests.conftest import BACKENDS

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
