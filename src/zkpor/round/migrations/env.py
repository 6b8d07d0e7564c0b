"""Alembic environment for the history store.

Called by `zkpor.round.history.migrate`, which passes an open connection in
`config.attributes["connection"]`; the migration then runs inside that connection's transaction, so
on PostgreSQL (transactional DDL) an upgrade either completes or leaves the schema untouched.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

# Any fixed 64-bit number: concurrent `zkpor` processes opening the same PostgreSQL database take this
# lock so only one of them runs the migrations; the others wait, then find nothing left to do.
_PG_MIGRATION_LOCK = 0x7A6B706F72_0001

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("zkpor migrations run through zkpor.round.history.migrate(), not the alembic CLI")

# render_as_batch: SQLite cannot ALTER most things in place; batch mode copies the table instead.
context.configure(connection=connection, render_as_batch=True)

with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    context.run_migrations()
