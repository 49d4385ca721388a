"""The demo's scripted cases, plus a refusal to issue, driven once per test session through the served
needs-assessment flow (the `needs_assessment_demo` fixture in conftest): the flow tests assert on the cases,
the personal-data test reads back everything Prefect holds afterwards."""

from __future__ import annotations

import pytest

from cli.demo import cli_runner
from cli.main import app
from deployments.demo import Script, drive, load
from models import db

REFUSED_TO_ISSUE = Script("refused_to_issue", "refused to issue", "Elif Marsh-Test", "2014-02-11", "2026-01-05", {
    "2026-02-09": [["case", "decide", "{ref}", "--assess", "yes", "--on", "2026-02-09"]],
    "2026-03-16": [["advice", "received", "{ref}", "--source", src, "--on", "2026-03-16"]
                   for src in ("parent", "education", "health", "social_care", "ep")],
    "2026-03-30": [["meeting", "held", "{ref}", "--on", "2026-03-30", "--attended", "parent", "--no-child-views"]],
    "2026-04-06": [["plan", "decide", "{ref}", "--issue", "no", "--on", "2026-04-06"]],
}, parent={"name": "Mert Marsh-Test", "email": "mert.marsh@family.example.org"})
DEMO_SCRIPTS = load()  # name → script, as `ehc demo` drives them
SCRIPTS = (*DEMO_SCRIPTS.values(), REFUSED_TO_ISSUE)


def drive_pathway(tmp_path_factory):
    """Yield the store URL and story → reference, the cases driven to their ends."""
    from deployments.needs_assessment import serving

    url = f"sqlite:///{tmp_path_factory.mktemp('pathway') / 'ehc.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EHC_DATABASE_URL", url)
        db.upgrade(url)
        with serving():
            refs = drive(SCRIPTS, cli_runner(app))
        mp.delenv("EHC_TODAY", raising=False)
    yield url, refs
    db.dispose_engine(url)
