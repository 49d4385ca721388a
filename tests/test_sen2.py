"""SEN2 in and out: a return made here imports, exports back, refuses its faults by person and element, and a
second import changes nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from lxml import etree
from typer.testing import CliRunner

from cli.main import app
from models import db
from models.cases import Case, Child, Step
from models.sen2 import message
from models.sen2.tables import Placement, Sen2Person, Sen2Request
from models.vocabulary import CaseStatus, Stage

TODAY = "2024-01-18"
NAMES = ("Ada", "Lovelace", "Grace", "Hopper", "Alan", "Turing", "SE1 7PB", "N1 9GU")

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<Message><Header><CollectionDetails><Collection>SEN2</Collection><Year>2024</Year>
<ReferenceDate>2024-01-18</ReferenceDate></CollectionDetails>
<Source><SourceLevel>L</SourceLevel><LEA>208</LEA><DMO>Y</DMO><DCO>N</DCO></Source></Header><Persons>"""
IN_FORCE = """<Person><Surname>Lovelace</Surname><Forename>Ada</Forename><PersonBirthDate>2012-12-10</PersonBirthDate>
<Sex>F</Sex><Ethnicity>WBRI</Ethnicity><PostCode>SE1 7PB</PostCode><UPN>A123456789012</UPN>
<Requests><ReceivedDate>2019-03-04</ReceivedDate><RequestOutcomeDate>2019-04-08</RequestOutcomeDate>
<RequestOutcome>H</RequestOutcome><Assessment><AssessmentOutcome>H</AssessmentOutcome>
<AssessmentOutcomeDate>2019-06-03</AssessmentOutcomeDate><Week20>0</Week20><NamedPlan><StartDate>2019-07-15</StartDate>
<PlanDetail><URN>100001</URN><SENSetting>OLA</SENSetting><PlacementRank>1</PlacementRank>
<SENunitIndicator>0</SENunitIndicator><ResourcedProvisionIndicator>1</ResourcedProvisionIndicator></PlanDetail>
<PlanRes>A</PlanRes><PB>true</PB></NamedPlan></Assessment>
<ActivePlans><PlacementDetail><URN>100001</URN><SENSetting>OLA</SENSetting><PlacementRank>1</PlacementRank>
<EntryDate>2019-09-02</EntryDate><SENunitIndicator>0</SENunitIndicator>
<ResourcedProvisionIndicator>1</ResourcedProvisionIndicator></PlacementDetail>
<SENneed><SENtype>ASD</SENtype><SENtypeRank>1</SENtypeRank></SENneed>
<SENneed><SENtype>SLCN</SENtype><SENtypeRank>2</SENtypeRank></SENneed>
<ReviewMeeting>2023-06-12</ReviewMeeting><ReviewOutcome>M</ReviewOutcome><LastReview>2023-06-12</LastReview>
</ActivePlans></Requests></Person>"""
AWAITING = """<Person><Surname>Hopper</Surname><Forename>Grace</Forename><PersonBirthDate>2016-05-01</PersonBirthDate>
<Sex>F</Sex><Ethnicity>WIRI</Ethnicity><PostCode>N1 9GU</PostCode><UPNunknown>UN2</UPNunknown>
<Requests><ReceivedDate>2024-01-08</ReceivedDate><RYA>0</RYA><RequestOutcome>A</RequestOutcome></Requests></Person>"""
ASSESSING = """<Person><Surname>Turing</Surname><Forename>Alan</Forename><PersonBirthDate>2014-06-23</PersonBirthDate>
<Sex>M</Sex><Ethnicity>WBRI</Ethnicity><PostCode>CB2 1TN</PostCode><UniqueLearnerNumber>1234567890</UniqueLearnerNumber>
<Requests><ReceivedDate>2023-11-01</ReceivedDate><RequestOutcomeDate>2023-12-06</RequestOutcomeDate>
<RequestOutcome>Y</RequestOutcome><Assessment><AssessmentOutcome>A</AssessmentOutcome></Assessment></Requests>
<Requests><ReceivedDate>2023-02-01</ReceivedDate><RequestOutcomeDate>2023-03-10</RequestOutcomeDate>
<RequestOutcome>N</RequestOutcome><RequestMediation>1</RequestMediation></Requests></Person>"""
CEASED = """<Person><Surname>Noether</Surname><Forename>Emmy</Forename><PersonBirthDate>2005-03-23</PersonBirthDate>
<Sex>F</Sex><Ethnicity>OOTH</Ethnicity><PostCode>OX1 3LB</PostCode>
<Requests><ReceivedDate>2017-01-09</ReceivedDate><RequestOutcome>H</RequestOutcome><Assessment>
<AssessmentOutcome>H</AssessmentOutcome><NamedPlan><StartDate>2017-05-22</StartDate><PlanDetail>
<UKPRN>10001234</UKPRN><SENSetting>OTH</SENSetting><SENSettingOther>FE college</SENSettingOther>
<PlacementRank>1</PlacementRank><SENunitIndicator>0</SENunitIndicator>
<ResourcedProvisionIndicator>0</ResourcedProvisionIndicator></PlanDetail><CeaseDate>2023-07-21</CeaseDate>
<CeaseReason>4</CeaseReason></NamedPlan></Assessment></Requests></Person>"""
FOOTER = "</Persons></Message>"


def sen2_file(*persons: str) -> bytes:
    return (HEADER + "".join(persons) + FOOTER).encode()


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def counts(url: str) -> dict[str, int]:
    with db.engine(url).connect() as conn:
        return {t.__tablename__: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                for t in (Child, Case, Step, Sen2Person, Sen2Request, Placement)}


def canonical(data: bytes):
    header, persons, faults = message.read(data)
    assert not faults
    return sorted(((p.fields, p.requests) for p in persons), key=lambda p: (p[0]["surname"], p[0]["forename"]))


def test_the_file_made_here_is_valid_against_the_xsd():
    assert message.schema().validate(etree.fromstring(sen2_file(IN_FORCE, AWAITING, ASSESSING, CEASED)))


def test_import_puts_each_request_at_its_stage_and_export_gives_it_back(store_url, tmp_path, monkeypatch):
    monkeypatch.setenv("EHC_TODAY", TODAY)
    src = tmp_path / "in.xml"
    src.write_bytes(sen2_file(IN_FORCE, AWAITING, ASSESSING, CEASED))
    result = run("import", "sen2", str(src))
    assert result.exit_code == 0, result.output
    assert "4 new" in result.output
    with db.session(store_url) as s:
        cases = {c.requested_on: c for c in s.exec(sa.select(Case)).scalars()}
        in_force = cases[dt.date(2019, 3, 4)]
        assert (in_force.status, in_force.plan_issued_on) == (CaseStatus.PLAN_IN_FORCE, dt.date(2019, 7, 15))
        annual = s.exec(sa.select(Step).where(Step.case_id == in_force.id)).scalars().one()
        # the next review is due within 12 months of the last review meeting (CFA s44(1))
        assert (annual.key, annual.started_on, annual.due_on) == ("review.annual:2", dt.date(2023, 6, 12),
                                                                   dt.date(2024, 6, 11))
        awaiting = cases[dt.date(2024, 1, 8)]
        assert (awaiting.status, awaiting.stage) == (CaseStatus.OPEN, Stage.DECISION_TO_ASSESS)
        due = {st.key: st.due_on for st in s.exec(sa.select(Step).where(Step.case_id == awaiting.id)).scalars()}
        assert due == {"assess.decision": dt.date(2024, 2, 19), "plan.final": dt.date(2024, 5, 27)}
        assessing = cases[dt.date(2023, 11, 1)]
        assert assessing.stage == Stage.ADVICE
        keys = {st.key for st in s.exec(sa.select(Step).where(Step.case_id == assessing.id)).scalars()}
        assert {"assess.decision", "plan.final", "advice:health", "advice:ep"} <= keys
        refused = cases[dt.date(2023, 2, 1)]
        assert (refused.status, refused.closed_on, refused.closed_reason) == ("closed", dt.date(2023, 3, 10),
                                                                              "not_to_assess")
        ceased = cases[dt.date(2017, 1, 9)]
        assert (ceased.closed_on, ceased.closed_reason) == (dt.date(2023, 7, 21), "plan ceased")
        urns = {(p.part, p.urn, p.ukprn, p.setting_type) for p in s.exec(sa.select(Placement)).scalars()}
        assert urns == {("plan", "100001", None, "OLA"), ("active", "100001", None, "OLA"),
                        ("plan", None, "10001234", "OTH")}
    out = tmp_path / "out.xml"
    result = run("export", "sen2", "--collection-year", "2024", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert message.schema().validate(etree.parse(str(out)))
    assert canonical(out.read_bytes()) == canonical(src.read_bytes())


def test_a_second_import_changes_nothing_and_a_later_file_updates(store_url, tmp_path, monkeypatch):
    monkeypatch.setenv("EHC_TODAY", TODAY)
    src = tmp_path / "in.xml"
    src.write_bytes(sen2_file(IN_FORCE, AWAITING, ASSESSING, CEASED))
    assert run("import", "sen2", str(src)).exit_code == 0
    before = counts(store_url)
    again = run("import", "sen2", str(src))
    assert again.exit_code == 0 and "0 new, 0 updated, 4 unchanged" in again.output
    assert counts(store_url) == before
    monkeypatch.setenv("EHC_TODAY", "2025-01-16")
    later = tmp_path / "later.xml"
    later.write_bytes(sen2_file(IN_FORCE.replace("<LastReview>2023-06-12", "<LastReview>2024-06-03")))
    result = run("import", "sen2", str(later))
    assert result.exit_code == 0 and "1 updated" in result.output, result.output
    with db.session(store_url) as s:
        steps = s.exec(sa.select(Step.key, Step.status, Step.started_on).where(
            Step.key.like("review.annual:%")).order_by(Step.id)).all()
    assert steps == [("review.annual:2", "done", dt.date(2023, 6, 12)),
                     ("review.annual:3", "open", dt.date(2024, 6, 3))]


def test_a_broken_file_is_refused_fault_by_fault_and_nothing_of_a_bad_person_is_written(store_url, tmp_path,
                                                                                       monkeypatch):
    monkeypatch.setenv("EHC_TODAY", TODAY)
    bad_sex = AWAITING.replace("<Sex>F</Sex>", "<Sex>Q</Sex>")
    bad_dates = ASSESSING.replace("<RequestOutcomeDate>2023-12-06", "<RequestOutcomeDate>2023-10-01").replace(
        "<PersonBirthDate>2014-06-23", "<PersonBirthDate>2014-06-31")
    bad_dates = bad_dates.replace("<UniqueLearnerNumber>1234567890<", "<UniqueLearnerNumber>12345<")
    bad_order = CEASED.replace("<CeaseDate>2023-07-21", "<CeaseDate>2016-07-21")
    src = tmp_path / "bad.xml"
    src.write_bytes(sen2_file(IN_FORCE, bad_sex, bad_dates, bad_order))
    result = CliRunner().invoke(app, ["import", "sen2", str(src)])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert lines[0].startswith("error: Person[2]: /Message/Persons/Person[2]/Sex: ")
    assert any(line.startswith("error: Person[3]: /Message/Persons/Person[3]/PersonBirthDate: ") for line in lines)
    assert any(line == "error: Person[4]: /Message/Persons/Person[4]/Requests/Assessment/NamedPlan/CeaseDate: "
               "must not be before StartDate" for line in lines)
    assert any(line.startswith("error: Person[3]: /Message/Persons/Person[3]/UniqueLearnerNumber: the value is not "
                               "accepted by the pattern") for line in lines)
    assert len(lines) == 4, lines
    for line in lines:  # names, dates of birth, postcodes, identifiers, codes from the file never appear
        assert not any(word in line for word in NAMES + ("2014-06-31", "'Q'", "WBRI", "12345"))
    assert "1 new" in result.stdout and "3 refused" in result.stdout
    assert counts(store_url)["child"] == counts(store_url)["sen2_person"] == 1
    with db.session(store_url) as s:
        assert s.exec(sa.select(Child.name)).scalars().all() == ["Ada Lovelace"]


def test_an_engine_rule_names_the_element_and_a_dry_run_writes_nothing(store_url, tmp_path, monkeypatch):
    monkeypatch.setenv("EHC_TODAY", TODAY)
    src = tmp_path / "bad.xml"
    src.write_bytes(sen2_file(ASSESSING.replace("<RequestOutcomeDate>2023-12-06", "<RequestOutcomeDate>2023-10-01")))
    result = CliRunner().invoke(app, ["import", "sen2", str(src)])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: Person[1]: /Message/Persons/Person/Requests[1]/RequestOutcomeDate: "
                                     "must not be before ReceivedDate")
    src.write_bytes(sen2_file(IN_FORCE, CEASED))
    dry = run("import", "sen2", str(src), "--dry-run")
    assert dry.exit_code == 0 and "would import 2 persons: 2 new" in dry.output
    assert counts(store_url)["case"] == 0


def test_a_file_that_is_not_sen2_is_refused_whole(store_url, tmp_path, monkeypatch):
    monkeypatch.setenv("EHC_TODAY", TODAY)
    src = tmp_path / "bad.xml"
    src.write_bytes(sen2_file(IN_FORCE).replace(b"<LEA>208</LEA>", b"<LEA>20</LEA>"))
    result = CliRunner().invoke(app, ["import", "sen2", str(src)])
    assert result.exit_code == 2 and result.stderr.startswith("error: file: /Message/Header/Source/LEA: ")
    assert counts(store_url)["child"] == 0


def test_the_vendored_xsd_is_the_recorded_one():
    import hashlib

    digest = hashlib.sha256(message.XSD.read_bytes()).hexdigest()
    assert digest == "447662ee6c61c30e74700960f2f52bb0b8fdc939060fd6258a0dc1cbff25f131"
    assert digest in (message.XSD.parent / "README.md").read_text()


def test_a_person_an_act_refuses_leaves_nothing_and_the_others_are_written(store_url, tmp_path, monkeypatch):
    """The acts run after the in-flight persons are inserted together; one refused undoes the savepoint and the
    rest are written again without them."""
    from models.errors import InputError
    from models.sen2 import load

    monkeypatch.setenv("EHC_TODAY", TODAY)
    real = load.decide_to_assess

    def refuse_one(s, reference, assess, on, today, actor):
        if on == dt.date(2023, 12, 6):
            raise InputError("--on", "refused by the test")
        return real(s, reference, assess, on, today, actor)

    monkeypatch.setattr(load, "decide_to_assess", refuse_one)
    src = tmp_path / "in.xml"
    src.write_bytes(sen2_file(AWAITING, ASSESSING, IN_FORCE))
    result = CliRunner().invoke(app, ["import", "sen2", str(src)])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: Person[2]: /Message/Persons/Person[2]: refused by the test"
    with db.session(store_url) as s:
        assert sorted(s.exec(sa.select(Child.name)).scalars()) == ["Ada Lovelace", "Grace Hopper"]
        assert s.exec(sa.select(sa.func.count()).select_from(Case)).scalar() == 2


def test_a_case_opened_in_the_engine_is_in_the_export_from_its_steps(store_url, tmp_path, monkeypatch):
    from models.assessment import decide_to_assess
    from models.casework import open_case

    monkeypatch.setenv("EHC_TODAY", TODAY)
    src = tmp_path / "in.xml"
    src.write_bytes(sen2_file(IN_FORCE))
    assert run("import", "sen2", str(src)).exit_code == 0
    with db.session(store_url) as s:
        case = open_case(s, child_name="Mary Somerville", dob=dt.date(2015, 12, 26), requested_on=dt.date(2023, 10, 2),
                         requester="parent", today=dt.date(2024, 1, 18), actor="test")
        decide_to_assess(s, case.reference, True, dt.date(2023, 11, 6), dt.date(2024, 1, 18), "test")
        open_case(s, child_name="Caroline Herschel", dob=dt.date(2016, 3, 16), requested_on=dt.date(2024, 1, 10),
                  requester="parent", today=dt.date(2024, 1, 18), actor="test")
    out = tmp_path / "out.xml"
    result = run("export", "sen2", "--collection-year", "2024", "--out", str(out))
    assert result.exit_code == 0 and "wrote 3 persons" in result.output, result.output
    assert message.schema().validate(etree.parse(str(out)))
    persons = {p[0]["surname"]: p for p in canonical(out.read_bytes())}
    fields, (request,) = persons["Somerville"]
    assert (fields["forename"], fields["sex"], fields["ethnicity"]) == ("Mary", "U", "NOBT")
    assert (request["received_on"], request["request_outcome"], request["request_outcome_on"],
            request["assessment_outcome"], request["week20"]) == (dt.date(2023, 10, 2), "Y", dt.date(2023, 11, 6),
                                                                  "A", False)
    assert persons["Herschel"][1][0]["request_outcome"] == "A"


def test_the_review_scheduler_sees_each_imported_plan_from_its_last_review(store_url, tmp_path, monkeypatch):
    from models.review_cycle import pending_cycles

    monkeypatch.setenv("EHC_TODAY", TODAY)
    src = tmp_path / "in.xml"
    no_review = IN_FORCE.replace("A123456789012", "A123456789013").replace(
        "<ReviewMeeting>2023-06-12</ReviewMeeting><ReviewOutcome>M</ReviewOutcome><LastReview>2023-06-12</LastReview>",
        "").replace("Lovelace", "Byron")
    src.write_bytes(sen2_file(IN_FORCE, no_review))
    assert run("import", "sen2", str(src)).exit_code == 0
    with db.session(store_url) as s:
        cycles = {(r.cycle, r.anchor_on, r.annual_due_on) for _, r in pending_cycles(s, dt.date(2024, 1, 18))}
    assert cycles == {(2, dt.date(2023, 6, 12), dt.date(2024, 6, 11)), (1, dt.date(2019, 7, 15), dt.date(2020, 7, 14))}


def test_a_child_the_engine_already_has_is_the_same_child(store_url, tmp_path, monkeypatch):
    from models.casework import close_case, open_case

    monkeypatch.setenv("EHC_TODAY", TODAY)
    with db.session(store_url) as s:  # an earlier request of hers, withdrawn (a child has one open case at most)
        case = open_case(s, child_name="Ada Lovelace", dob=dt.date(2012, 12, 10), requested_on=dt.date(2018, 1, 8),
                         requester="parent", today=dt.date(2024, 1, 18), actor="test")
        close_case(s, case, dt.date(2018, 1, 20), "test", "withdrawn", "withdrawn")
    src = tmp_path / "in.xml"
    src.write_bytes(sen2_file(IN_FORCE))
    assert run("import", "sen2", str(src)).exit_code == 0
    with db.session(store_url) as s:
        assert s.exec(sa.select(sa.func.count()).select_from(Child)).scalar() == 1
        assert len(s.exec(sa.select(Case.child_id).distinct()).all()) == 1


def test_a_generated_council_return_goes_round_unchanged(store_url, tmp_path, monkeypatch):
    """The benchmark's return (plans in force and ceased, refusals, withdrawals, requests in flight), smaller."""
    from benchmarks.sen2 import cohort

    monkeypatch.setenv("EHC_TODAY", TODAY)
    src = tmp_path / "in.xml"
    src.write_bytes(cohort(300, seed=7))
    result = run("import", "sen2", str(src))
    assert result.exit_code == 0 and "300 new" in result.output, result.output
    out = tmp_path / "out.xml"
    assert run("export", "sen2", "--collection-year", "2024", "--out", str(out)).exit_code == 0
    assert canonical(out.read_bytes()) == canonical(src.read_bytes())


def test_a_plan_issued_in_the_engine_is_in_the_export_with_the_setting_it_names(store_url, tmp_path, monkeypatch):
    """A plan the engine issued (not imported) is written: the decision to issue, the NamedPlan from the plan's
    start and the setting it names; valid against the XSD. One naming no setting is left out and counted."""
    from models.assessment import decide_to_assess
    from models.casework import get_case, open_case
    from models.review_cycle import put_plan_in_force

    monkeypatch.setenv("EHC_TODAY", TODAY)
    src = tmp_path / "in.xml"
    src.write_bytes(sen2_file(IN_FORCE))
    assert run("import", "sen2", str(src)).exit_code == 0
    with db.session(store_url) as s:
        for name, dob, urn in (("Emmy Noether", dt.date(2013, 3, 23), 100001),
                               ("Sophie Germain", dt.date(2013, 4, 1), None)):
            case = open_case(s, child_name=name, dob=dob, requested_on=dt.date(2023, 3, 6), requester="parent",
                             today=dt.date(2024, 1, 18), actor="test")
            decide_to_assess(s, case.reference, True, dt.date(2023, 4, 14), dt.date(2024, 1, 18), "test")
            case = get_case(s, case.reference)
            case.requested_setting_urn = urn
            put_plan_in_force(s, case, dt.date(2023, 7, 21), "test")
    out = tmp_path / "out.xml"
    result = run("export", "sen2", "--collection-year", "2024", "--out", str(out))
    assert result.exit_code == 0 and "wrote 2 persons" in result.output, result.output
    assert "left out 1 plans issued in the engine naming no setting" in result.output
    assert message.schema().validate(etree.parse(str(out)))
    persons = {p[0]["surname"]: p for p in canonical(out.read_bytes())}
    assert "Germain" not in persons
    _, (request,) = persons["Noether"]
    assert (request["received_on"], request["request_outcome"], request["assessment_outcome"],
            request["assessment_outcome_on"], request["has_named_plan"], request["start_on"]) == (
        dt.date(2023, 3, 6), "Y", "Y", dt.date(2023, 7, 21), True, dt.date(2023, 7, 21))
    [placement] = request["placements"]
    assert (placement["urn"], placement["setting_type"], placement["rank"], placement["part"]) == (
        "100001", "OLA", 1, "plan")
