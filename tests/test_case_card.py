"""The case card and the run's tags, from the store: what a caseworker sees of a case in the Prefect UI (its
statutory dates and their state, what is late, what the run waits for and how to move it), and never the
child's name or date of birth."""

from __future__ import annotations

import datetime as dt

from models import caseload, casework
from models.case_card import Awaited, card_key, changed_since_cards, read_card, record_cards_shown, render, run_tags
from models.cases import Contact
from models.db import session

D = dt.date.fromisoformat
CHILD, DOB = "Juniper Quillfeather", "2015-03-02"
WORKER = "a.caseworker@council.example.org"


def late_case() -> str:
    """Requested 6 Jan 2025: the decision (due 17 Feb) made 20 Feb, 3 days late; health advice due 17 Feb still
    open; the EP's advice set aside by a missed appointment (reg 8(2))."""
    with session() as s:
        s.add(Contact(role="sen_caseworker", organisation="SEN team", email=WORKER, name="Ann Caseworker"))
        case = casework.open_case(s, child_name=CHILD, dob=D(DOB), requested_on=D("2025-01-06"), requester="parent",
                                  today=D("2025-01-06"), actor="t")
        caseload.assign(s, case, WORKER, "t")
        for source, role in (("health", "dco"), ("ep", "educational_psychologist")):
            casework.add_step(s, case, key=f"advice:{source}", kind="advice", rule_id="advice.provide", role=role,
                              source=source, start=D("2025-01-06"))
        casework.add_exception(s, case, kind="missed_appointment", start=D("2025-01-20"), end=D("2025-01-20"),
                               actor="t", step_key="advice:ep")
        decision = casework.find_step(s, case, "assess.decision")
        casework.complete_step(s, decision, D("2025-02-20"), "t", case)
        return case.reference


def test_the_card_states_each_date_what_is_late_and_what_the_run_waits_for(store_url):
    ref = late_case()
    with session() as s:
        facts = read_card(s, casework.get_case(s, ref))
    waits = Awaited("advice-received", "advice received", "reg 8(1)", f"ehc advice received {ref} --source health")
    text = render(facts, D("2025-03-01"), waits)

    assert text.startswith(f"# {ref} · decision to assess\n")
    assert "**caseworker** Ann Caseworker (`caseworker:a-caseworker`)" in text
    rows = {line.split(" | ")[0].strip("| `"): line for line in text.splitlines() if line.startswith("| `")}
    assert rows["assess.decision"].endswith("| 2025-02-17 | done on 2025-02-20, 3 days late |")
    assert rows["advice:health"].endswith("| 2025-02-17 | **overdue 12 days** |")
    assert "set aside by a clock exception (missed_appointment 2025-01-20 to 2025-01-20)" in rows["advice:ep"]
    assert rows["plan.final"].endswith("| 2025-05-26 | due in 86 days |")
    late = text.split("## What is late\n\n")[1].split("\n\n")[0]
    assert late == "- `advice:health` (dco, advice.provide): due 2025-02-17, overdue 12 days"  # not the EP's
    assert "**advice received** (reg 8(1))" in text and "the form `advice-received` on this run" in text
    assert f"    ehc advice received {ref} --source health" in text
    assert "- missed_appointment: 2025-01-20 to 2025-01-20 (reg 8(2)" in text
    assert CHILD.split()[0] not in text and CHILD.split()[1] not in text and DOB not in text
    assert card_key(ref) == f"case-{ref.lower()}" and card_key(ref).replace("-", "").isalnum()

    assert run_tags(facts, D("2025-03-01")) == ["caseworker:a-caseworker", "overdue"]
    assert run_tags(facts, D("2025-02-17")) == ["caseworker:a-caseworker"]  # due today is not late yet
    assert "nothing on a form" in render(facts, D("2025-02-17"))


def test_the_watch_shows_again_only_the_cases_that_changed(store_url):
    """Cards and tags are refreshed for the cases with an act since they were last shown, and those with a step
    become late since that day; not for every case every day."""
    ref = late_case()
    with session() as s:
        case_id = casework.get_case(s, ref).id
        changed, watermark = changed_since_cards(s, D("2025-02-10"))
        assert changed == {case_id}  # acts recorded: never shown yet
        record_cards_shown(s, D("2025-02-10"), watermark)
    with session() as s:
        assert changed_since_cards(s, D("2025-02-17"))[0] == set()  # nothing done, nothing late yet
        assert changed_since_cards(s, D("2025-02-18"))[0] == {case_id}  # the health advice is late today
        record_cards_shown(s, D("2025-02-18"), changed_since_cards(s, D("2025-02-18"))[1])
    with session() as s:
        assert changed_since_cards(s, D("2025-02-19"))[0] == set()  # still late: its card says so already
        casework.complete_step(s, casework.find_step(s, casework.get_case(s, ref), "advice:health"), D("2025-02-19"),
                               "t", casework.get_case(s, ref))
    with session() as s:
        assert changed_since_cards(s, D("2025-02-20"))[0] == {case_id}  # done: the overdue tag goes


def test_a_caseworker_handle_is_the_name_part_of_their_address():
    assert caseload.staff_handle("A.Caseworker@Council.gov.uk") == "a-caseworker"
    assert caseload.staff_handle("j_smith+sen@council.gov.uk") == "j-smith-sen"
