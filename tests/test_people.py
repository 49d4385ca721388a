"""The people around a case: who the family's notices go to and how, the named caseworker and their caseload,
the directory and the settings register, and what nobody can be sent."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from models import casework, db
from models.cannot_notify import CannotNotify
from models.cases import AuditEvent, Child, Contact
from models.errors import InputError
from models.notice import Notice, NoticeKind, Recipient
from models.outbox import OutboxMessage
from models.people import Person, compulsory_school_age_ends
from models.schools import Setting
from models.vocabulary import Channel, Role, StepKey
from notifications import compose, dispatch
from tasks.watch import run_watch
from tests.conftest import REPO

D = dt.date.fromisoformat
TODAY = "2026-03-02"


def ehc(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout if code == 0 else result.stderr


@pytest.fixture
def today(store_url, monkeypatch) -> str:
    monkeypatch.setenv("EHC_TODAY", TODAY)
    return TODAY


def open_case(*parent: str, dob: str = "2015-01-01", name: str = "Ivy Thorn-Test") -> str:
    return ehc("case", "open", "--child-name", name, "--dob", dob, "--requested-on", "2026-01-05",
               "--requester", "parent", *parent).strip()


def family_notice(reference: str, kind: NoticeKind = NoticeKind.FINAL_PLAN, on: str = TODAY) -> list[OutboxMessage]:
    with db.session() as s:
        case = casework.get_case(s, reference)
        return compose.write(s, [Notice(kind, D(on), (Recipient(Role.FAMILY),), case_id=case.id)])


def rows(reference: str) -> list[OutboxMessage]:
    with db.session() as s:
        case = casework.get_case(s, reference)
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.case_id == case.id).order_by(OutboxMessage.id)))


def unreachable(reference: str) -> list[CannotNotify]:
    with db.session() as s:
        case = casework.get_case(s, reference)
        return list(s.exec(select(CannotNotify).where(CannotNotify.case_id == case.id)))


def test_a_family_of_two_parents_one_by_post_gets_an_email_and_a_letter(today):
    ref = open_case("--parent-name", "Rowan Thorn-Test", "--parent-email", "rowan@family.test.org.uk")
    second = ehc("person", "add", ref, "--role", "parent", "--name", "Sam Thorn-Test", "--address",
                 "2 Mill Lane, Stockton-on-Tees", "--postcode", "ts18 1ld", "--prefers", "post",
                 "--needs", "large print, language:Polish").strip()
    written = family_notice(ref)
    email, letter = rows(ref)
    assert len(written) == 2 and {m.recipient_role for m in (email, letter)} == {Role.FAMILY}
    assert (email.channel, email.recipient_email, email.postal_address) == (Channel.EMAIL, "rowan@family.test.org.uk",
                                                                            None)
    assert (letter.channel, letter.recipient_email) == (Channel.LETTER, None)
    assert letter.postal_address == "Sam Thorn-Test, 2 Mill Lane, Stockton-on-Tees, TS18 1LD"
    assert letter.idempotency_key.endswith(f":to:family:person:{second}")
    assert email.idempotency_key != letter.idempotency_key
    assert family_notice(ref) == [] and len(rows(ref)) == 2  # written again: nothing new
    with db.session() as s:  # the dispatcher takes the email; the letter waits for printing
        claimed = dispatch.claim(s, dispatch.utcnow(), 10)
    assert [i for i, _ in claimed] == [email.id]
    listed = json.loads(ehc("person", "list", ref, "--json"))
    assert [(p["role"], p["prefers"], p["large_print"], p["language"]) for p in listed] == [
        ("parent", "email", False, None), ("parent", "post", True, "Polish")]


def test_compulsory_school_age_ends_on_the_last_friday_of_june_of_the_year_they_turn_16():
    assert compulsory_school_age_ends(D("2009-09-01")) == D("2026-06-26")  # autumn-born: 16 in Year 11's September
    assert compulsory_school_age_ends(D("2010-08-31")) == D("2026-06-26")  # summer-born: 16 after Year 11 ends
    assert compulsory_school_age_ends(D("2010-09-01")) == D("2027-06-25")


def test_a_young_person_of_17_receives_their_own_notices_and_the_parent_only_where_recorded(today):
    ref = open_case("--parent-name", "Ash Vale-Test", "--parent-email", "ash@family.test.org.uk", dob="2008-11-03")
    young = ehc("person", "add", ref, "--role", "young-person", "--name", "Kit Vale-Test", "--email",
                "kit@young.test.org.uk", "--needs", "easy read").strip()
    family_notice(ref)
    assert [(m.recipient_email, m.idempotency_key) for m in rows(ref)] == [
        ("kit@young.test.org.uk", f"notice:final_plan:case:{rows(ref)[0].case_id}")]
    ehc("person", "update", ref, young, "--parent-acts")  # the young person asks their parent to act (Code 8.15)
    family_notice(ref, NoticeKind.DRAFT_PLAN)
    drafts = [m.recipient_email for m in rows(ref) if "draft_plan" in m.idempotency_key]
    assert sorted(drafts) == ["ash@family.test.org.uk", "kit@young.test.org.uk"]
    ehc("person", "update", ref, "1", "--parent-acts", code=2)  # a parent is not a young person


def test_a_parent_with_no_way_to_be_reached_goes_on_cannot_notify_for_the_caseworker(today):
    ref = open_case("--parent-name", "Lee Moss-Test")
    ehc("case", "assign", ref, "--caseworker", "j.bloggs@council.test.gov.uk")
    assert family_notice(ref) == [] and rows(ref) == []
    [item] = unreachable(ref)
    assert (item.kind, item.recipient_role, item.caseworker_email) == ("family_notice", Role.FAMILY,
                                                                       "j.bloggs@council.test.gov.uk")
    assert "no email address and no postal address" in item.reason and "Lee" not in item.reason
    family_notice(ref)
    assert len(unreachable(ref)) == 1  # written again: queued once
    with db.session() as s:
        actions = [e.action for e in casework.audit_log(s, casework.get_case(s, ref))]
        sent = [m.recipient_email or "" for m in s.exec(select(OutboxMessage))]
    assert actions.count("cannot notify") == 1 and not any("example.org" in a for a in sent)
    listed = ehc("cannot-notify", "list", "--caseworker", "j.bloggs@council.test.gov.uk")
    assert ref in listed and "family_notice to family" in listed
    [load] = json.loads(ehc("caseload", "--json"))
    assert (load["reference"], load["cannot_notify"]) == (ref, 1)
    ehc("cannot-notify", "resolve", str(item.id), "--note", "rang the parent; address taken")
    assert json.loads(ehc("caseload", "--json"))[0]["cannot_notify"] == 0


def test_a_case_with_nobody_recorded_and_a_young_person_not_recorded_are_both_queued(today):
    child = open_case(name="Bea Nobody-Test")
    young = open_case("--parent-name", "Al Older-Test", "--parent-email", "al@family.test.org.uk",
                      dob="2008-11-03", name="Cy Older-Test")
    family_notice(child)
    family_notice(young)
    assert [i.reason for i in unreachable(child)] == ["no parent or carer recorded"]
    assert [i.reason for i in unreachable(young)] == ["over compulsory school age: no young person recorded "
                                                      "(CFA s83(2))"]
    assert rows(child) == rows(young) == []


def test_a_reassigned_case_moves_between_caseloads_and_its_chases_follow(today, monkeypatch):
    monkeypatch.setenv("EHC_TODAY", "2026-02-10")
    first, second = open_case(name="Dee One-Test"), open_case(name="Eve Two-Test")
    ehc("case", "assign", first, "--caseworker", "amy@council.test.gov.uk")
    ehc("case", "assign", second, "--caseworker", "ben@council.test.gov.uk")
    amy = json.loads(ehc("caseload", "--caseworker", "amy@council.test.gov.uk", "--json"))
    assert [(r["reference"], r["stage"], r["next_step"], r["overdue"]) for r in amy] == [
        (first, "decision_to_assess", StepKey.ASSESS_DECISION, [])]
    assert amy[0]["next_due"] == "2026-02-16"
    ehc("case", "assign", first, "--caseworker", "ben@council.test.gov.uk")
    assert json.loads(ehc("caseload", "--caseworker", "amy@council.test.gov.uk", "--json")) == []
    monkeypatch.setenv("EHC_TODAY", "2026-03-03")
    ben = ehc("caseload", "--caseworker", "ben@council.test.gov.uk")
    assert first in ben and second in ben and ben.count("OVERDUE assess.decision") == 2
    with db.session() as s:  # the council's own step is chased at the case's caseworker now
        case = casework.get_case(s, first)
        step = casework.find_step(s, case, StepKey.ASSESS_DECISION)
        [chase] = compose.write(s, [Notice(NoticeKind.OVERDUE, D("2026-03-03"), (Recipient(Role.LA),),
                                           case_id=case.id, step_id=step.id, occasion="2026-02-17",
                                           facts={"tier": 1})])
        events = [e.detail for e in casework.audit_log(s, case) if e.action == "caseworker assigned"]
    assert (chase.recipient_role, chase.recipient_email) == (Role.SEN_CASEWORKER, "ben@council.test.gov.uk")
    assert [e["to"] for e in events] == ["amy@council.test.gov.uk", "ben@council.test.gov.uk"]
    assert "--caseworker: is not an email address" in ehc("case", "assign", first, "--caseworker", "ben", code=2)


GIAS = """URN,EstablishmentName,TypeOfEstablishment (name),PhaseOfEducation (name),LA (code),Postcode,Street
111111,Stockton Primary,Community school,Primary,808,TS18 1LD,High St
222222,Far Away High,Academy converter,Secondary,201,EC1A 1BB,Long Rd
333333,Bad Postcode School,Academy converter,Secondary,808,NOT A CODE,Short Rd
44444,Short Urn School,Community school,Primary,808,TS18 1LD,Hill St
"""


def test_a_gias_file_with_a_bad_row_loads_the_good_rows_and_reports_each_bad_one(today, tmp_path, monkeypatch):
    gias = tmp_path / "edubase.csv"
    gias.write_bytes(GIAS.replace("Far Away", "Fär Away").encode("cp1252"))  # DfE's downloads are Windows-1252
    errors = ehc("setting", "import", str(gias), code=2)
    assert errors.splitlines() == ["error: row 4: Postcode: is not a UK postcode",
                                   "error: row 5: URN: a URN is 6 digits"]
    with db.session() as s:
        loaded = {st.urn: (st.name, st.la_code) for st in s.exec(select(Setting))}
    assert loaded == {111111: ("Stockton Primary", "808"), 222222: ("Fär Away High", "201")}
    assert "0 added, 0 updated, 2 unchanged, 2 bad rows" in CliRunner().invoke(app, ["setting", "import",
                                                                                      str(gias)]).stdout
    monkeypatch.setenv("EHC_COUNCIL_LA_CODE", "808")
    ref = open_case()
    named = ehc("case", "setting", ref, "--current", "111111", "--requested", "222222")
    assert "current 111111 Stockton Primary (in area)" in named
    assert "requested 222222 Fär Away High (out of area)" in named
    assert "--requested: unknown URN 333333" in ehc("case", "setting", ref, "--requested", "333333", code=2)
    missing = tmp_path / "contacts.csv"
    missing.write_text("URN,Name\n1,x\n")
    assert "error: FILE: no column 'EstablishmentName'" in ehc("setting", "import", str(missing), code=2)


def test_contact_import_is_idempotent_and_a_bad_row_is_not_written(today, tmp_path):
    ehc("setting", "import", str(_gias(tmp_path)), code=2)
    directory = tmp_path / "directory.csv"
    directory.write_text("role,organisation,email,name,urn\n"
                         "dco,North ICB,DCO@North.Test.NHS.uk,Dr Who,\n"
                         "senco,,senco@stockton.test.sch.uk,,111111\n"
                         "senco,Nowhere,not-an-email,,\n"
                         "family,Home,home@family.test.org.uk,,\n")
    first = CliRunner().invoke(app, ["contact", "import", str(directory)])
    assert first.exit_code == 2 and "2 added, 0 updated, 0 unchanged, 2 bad rows" in first.stdout
    assert first.stderr.splitlines() == ["error: row 4: --email: is not an email address",
                                         f"error: row 5: --role: must be one of {', '.join(_roles())}"]
    again = CliRunner().invoke(app, ["contact", "import", str(directory)])
    assert "0 added, 0 updated, 2 unchanged" in again.stdout
    with db.session() as s:
        added = {(c.role, c.organisation, c.email) for c in s.exec(select(Contact))} - DIRECTORY
        senco = s.exec(select(Setting).where(Setting.urn == 111111)).one().senco_contact_id
        imported = [e for e in s.exec(select(AuditEvent)) if e.action == "contact added"]
    assert added == {("dco", "North ICB", "DCO@north.test.nhs.uk"), ("senco", "Stockton Primary",
                                                                      "senco@stockton.test.sch.uk")}
    assert senco is not None and len(imported) == len(DIRECTORY) + 2
    assert "contact" in ehc("contact", "add", "--role", "dco", "--organisation", "North ICB", "--email",
                            "new.dco@north.test.nhs.uk") and "updated" in ehc(
        "contact", "add", "--role", "dco", "--organisation", "North ICB", "--email", "dco2@north.test.nhs.uk")
    assert "new.dco" not in ehc("contact", "list") and "dco2@north.test.nhs.uk" in ehc("contact", "list")


DIRECTORY = {tuple(line.split(",")) for line in (REPO / "tests" / "directory.csv").read_text().splitlines()[1:]}


def _gias(tmp_path):
    path = tmp_path / "gias.csv"
    path.write_text(GIAS)
    return path


def _roles():
    from models.contacts import DIRECTORY_ROLES

    return DIRECTORY_ROLES


def test_bad_contact_data_is_refused_at_entry_with_the_field_named_and_nothing_written(today):
    bad = ehc("case", "open", "--child-name", "Gus Bad-Test", "--dob", "2015-01-01", "--requested-on", "2026-01-05",
              "--requester", "parent", "--parent-name", "Hal Bad-Test", "--parent-email", "hal@@family", code=2)
    assert bad.strip() == "error: --parent-email: is not an email address" and "hal@@" not in bad
    with db.session() as s:
        assert s.exec(select(Child)).first() is None and s.exec(select(Person)).first() is None
    ref = open_case()
    assert "--postcode: is not a UK postcode" in ehc("person", "add", ref, "--role", "carer", "--name", "X",
                                                     "--postcode", "12345", code=2)
    assert "--prefers: post needs a postal address" in ehc("person", "add", ref, "--role", "carer", "--name", "X",
                                                           "--prefers", "post", code=2)
    assert "--needs: unknown need" in ehc("person", "add", ref, "--role", "carer", "--name", "X", "--needs",
                                          "braille please", code=2)
    assert json.loads(ehc("person", "list", ref, "--json")) == []


def test_the_councils_details_are_checked_and_stated_in_a_family_notice(today, monkeypatch):
    ref = open_case("--parent-name", "Ida Note-Test", "--parent-email", "ida@family.test.org.uk")
    monkeypatch.setenv("EHC_COUNCIL_LA_CODE", "80")
    with pytest.raises(InputError, match="EHC_COUNCIL_LA_CODE"):
        family_notice(ref)
    monkeypatch.setenv("EHC_COUNCIL_LA_CODE", "808")
    monkeypatch.setenv("EHC_COUNCIL_SENDIASS", "Stockton SENDIASS, 01642 000000")
    monkeypatch.setenv("EHC_COUNCIL_SEN_TEAM_EMAIL", "SEN@council.test.gov.uk")
    [notice] = family_notice(ref)
    assert "Stockton SENDIASS, 01642 000000" in notice.body_text and "SEN@council.test.gov.uk" in notice.body_text


def test_a_new_request_goes_to_the_default_team(today, monkeypatch):
    monkeypatch.setenv("EHC_DEFAULT_CASEWORKER", "sen.intake@council.test.gov.uk")
    ref = open_case()
    assert [r["reference"] for r in json.loads(ehc("caseload", "--caseworker", "sen.intake@council.test.gov.uk",
                                                   "--json"))] == [ref]


def test_a_settings_step_is_chased_at_the_senco_the_directory_names_for_it(today, tmp_path):
    ehc("setting", "import", str(_gias(tmp_path)), code=2)
    ehc("contact", "add", "--role", "senco", "--setting", "111111", "--email", "senco@stockton.test.sch.uk")
    ref = open_case()
    with db.session() as s:
        case = casework.get_case(s, ref)
        senco = s.exec(select(Contact).where(Contact.organisation == "Stockton Primary")).one()
        casework.add_step(s, case, key="plan.setting_consultation:1", kind="setting_consultation", role=Role.SENCO,
                          start=D("2026-02-20"), due=D("2026-03-06"), organisation=senco.organisation,
                          contact_id=senco.id)
    run_watch(D("2026-03-03"))  # 3 days before: a reminder
    with db.session() as s:
        sent = [(m.kind, m.recipient_email) for m in s.exec(select(OutboxMessage))]
    assert ("reminder", "senco@stockton.test.sch.uk") in sent
    assert not any(email == "senco@example.org" for _, email in sent)  # not the directory's first SENCO
