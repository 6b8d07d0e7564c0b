"""Alembic migrations of the history store (see zkpor.round.history).

There is no alembic.ini: `zkpor.round.history.migrate` builds the Alembic Config in code and points
`script_location` at this directory, so the scripts ship inside the wheel as ordinary modules.

To add a schema change, copy the newest file in versions/ to `NNNN_what_it_does.py`, set `revision`
to that name (at most 32 characters: Alembic's version column is VARCHAR(32)) and `down_revision` to
the previous one, write `upgrade()` and `downgrade()`, and mirror the change in the tables declared in
history.py (a test compares the two). Released revisions are never edited: a database out there may
already be at that revision.
"""
