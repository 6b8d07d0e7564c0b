"""Record the SHA-256 of each round's published report; index rounds by snapshot time.

The digest lets anyone holding a copy of a report check it is the one the history refers to. The
index serves the history's ordered listing and the "previous round" / "a year earlier" lookups.

Revision ID: 0002_report_sha256_index
Revises: 0001_rounds_and_assets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_report_sha256_index"
down_revision = "0001_rounds_and_assets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: rounds recorded before this revision have no digest, and keep their rows as they are.
    with op.batch_alter_table("rounds") as batch:
        batch.add_column(sa.Column("report_sha256", sa.String(64), nullable=True))
    op.create_index("ix_rounds_snapshot_time", "rounds", ["snapshot_time"])


def downgrade() -> None:
    op.drop_index("ix_rounds_snapshot_time", table_name="rounds")
    with op.batch_alter_table("rounds") as batch:
        batch.drop_column("report_sha256")
