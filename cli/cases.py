"""`ehc case open|show`: registering a request and reading a case from the store (the `case` group is built in
`cli.main`)."""

from __future__ import annotations

import typer

from cli.common import date_arg, input_errors, print_json
from models import assessment, casework
from models.db import session
from models.errors import InputError
from models.settings import settings, today
from models.text import printable
from models.vocabulary import CASE_FLAGS
from notifications import compose

FLAG_HELP = f"advice the case needs beyond the usual: {' | '.join(CASE_FLAGS)}"


@input_errors
def open_(
    child_name: str = typer.Option(..., "--child-name"),
    dob: str = typer.Option(..., "--dob", help="YYYY-MM-DD"),
    requested_on: str = typer.Option(..., "--requested-on", help="YYYY-MM-DD: the day the LA received the request"),
    requester: str = typer.Option(..., "--requester", help="parent | young-person | setting | other"),
    flag: list[str] = typer.Option([], "--flag", help=FLAG_HELP),
    parent_name: str | None = typer.Option(None, "--parent-name", help="the parent making or joining the request"),
    parent_email: str | None = typer.Option(None, "--parent-email"),
    parent_address: str | None = typer.Option(None, "--parent-address", help="postal address, without the postcode"),
    parent_postcode: str | None = typer.Option(None, "--parent-postcode"),
    parent_prefers: str | None = typer.Option(None, "--parent-prefers", help="email | post"),
) -> None:
    """Register a request for an EHC needs assessment; prints the new case reference."""
    born = date_arg(dob, "--dob")
    requested = date_arg(requested_on, "--requested-on")
    details = {"email": parent_email, "address": parent_address, "postcode": parent_postcode,
               **({"prefers": parent_prefers} if parent_prefers is not None else {})}
    if parent_name is None and any(details.values()):
        raise InputError("--parent-name", "is needed with the parent's other details")
    parent = {"name": parent_name, **details} if parent_name is not None else None
    with session() as s:
        case = casework.open_case(s, child_name=child_name, dob=born, requested_on=requested,
                                  requester=requester, today=today(), actor=settings().actor, flags=flag,
                                  parent=parent)
        reference = case.reference
        compose.write(s, assessment.request_notices(s, reference))  # reg 4(1), in the request's transaction
    typer.echo(reference)


@input_errors
def show(reference: str = typer.Argument(..., metavar="REF"), as_json: bool = typer.Option(False, "--json")) -> None:
    """Print a case, its steps and their deadlines."""
    with session() as s:
        case = casework.get_case(s, reference)
        child = casework.child_of(s, case)
        steps = casework.case_steps(s, case)
        exceptions = casework.case_exceptions(s, case)
    if as_json:
        print_json({
            "reference": case.reference, "stage": case.stage, "status": case.status, "rule_set": case.rule_set,
            "requested_on": case.requested_on, "caseworker": case.caseworker_email,
            "current_setting_urn": case.current_setting_urn, "requested_setting_urn": case.requested_setting_urn,
            "steps": [{"key": st.key, "rule": st.rule_id, "role": st.role, "due": st.due_on, "target": st.target_on,
                       "disapplied": st.disapplied, "status": st.status, "completed_on": st.completed_on}
                      for st in steps],
            "exceptions": [{"kind": e.kind, "from": e.start_on, "to": e.end_on} for e in exceptions],
        })
        return
    # Plain lines, not a rich table: piped or in a narrow terminal, a table cut the dates short ("2025-02-…").
    typer.echo(f"{case.reference}  {printable(child.name)} (born {child.date_of_birth})")
    typer.echo(f"stage {case.stage} · status {case.status} · requested {case.requested_on} "
               f"by {case.requester} · rule set {case.rule_set} · caseworker {case.caseworker_email or 'none'}")
    rows = [("step", "rule", "who", "started", "due", "target", "status", "done")] + [
        (st.key, st.rule_id or "", st.role, str(st.started_on), f"{st.due_on}{'*' if st.disapplied else ''}",
         str(st.target_on or ""), st.status, str(st.completed_on or "")) for st in steps]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    if any(st.disapplied for st in steps):
        typer.echo("* disapplied by a clock exception: due as soon as practicable; the target is local practice")
    for e in exceptions:
        typer.echo(f"exception {e.kind} {e.start_on} … {e.end_on}: {printable(e.evidence_note)}")
