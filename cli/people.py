"""`ehc person|contact|caseload|cannot-notify`, `ehc case assign|setting`, `ehc setting import`: the people of a
case, the council's directory and its settings, the caseworker's caseload and what could not be sent (the
groups are put together in `cli.main`)."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import ID_RANGE, err_console, input_errors, print_json
from models import cannot_notify, caseload, casework, contacts, people, schools
from models.db import session
from models.errors import InputError
from models.imports import ImportReport
from models.settings import settings, today
from models.text import printable
from models.vocabulary import PersonRole, Prefers

person_app = typer.Typer(help="The people of a case: parents and carers, the young person, their social worker.",
                         no_args_is_help=True)
contact_app = typer.Typer(help="The council's directory: who is asked for advice and who works each queue.",
                          no_args_is_help=True)
cannot_notify_app = typer.Typer(help="Notices nobody could be sent, for the case's caseworker.",
                                no_args_is_help=True)

ROLE_HELP = " | ".join(PersonRole)
NEEDS_HELP = "communication needs, comma-separated: language:NAME, interpreter, easy read, large print"
BAD_ROWS = 2


def _person_json(p: people.Person) -> dict:
    return {"id": p.id, "role": p.role, "name": p.name, "email": p.email, "address": p.address,
            "postcode": p.postcode, "phone": p.phone, "prefers": p.prefers, "language": p.language,
            "interpreter": p.interpreter, "easy_read": p.easy_read, "large_print": p.large_print,
            "lacks_capacity": p.lacks_capacity, "parent_acts": p.parent_acts}


@person_app.command("add")
@input_errors
def person_add(
    reference: str = typer.Argument(..., metavar="REF"),
    role: str = typer.Option(..., "--role", help=ROLE_HELP),
    name: str = typer.Option(..., "--name"),
    email: str | None = typer.Option(None, "--email"),
    address: str | None = typer.Option(None, "--address", help="postal address, without the postcode"),
    postcode: str | None = typer.Option(None, "--postcode"),
    phone: str | None = typer.Option(None, "--phone"),
    prefers: str = typer.Option(Prefers.EMAIL, "--prefers", help=" | ".join(Prefers)),
    needs: str | None = typer.Option(None, "--needs", help=NEEDS_HELP),
    lacks_capacity: bool = typer.Option(False, "--lacks-capacity", help="a young person who lacks capacity (s80)"),
    parent_acts: bool = typer.Option(False, "--parent-acts", help="a young person who asked a parent to act"),
) -> None:
    """Record someone around a case; prints their id."""
    with session() as s:
        case = casework.get_case(s, reference)
        person = people.add_person(s, case, settings().actor, role=role, name=name, email=email, address=address,
                                   postcode=postcode, phone=phone, prefers=prefers, needs=needs,
                                   lacks_capacity=lacks_capacity, parent_acts=parent_acts)
        person_id = person.id
    typer.echo(person_id)


@person_app.command("update")
@input_errors
def person_update(
    reference: str = typer.Argument(..., metavar="REF"),
    person_id: int = typer.Argument(..., metavar="ID", **ID_RANGE),
    name: str | None = typer.Option(None, "--name"),
    email: str | None = typer.Option(None, "--email"),
    address: str | None = typer.Option(None, "--address"),
    postcode: str | None = typer.Option(None, "--postcode"),
    phone: str | None = typer.Option(None, "--phone"),
    prefers: str | None = typer.Option(None, "--prefers", help=" | ".join(Prefers)),
    needs: str | None = typer.Option(None, "--needs", help=NEEDS_HELP),
    lacks_capacity: bool | None = typer.Option(None, "--lacks-capacity/--has-capacity"),
    parent_acts: bool | None = typer.Option(None, "--parent-acts/--acts-alone"),
) -> None:
    """Change what is recorded about a person; what is not given stays as it is."""
    with session() as s:
        case = casework.get_case(s, reference)
        people.update_person(s, case, person_id, settings().actor, name=name, email=email, address=address,
                             postcode=postcode, phone=phone, prefers=prefers, needs=needs,
                             lacks_capacity=lacks_capacity, parent_acts=parent_acts)
    typer.echo(f"{reference}: person {person_id} updated")


@person_app.command("list")
@input_errors
def person_list(reference: str = typer.Argument(..., metavar="REF"),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """The people of a case and how each is reached."""
    with session() as s:
        case = casework.get_case(s, reference)
        found = people.people_of(s, {case.id})[case.id]
    if as_json:
        print_json([_person_json(p) for p in found])
        return
    for p in found:
        needs = [n for n, on in (("interpreter", p.interpreter), ("easy read", p.easy_read),
                                 ("large print", p.large_print)) if on] + ([f"language:{p.language}"] if p.language
                                                                           else [])
        flags = [f for f, on in (("lacks capacity", p.lacks_capacity), ("parent acts", p.parent_acts)) if on]
        where = ", ".join(x for x in (p.email, p.address, p.postcode, p.phone) if x) or "no contact details"
        extra = "; ".join(x for x in (", ".join(needs), ", ".join(flags)) if x)
        typer.echo(printable(f"{p.id}  {p.role}  {p.name}  prefers {p.prefers}  {where}"
                             + (f"  ({extra})" if extra else "")))


@input_errors
def case_assign(reference: str = typer.Argument(..., metavar="REF"),
                caseworker: str = typer.Option(..., "--caseworker", help="the caseworker's email address")) -> None:
    """Name a case's caseworker: the council's own steps are chased at them."""
    with session() as s:
        case = caseload.assign(s, casework.get_case(s, reference), caseworker, settings().actor)
        email = case.caseworker_email
    typer.echo(f"{reference}: caseworker {email}")


@input_errors
def case_setting(reference: str = typer.Argument(..., metavar="REF"),
                 current: str | None = typer.Option(None, "--current", help="URN of the setting the child attends"),
                 requested: str | None = typer.Option(None, "--requested", help="URN of the setting asked for"),
                 ) -> None:
    """Name the child's current and requested settings by their DfE URN (neither given: show them)."""
    la_code = settings().council_la_code
    with session() as s:
        case = casework.get_case(s, reference)
        if current is not None or requested is not None:
            schools.place(s, case, settings().actor, current, requested)
        named = schools.settings_by_urn(s, {u for u in (case.current_setting_urn, case.requested_setting_urn) if u})
        lines = [f"{reference}: {what} {urn} {named[urn].name} ({_area(schools.in_area(named[urn], la_code))})"
                 for what, urn in (("current", case.current_setting_urn), ("requested", case.requested_setting_urn))
                 if urn]
    typer.echo("\n".join(lines) or f"{reference}: no setting named")


def _area(inside: bool | None) -> str:
    return {True: "in area", False: "out of area", None: "area unknown: set EHC_COUNCIL_LA_CODE"}[inside]


@input_errors
def caseload_command(caseworker: str | None = typer.Option(None, "--caseworker", help="one caseworker's cases"),
                     as_json: bool = typer.Option(False, "--json")) -> None:
    """Open cases with their stage, next statutory date and what is overdue, soonest first."""
    with session() as s:
        rows = caseload.caseload(s, today(), caseworker)
    if as_json:
        print_json([row.__dict__ for row in rows])
        return
    if not rows:
        typer.echo("no open cases" + (f" for {caseworker}" if caseworker else ""))
    for r in rows:
        overdue = f"  OVERDUE {', '.join(r.overdue)}" if r.overdue else ""
        unreachable = f"  cannot notify {r.cannot_notify}" if r.cannot_notify else ""
        nxt = f"next {r.next_step} by {r.next_due}" if r.next_due else "nothing due"
        typer.echo(f"{r.reference}  {r.stage}  {r.caseworker or 'no caseworker'}  {nxt}{overdue}{unreachable}")


@contact_app.command("add")
@input_errors
def contact_add(role: str = typer.Option(..., "--role", help=" | ".join(contacts.DIRECTORY_ROLES)),
                organisation: str | None = typer.Option(None, "--organisation"),
                email: str = typer.Option(..., "--email"),
                name: str | None = typer.Option(None, "--name"),
                setting: str | None = typer.Option(None, "--setting", help="URN: the SENCO of this setting")) -> None:
    """Add (or update) the directory's entry for a role in an organisation."""
    if setting is not None and not setting.strip():
        raise InputError("--setting", "must be a URN (leave it out for none)")
    with session() as s:
        contact, outcome = contacts.add_contact(s, role=role, organisation=organisation, email=email,
                                                actor=settings().actor, name=name, urn=setting)
        contact_id = contact.id
    typer.echo(f"contact {contact_id} {outcome}")


@contact_app.command("list")
@input_errors
def contact_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """The council's directory."""
    with session() as s:
        found = [(c.id, c.role, c.organisation, c.email, c.name) for c in contacts.directory(s)]
    if as_json:
        print_json([dict(zip(("id", "role", "organisation", "email", "name"), c, strict=True)) for c in found])
        return
    for cid, role, organisation, email, name in found:
        typer.echo(printable(f"{cid}  {role}  {organisation}  {email}" + (f"  ({name})" if name else "")))


def _report(report: ImportReport, what: str) -> None:
    typer.echo(f"{what}: {report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
               f"{len(report.bad)} bad rows")
    for number, exc in report.bad:
        err_console.print(f"error: row {number}: {exc}", markup=False, highlight=False, soft_wrap=True)
    if report.bad:
        raise typer.Exit(BAD_ROWS)


@contact_app.command("import")
@input_errors
def contact_import(path: Path = typer.Argument(..., metavar="FILE", help="CSV: role, organisation, email[, name, urn]")
                   ) -> None:
    """Load a directory CSV; loading it again changes nothing. A bad row is reported and none of it written."""
    with session() as s:
        report = contacts.import_contacts(s, path, settings().actor)
    _report(report, "contacts")


@input_errors
def setting_import(path: Path = typer.Argument(..., metavar="FILE", help="DfE GIAS establishment CSV")) -> None:
    """Load settings from DfE's "Get Information About Schools" CSV; idempotent, bad rows reported by number."""
    with session() as s:
        report = schools.import_gias(s, path, settings().actor)
    _report(report, "settings")


@cannot_notify_app.command("list")
@input_errors
def cannot_notify_list(caseworker: str | None = typer.Option(None, "--caseworker"),
                       as_json: bool = typer.Option(False, "--json")) -> None:
    """Notices nobody could be sent, oldest first."""
    with session() as s:
        found = cannot_notify.items(s, caseworker)
    if as_json:
        print_json([i._asdict() for i in found])
        return
    for i in found:
        typer.echo(f"{i.id}  {i.on}  {i.reference}  {i.kind} to {i.recipient_role}: {i.reason}  "
                   f"({i.caseworker or 'no caseworker'})")


@cannot_notify_app.command("resolve")
@input_errors
def cannot_notify_resolve(item_id: int = typer.Argument(..., metavar="ID", **ID_RANGE),
                          note: str = typer.Option(..., "--note", help="what was done")) -> None:
    """Close an item once the family was told another way or their details recorded."""
    with session() as s:
        cannot_notify.resolve(s, item_id, settings().actor, note)
    typer.echo(f"cannot_notify {item_id} resolved")
