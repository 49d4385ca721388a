"""Every notice the law requires, to everyone it names, saying what its regulation requires: each kind worded
through `notifications.compose` from the acts that give it (or, for the review, ceasing and transfer tasks,
from the facts they give), read back as the email's text and HTML and as the text of its PDF letter."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from models import assessment, casework, db, people, review_cycle, review_decision, schools
from models.cases import Case
from models.contacts import import_contacts
from models.council import council_details
from models.notice import Notice, NoticeKind, Recipient
from models.outbox import OutboxMessage
from models.settings import settings
from models.vocabulary import Channel, OutboxStatus, Role
from notifications import compose, letters, render, requirements
from notifications.requirements import NOT_NOTICES, REQUIRED, missing
from tests.conftest import REPO

D = dt.date.fromisoformat
DEMO = REPO / "deployments" / "demo"
COUNCIL = {
    "EHC_COUNCIL_NAME": "Test Borough Council", "EHC_COUNCIL_LA_CODE": "990",
    "EHC_COUNCIL_ADDRESS": "Civic Centre, 1 Church Road, Testbury", "EHC_COUNCIL_POSTCODE": "TS1 1AA",
    "EHC_COUNCIL_SEN_TEAM_EMAIL": "sen@council.test.gov.uk", "EHC_COUNCIL_SEN_TEAM_PHONE": "01234 000001",
    "EHC_COUNCIL_MEDIATION_ADVISER": "Testbury Mediation, mediation@mediation.test.org.uk, 01234 000002",
    "EHC_COUNCIL_MEDIATION_CONTACT": "the SEN disagreement officer, disagree@council.test.gov.uk",
    "EHC_COUNCIL_SENDIASS": "Testbury SENDIASS, 01234 000003",
    "EHC_COUNCIL_LOCAL_OFFER": "https://localoffer.test.gov.uk",
}
REASONS = "the school's own support (its SEN support plan since 2025) meets the needs described."


def open_case(s, name: str, on: str, dob: str = "2016-05-01") -> Case:
    case = casework.open_case(s, child_name=name, dob=D(dob), requested_on=D(on), requester="parent",
                              today=D(on), actor="test", parent={"name": "Pat Email-Test",
                                                                 "email": "pat@family.test.org.uk"})
    people.add_person(s, case, "test", role="parent", name="Lou Post-Test", address="9 Mill Lane, Testbury",
                      postcode="TS2 2BB", prefers="post")
    schools.place(s, case, "test", current="100001")
    return case


def to_plan_decision(s, ref: str, on: str) -> None:
    assessment.decide_to_assess(s, ref, True, D(on), D(on), "test")
    for source in assessment.advice_sources(s, casework.get_case(s, ref), D(on)):
        assessment.advice_received(s, ref, source, D(on), D(on), "test")
    assessment.meeting_held(s, ref, D(on), ["parent"], True, D(on), "test")


def issue_plan(s, ref: str) -> list[Notice]:
    """A case from the decision to assess to its final plan, through the acts."""
    to_plan_decision(s, ref, "2026-03-02")
    notices = assessment.assessment_notices(s, ref)
    notices += assessment.decide_to_issue(s, ref, True, D("2026-03-09"), D("2026-03-09"), "test")
    notices += assessment.draft_issued(s, ref, D("2026-03-16"), "Oakfield Primary", False, D("2026-03-16"), "test")
    return notices + assessment.final_issued(s, ref, D("2026-05-11"), D("2026-05-11"), "test")


def review_to_decision(s, case: Case, meeting: str) -> list[Notice]:
    """A review cycle through its acts to the meeting: opened, the meeting fixed, the invitations sent (reg 20(3))."""
    on = D(meeting)
    review_cycle.open_review(s, case, on - dt.timedelta(days=42), "test")
    notices = review_cycle.schedule_meeting(s, case, on, "test", on=on - dt.timedelta(days=42))
    notices += review_cycle.send_invitations(s, case, on - dt.timedelta(days=28), "test", today=on)
    review_cycle.record_meeting(s, case, on, "test", today=on)
    return notices


def review_notices(s, plan: Case, other: Case) -> list[Notice]:
    """The review decisions through their acts (reg 20-22): `plan` amended (its phase transfer, reg 18) then
    maintained then ceased, `other` amended and then not (reg 22(4))."""
    notices = review_to_decision(s, plan, "2027-03-01")
    notices += review_decision.amend(s, plan, D("2027-03-08"), "test", reasons=REASONS, today=D("2027-03-08"))
    notices += review_decision.issue_amended_plan(s, plan, D("2027-03-29"), "test", "Hill High School",
                                                  today=D("2027-03-29"))
    notices += review_to_decision(s, plan, "2027-06-07")
    notices += review_decision.maintain(s, plan, D("2027-06-14"), "test", reasons=REASONS, today=D("2027-06-14"))
    notices += review_to_decision(s, plan, "2027-09-06")
    notices += review_decision.cease(s, plan, D("2027-09-13"), "test", reasons=REASONS, today=D("2027-09-13"))
    notices += review_to_decision(s, other, "2027-03-01")
    notices += review_decision.amend(s, other, D("2027-03-08"), "test", reasons=REASONS, today=D("2027-03-08"))
    return notices + review_decision.not_to_amend(s, other, D("2027-03-29"), "test", REASONS, today=D("2027-03-29"))


def later_notices(case_id: int) -> list[Notice]:
    """The ceasing and transfer notices, with the facts their tasks give (another module's acts)."""
    family = (Recipient(Role.FAMILY),)
    return [
        Notice(NoticeKind.PLAN_CEASED, D("2027-11-02"), family, case_id=case_id, facts={"ceased_on": D("2027-11-02")}),
        Notice(NoticeKind.PLAN_TRANSFER, D("2027-05-01"),
               (Recipient(Role.NEW_COUNCIL, email="sen@newcouncil.test.gov.uk"),), case_id=case_id,
               facts={"to_council": "New Borough Council", "transferred_on": D("2027-05-01"),
                      "notify_by": D("2027-06-12"), "review_by": D("2027-08-01")}),
        Notice(NoticeKind.TRANSFER_FAMILY, D("2027-05-01"), family, case_id=case_id,
               facts={"to_council": "New Borough Council", "transferred_on": D("2027-05-01"),
                      "notify_by": D("2027-06-12"), "review_by": D("2027-08-01")}),
    ]


@pytest.fixture(scope="module")
def outbox(tmp_path_factory) -> dict[str, list[OutboxMessage]]:
    """Three cases through their acts (a plan issued; refused to assess; refused to issue) and the later
    notices, written by `compose`: the outbox rows by template."""
    folder = tmp_path_factory.mktemp("notices")
    url = f"sqlite:///{folder / 'ehc.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EHC_DATABASE_URL", url)
        for k, v in COUNCIL.items():
            mp.setenv(k, v)
        db.upgrade(url)
        with db.session() as s:
            schools.import_gias(s, DEMO / "settings.csv", "test")
            assert not import_contacts(s, DEMO / "directory.csv", "test").bad
        with db.session() as s:
            plan = open_case(s, "Ada Plan-Test", "2026-01-05")
            refused = open_case(s, "Bo Refused-Test", "2026-01-05")
            no_plan = open_case(s, "Cy NoPlan-Test", "2026-01-05")
            notices = [n for c in (plan, refused, no_plan) for n in assessment.request_notices(s, c.reference)]
            notices += assessment.decide_to_assess(s, refused.reference, False, D("2026-02-09"), D("2026-02-09"),
                                                   "test", reasons=REASONS)
            notices += issue_plan(s, plan.reference)
            notices += [n for src in assessment.advice_sources(s, plan, D("2026-03-02"))
                        for n in assessment.request_advice(s, plan.reference, src)]
            to_plan_decision(s, no_plan.reference, "2026-03-02")
            notices += assessment.decide_to_issue(s, no_plan.reference, False, D("2026-03-09"), D("2026-03-09"),
                                                  "test", reasons=REASONS)
            other = open_case(s, "Ed Amend-Test", "2026-01-05", dob="2017-01-10")  # no phase transfer
            notices += assessment.request_notices(s, other.reference) + issue_plan(s, other.reference)
            notices += review_notices(s, plan, other)
            notices += later_notices(plan.id)
            compose.write(s, notices)
            again = compose.write(s, notices)
        with db.session() as s:
            rows = list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))
            contexts = {}
            for n in notices:  # the context each template was worded from, for the elements' values
                contexts.setdefault((compose.template_of(n), n.case_id, n.step_id), compose.context_of(s, n))
            details = council_details(settings())
            s.expunge_all()
        by_template: dict[str, list[OutboxMessage]] = {}
        for row in rows:
            by_template.setdefault(row.kind, []).append(row)
        yield {"rows": by_template, "contexts": contexts, "details": details, "again": again}
        db.dispose_engine(url)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_every_notice_kind_has_its_requirement_and_template():
    kinds = {compose.template_of(Notice(k, D("2026-01-01"), ())) for k in NoticeKind if k not in NOT_NOTICES}
    kinds |= {"review_maintain", "review_amend"}
    assert kinds - {"review_amend"} <= set(REQUIRED) and "review_amend" in REQUIRED
    templates = REPO / "notifications" / "templates"
    for template in REQUIRED:
        assert all((templates / f"{template}.{e}").exists() for e in ("txt", "html", "subject.txt")), template
        assert re.search(r"(reg|s\d|SEND Regulations|Children and Families Act)",
                         (templates / f"{template}.txt").read_text()), f"{template} cites no regulation"


DISAGREEMENT = ("mediation_", "appeal_", "complaint_", "dispute_")  # their acts' paths: tests/test_disagreement.py


@pytest.mark.parametrize("template", [t for t in REQUIRED if not t.startswith(DISAGREEMENT)])
def test_each_notice_goes_to_whom_the_law_names_and_says_what_its_regulation_requires(outbox, template):
    rows = outbox["rows"].get(template)
    assert rows, f"no {template} written"
    requirement = REQUIRED[template]
    assert {r.recipient_role for r in rows} == set(requirement.roles), template
    if requirement.roles == (Role.FAMILY,):  # both parents: one by email, one by post (a letter)
        assert sorted(r.channel for r in rows[:2]) == [Channel.EMAIL, Channel.LETTER]
    for row in rows:
        context = outbox["contexts"][template, row.case_id, row.step_id]
        assert missing(template, context, row.body_text) == [], (template, "email text")
        assert missing(template, context, html.unescape(re.sub(r"<[^>]+>", " ", row.body_html))) == [], template
        address = row.postal_address or "SEN team, Test Setting, 1 School Lane, TS3 3CC"
        pdf = letters.letter_pdf(row.model_copy(update={"postal_address": address}), outbox["details"],
                                 context["reference"])
        text = pdf_text(pdf)
        assert missing(template, context, text) == [], (template, "PDF letter")
        assert all(line in text for line in letters.address_lines(address))
        assert "Pat Email-Test" not in row.subject and "Ada" not in row.subject  # the reference only


def test_a_refusal_names_the_mediation_adviser_the_certificate_the_appeal_deadline_and_sendiass(outbox):
    [letter] = [r for r in outbox["rows"]["not_to_assess"] if r.channel == Channel.LETTER]
    text = " ".join(pdf_text(letters.letter_pdf(letter, outbox["details"], "EHC-2026-00002"))
                    .split())
    assert REASONS in text
    assert "Testbury Mediation, mediation@mediation.test.org.uk, 01234 000002" in text
    assert "you must have a mediation certificate" in text
    assert "The Tribunal must receive your appeal by Thursday 9 April 2026" in text
    assert "Testbury SENDIASS, 01234 000003" in text
    assert "disagree@council.test.gov.uk" in text and "disagreement resolution" in text


def test_the_html_is_autoescaped(outbox):
    [context] = [c for (t, *_), c in outbox["contexts"].items() if t == "not_to_assess"]
    context = {**context, "reasons": "<script>x</script> & more"}
    rendered = render.render("not_to_assess", context)
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<script>x</script>" in rendered.text


def test_the_readme_carries_the_notice_table():
    assert requirements.table() in (REPO / "README.md").read_text()


def test_the_address_block_sits_in_the_dl_window():
    left, top, width, height = letters.ADDRESS_BLOCK
    assert (left, top, width, height) == (24.6, 39.5, 95.4, 26.8)
    assert letters.address_lines("A Name, 1 Road, Flat 2, Block 3, Estate, Area, Town, County, AB1 2CD") == [
        "A Name", "1 Road", "Flat 2", "Block 3", "Estate", "Area, Town, County", "AB1 2CD"]


def test_the_print_queue_writes_each_letter_and_records_it_printed(store_url, monkeypatch, tmp_path):
    monkeypatch.setenv("EHC_TODAY", "2026-01-05")
    monkeypatch.setenv("EHC_LETTER_FOLDER", str(tmp_path / "letters"))
    ehc = CliRunner()
    ref = ehc.invoke(app, ["case", "open", "--child-name", "Di Queue-Test", "--dob", "2016-01-01", "--requested-on",
                           "2026-01-05", "--requester", "parent", "--parent-name", "Em Queue-Test",
                           "--parent-address", "4 Queue Row, Testbury", "--parent-postcode", "TS4 4DD"]).stdout.strip()
    ehc.invoke(app, ["person", "update", ref, "1", "--prefers", "post"])
    listed = ehc.invoke(app, ["letters", "pending"])
    assert listed.exit_code == 0, listed.output
    [line] = [x for x in listed.stdout.splitlines() if ref in x]
    letter_id, pdf = int(line.split()[0]), Path(line.split()[-1])
    assert pdf.parent == tmp_path / "letters" and "Em" not in pdf.name and "Queue-Test" not in pdf.name
    text = pdf_text(pdf.read_bytes())
    assert "Em Queue-Test" in text and "TS4 4DD" in text and "considering whether an EHC needs assessment" in text
    refused = ehc.invoke(app, ["letters", "printed", str(letter_id), "999999"])
    assert refused.exit_code == 2 and "error: ID: not a letter waiting to be printed: 999999" in refused.stderr
    assert ehc.invoke(app, ["letters", "printed", str(letter_id)]).exit_code == 0
    with db.session() as s:
        row = s.get(OutboxMessage, letter_id)
        assert (row.status, row.provider) == (OutboxStatus.SENT, letters.PRINTED) and row.sent_at is not None
    assert ref not in ehc.invoke(app, ["letters", "pending"]).stdout


@pytest.mark.parametrize("template", ["review_maintain", "review_amend", "not_to_amend", "cease_decision"])
def test_a_review_or_cease_decision_states_the_reasons_its_act_gave(outbox, template):
    rows = outbox["rows"][template]
    assert rows and all(REASONS in " ".join(r.body_text.split()) for r in rows)
    [letter, *_] = [r for r in rows if r.channel == Channel.LETTER]
    assert REASONS in " ".join(pdf_text(letters.letter_pdf(letter, outbox["details"], "EHC-2026-00001")).split())


def test_the_review_acts_notices_have_one_outbox_key_each(outbox):
    assert outbox["again"] == []  # written again (a retried task, a resumed run): nothing new
    invitations = outbox["rows"]["review_invitation"]
    keys = [r.idempotency_key for r in invitations]
    assert len(keys) == len(set(keys)) == 4 * 5  # 4 cycles; two parents, the SENCO, the health body, social care
    assert "notice:review_invitation:case:1:2:to:senco:3" in keys  # per case, cycle and recipient
    for template in ("amended_plan", "not_to_amend", "review_maintain", "cease_decision"):
        rows = outbox["rows"][template]
        assert len({r.idempotency_key for r in rows}) == len(rows) == 2, template  # the two parents



def open_by_command(monkeypatch, **env: str | None):
    """`ehc case open` with the council's contacts as `env` gives them (None: unset): its result and the cases."""
    monkeypatch.setenv("EHC_TODAY", "2026-01-05")
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["case", "open", "--child-name", "Fi Contact-Test", "--dob", "2016-01-01",
                                      "--requested-on", "2026-01-05", "--requester", "parent", "--parent-name",
                                      "Gu Contact-Test", "--parent-email", "gu@family.test.org.uk"])
    with db.session() as s:
        return result, len(s.exec(select(Case)).all())


def test_a_notice_whose_council_contact_is_not_set_is_refused_and_nothing_written(store_url, monkeypatch):
    result, cases = open_by_command(monkeypatch, EHC_COUNCIL_SENDIASS=None)
    assert result.exit_code == 2 and cases == 0
    [line] = result.stderr.splitlines()
    assert line.startswith("error: EHC_COUNCIL_SENDIASS: not set: the notice 'request received") and "SENDIASS" in line
    with db.session() as s:
        assert s.exec(select(OutboxMessage)).all() == []


@pytest.mark.parametrize("value", ["SENDIASS, sendiass@example.org", "SENDIASS, https://www.sendiass.example",
                                   "SENDIASS, help@advice.example.com, 0300 000 0000"])
def test_an_example_address_is_stated_only_by_the_demo(store_url, monkeypatch, value):
    result, cases = open_by_command(monkeypatch, EHC_COUNCIL_SENDIASS=value, EHC_DEMO=None)
    assert result.exit_code == 2 and cases == 0
    assert "error: EHC_COUNCIL_SENDIASS: gives an example address, which only the demo may state" in result.stderr
    result, cases = open_by_command(monkeypatch, EHC_COUNCIL_SENDIASS=value, EHC_DEMO="1")
    assert result.exit_code == 0 and cases == 1, result.output
    with db.session() as s:
        [row] = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "considering_assessment")).all()
        assert value in " ".join(row.body_text.split())


def test_the_mediation_adviser_is_required_where_the_right_of_appeal_is(monkeypatch):
    details = {"sendiass": "Testbury SENDIASS, 01234 000003", "mediation_adviser": None}
    assert requirements.unstated("considering_assessment", details, demo=False) is None
    refused = requirements.unstated("not_to_assess", details, demo=False)
    assert refused.field == "EHC_COUNCIL_MEDIATION_ADVISER" and "mediation adviser's contact" in refused.rule
    assert requirements.unstated("reminder", details, demo=False) is None  # a chase states no council contact
    assert not requirements.placeholder("Testbury Mediation, mediation@mediation.test.org.uk")


def test_a_letter_writes_any_name_as_given_in_dejavu(outbox):
    """The letter's font is matplotlib's DejaVu Sans (a pinned dependency), wherever it is printed: a name in
    any language round-trips through the PDF, never as '?'."""
    name = "Zoë Łukasz-O'Brien"
    [letter, *_] = [r for r in outbox["rows"]["final_plan"] if r.channel == Channel.LETTER]
    letter = letter.model_copy(update={"postal_address": f"{name}, 1 Mill Lane, Testbury, TS2 2BB",
                                       "body_text": f"Dear {name} – “quoted” …\n\n{letter.body_text}"})
    pdf = letters.letter_pdf(letter, outbox["details"], "EHC-2026-00001")
    text = pdf_text(pdf)
    assert text.count(name) == 2 and "“quoted” …" in text and "?" not in text.split("\n")[0]
    assert b"DejaVuSans" in pdf and all(path.is_file() for path in letters.FONT_FILES)
