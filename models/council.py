"""The council's own details, as its notices state them: name, postal address, SEN team, mediation adviser and
SENDIASS. One configuration (`EHC_COUNCIL_*`), checked before any notice is written."""

from __future__ import annotations

import re

from models.addresses import validate_email, validate_postcode
from models.errors import InputError
from models.settings import Settings

LA_CODE = re.compile(r"^[0-9]{3}$")


def council_details(config: Settings) -> dict[str, str | None]:
    """The details a notice may state, validated: a bad value is refused with its setting named."""
    if config.council_la_code is not None and not LA_CODE.match(config.council_la_code):
        raise InputError("EHC_COUNCIL_LA_CODE", "must be the council's 3-digit DfE LA code")
    email = config.council_sen_team_email
    if email is not None:
        email = validate_email(email, "EHC_COUNCIL_SEN_TEAM_EMAIL")
    if config.default_caseworker is not None:
        validate_email(config.default_caseworker, "EHC_DEFAULT_CASEWORKER")
    postcode = config.council_postcode
    if postcode is not None:
        postcode = validate_postcode(postcode, "EHC_COUNCIL_POSTCODE")
    return {"name": config.council_name, "la_code": config.council_la_code, "address": config.council_address,
            "postcode": postcode, "sen_team_email": email, "sen_team_phone": config.council_sen_team_phone,
            "mediation_adviser": config.council_mediation_adviser, "sendiass": config.council_sendiass}
