"""The people of a case: the parents or carers with parental responsibility, the young person, their social
worker; how each is reached, and who is told the family's notices.

Their names and contact details are personal data: they stay in `person`, and everything that leaves the store
names a person by role and id only. A young person takes the decisions from the end of compulsory school age
(CFA s83(2)); where they lack capacity, or ask a parent to act for them, the parent is told too (CFA s80,
SEND Code of Practice chapter 8)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models import bulk, statutory
from models.addresses import validate_email, validate_postcode
from models.cases import AuditEvent, Case, Child, utcnow
from models.errors import InputError
from models.text import NAME_MAX, NOTE_MAX, clean
from models.vocabulary import PARENTAL_ROLES, Channel, PersonRole, Prefers

NEEDS = {"interpreter": "interpreter", "easy read": "easy_read", "large print": "large_print"}
LANGUAGE = "language:"  # `--needs "language:Polish, interpreter"`
KEPT = "people"  # `bulk.kept`: each case's people, by case id


class Person(SQLModel, table=True):
    """Someone around a case, with how they want to be written to and what helps them read it."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    role: str  # PersonRole
    name: str
    email: str | None = None
    address: str | None = None  # postal address, lines separated by commas, without the postcode
    postcode: str | None = None
    phone: str | None = None
    prefers: str = Prefers.EMAIL
    language: str | None = None  # the language to write in, where not English
    interpreter: bool = False
    easy_read: bool = False
    large_print: bool = False
    lacks_capacity: bool = False  # a young person who lacks capacity to decide (CFA s80)
    parent_acts: bool = False  # a young person who asked their parent to act for them (Code 8.15)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))


class Reach(NamedTuple):
    channel: Channel
    email: str | None
    postal_address: str | None


def parse_needs(text: str) -> dict:
    """Communication needs from `"language:Polish, interpreter, easy read, large print"` (any of them)."""
    needs = {"language": None, "interpreter": False, "easy_read": False, "large_print": False}
    if text.strip():  # empty: no needs
        text = clean(text, "--needs", NOTE_MAX)
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        lowered = " ".join(item.lower().replace("-", " ").split())
        if lowered.startswith(LANGUAGE):
            needs["language"] = item.split(":", 1)[1].strip() or None
        elif lowered in NEEDS:
            needs[NEEDS[lowered]] = True
        else:
            raise InputError("--needs", f"unknown need (give language:NAME, {', '.join(NEEDS)})")
    return needs


def check_fields(changes: dict) -> dict:
    """The fields of a person as entered, validated; raises before anything is written."""
    out = dict(changes)
    if "role" in out and out["role"] not in tuple(PersonRole):
        raise InputError("--role", f"must be one of {', '.join(PersonRole)}")
    if "name" in out and not (out["name"] or "").strip():
        raise InputError("--name", "must not be empty")
    if out.get("email") is not None:  # given empty: refused (leave the option out for none)
        out["email"] = validate_email(out["email"], "--email")
    if out.get("postcode") is not None:
        out["postcode"] = validate_postcode(out["postcode"], "--postcode")
    if "prefers" in out and out["prefers"] not in tuple(Prefers):
        raise InputError("--prefers", f"must be one of {', '.join(Prefers)}")
    if "needs" in out:
        needs = out.pop("needs")
        if needs is not None:
            out.update(parse_needs(needs))
    for name, limit in (("name", NAME_MAX), ("address", NOTE_MAX), ("phone", NAME_MAX)):
        if out.get(name) is not None:  # an address or phone given empty clears it
            out[name] = clean(out[name], f"--{name}", limit) if out[name].strip() else None
    return out


def _check_young_person(person: Person) -> None:
    if person.role != PersonRole.YOUNG_PERSON and (person.lacks_capacity or person.parent_acts):
        raise InputError("--lacks-capacity" if person.lacks_capacity else "--parent-acts",
                         "is recorded for a young person only")
    if person.prefers == Prefers.POST and not (person.address and person.postcode):
        raise InputError("--prefers", "post needs a postal address and postcode")


def add_person(s: Session, case: Case, actor: str, **fields) -> Person:
    """Record someone around the case; the audit names their role and id, never their details."""
    person = Person(case_id=case.id, **check_fields(fields))
    _check_young_person(person)
    s.add(person)
    s.flush()
    bulk.kept(s, KEPT).pop(case.id, None)  # read again with this one (`people_of`)
    s.add(AuditEvent(case_id=case.id, actor=actor, action="person added",
                     detail={"person": person.id, "role": person.role}))
    return person


def get_person(s: Session, case: Case, person_id: int) -> Person:
    person = s.get(Person, person_id)
    if person is None or person.case_id != case.id:
        raise InputError("ID", f"no person {person_id} on {case.reference}")
    return person


def update_person(s: Session, case: Case, person_id: int, actor: str, **changes) -> Person:
    """Change the given fields of a person (a field not given keeps its value); audited by field name."""
    person = get_person(s, case, person_id)
    checked = check_fields({k: v for k, v in changes.items() if v is not None})
    for name, value in checked.items():
        setattr(person, name, value)
    _check_young_person(person)
    s.add(person)
    s.add(AuditEvent(case_id=case.id, actor=actor, action="person updated",
                     detail={"person": person.id, "role": person.role, "fields": sorted(checked)}))
    return person


def people_of(s: Session, case_ids: list[int] | set[int]) -> dict[int, list[Person]]:
    """The people of each case, by case id, in the order they were recorded: read once a session
    (`bulk.kept_by_case`: `add_person` forgets the case's, a bulk insert forgets all)."""
    return bulk.kept_by_case(s, KEPT, case_ids, lambda batch: s.exec(
        select(Person).where(bulk.among(s, col(Person.case_id), batch)).order_by(Person.id)))


def compulsory_school_age_ends(dob: dt.date) -> dt.date:
    """The last Friday in June of the school year in which the child turns 16 (Education Act 1996 s8(3)-(4))."""
    june_of = statutory.academic_year(dt.date(dob.year + 16, dob.month, min(dob.day, 28))) + 1
    last = dt.date(june_of, 6, 30)
    return last - dt.timedelta(days=(last.weekday() - 4) % 7)


def over_compulsory_school_age(child: Child, on: dt.date) -> bool:
    """A young person (CFA s83(2)): over compulsory school age on `on`."""
    return on > compulsory_school_age_ends(child.date_of_birth)


def family_recipients(people: list[Person], child: Child, on: dt.date) -> tuple[list[Person], str | None]:
    """Who the family's notices go to on `on`, or why nobody can be: a child's parents and carers; a young
    person themself, and their parents too where the young person lacks capacity or asked them to act."""
    parents = [p for p in people if p.role in PARENTAL_ROLES]
    if not over_compulsory_school_age(child, on):
        return parents, None if parents else "no parent or carer recorded"
    young = [p for p in people if p.role == PersonRole.YOUNG_PERSON]
    if not young:
        return [], "over compulsory school age: no young person recorded (CFA s83(2))"
    chosen = [p for p in young if not p.lacks_capacity]
    if any(p.lacks_capacity or p.parent_acts for p in young):
        chosen += parents
    return chosen, None if chosen else "the young person lacks capacity and no parent is recorded (CFA s80)"


def reach(person: Person) -> Reach | None:
    """How to write to a person: the way they prefer where their details allow it, else the other way, else
    None (nobody can be written to without an address)."""
    email = Reach(Channel.EMAIL, person.email, None) if person.email else None
    postal = (Reach(Channel.LETTER, None, f"{person.name}, {person.address}, {person.postcode}")
              if person.address and person.postcode else None)
    first, second = (postal, email) if person.prefers == Prefers.POST else (email, postal)
    return first or second
