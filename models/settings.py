"""Configuration from the environment (prefix `EHC_`), with defaults that need no set-up."""

import datetime as dt
import functools
import os

from pydantic_settings import BaseSettings, SettingsConfigDict

from models import statutory


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EHC_", frozen=True)

    database_url: str = "sqlite:///ehc.db"
    council_name: str = "Demo Borough Council"
    actor: str = "caseworker"
    today: str | None = None  # YYYY-MM-DD: an injected clock for demos and tests
    # messages (issue 5): where they go, and how much personal data a body may carry
    mail_backend: str = "file"  # file | sendgrid
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
    mediation_adviser: str = "the mediation adviser, mediation@example.org, 0300 000 0000"  # reg 32(2)
    sendiass: str = "SENDIASS (information, advice and support), sendiass@example.org"  # CFA s32


def settings() -> Settings:
    """The settings for the environment as it is now: read again whenever an `EHC_` variable has changed (tests,
    the demo's clock), otherwise reused (a flow run's tasks ask for them dozens of times)."""
    return _settings_for(tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith("EHC_"))))


@functools.lru_cache(maxsize=16)
def _settings_for(_environment: tuple[tuple[str, str], ...]) -> Settings:
    return Settings()


def today() -> dt.date:
    """Today in London, or `EHC_TODAY` when a test or the demo injects the clock."""
    injected = settings().today
    return statutory.parse_date(injected, "EHC_TODAY") if injected else statutory.today()
