"""The quarterly indicators on a hand-built store whose every answer is worked out here, on both backends.

The quarter is Q3 2026 (1 July - 30 September, both days included); the previous quarter Q2 2026, last year's
Q3 2025. Rows are inserted directly (SQLModel), dates chosen so each case sits on one side of a boundary."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from prefect.artifacts import Artifact
from prefect.client.orchestration import get_client
from typer.testing import CliRunner

from cli.main import app
from deployments.quarterly_report import PARAMETERS, SCHEDULE, deployment
from flows.quarterly_report import FLOW_NAME, quarterly_report
from models import db, indicators, statutory
from models.cases import Case, Child, ClockException, Step
from models.complaints import Complaint
from models.disputes import Dispute
from models.escalation import Escalation
from models.indicators import REASONS, WITHDRAWN, Period
from models.review import Review
from tasks.report import ARTIFACT_KEY, CHARTS, CSV_FILE, JSON_FILE, charts, write_files

Q3 = Period(dt.date(2026, 7, 1), dt.date(2026, 9, 30))
D = dt.date


class Store:
    """Insert cases and steps with explicit dates."""

    def __init__(self, s):
        self.s, self.n = s, 0

    def case(self, requested_on: dt.date, **kw) -> Case:
        self.n += 1
        child = Child(name=f"Child {self.n}", date_of_birth=D(2012, 1, 1))
        self.s.add(child)
        self.s.flush()
        case = Case(reference=f"EHC-{requested_on.year}-{self.n:05d}", child_id=child.id, rule_set=statutory.RULE_SET,
                    requested_on=requested_on, requester="parent", **kw)
        self.s.add(case)
        self.s.flush()
        return case

    def step(self, case: Case, key: str, kind: str, due_on: dt.date, *, done: dt.date | None = None,
             started_on: dt.date | None = None, status: str | None = None, **kw) -> Step:
        step = Step(case_id=case.id, key=key, kind=kind, role=kw.pop("role", "la"), started_on=started_on
                    or case.requested_on, due_on=due_on, status=status or ("done" if done else "open"),
                    completed_on=done, **kw)
        self.s.add(step)
        self.s.flush()
        return step

    def plan(self, requested_on: dt.date, issued_on: dt.date, *, disapplied: bool = False,
             meeting: dt.date | None = None, draft: dt.date | None = None, child_views: bool = False,
             budget: bool = False) -> Case:
        """A needs assessment ending in a final plan; `plan.final` due at request + 20 weeks (reg 13(2))."""
        case = self.case(requested_on, status="plan_in_force", stage="plan_in_force", plan_issued_on=issued_on)
        due = statutory.deadline("plan.final", requested_on).due
        self.step(case, "plan.final", "final_plan", due, done=issued_on, disapplied=disapplied, rule_id="plan.final")
        if meeting:
            self.step(case, "coproduction.meeting", "coproduction_meeting", due, done=meeting,
                      details={"child_views_captured": child_views})
        if draft:
            self.step(case, "plan.draft", "draft_plan", due, done=draft,
                      details={"personal_budget_requested": budget})
        return case

    def old_plan(self, **kw) -> Case:
        return self.case(D(2024, 1, 8), **{"status": "plan_in_force", "stage": "plan_in_force",
                                           "plan_issued_on": D(2024, 5, 20), **kw})


def build(url: str) -> None:
    with db.session(url) as s:
        st = Store(s)
        # requests received in Q3: assessed, refused, withdrawn, two in progress (one decided only after 30 Sep)
        a = st.case(D(2026, 7, 6))
        st.step(a, "assess.decision", "decision_to_assess", D(2026, 8, 17), done=D(2026, 8, 10),
                details={"assess": True})
        b = st.case(D(2026, 7, 13), status="closed", closed_on=D(2026, 8, 20), closed_reason="not_to_assess")
        st.step(b, "assess.decision", "decision_to_assess", D(2026, 8, 24), done=D(2026, 8, 20),
                details={"assess": False})
        c = st.case(D(2026, 8, 3), status="closed", closed_on=D(2026, 8, 25), closed_reason=WITHDRAWN)
        st.step(c, "assess.decision", "decision_to_assess", D(2026, 9, 14), status="cancelled")
        d = st.case(D(2026, 9, 1))
        st.step(d, "assess.decision", "decision_to_assess", D(2026, 10, 13))
        e = st.case(D(2026, 9, 7))
        st.step(e, "assess.decision", "decision_to_assess", D(2026, 10, 19), done=D(2026, 10, 5),
                details={"assess": True})
        st.case(D(2026, 5, 5))  # Q2's one request
        st.case(D(2025, 8, 1))  # Q3 2025's one request

        # final plans issued in Q3 (requests of Q1 2026), P3 and P4 exception cases (the 20 weeks set aside)
        p1 = st.plan(D(2026, 3, 2), D(2026, 7, 15), meeting=D(2026, 6, 20), draft=D(2026, 6, 25), child_views=True,
                     budget=True)  # due 20 Jul: within; 135 days
        p2 = st.plan(D(2026, 2, 2), D(2026, 7, 27), meeting=D(2026, 7, 1), draft=D(2026, 6, 30))  # due 22 Jun; 175
        p3 = st.plan(D(2026, 1, 5), D(2026, 8, 3), disapplied=True, meeting=D(2026, 6, 1), draft=D(2026, 6, 8),
                     child_views=True, budget=True)  # due 25 May, late, exception; 210 days
        s.add(ClockException(case_id=p3.id, kind="absence", start_on=D(2026, 2, 1), end_on=D(2026, 3, 15),
                             recorded_by="t"))
        st.plan(D(2026, 3, 9), D(2026, 7, 24), disapplied=True)  # due 27 Jul: within, exception; 137 days; no meeting
        st.plan(D(2026, 3, 16), D(2026, 8, 3), meeting=D(2026, 7, 20), draft=D(2026, 7, 20))  # due 3 Aug: on the day
        st.plan(D(2026, 1, 12), D(2026, 5, 29))  # Q2's new plan: due 1 Jun, within
        st.case(D(2025, 6, 2), kind="transfer_in", status="plan_in_force", plan_issued_on=D(2026, 8, 1))  # not new
        st.step(p2, "plan.draft_representations", "draft_representations", D(2026, 7, 15), role="family")

        # advice given in Q3 on case A: asked 10 Aug, due 21 Sep (advice.provide)
        asked = D(2026, 8, 10)
        due = statutory.deadline("advice.provide", asked).due
        given = {source: st.step(a, f"advice:{source}", "advice", due, done=done, started_on=asked, source=source, **kw)
                 for source, done, kw in (("health", D(2026, 9, 18), {}), ("social_care", D(2026, 9, 25), {}),
                                          ("ep", due, {}), ("education", D(2026, 9, 30), {"disapplied": True}),
                                          ("parent", D(2026, 8, 20), {}), ("hi", D(2026, 9, 1), {}))}
        st.step(p1, "advice:health", "advice", D(2026, 4, 13), done=D(2026, 4, 10), started_on=D(2026, 3, 2),
                source="health")  # Q2

        # annual reviews due in Q3: on time, decided late, not held, cancelled; one due in Q4
        x1, x2, x3, x4, x5, x6 = (st.old_plan() for _ in range(6))
        st.step(x1, "review.annual:2", "annual_review", D(2026, 7, 31), done=D(2026, 7, 20), started_on=D(2025, 8, 1))
        st.step(x2, "review.annual:1", "annual_review", D(2026, 8, 15), done=D(2026, 8, 30), started_on=D(2025, 8, 16))
        st.step(x3, "review.annual:2", "annual_review", D(2026, 9, 10), started_on=D(2025, 9, 11))
        st.step(x4, "review.annual:2", "annual_review", D(2026, 9, 20), status="cancelled", started_on=D(2025, 9, 21))
        st.step(x5, "review.annual:2", "annual_review", D(2026, 10, 15), started_on=D(2025, 10, 16))
        outcomes = {"pfa_employment": "supported internship", "pfa_independent_living": "travel training",
                    "pfa_community": "youth club", "pfa_health": "adult services"}
        # Year 9 on: X1 with its four outcomes, X2 without the health outcome; both phase transfers (post-16 moves)
        first_move, late_move = D(2027, 2, 1), D(2027, 1, 1)
        s.add(Review(case_id=x1.id, cycle=2, anchor_on=D(2025, 8, 1), annual_due_on=D(2026, 7, 31),
                     meeting_latest_on=D(2026, 7, 3), meeting_by_on=D(2026, 7, 3), opened_on=D(2026, 4, 1),
                     meeting_on=D(2026, 7, 1), meeting_held=True, decided_on=D(2026, 7, 20), decision="maintain",
                     pfa_required=True, **outcomes, phase_transfer="post16_move", transfer_on=first_move,
                     transfer_due_on=statutory.deadline("review.post16_transfer", first_move).due))  # 1 Sep
        st.step(x1, "review:2:phase_transfer", "phase_transfer", D(2026, 9, 1), done=D(2026, 7, 20),
                started_on=D(2026, 4, 1))
        s.add(Review(case_id=x2.id, cycle=1, anchor_on=D(2025, 8, 16), annual_due_on=D(2026, 8, 15),
                     meeting_latest_on=D(2026, 7, 18), meeting_by_on=D(2026, 7, 18), opened_on=D(2026, 4, 1),
                     meeting_on=D(2026, 8, 1), meeting_held=True, decided_on=D(2026, 8, 30), decision="maintain",
                     pfa_required=True, **{**outcomes, "pfa_health": None}))
        # X6: a phase-transfer review held late (due 1 Aug, done 20 Aug), not PfA; its annual review is Q4's
        s.add(Review(case_id=x6.id, cycle=1, anchor_on=D(2025, 11, 1), annual_due_on=D(2026, 10, 31),
                     meeting_latest_on=D(2026, 10, 3), meeting_by_on=D(2026, 7, 1), opened_on=D(2026, 4, 1),
                     meeting_on=D(2026, 8, 10), meeting_held=True, phase_transfer="post16_move", transfer_on=late_move,
                     transfer_due_on=statutory.deadline("review.post16_transfer", late_move).due))  # 1 Aug
        st.step(x6, "review:1:phase_transfer", "phase_transfer", D(2026, 8, 1), done=D(2026, 8, 20),
                started_on=D(2026, 4, 1))
        # plans ending: ceased in Q3 (not in force at its end), ceasing in Q4 (in force at its end)
        st.old_plan(status="closed", closed_on=D(2026, 9, 15), closed_reason="plan ceased")
        st.old_plan(status="closed", closed_on=D(2026, 10, 10), closed_reason="plan ceased")

        # escalations: resolved in Q3; open at the end; opened in Q2 and resolved after; resolved at 00:30 BST on
        # 1 Oct (open at the end of 30 Sep in London); resolved at 23:30 BST on 30 Sep (not open at the end)
        def utc(*when):
            return dt.datetime(*when, tzinfo=dt.UTC)

        for queue, opened, resolved in (("dco", D(2026, 7, 10), utc(2026, 7, 20, 10)), ("dco", D(2026, 9, 1), None),
                                        ("sen_team_manager", D(2026, 6, 1), utc(2026, 10, 2, 9)),
                                        ("sen_team_manager", D(2026, 9, 20), utc(2026, 9, 30, 23, 30)),
                                        ("principal_ep", D(2026, 9, 25), utc(2026, 9, 30, 22, 30))):
            s.add(Escalation(queue=queue, case_id=a.id, step_id=given["health"].id, opened_on=opened,
                             resolved_at=resolved))
            s.flush()

        # complaints: two received in Q3, one answered by its target, one answered late; one received in Q2
        for n, received, respond_by, responded in ((1, D(2026, 7, 1), D(2026, 7, 29), D(2026, 7, 20)),
                                                   (2, D(2026, 9, 1), D(2026, 9, 29), D(2026, 10, 5)),
                                                   (3, D(2026, 6, 1), D(2026, 6, 29), D(2026, 6, 10))):
            s.add(Complaint(case_id=a.id, n=n, status="responded", received_on=received,
                            acknowledge_by=received, respond_by=respond_by, responded_on=responded))
        # council-health disputes: one escalated in Q3, one raised in Q3 and escalated after it
        for n, raised, escalated in ((1, D(2026, 7, 2), D(2026, 8, 3)), (2, D(2026, 9, 1), D(2026, 10, 1))):
            s.add(Dispute(case_id=a.id, n=n, party="health", subject="provision", status="escalated",
                          raised_on=raised, escalated_on=escalated))
        s.flush()


@pytest.fixture
def report(store_url):
    build(store_url)
    with db.session(store_url) as s:
        return indicators.report(s.connection(), Q3)


def value(report, key):
    return report["indicators"][key]["value"]


def test_requests_and_their_outcome_on_the_last_day(report):
    assert value(report, "requests") == 5
    assert value(report, "requests_by_outcome") == {"assessed": 1, "refused": 1, "withdrawn": 1, "in_progress": 2}
    assert report["indicators"]["requests"] == {"value": 5, "previous": 1, "last_year": 1}


def test_new_plans_within_20_weeks_with_and_without_exception_cases(report):
    got = {k: value(report, k) for k in ("new_plans", "new_plans_within_20_weeks", "pct_within_20_weeks",
                                         "new_plans_excluding_exceptions",
                                         "new_plans_within_20_weeks_excluding_exceptions",
                                         "pct_within_20_weeks_excluding_exceptions", "median_weeks_to_final_plan")}
    # P1 within, P2 late, P3 late (exception), P4 within (exception), P6 on its due date; the transfer-in is no new plan
    assert got == {"new_plans": 5, "new_plans_within_20_weeks": 3, "pct_within_20_weeks": 60.0,
                   "new_plans_excluding_exceptions": 3, "new_plans_within_20_weeks_excluding_exceptions": 2,
                   "pct_within_20_weeks_excluding_exceptions": 66.7,
                   "median_weeks_to_final_plan": 20.0}  # 19.3, 19.6, 20.0, 25.0, 30.0 weeks
    assert report["indicators"]["new_plans"] == {"value": 5, "previous": 1, "last_year": 0}
    assert report["indicators"]["pct_within_20_weeks"]["previous"] == 100.0
    assert report["indicators"]["pct_within_20_weeks"]["last_year"] is None  # nothing to divide by
    assert report["series"]["weeks_to_final_plan"] == {19: 2, 20: 1, 25: 1, 30: 1}


def test_coproduction_before_the_draft_and_the_childs_views(report):
    # P1 met before its draft, P2 after it, P3 before, P4 recorded no meeting, P6 met the day the draft went
    assert (value(report, "coproduction_before_issue"), value(report, "pct_coproduction_before_issue")) == (3, 60.0)
    assert (value(report, "child_views_recorded"), value(report, "pct_child_views_recorded")) == (2, 40.0)


def test_advice_on_time_by_agency_leaves_out_exceptions_and_the_familys_own(report):
    got = value(report, "advice_on_time_by_source")
    assert got["health"] == {"given": 1, "exceptions": 0, "on_time": 1, "late": 0, "pct_on_time": 100.0}
    assert got["social_care"] == {"given": 1, "exceptions": 0, "on_time": 0, "late": 1, "pct_on_time": 0.0}
    assert got["educational_psychology"]["on_time"] == 1  # on its statutory date
    assert got["education"] == {"given": 1, "exceptions": 1, "on_time": 0, "late": 0, "pct_on_time": None}
    assert got["others"] == {"given": 1, "exceptions": 0, "on_time": 1, "late": 0, "pct_on_time": 100.0}  # hi
    assert report["indicators"]["advice_on_time_by_source"]["previous"]["health"]["given"] == 1


def test_reviews_on_time_pfa_outcomes_and_transition_reviews(report):
    assert (value(report, "reviews_due"), value(report, "reviews_on_time"), value(report, "pct_reviews_on_time")) == (
        3, 1, 33.3)  # X1 on time, X2 decided after its date, X3 not held; X4 cancelled, X5 due in Q4
    assert (value(report, "pfa_reviews_due"), value(report, "pfa_reviews_with_outcomes")) == (2, 1)
    assert (value(report, "transition_reviews_due"), value(report, "transition_reviews_by_deadline")) == (2, 1)
    assert report["series"]["reviews_by_month"] == {
        "2026-07": {"reviews_due": 1, "reviews_on_time": 1, "pct_reviews_on_time": 100.0},
        "2026-08": {"reviews_due": 1, "reviews_on_time": 0, "pct_reviews_on_time": 0.0},
        "2026-09": {"reviews_due": 1, "reviews_on_time": 0, "pct_reviews_on_time": 0.0}}


def test_escalations_by_queue_open_at_the_end_of_the_london_day(report):
    assert value(report, "escalations_opened") == 4
    assert value(report, "escalations_open_at_end") == 3  # ages 29, 121, 10 days
    assert value(report, "escalations_median_age_days") == 29
    assert value(report, "escalations_by_queue") == {
        "dco": {"opened": 2, "open_at_end": 1, "median_age_days": 29},
        "principal_ep": {"opened": 1, "open_at_end": 0, "median_age_days": None},
        "sen_team_manager": {"opened": 1, "open_at_end": 2, "median_age_days": 65.5}}
    assert report["indicators"]["escalations_opened"]["previous"] == 1


def test_plans_in_force_and_personal_budgets(report):
    # 5 new in Q3 + Q2's + the transfer-in + 6 old plans + the plan ceasing in Q4; not the plan ceased in Q3
    assert value(report, "plans_in_force") == 14
    assert value(report, "personal_budgets") == 2
    assert report["indicators"]["plans_in_force"]["previous"] == 9  # Q2's new plan, 6 old, both ceasing later


def test_open_overdue_steps_at_each_weeks_end(report):
    series = report["series"]["open_overdue_steps"]
    assert list(series) == [f"2026-{d}" for d in ("07-07", "07-14", "07-21", "07-28", "08-04", "08-11", "08-18",
                                                  "08-25", "09-01", "09-08", "09-15", "09-22", "09-29", "09-30")]
    # P2's final plan until 27 Jul; X6's transfer 2-20 Aug; X2's review 16-30 Aug; X3's review from 11 Sep;
    # social care advice 22-25 Sep. Not P3's (exception), X4's (cancelled) or the family's representations
    assert list(series.values()) == [1, 1, 1, 0, 1, 1, 2, 1, 0, 0, 1, 2, 1, 1]


def test_complaints_answered_on_time_or_late_and_disputes_escalated(report):
    assert value(report, "complaints_received") == 2  # 1 Jul and 1 Sep; not June's
    assert value(report, "complaints_resolved_on_time") == 1  # 1 Sep's answer came on 5 Oct, after its 29 Sep target
    assert report["indicators"]["complaints_received"]["previous"] == 1  # Q2: June's
    assert value(report, "disputes_escalated") == 1  # escalated 3 Aug; the other only on 1 Oct


def test_what_the_engine_does_not_record_is_null_with_a_reason(report):
    for key in ("plans_by_setting_type", "placements_out_of_area", "reviews_child_involved", "by_caseworker_team"):
        figure = report["indicators"][key]
        assert figure["value"] is None and figure["previous"] is None and figure["reason"].startswith("not recorded")


def test_periods_before_and_a_year_ago():
    assert Q3.previous() == Period(D(2026, 4, 1), D(2026, 6, 30))
    assert Q3.last_year() == Period(D(2025, 7, 1), D(2025, 9, 30))
    assert Period(D(2024, 1, 1), D(2024, 2, 29)).last_year() == Period(D(2023, 1, 1), D(2023, 2, 28))
    assert Period(D(2026, 7, 10), D(2026, 7, 19)).previous() == Period(D(2026, 6, 30), D(2026, 7, 9))
    assert indicators.quarter_before(D(2026, 10, 1)) == Q3
    assert indicators.quarter_before(D(2027, 1, 4)) == Period(D(2026, 10, 1), D(2026, 12, 31))


def test_the_first_working_day_after_a_quarter():
    assert indicators.first_working_day_after_quarter(D(2026, 10, 1))  # a Thursday
    assert not indicators.first_working_day_after_quarter(D(2026, 10, 2))
    assert not indicators.first_working_day_after_quarter(D(2027, 1, 1))  # New Year's Day
    assert indicators.first_working_day_after_quarter(D(2027, 1, 4))  # Friday 1 Jan a holiday, then a weekend
    assert not indicators.first_working_day_after_quarter(D(2024, 4, 1))  # Easter Monday 2024
    assert indicators.first_working_day_after_quarter(D(2024, 4, 2))


# --- the charts, read back from their figures -----------------------------------------------------------------


def bars(container) -> list[float]:
    return [rect.get_height() for rect in container]


def test_the_weeks_chart_plots_each_plans_weeks_against_the_20_week_line(report):
    (ax,) = charts(report)["weeks_to_final_plan"].axes
    assert {round(r.get_x() + r.get_width() / 2): r.get_height() for r in ax.containers[0]} == {19: 2, 20: 1, 25: 1,
                                                                                                30: 1}
    (line,) = ax.lines
    assert list(line.get_xdata()) == [20, 20]


def test_the_advice_chart_stacks_late_on_on_time_by_agency(report):
    (ax,) = charts(report)["advice_lateness"].axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["health", "social care", "educational psychology",
                                                          "education", "others"]
    on_time, late = ax.containers
    assert bars(on_time) == [1, 0, 1, 0, 1]
    assert bars(late) == [0, 1, 0, 0, 0]
    assert [r.get_y() for r in late] == [1, 0, 1, 0, 1]  # stacked on the on-time bar


def test_the_overdue_chart_draws_each_weeks_end(report):
    (ax,) = charts(report)["open_overdue_steps"].axes
    (line,) = ax.lines
    assert list(line.get_ydata()) == [1, 1, 1, 0, 1, 1, 2, 1, 0, 0, 1, 2, 1, 1]
    assert (line.get_xdata()[0], line.get_xdata()[-1]) == (D(2026, 7, 7), D(2026, 9, 30))


def test_the_reviews_chart_shows_due_and_on_time_per_month(report):
    (ax,) = charts(report)["reviews_by_month"].axes
    due, on_time = ax.containers
    assert (bars(due), bars(on_time)) == ([1, 1, 1], [1, 0, 0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2026-07", "2026-08", "2026-09"]


def test_the_files_a_csv_and_four_pngs(report, tmp_path):
    written = write_files(report, tmp_path)
    assert sorted(p.name for p in written) == sorted([JSON_FILE, CSV_FILE, *CHARTS.values()])
    for name in CHARTS.values():
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = {row[0]: row[1:] for row in csv.reader((tmp_path / CSV_FILE).open())}
    assert rows["new_plans"] == ["5", "1", "0", ""]
    assert rows["advice_on_time_by_source.social_care.late"] == ["1", "0", "0", ""]
    assert rows["complaints_received"] == ["2", "1", "0", ""]
    assert rows["plans_by_setting_type"] == ["", "", "", REASONS["plans_by_setting_type"]]
    assert json.loads((tmp_path / JSON_FILE).read_text())["indicators"]["requests"]["value"] == 5


# --- the command, the flow and its schedule -----------------------------------------------------------------------


def test_ehc_report_json(store_url):
    build(store_url)
    result = CliRunner().invoke(app, ["report", "--from", "2026-07-01", "--to", "2026-09-30", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["indicators"]["pct_within_20_weeks_excluding_exceptions"]["value"] == 66.7
    assert "Child" not in result.stdout


@pytest.mark.parametrize("args, line", [
    (["--from", "2026-07-01", "--to", "2026-06-30"], "error: --to: 2026-06-30 is before --from 2026-07-01"),
    (["--from", "2026-02-30", "--to", "2026-06-30"],
     "error: --from: '2026-02-30' is not a real calendar date in the form YYYY-MM-DD"),
])
def test_ehc_report_bad_dates_are_one_line_and_exit_2(store_url, tmp_path, args, line):
    result = CliRunner().invoke(app, ["report", *args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [line]
    assert not (tmp_path / "out").exists()


def test_the_flow_publishes_the_quarterly_artifact(store_url, prefect_server, tmp_path, monkeypatch):
    build(store_url)
    monkeypatch.setenv("EHC_TODAY", "2026-10-01")  # the first working day after Q3: the default period is Q3
    state = quarterly_report(out_dir=str(tmp_path), only_on_first_working_day=True, return_state=True)
    result = state.result()
    assert result["period"] == {"from": "2026-07-01", "to": "2026-09-30"}
    assert sorted(Path(f).name for f in result["files"]) == sorted([JSON_FILE, CSV_FILE, *CHARTS.values()])
    artifact = Artifact.get(ARTIFACT_KEY)
    assert artifact.type == "markdown"
    assert "| new plans | 5 | 1 | 0 |" in artifact.data
    assert "| pct within 20 weeks excluding exceptions | 66.7 | 100.0 | – |" in artifact.data
    assert "| social care | 1 | 0 | 0 | 1 | 0.0 |" in artifact.data
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        assert client.read_artifacts() and artifact.flow_run_id == run.id
    assert run.name == "quarterly-report-2026-10-01"
    assert "Child" not in artifact.data + run.name + json.dumps(run.parameters)

    monkeypatch.setenv("EHC_TODAY", "2026-10-02")  # the schedule's next firing: nothing to do
    assert quarterly_report(out_dir=str(tmp_path / "again"), only_on_first_working_day=True) == {
        "skipped": "2026-10-02 is not the first working day after a quarter"}
    assert not (tmp_path / "again").exists()


def test_the_schedule_is_the_one_prefect_yaml_deploys():
    (schedule,) = deployment().schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("30 7 1-7 1,4,7,10 *", "Europe/London")
    entry = next(d for d in yaml.safe_load((Path(__file__).parent.parent / "prefect.yaml").read_text())["deployments"]
                 if d["name"] == FLOW_NAME)
    assert entry["schedules"] == [{"cron": SCHEDULE.cron, "timezone": SCHEDULE.timezone}]
    assert entry["parameters"] == PARAMETERS == {"only_on_first_working_day": True}
