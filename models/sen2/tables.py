"""What the case store keeps of an SEN2 return that its own tables have no column for.

`sen2_person` is the person as the return names them (it holds personal data, like `child`, and never leaves the
store); `sen2_request` is one `<Requests>` of the return, one row per case; `placement` is a setting named for a
case's plan (`PlanDetail`) or its active plan (`PlacementDetail`), by URN/UKPRN and SEN setting type.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel


class Sen2Person(SQLModel, table=True):
    """One SEN2 `<Person>`: matched on re-import by `person_key` (UPN, else ULN, else a digest of name and date of
    birth); `digest` is the person's whole record as last imported, so an unchanged person is passed over."""

    __tablename__ = "sen2_person"

    id: int | None = Field(default=None, primary_key=True)
    person_key: str = Field(unique=True)
    child_id: int = Field(foreign_key="child.id", index=True)
    digest: str
    surname: str
    forename: str
    sex: str
    ethnicity: str
    postcode: str
    upn: str | None = None
    uln: str | None = None
    upn_unknown: str | None = None


class Sen2Request(SQLModel, table=True):
    """One SEN2 `<Requests>` (with its `<Assessment>`, `<NamedPlan>` and `<ActivePlans>`) = one case. Dates the
    case holds itself (request, plan start, cease) are written out from the case, not from here."""

    __tablename__ = "sen2_request"
    __table_args__ = (sa.UniqueConstraint("sen2_person_id", "request_key", name="uq_sen2_request_person_key"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", unique=True)
    sen2_person_id: int = Field(foreign_key="sen2_person.id", index=True)
    request_key: str  # ReceivedDate, else the plan's StartDate, else its order in the person
    seq: int  # its order among the person's requests
    received_on: dt.date | None = None
    rya: bool | None = None
    request_outcome_on: dt.date | None = None
    request_outcome: str
    request_mediation: bool | None = None
    request_tribunal: bool | None = None
    exported: str | None = None
    has_assessment: bool = False
    assessment_outcome: str | None = None
    assessment_outcome_on: dt.date | None = None
    assessment_mediation: bool | None = None
    assessment_tribunal: bool | None = None
    other_mediation: bool | None = None
    other_tribunal: bool | None = None
    week20: bool | None = None
    has_named_plan: bool = False
    start_on: dt.date | None = None
    plan_res: str | None = None
    plan_wbp: str | None = None
    pb: bool | None = None
    oa: bool | None = None
    dp: str | None = None
    cease_on: dt.date | None = None
    cease_reason: str | None = None
    has_active_plans: bool = False
    transfer_la: str | None = None
    sen_needs: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # [[SENtype, rank]]
    review_meeting_on: dt.date | None = None
    review_outcome: str | None = None
    last_review_on: dt.date | None = None


class Placement(SQLModel, table=True):
    """A setting named for a case: `part` plan (the named plan's `PlanDetail`) or active (`PlacementDetail`)."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    part: str  # plan | active
    rank: int  # PlacementRank 1 | 2
    urn: str | None = Field(default=None, index=True)
    ukprn: str | None = None
    setting_type: str  # SENSetting: OLA OPA EHE EYP OTH NEET NIEC NIEO
    setting_other: str | None = None
    entry_on: dt.date | None = None
    leaving_on: dt.date | None = None
    sen_unit: bool
    resourced_provision: bool
    res: str | None = None
    wbp: str | None = None


class Sen2Return(SQLModel, table=True):
    """One SEN2 file imported: its header (the council's LA code, DMO/DCO), which the export writes back."""

    __tablename__ = "sen2_return"

    id: int | None = Field(default=None, primary_key=True)
    year: int | None = None
    reference_date: dt.date | None = None
    lea: str
    dmo: str
    dco: str
    software_code: str | None = None
    release: str | None = None
    persons: int
    imported_at: dt.datetime = Field(sa_type=sa.DateTime(timezone=True))
