"""The demo's scripted cases (`cases.toml`, data) and the driver that gives their events on their days.

The driver opens each case, starts its run, then walks a calendar day by day: on each day that has events it
sets `EHC_TODAY`, gives the events through the `ehc` commands a caseworker uses (a callable it is handed, so
this layer never imports the command line), and waits until every case's run has caught up with the store.
Weeks pass in seconds because nothing sleeps until a date: a waiting case is a suspended run."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deployments.needs_assessment import settle_cases

CASES = Path(__file__).parent / "cases.toml"
DIRECTORY = Path(__file__).parent / "directory.csv"  # the demo council's directory: example.org addresses
SETTINGS = Path(__file__).parent / "settings.csv"  # a few made-up establishments in DfE's GIAS columns
DEMO_COUNCIL = {  # the demo council's own details for its notices (`models.council`)
    "EHC_COUNCIL_LA_CODE": "990",
    "EHC_COUNCIL_ADDRESS": "Town Hall, 1 High Street, Demoton",
    "EHC_COUNCIL_POSTCODE": "AB1 1AB",
    "EHC_COUNCIL_SEN_TEAM_EMAIL": "sen.team@example.org",
    "EHC_COUNCIL_SEN_TEAM_PHONE": "01234 567890",
    "EHC_COUNCIL_MEDIATION_ADVISER": "Demo Mediation Service, mediation@example.org, 01234 567891",
    "EHC_COUNCIL_SENDIASS": "Demoton SENDIASS, sendiass@example.org, 01234 567892",
    "EHC_DEFAULT_CASEWORKER": "sen.team@example.org",
    "EHC_DEMO": "1",  # its example.org contacts may be stated in its notices (nowhere else: `requirements.unstated`)
}
Ehc = Callable[[list[str]], str]  # runs one `ehc` command, returns its output; raises if it fails


@dataclass(frozen=True)
class Script:
    """A case and what happens to it, day by day. Event arguments use `{ref}` for the case reference."""

    name: str
    story: str
    child_name: str
    dob: str
    requested_on: str
    events: dict[str, list[list[str]]] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    parent: dict[str, str] = field(default_factory=dict)  # name, email, address, postcode: `--parent-*`


def load(path: Path = CASES) -> dict[str, Script]:
    """The scripted cases of a TOML file, by name, in the file's order."""
    scripts = {}
    for case in tomllib.loads(path.read_text(encoding="utf-8"))["case"]:
        events: dict[str, list[list[str]]] = {}
        for event in case.get("events", []):
            events.setdefault(event["on"], []).append(list(event["ehc"]))
        scripts[case["name"]] = Script(case["name"], case["story"], case["child_name"], case["dob"],
                                       case["requested_on"], events, tuple(case.get("flags", ())),
                                       dict(case.get("parent", {})))
    return scripts


def load_directory(ehc: Ehc) -> None:
    """The demo council's schools and directory, loaded as a council loads its own (`ehc setting|contact import`)."""
    ehc(["setting", "import", str(SETTINGS)])
    ehc(["contact", "import", str(DIRECTORY)])


def drive(scripts: tuple[Script, ...], ehc: Ehc, say: Callable[[str], None] = lambda _: None) -> dict[str, str]:
    """Load the demo's directory, open each case, start its run, then give every scripted event on its day;
    returns story → reference. Between days it waits until every run has caught up with the store, so each day
    starts from rest."""
    load_directory(ehc)
    refs: dict[str, str] = {}
    days = sorted({sc.requested_on for sc in scripts} | {d for sc in scripts for d in sc.events})
    for day in days:
        os.environ["EHC_TODAY"] = day
        for sc in scripts:
            if sc.requested_on == day:
                flags = [a for f in sc.flags for a in ("--flag", f)]
                family = [a for k, v in sc.parent.items() for a in (f"--parent-{k}", v)]
                refs[sc.story] = ehc(["case", "open", "--child-name", sc.child_name, "--dob", sc.dob,
                                      "--requested-on", sc.requested_on, "--requester", "parent", *flags,
                                      *family]).strip()
                ehc(["case", "start", refs[sc.story]])
                say(f"{day}  {refs[sc.story]} request received ({sc.story})")
            for args in sc.events.get(day, []):
                line = ehc([a.format(ref=refs[sc.story]) for a in args]).strip()
                say(f"{day}  {line}")
        settle_cases(list(refs.values()))
    return refs
