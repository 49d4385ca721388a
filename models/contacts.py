"""The council's directory: who is asked for advice and who works each escalation queue, by role.

Roles are the caseworker's words. A council loads its own directory into the `contact` table (`ehc contact add`,
`ehc contact import`); there are no stand-in addresses: a role with nobody in it is told to the case's
caseworker, and what nobody can be told goes on the `cannot_notify` queue (`notifications.compose`)."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from models import bulk
from models.addresses import validate_email
from models.cases import AuditEvent, Contact
from models.errors import InputError
from models.imports import ImportReport, import_rows, read_rows
from models.schools import get_setting, set_senco
from models.text import NAME_MAX, clean
from models.vocabulary import Role

FAMILY = "family"  # the parent, or the young person: the people of a case (`models.people`)

# advice source (reg 6(1)) → the role asked for it
ADVICE_ROLES = {
    "parent": FAMILY,
    "education": "senco",
    "health": "dco",
    "social_care": "social_care",
    "ep": "educational_psychologist",
    "hi": "hi_teacher",
    "vi": "vi_teacher",
    "pfa": "careers_adviser",
    "adult_social_care": "adult_social_care",
}

DIRECTORY_ROLES = tuple(r for r in Role if r not in (Role.FAMILY, Role.LA))  # the family are people of a case
CONTACT_COLUMNS = ("role", "organisation", "email")  # and optional `name`, `urn` (a setting's SENCO)


def find_contact(s: Session, role: str, organisation: str | None = None) -> Contact | None:
    """The contact for a role, at `organisation` where the directory has one there (a setting's own SENCO),
    else the council's first entry for the role; None where the directory has nobody. Read once a session
    (`bulk.kept`; `add_contact` forgets what was read)."""
    found = bulk.kept(s, "contact")
    if (role, organisation) in found and (found[role, organisation] is None or found[role, organisation] in s):
        return found[role, organisation]
    contact = None
    if organisation is not None:
        contact = s.exec(select(Contact).where(Contact.role == role, Contact.organisation == organisation)
                         .order_by(Contact.id)).first()
    if contact is None:
        contact = s.exec(select(Contact).where(Contact.role == role).order_by(Contact.id)).first()
    found[role, organisation] = contact
    return contact


def contact_for(s: Session, role: str, organisation: str | None = None) -> Contact:
    """As `find_contact`, but a role with nobody in the directory is an error."""
    contact = find_contact(s, role, organisation)
    if contact is None:
        raise InputError("role", f"no contact for role {role!r} in the directory (`ehc contact add`)")
    return contact


def add_contact(s: Session, *, role: str, organisation: str | None, email: str, actor: str, name: str | None = None,
                urn: str | None = None) -> tuple[Contact, str]:
    """Add or update the directory's entry for a role in an organisation (one per pair): says "added", "updated"
    or "unchanged", so loading the same directory twice changes nothing. With `urn`, the entry is that
    setting's SENCO and the organisation is the setting's name."""
    if role not in DIRECTORY_ROLES:
        raise InputError("--role", f"must be one of {', '.join(DIRECTORY_ROLES)}")
    email = validate_email(email, "--email")
    setting = None
    if urn:
        if role != Role.SENCO:
            raise InputError("--setting", "names the setting of a SENCO only")
        setting = get_setting(s, urn, "--setting")
        organisation = organisation or setting.name
    if not (organisation or "").strip():
        raise InputError("--organisation", "must not be empty")
    organisation = clean(organisation, "--organisation", NAME_MAX)
    name = clean(name, "--name", NAME_MAX) if (name or "").strip() else None
    contact = s.exec(select(Contact).where(Contact.role == role, Contact.organisation == organisation)).first()
    if contact is None:
        contact, outcome = Contact(role=role, organisation=organisation, email=email, name=name), "added"
    elif (contact.email, contact.name) == (email, name):
        outcome = "unchanged"
    else:
        contact.email, contact.name, outcome = email, name, "updated"
    s.add(contact)
    s.flush()
    bulk.kept(s, "contact").clear()
    if setting is not None and setting.senco_contact_id != contact.id:
        set_senco(s, setting, contact)
        outcome = "updated" if outcome == "unchanged" else outcome
    if outcome != "unchanged":
        s.add(AuditEvent(actor=actor, action=f"contact {outcome}",
                         detail={"contact": contact.id, "role": role, "organisation": organisation}))
    return contact, outcome


def import_contacts(s: Session, path: Path, actor: str) -> ImportReport:
    """Load a directory CSV (columns role, organisation, email, and optionally name, urn); idempotent."""
    def write(row: dict[str, str]) -> str:
        return add_contact(s, role=row["role"], organisation=row["organisation"], email=row["email"], actor=actor,
                           name=row.get("name"), urn=row.get("urn") or None)[1]

    return import_rows(read_rows(path, CONTACT_COLUMNS), write, s.begin_nested)


def directory(s: Session) -> list[Contact]:
    return list(s.exec(select(Contact).order_by(Contact.role, Contact.organisation, Contact.id)))


def staff_member(s: Session, who: str | None) -> str:
    """Who recorded an act on a Prefect form, as the council's directory names them (by name or email, any case):
    the audit keeps that name. Anyone else is refused, naming the field."""
    given = (who or "").strip()
    if not given:
        raise InputError("recorded_by", "say who is recording this: your name or email as the directory has it")
    wanted = given.casefold()
    for contact in s.exec(select(Contact)):
        if wanted in {contact.email.casefold(), (contact.name or "").casefold()}:
            return contact.name or contact.email
    raise InputError("recorded_by", "not in the council's directory (`ehc contact list`)")
