"""The council's directory: who is asked for advice and who works each escalation queue, by role.

Roles are the caseworker's words. A council loads its own directory into the `contact` table; until it does,
the defaults below (example.org addresses) stand in, so the demo needs no set-up."""

from __future__ import annotations

from sqlmodel import Session, select

from models.cases import Case, Child, Contact
from models.errors import InputError

FAMILY = "family"  # the parent, or the young person: their address is personal data, kept on `child`

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

DEFAULT_CONTACTS = {
    "sen_caseworker": ("SEN team", "sen.team@example.org"),
    "sen_team_manager": ("SEN team", "sen.manager@example.org"),
    "senco": ("Setting", "senco@example.org"),
    "dco": ("Integrated Care Board", "dco@example.org"),
    "social_care": ("Children's social care", "social.care@example.org"),
    "social_care_manager": ("Children's social care", "social.care.manager@example.org"),
    "educational_psychologist": ("Educational psychology service", "ep.service@example.org"),
    "principal_ep": ("Educational psychology service", "principal.ep@example.org"),
    "hi_teacher": ("Sensory support service", "hearing.support@example.org"),
    "vi_teacher": ("Sensory support service", "vision.support@example.org"),
    "careers_adviser": ("Careers service", "careers@example.org"),
    "adult_social_care": ("Adult social care", "adult.social.care@example.org"),
}


def contact_for(s: Session, role: str, organisation: str | None = None) -> Contact:
    """The contact for a role, at `organisation` where the directory has one there (a setting's own SENCO);
    else the council's entry for the role, else the default one (written once)."""
    if organisation is not None:
        contact = s.exec(select(Contact).where(Contact.role == role, Contact.organisation == organisation)
                         .order_by(Contact.id)).first()
        if contact is not None:
            return contact
    contact = s.exec(select(Contact).where(Contact.role == role).order_by(Contact.id)).first()
    if contact is not None:
        return contact
    if role not in DEFAULT_CONTACTS:
        raise InputError("role", f"no contact for role {role!r}")
    organisation, email = DEFAULT_CONTACTS[role]
    contact = Contact(role=role, organisation=organisation, email=email)
    s.add(contact)
    s.flush()
    return contact


def family_email(s: Session, case: Case) -> str:
    """Where notices to the family go; the address stays in the store and is never logged."""
    child = s.get(Child, case.child_id)
    return child.family_email or f"family+{case.reference.lower()}@example.org"


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
