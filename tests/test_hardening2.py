"""Issue 11 (hardening), part 2: each defect a test that fails on the code before it.

Defect 5: a review or plan command records its act, then meets a Prefect API that is not set or does not
answer: one warning line, exit 0, the act stands. Defect 7: the smaller refusals (one line, exit 2, nothing
written). Free text is checked at entry by `models.text.clean`."""

from __future__ import annotations

import prefect.settings as ps
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli.main import app
from models import db
from models.casework import get_case
from models.db import session
from tests.test_review_cycles import plan_in_force

API = {"unset": "", "down": "http://127.0.0.1:9/api"}
NAME = "Robin Fennimore"


def ehc(monkeypatch, today: str, *args: str):
    monkeypatch.setenv("EHC_TODAY", today)
    return CliRunner().invoke(app, list(args))


def counts(url: str) -> dict[str, int]:
    """Rows in every table of the store."""
    engine = db.engine(url)
    with engine.connect() as conn:
        tables = [t for t in sa.inspect(conn).get_table_names() if t != "alembic_version"]
        return {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}


def refused(result, field: str) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}: "), result.stderr
    return lines[0]


def warned_once(result) -> None:
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: the Prefect run of EHC-"), result.stderr


# --- defect 5: a command that has recorded its act never crashes on Prefect ---------------------------------


REVIEW_CHAIN = (  # (today, the command after `ehc`) for one plan's review cycle, {ref} its reference
    ("2024-09-02", "review open {ref}"),
    ("2024-09-02", "review schedule {ref} --on 2025-01-20"),
    ("2025-01-06", "review invitations {ref} --on 2025-01-06"),
    ("2025-01-06", "review circulated {ref} --on 2025-01-06"),
    ("2025-01-20", "review meeting {ref} --on 2025-01-20"),
    ("2025-01-27", "review report {ref} --on 2025-01-27"),
    ("2025-02-10", "review decide {ref} --decision amend --on 2025-02-10"),
    ("2025-03-10", "review amend {ref} --on 2025-03-10"),
)
CEASE_CHAIN = (("2024-11-20", "plan cease {ref} --on 2024-11-20 --reason needs-met"),
               ("2025-01-21", "plan ceased {ref} --on 2025-01-21"))
TRANSFER_CHAIN = (("2024-11-01", "plan transfer-out {ref} --aware-on 2024-11-01 --move-on 2024-12-01 "
                                 "--to-council Northshire --to-email sen@northshire.example.org"),
                  ("2024-11-15", "plan transferred {ref} --on 2024-11-15"))


@pytest.mark.parametrize("api", sorted(API))
@pytest.mark.parametrize("chain", [REVIEW_CHAIN, CEASE_CHAIN, TRANSFER_CHAIN], ids=["review", "cease", "transfer"])
def test_review_and_plan_acts_stand_and_warn_once_when_prefect_is_not_reached(store_url, monkeypatch, api, chain):
    ref = plan_in_force("2018-05-01", "2024-02-29", name=NAME)
    with ps.temporary_settings(updates={ps.PREFECT_API_URL: API[api]}):
        for today, command in chain:
            before = counts(store_url)
            result = ehc(monkeypatch, today, *command.format(ref=ref).split())
            if "transfer-out" in command:  # it wakes nothing: the review carries on until the plan is sent
                assert result.exit_code == 0 and not result.stderr.strip(), result.output
            else:
                warned_once(result)
            assert counts(store_url)["audit_event"] > before["audit_event"]  # the act stands
    with session() as s:
        assert get_case(s, ref).status in {"plan_in_force", "closed"}
