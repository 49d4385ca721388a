"""Settings (schools, colleges, early years) by their DfE URN, loaded from "Get Information About Schools", each
with its SENCO's directory entry; in or out of the council's area by the DfE LA code.

A child's current and requested settings are named by URN on their case (`case.current_setting_urn`,
`case.requested_setting_urn`)."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Field, Session, SQLModel, col, select

from models.addresses import validate_postcode
from models.cases import AuditEvent, Case, Contact
from models.council import LA_CODE
from models.errors import InputError
from models.imports import ImportReport, import_rows, read_rows

GIAS_COLUMNS = ("URN", "EstablishmentName", "TypeOfEstablishment (name)", "PhaseOfEducation (name)", "LA (code)",
                "Postcode")


class Setting(SQLModel, table=True):
    """One establishment of DfE's register."""

    id: int | None = Field(default=None, primary_key=True)
    urn: int = Field(unique=True, index=True)
    name: str
    type: str
    phase: str
    la_code: str
    postcode: str | None = None
    senco_contact_id: int | None = Field(default=None, foreign_key="contact.id")


def in_area(setting: Setting, council_la_code: str | None) -> bool | None:
    """Whether the setting is in the council's area; None when the council's LA code is not configured."""
    return None if council_la_code is None else setting.la_code == council_la_code


def parse_urn(value: str, field: str = "--urn") -> int:
    if not value.strip().isdigit() or not 100000 <= int(value) <= 999999:
        raise InputError(field, "a URN is 6 digits")
    return int(value)


def get_setting(s: Session, urn: str | int, field: str = "--urn") -> Setting:
    """The setting of a URN the register knows; an unknown URN is refused."""
    number = parse_urn(str(urn), field)
    setting = s.exec(select(Setting).where(Setting.urn == number)).first()
    if setting is None:
        raise InputError(field, f"unknown URN {number} (load the establishments with `ehc setting import`)")
    return setting


def settings_by_urn(s: Session, urns: set[int]) -> dict[int, Setting]:
    if not urns:
        return {}
    return {st.urn: st for st in s.exec(select(Setting).where(col(Setting.urn).in_(urns)))}


def _gias_row(s: Session, row: dict[str, str]) -> str:
    urn = parse_urn(row["URN"], "URN")
    name = row["EstablishmentName"]
    if not name:
        raise InputError("EstablishmentName", "must not be empty")
    la_code = row["LA (code)"]
    if not LA_CODE.match(la_code):
        raise InputError("LA (code)", "must be a 3-digit LA code")
    postcode = validate_postcode(row["Postcode"], "Postcode") if row["Postcode"] else None
    values = {"name": name, "type": row["TypeOfEstablishment (name)"], "phase": row["PhaseOfEducation (name)"],
              "la_code": la_code, "postcode": postcode}
    existing = s.exec(select(Setting).where(Setting.urn == urn)).first()
    if existing is None:
        s.add(Setting(urn=urn, **values))
        return "added"
    if all(getattr(existing, k) == v for k, v in values.items()):
        return "unchanged"
    for k, v in values.items():
        setattr(existing, k, v)
    s.add(existing)
    return "updated"


def import_gias(s: Session, path: Path, actor: str) -> ImportReport:
    """Load DfE's establishment CSV: a URN seen before is updated, so loading the same file twice changes
    nothing; a bad row is reported by its number and none of it written."""
    report = import_rows(read_rows(path, GIAS_COLUMNS), lambda row: _gias_row(s, row), s.begin_nested)
    s.add(AuditEvent(actor=actor, action="settings imported",
                     detail={"added": report.added, "updated": report.updated, "bad_rows": len(report.bad)}))
    return report


def set_senco(s: Session, setting: Setting, contact: Contact) -> None:
    setting.senco_contact_id = contact.id
    s.add(setting)


def place(s: Session, case: Case, actor: str, current: str | None = None, requested: str | None = None) -> Case:
    """Name the child's current or requested setting by URN (a URN the register does not know is refused)."""
    changes = {}
    if current is not None:
        changes["current_setting_urn"] = get_setting(s, current, "--current").urn
    if requested is not None:
        changes["requested_setting_urn"] = get_setting(s, requested, "--requested").urn
    if not changes:
        raise InputError("--current", "give --current or --requested")
    for k, v in changes.items():
        setattr(case, k, v)
    s.add(case)
    s.add(AuditEvent(case_id=case.id, actor=actor, action="settings named", detail=changes))
    return case
