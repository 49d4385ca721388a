"""The caseworker's and the DCO's morning in a real browser: Debian's Chromium, driven by Playwright, against a
real Prefect server with its UI (`prefect server start`, as `ehc serve` runs it) and a runner serving the case,
review and queue flows. The caseworker finds a case's run by its reference, opens the form of the step it waits
on, is refused an empty decision, submits it and sees the run move on and the store change; the DCO acknowledges
an escalation on the `dco-queue` run's form; a review act is recorded from its run's form. On every page
visited, no child's name or date of birth appears.

Screenshots are the test's output: `<tmp>/screenshots/`, and `EHC_SCREENSHOTS=DIR` too (the README's come from
`EHC_SCREENSHOTS=docs/screenshots`). `.ci/run` installs Chromium (`apt-get install chromium`) when missing."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import socket
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright

from deployments import site
from deployments.needs_assessment import serving, settle_cases
from flows.annual_review import annual_review
from flows.escalation_queue import escalation_queue
from models import casework, review_cycle
from models.cases import Contact
from models.db import session
from models.escalation import escalate, queue_items
from models.review import get_review
from models.vocabulary import Queue
from tasks.escalation import queue_run, refresh_queue_run
from tasks.review import start_review
from tasks.waiting import case_run, paused_on, settle, start

D = dt.date.fromisoformat
CHROMIUM = "/usr/bin/chromium"
# Without these Chromium tries to reach Google's services, and on a machine without a network hangs on them.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
TODAY = "2026-02-17"
CHILDREN = {"Rhea Browser-Test": "2014-04-04", "Bram Browser-Test": "2013-03-03", "Cleo Browser-Test": "2018-05-01"}
CASEWORKER, DCO = "Ada Caseworker", "Dee Clinical"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _open(name: str, requested: str) -> casework.Case:
    with session() as s:
        return casework.open_case(s, child_name=name, dob=D(CHILDREN[name]), requested_on=D(requested),
                                  requester="parent", today=D(requested), actor="t")


@pytest.fixture
def site_with_cases(store_url, tmp_path, monkeypatch):
    """The store (three children: a new request, a case whose health advice is late on the DCO's queue, a plan
    due its review), a Prefect server with its UI, a runner, and each run suspended on its form."""
    monkeypatch.setenv("EHC_TODAY", TODAY)
    with session() as s:
        s.add(Contact(role="sen_caseworker", organisation="SEN team", name=CASEWORKER,
                      email="ada.caseworker@council.example.org"))
        s.add(Contact(role="dco", organisation="North ICB", name=DCO, email="dee.dco@icb.example.org"))
    request = _open("Rhea Browser-Test", "2026-01-05").reference
    late = _open("Bram Browser-Test", "2025-11-03")
    with session() as s:
        step = casework.add_step(s, late, key="advice:health", kind="advice", rule_id="advice.provide", role="dco",
                                 source="health", start=D("2025-12-01"))
        s.flush()
        escalate(s, queue=Queue.DCO, case_id=late.id, step_id=step.id, tier=2, on=D("2026-01-13"))
    plan = _open("Cleo Browser-Test", "2024-10-01")
    with session() as s:
        case = casework.get_case(s, plan.reference)
        review_cycle.put_plan_in_force(s, case, D("2025-03-10"), "t")
        cycle = review_cycle.open_review(s, case, D(TODAY), "t").cycle
    port = int(os.environ.get("EHC_BROWSER_TEST_PORT") or _free_port())
    with site.prefect_server(tmp_path / "site", "127.0.0.1", port) as api:
        monkeypatch.setenv("PREFECT_API_URL", api)  # this process's client, and the runner's flow processes
        import prefect.settings as ps

        with ps.temporary_settings(updates={ps.PREFECT_API_URL: api}), \
                serving(alongside=(annual_review, escalation_queue)):
            start(request)
            start_review(plan.reference, cycle)
            assert refresh_queue_run(Queue.DCO) == "started"
            settle_cases([request])
            settle(queue_run(Queue.DCO).id)
            with session() as s:
                settle(get_review(s, casework.get_case(s, plan.reference), cycle).flow_run_id)
            yield {"ui": api.removesuffix("/api"), "request": request, "late": late.reference,
                   "plan": plan.reference, "cycle": cycle}


class Browser:
    """One Chromium page; every page it shows is checked for the children's names and dates of birth, and
    each screenshot saved under the test's folder (and EHC_SCREENSHOTS)."""

    def __init__(self, page: Page, ui: str, shots: Path):
        self.page, self.ui, self.shots = page, ui, shots
        self.extra = Path(os.environ["EHC_SCREENSHOTS"]) if os.environ.get("EHC_SCREENSHOTS") else None
        self.visited: list[str] = []

    def no_personal_data(self) -> None:
        text = self.page.inner_text("body")
        self.visited.append(self.page.url)
        for name, dob in CHILDREN.items():
            uk = D(dob).strftime("%d/%m/%Y")
            for shown in (*name.split(), dob, uk):
                assert shown not in text, f"{shown!r} on {self.page.url}"

    def shot(self, name: str) -> None:
        self.no_personal_data()
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=path)
        if self.extra:
            self.extra.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, self.extra / path.name)

    def find_run(self, name: str) -> None:
        """The runs list, searched by the run's name (a case reference, `dco-queue`), and the run opened."""
        self.page.goto(f"{self.ui}/runs")
        self.page.get_by_role("searchbox", name="Search by flow run name").fill(name)
        self.page.get_by_role("link").filter(has_text=re.compile(f"^{re.escape(name)}$")).first.click()
        expect(self.page.get_by_role("button", name="Resume")).to_be_visible()
        self.no_personal_data()

    def open_form(self) -> Locator:
        self.page.get_by_role("button", name="Resume").click()
        dialog = self.page.get_by_role("dialog")
        expect(dialog.get_by_role("button", name="Submit")).to_be_visible()
        self.no_personal_data()
        return dialog

    @staticmethod
    def field(dialog: Locator, label: str) -> Locator:
        return dialog.locator(".schema-form-property").filter(
            has=dialog.page.locator(".schema-form-property__label", has_text=re.compile(f"^{re.escape(label)}")))

    def choose(self, dialog: Locator, label: str, option: str) -> None:
        """Pick an option of a select, and see it shown: on a loaded machine the list may open after the click
        meant for it (seen in CI: the choice lost, the form refused again), so it is opened again until it is."""
        control = self.field(dialog, label).locator(".p-select-button__control").first
        for _ in range(3):
            control.press("ArrowDown")  # opens its list
            self.page.locator("[role=option]").filter(has_text=re.compile(f"^{re.escape(option)}$")).first.click()
            try:
                expect(control).to_contain_text(option, timeout=5_000)
                return
            except AssertionError:
                continue
        expect(control).to_contain_text(option)

    def type_in(self, dialog: Locator, label: str, text: str, optional: bool = False) -> None:
        """A text field; an optional one (`str | None`) is switched to text first."""
        field = self.field(dialog, label)
        if optional:
            field.get_by_role("button", name="str", exact=True).click()
        field.locator("input[type=text], textarea").first.fill(text)

    def date(self, dialog: Locator, label: str, day: str) -> None:
        self.field(dialog, label).get_by_text("Select date").click()
        self.page.locator("input[type=date]").fill(day)
        self.page.get_by_role("button", name="Apply").click()


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_caseworkers_and_the_dcos_morning_in_the_prefect_ui(site_with_cases, tmp_path):
    cases = site_with_cases
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(tmp_path / "chromium-profile"), executable_path=CHROMIUM,
                                                       headless=True, args=ARGS,
                                                       viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(60_000)  # a loaded CI machine: wait on states, generously, never sleep
        expect.set_options(timeout=60_000)
        try:
            browser = Browser(context.new_page(), cases["ui"], shots)
            _caseworker(browser, cases)
            _dco(browser, cases)
            _review(browser, cases)
        except Exception:
            browser.page.screenshot(path=shots / "failure.png")  # what the browser showed when it failed
            raise
        finally:
            context.close()
    assert len(browser.visited) >= 10
    assert {p.name for p in shots.iterdir()} >= {"caseworker-morning.png", "refused-empty-decision.png",
                                                 "run-moved-on.png", "dco-morning.png", "escalation-acknowledged.png",
                                                 "review-form.png", "review-act-recorded.png"}


def _caseworker(browser: Browser, cases: dict) -> None:
    """Find the case by its reference, refuse an empty decision, decide, see the run move on."""
    ref = cases["request"]
    paused = case_run(ref)
    browser.find_run(ref)
    form = browser.open_form()
    expect(form.get_by_text(f"{ref}: decide whether to assess")).to_be_visible()
    expect(form.get_by_text(re.compile(r"^Reference"))).to_have_count(0)  # the case is the run's, not the form's
    browser.type_in(form, "Recorded By", CASEWORKER, optional=True)
    browser.date(form, "On", "2026-02-16")
    browser.shot("caseworker-morning")
    form.get_by_role("button", name="Submit").click()  # no choice made on "Assess"
    expect(form.get_by_text(re.compile("required", re.I)).first).to_be_visible()
    browser.shot("refused-empty-decision")
    assert case_run(ref).state.id == paused.state.id  # still waiting: nothing recorded
    with session() as s:
        assert casework.find_step(s, casework.get_case(s, ref), "assess.decision").status == "open"

    browser.choose(form, "Assess", "yes")
    form.get_by_role("button", name="Submit").click()
    expect(form).to_be_hidden()
    moved = settle(paused.id, after=paused.state.id)
    assert paused_on(moved) == "advice-received"
    with session() as s:
        case = casework.get_case(s, ref)
        assert casework.find_step(s, case, "assess.decision").status == "done"
        [decided] = [e for e in casework.audit_log(s, case) if e.action == "assess.decision done"]
    assert decided.actor == f"{CASEWORKER} (Prefect form)"
    browser.page.reload()
    expect(browser.page.get_by_text("stage:advice").first).to_be_visible()
    browser.shot("run-moved-on")


def _dco(browser: Browser, cases: dict) -> None:
    """The DCO's queue run lists the late health advice by reference, tier and age; she acknowledges it."""
    paused = queue_run(Queue.DCO)
    browser.find_run("dco-queue")
    form = browser.open_form()
    item = f"{cases['late']} · advice:health · tier 2 · 35 days on the queue"
    expect(form.get_by_text(item)).to_be_visible()
    browser.choose(form, item, "acknowledge")
    browser.type_in(form, "Recorded By", DCO)
    browser.shot("dco-morning")
    form.get_by_role("button", name="Submit").click()
    expect(form).to_be_hidden()
    again = settle(paused.id, after=paused.state.id)
    assert again.state.is_paused()  # waiting for the next answer, with the refreshed list
    with session() as s:
        [acknowledged] = queue_items(s, Queue.DCO)
    assert acknowledged.acknowledged_by == f"{DCO} (Prefect form)" and acknowledged.resolved_by is None
    [latest] = httpx.post(f"{browser.ui}/api/artifacts/filter", timeout=10, json={  # the queue's table, refreshed
        "artifacts": {"key": {"any_": ["queue-dco"]}}, "sort": "CREATED_DESC", "limit": 1}).json()
    browser.page.goto(f"{browser.ui}/artifacts/artifact/{latest['id']}")
    expect(browser.page.get_by_text(f"{DCO} (Prefect form)").first).to_be_visible()
    expect(browser.page.get_by_text("age (days)").first).to_be_visible()
    browser.shot("escalation-acknowledged")


def _review(browser: Browser, cases: dict) -> None:
    """The review's run waits for the meeting date: the caseworker fixes it on the run's form."""
    ref, cycle = cases["plan"], cases["cycle"]
    with session() as s:
        run_id = get_review(s, casework.get_case(s, ref), cycle).flow_run_id
    paused = settle(run_id)
    browser.find_run(f"{ref} review {cycle}")
    form = browser.open_form()
    browser.type_in(form, "Recorded By", CASEWORKER, optional=True)
    browser.date(form, "On", "2026-03-02")
    browser.shot("review-form")
    form.get_by_role("button", name="Submit").click()
    expect(form).to_be_hidden()
    moved = settle(run_id, after=paused.state.id)
    assert paused_on(moved) == "review-meeting-held"
    with session() as s:
        review = get_review(s, casework.get_case(s, ref), cycle)
    assert review.meeting_on == D("2026-03-02")
    browser.page.reload()
    expect(browser.page.get_by_role("button", name="Resume")).to_be_visible()
    browser.shot("review-act-recorded")
