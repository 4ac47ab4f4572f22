"""Alembic environment: interdit runs migrations itself, on the connection it passes in `config.attributes`."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from interdit.storage.tables import metadata

config = context.config


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - interdit always passes its connection
    raise RuntimeError("interdit runs its migrations itself: use 'interdit' (Repository.migrate)")
run(connection)
