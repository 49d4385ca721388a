"""The SEN2 XML message: read and checked against the vendored 2024 XSD, and written from plain records.

A record is a dict keyed by the names of `sen2_request`/`placement`/`sen2_person` columns; dates are `dt.date`,
SEN2 booleans (`yesnotype`) are `bool`, codes stay strings. Errors are (person, element path, rule) with no value
from the file in them: a bad date of birth or postcode is named by its element, never shown.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from lxml import etree

XSD = Path(__file__).with_name("SEN2_schema_2024.liiatools.xsd")


class Code(StrEnum):
    """RequestOutcome and AssessmentOutcome (the XSD's annotations)."""

    YES = "Y"  # proceeded to assess / decided to issue a plan
    NO = "N"  # decided not to assess / not to issue
    AWAITING = "A"  # decision not yet made
    WITHDRAWN = "W"  # withdrawn or ceased before the decision
    HISTORICAL = "H"  # decided before the collection period (or transferred in)


class Part(StrEnum):
    """Which list a placement is from: the named plan's `PlanDetail` or the active plan's `PlacementDetail`."""

    PLAN = "plan"
    ACTIVE = "active"


TRUE = ("true", "TRUE", "1")

PERSON = (("Surname", "surname", str), ("Forename", "forename", str), ("PersonBirthDate", "birth_date", dt.date),
          ("Sex", "sex", str), ("Ethnicity", "ethnicity", str), ("PostCode", "postcode", str), ("UPN", "upn", str),
          ("UniqueLearnerNumber", "uln", str), ("UPNunknown", "upn_unknown", str))
REQUEST = (("ReceivedDate", "received_on", dt.date), ("RYA", "rya", bool),
           ("RequestOutcomeDate", "request_outcome_on", dt.date), ("RequestOutcome", "request_outcome", str),
           ("RequestMediation", "request_mediation", bool), ("RequestTribunal", "request_tribunal", bool),
           ("Exported", "exported", str))
ASSESSMENT = (("AssessmentOutcome", "assessment_outcome", str), ("AssessmentOutcomeDate", "assessment_outcome_on",
              dt.date), ("AssessmentMediation", "assessment_mediation", bool),
              ("AssessmentTribunal", "assessment_tribunal", bool), ("OtherMediation", "other_mediation", bool),
              ("OtherTribunal", "other_tribunal", bool), ("Week20", "week20", bool))
PLAN_START = (("StartDate", "start_on", dt.date),)
PLAN_REST = (("PlanRes", "plan_res", str), ("PlanWBP", "plan_wbp", str), ("PB", "pb", bool), ("OA", "oa", bool),
             ("DP", "dp", str), ("CeaseDate", "cease_on", dt.date), ("CeaseReason", "cease_reason", str))
ACTIVE_START = (("TransferLA", "transfer_la", str),)
ACTIVE_REST = (("ReviewMeeting", "review_meeting_on", dt.date), ("ReviewOutcome", "review_outcome", str),
               ("LastReview", "last_review_on", dt.date))
_SETTING = (("URN", "urn", str), ("UKPRN", "ukprn", str), ("SENSetting", "setting_type", str),
            ("SENSettingOther", "setting_other", str), ("PlacementRank", "rank", int))
_INDICATORS = (("SENunitIndicator", "sen_unit", bool), ("ResourcedProvisionIndicator", "resourced_provision", bool))
PLAN_DETAIL = _SETTING + _INDICATORS
PLACEMENT_DETAIL = _SETTING + (("EntryDate", "entry_on", dt.date), ("LeavingDate", "leaving_on", dt.date)) + \
    _INDICATORS + (("Res", "res", str), ("WBP", "wbp", str))
PARENTS = {**{name: "/Assessment" for name, _, _ in ASSESSMENT}, "NamedPlan": "/Assessment",
           **{name: "/Assessment/NamedPlan" for name, _, _ in PLAN_START + PLAN_REST},
           **{name: "/ActivePlans" for name, _, _ in ACTIVE_START + ACTIVE_REST}}
SCALARS = REQUEST + ASSESSMENT + PLAN_START + PLAN_REST + ACTIVE_START + ACTIVE_REST  # sen2_request's columns
PLACEMENT_KEYS = tuple(key for _, key, _ in PLACEMENT_DETAIL)


@dataclass(frozen=True)
class Fault:
    """One thing wrong with a record: the person (`Person[N]`, its place in the file), where, and which rule."""

    person: str
    path: str
    rule: str

    def __str__(self) -> str:
        return f"{self.person}: {self.path}: {self.rule}"


@dataclass
class Header:
    year: int | None
    reference_date: dt.date | None
    lea: str
    dmo: str
    dco: str
    software_code: str | None = None
    release: str | None = None


@dataclass
class Person:
    index: int  # 1-based place in the file
    fields: dict
    requests: list[dict] = field(default_factory=list)
    path: str = ""  # as lxml names it: /Message/Persons/Person[N] (no [N] when the file has one person)
    request_count: int = 0

    @property
    def label(self) -> str:
        return f"Person[{self.index}]"

    def element_path(self, seq: int, element: str) -> str:
        """The path of one element of the person's `seq`-th request, as lxml (and so the XSD's faults) names it."""
        request = f"{self.path}/Requests" + (f"[{seq}]" if self.request_count > 1 else "")
        return f"{request}{PARENTS.get(element, '')}/{element}"


def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


_THE_VALUE = re.compile(r"[Tt]he value '[^']*'")
_LEADING_VALUE = re.compile(r"^'[^']*'")
_PERSON_PATH = re.compile(r"^/Message/Persons/Person(?:\[(\d+)\])?")


def _rule(message: str) -> str:
    """lxml's message without the offending value (it may be a name, a date of birth, a postcode)."""
    rule = re.sub(r"^Element '[^']*'(, attribute '[^']*')?: ", "", message)
    rule = _LEADING_VALUE.sub("the value", _THE_VALUE.sub("the value", rule))
    rule = re.sub(r"\[facet '[^']*'\] ", "", rule)
    return rule.rstrip(".")


def _person_of(path: str) -> str | None:
    m = _PERSON_PATH.match(path or "")
    return f"Person[{m.group(1) or 1}]" if m else None


def _value(el, kind):
    text = (el.text or "").strip()
    if kind is bool:
        return text in TRUE
    if kind is dt.date:
        return dt.date.fromisoformat(text[:10])
    if kind is int:
        return int(text)
    return el.text or ""


def _fields(el, spec, out: dict) -> dict:
    children = {child.tag: child for child in el}
    for name, key, kind in spec:
        child = children.get(name)
        out[key] = None if child is None else _value(child, kind)
    return out


def _request(el) -> dict:
    rec = _fields(el, REQUEST, {})
    assessment = el.find("Assessment")
    plan = assessment.find("NamedPlan") if assessment is not None else None
    active = el.find("ActivePlans")
    rec["has_assessment"], rec["has_named_plan"], rec["has_active_plans"] = (
        assessment is not None, plan is not None, active is not None)
    if assessment is not None:
        _fields(assessment, ASSESSMENT, rec)
    else:
        rec.update({key: None for _, key, _ in ASSESSMENT})
    rec["placements"] = []
    if plan is not None:
        _fields(plan, PLAN_START + PLAN_REST, rec)
        rec["placements"] += [dict(_fields(d, PLACEMENT_DETAIL, {}), part=Part.PLAN)
                              for d in plan.findall("PlanDetail")]
    else:
        rec.update({key: None for _, key, _ in PLAN_START + PLAN_REST})
    if active is not None:
        _fields(active, ACTIVE_START + ACTIVE_REST, rec)
        rec["placements"] += [dict(_fields(d, PLACEMENT_DETAIL, {}), part=Part.ACTIVE)
                              for d in active.findall("PlacementDetail")]
        rec["sen_needs"] = [[n.findtext("SENtype"), int(n.findtext("SENtypeRank"))] for n in active.findall("SENneed")]
    else:
        rec.update({key: None for _, key, _ in ACTIVE_START + ACTIVE_REST})
        rec["sen_needs"] = []
    return rec


def read(data: bytes) -> tuple[Header | None, list[Person], list[Fault]]:
    """Parse and validate a whole return. Faults inside a `<Person>` are that person's; any other fault (not XML,
    a bad header) refuses the file, and no person is returned."""
    try:
        doc = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    except etree.XMLSyntaxError as exc:
        return None, [], [Fault("file", f"line {exc.lineno}", "not well-formed XML")]
    xsd = schema()
    xsd.validate(doc)
    faults = [Fault(_person_of(e.path) or "file", e.path or f"line {e.line}", _rule(e.message))
              for e in xsd.error_log]
    if any(f.person == "file" for f in faults):
        return None, [], [f for f in faults if f.person == "file"]
    source = doc.find("Header/Source")
    details = doc.find("Header/CollectionDetails")
    year = details.findtext("Year")
    ref = details.findtext("ReferenceDate")
    header = Header(int(year[:4]) if year else None, dt.date.fromisoformat(ref[:10]) if ref else None,
                    source.findtext("LEA"), source.findtext("DMO"), source.findtext("DCO"),
                    source.findtext("SoftwareCode"), source.findtext("Release"))
    bad = {f.person for f in faults}
    elements = doc.findall("Persons/Person")
    persons = []
    for i, el in enumerate(elements, start=1):
        person = Person(i, {}, path="/Message/Persons/Person" + (f"[{i}]" if len(elements) > 1 else ""))
        persons.append(person)
        if person.label not in bad:
            _fields(el, PERSON, person.fields)
            person.requests = [_request(r) for r in el.iterfind("Requests")]
            person.request_count = len(person.requests)
    return header, persons, faults


def _yes_no(value: bool) -> str:
    return "1" if value else "0"


def _put(parent, spec, rec: dict) -> None:
    for name, key, kind in spec:
        value = rec.get(key)
        if value is None:
            continue
        text = _yes_no(value) if kind is bool else value.isoformat() if kind is dt.date else str(value)
        etree.SubElement(parent, name).text = text


def write(header: Header, persons: list[tuple[dict, list[dict]]]) -> bytes:
    """The XML of a return: `persons` is (person fields, its requests), each request a record as `read` gives."""
    root = etree.Element("Message")
    head = etree.SubElement(root, "Header")
    details = etree.SubElement(head, "CollectionDetails")
    etree.SubElement(details, "Collection").text = "SEN2"
    if header.year:
        etree.SubElement(details, "Year").text = str(header.year)
    if header.reference_date:
        etree.SubElement(details, "ReferenceDate").text = header.reference_date.isoformat()
    source = etree.SubElement(head, "Source")
    etree.SubElement(source, "SourceLevel").text = "L"
    etree.SubElement(source, "LEA").text = header.lea
    for name, value in (("SoftwareCode", header.software_code), ("Release", header.release)):
        if value:
            etree.SubElement(source, name).text = value
    etree.SubElement(source, "DMO").text = header.dmo
    etree.SubElement(source, "DCO").text = header.dco
    people = etree.SubElement(root, "Persons")
    for fields, requests in persons:
        person = etree.SubElement(people, "Person")
        _put(person, PERSON, fields)
        for rec in requests:
            _put_request(etree.SubElement(person, "Requests"), rec)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _put_request(el, rec: dict) -> None:
    _put(el, REQUEST, rec)
    by_part = {Part.PLAN: [], Part.ACTIVE: []}
    for p in sorted(rec["placements"], key=lambda p: p["rank"]):
        by_part[p["part"]].append(p)
    if rec["has_assessment"]:
        assessment = etree.SubElement(el, "Assessment")
        _put(assessment, ASSESSMENT, rec)
        if rec["has_named_plan"]:
            plan = etree.SubElement(assessment, "NamedPlan")
            _put(plan, PLAN_START, rec)
            for p in by_part[Part.PLAN]:
                _put(etree.SubElement(plan, "PlanDetail"), PLAN_DETAIL, p)
            _put(plan, PLAN_REST, rec)
    if rec["has_active_plans"]:
        active = etree.SubElement(el, "ActivePlans")
        _put(active, ACTIVE_START, rec)
        for p in by_part[Part.ACTIVE]:
            _put(etree.SubElement(active, "PlacementDetail"), PLACEMENT_DETAIL, p)
        for sen_type, rank in rec["sen_needs"]:
            need = etree.SubElement(active, "SENneed")
            etree.SubElement(need, "SENtype").text = sen_type
            etree.SubElement(need, "SENtypeRank").text = str(rank)
        _put(active, ACTIVE_REST, rec)
