"""Configuration from the environment (prefix `EHC_`), with defaults that need no set-up."""

import datetime as dt

from pydantic_settings import BaseSettings, SettingsConfigDict

from models import statutory


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EHC_")

    database_url: str = "sqlite:///ehc.db"
    council_name: str = "Demo Borough Council"
    actor: str = "caseworker"
    today: str | None = None  # YYYY-MM-DD: an injected clock for demos and tests


def settings() -> Settings:
    """Read afresh each call, so a changed environment (tests, the demo) takes effect."""
    return Settings()


def today() -> dt.date:
    """Today in London, or `EHC_TODAY` when a test or the demo injects the clock."""
    injected = settings().today
    return statutory.parse_date(injected, "EHC_TODAY") if injected else statutory.today()
