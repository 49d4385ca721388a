"""The case store (SQLModel tables) and the law (`models.statutory`). No Prefect import here."""
