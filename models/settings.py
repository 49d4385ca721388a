"""Configuration from the environment (prefix `EHC_`), with defaults that need no set-up."""

import datetime as dt
import functools
import os
import re

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from models import statutory
from models.errors import InputError

PREFIX = "EHC_"
EXAMPLES = {"reminder_days": '{"annual_review": [56, 28, 10]}'}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, frozen=True)

    database_url: str = "sqlite:///ehc.db"
    council_name: str = "Demo Borough Council"
    # the council's own details for its notices (`models.council`, checked when a notice is written)
    council_la_code: str | None = None  # DfE's 3-digit LA code: a setting with another code is out of area
    council_address: str | None = None  # postal address, lines separated by commas
    council_postcode: str | None = None
    council_sen_team_email: str | None = None
    council_sen_team_phone: str | None = None
    council_mediation_adviser: str | None = None  # who a family contacts about mediation (reg 33): name and contact
    council_sendiass: str | None = None  # the local SEND information, advice and support service: name and contact
    council_mediation_contact: str | None = None  # who at the council a family tells it wants mediation (reg 32)
    council_local_offer: str | None = None  # where the council publishes its Local Offer (CFA s30), e.g. a web address
    default_caseworker: str | None = None  # the team address a new request is assigned to until a caseworker is
    demo: bool = False  # `ehc demo`'s made-up council: the one place its example addresses may be stated
    actor: str = "caseworker"
    today: str | None = None  # YYYY-MM-DD: an injected clock for demos and tests
    # messages: where they go, and how much personal data a body may carry
    mail_backend: str = "file"  # file | sendgrid | notify
    letter_backend: str = "print"  # print (a queue: `ehc letters pending|printed`) | notify (precompiled letters)
    letter_folder: str = "letters"  # where the print queue writes each letter's PDF
    notify_host: str = "https://api.notifications.service.gov.uk"
    notify_secret_block: str = "notify-api-key"  # Prefect Secret block, when NOTIFY_API_KEY is unset
    notify_email_template_id: str | None = None  # a Notify email template of ((subject)) and ((body))
    letter_postage: str = "second"  # Notify's postage for precompiled letters: first | second | economy
    mail_folder: str = "outbox-mail"  # the file backend writes one .eml per message here
    mail_from: str = "sen.team@example.org"
    sendgrid_host: str = "https://api.sendgrid.com"
    sendgrid_secret_block: str = "sendgrid-api-key"  # Prefect Secret block, when SENDGRID_API_KEY is unset
    personal_data_in_messages: str = "none"  # none | name | name_and_dob: what a body may say about the child
    reminder_days: dict[str, list[int]] = {}  # per step kind, e.g. {"annual_review": [56, 28, 10]}
    # disagreement resolution: the council's own targets in working days (local practice, not law)
    complaint_ack_days: int = 10
    complaint_response_days: int = 20
    dispute_resolve_days: int = 20  # each stage of a dispute with health or social care


def settings() -> Settings:
    """The settings for the environment as it is now: read again whenever an `EHC_` variable has changed (tests,
    the demo's clock), otherwise reused (a flow run's tasks ask for them dozens of times; a simulated year, for
    each act, so the variables are looked up by name rather than the environment scanned)."""
    return _settings_for(tuple(map(os.environ.get, VARIABLES)))


@functools.lru_cache(maxsize=16)
def _settings_for(_environment: tuple[str | None, ...]) -> Settings:
    return read_settings()


def _variable(field_name: str) -> str:
    return f"{PREFIX}{field_name.upper()}"


VARIABLES = tuple(map(_variable, Settings.model_fields))  # the names the settings are read from


def read_settings() -> Settings:
    """The settings, or InputError naming the `EHC_` variable that cannot be read (never its value, which may be
    long or a secret), with the form it takes where that is not obvious."""
    try:
        return Settings()
    except SettingsError as exc:  # not JSON where JSON is needed
        named = re.search(r'field "(\w+)"', str(exc))
        field_name = named.group(1) if named else "settings"
        example = f", e.g. {EXAMPLES[field_name]}" if field_name in EXAMPLES else ""
        raise InputError(_variable(field_name), f"cannot be read: it must be JSON{example}") from None
    except ValidationError as exc:
        error = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in error["loc"][1:])
        field_name = str(error["loc"][0]) if error["loc"] else "settings"
        example = f" (e.g. {EXAMPLES[field_name]})" if field_name in EXAMPLES else ""
        raise InputError(_variable(field_name), f"{where + ': ' if where else ''}{error['msg']}{example}") from None


def today() -> dt.date:
    """Today in London, or `EHC_TODAY` when a test or the demo injects the clock."""
    injected = settings().today
    return statutory.parse_date(injected, "EHC_TODAY") if injected else statutory.today()
