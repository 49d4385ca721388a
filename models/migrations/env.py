"""Alembic environment: runs migrations against the URL set in `models.db.alembic_config`."""

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import models.appeals  # noqa: F401
import models.cannot_notify  # noqa: F401
import models.cases  # noqa: F401  (registers the tables)
import models.complaints  # noqa: F401
import models.disputes  # noqa: F401
import models.escalation  # noqa: F401
import models.mediation  # noqa: F401
import models.outbox  # noqa: F401
import models.people  # noqa: F401
import models.review  # noqa: F401
import models.schools  # noqa: F401

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connectable = sa.create_engine(config.get_main_option("sqlalchemy.url"), poolclass=sa.pool.NullPool)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":  # two processes migrating at once: one waits
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(7201420)"))
            context.run_migrations()


run_migrations_online()
