"""Rounds and their per-asset figures.

Money never goes through a float. Integers in base units can exceed 64 bits once summed over tens of
millions of users (10^8 users x 10^18 wei already needs 87 bits), so they are NUMERIC(78, 0) on
PostgreSQL: exact, and still summable and comparable in SQL (78 digits hold any 256-bit value). SQLite
has no exact wide type (its NUMERIC affinity turns big values into 8-byte floats), so there they are
canonical decimal text, converted back to int/Decimal by zkpor.round.history.

Revision ID: 0001_rounds_and_assets
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_rounds_and_assets"
down_revision = None
branch_labels = None
depends_on = None

EXACT_INTEGER = sa.Numeric(78, 0).with_variant(sa.Text(), "sqlite")
EXACT_DECIMAL = sa.Numeric().with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rounds",
        sa.Column("round_id", sa.String(200), primary_key=True),
        sa.Column("snapshot_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("liabilities_root", sa.String(200), nullable=False),
        sa.Column("user_count", sa.BigInteger(), nullable=False),
        sa.Column("proof_size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("security_bits", sa.Integer(), nullable=False),
        sa.Column("total_liabilities_usd", EXACT_DECIMAL, nullable=False),
        sa.Column("total_reserves_usd", EXACT_DECIMAL, nullable=False),
    )
    op.create_table(
        "round_assets",
        sa.Column(
            "round_id",
            sa.String(200),
            sa.ForeignKey("rounds.round_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("symbol", sa.String(40), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("decimals", sa.Integer(), nullable=False),
        sa.Column("price_usd", EXACT_DECIMAL, nullable=False),
        sa.Column("total_equity", EXACT_INTEGER, nullable=False),
        sa.Column("total_debt", EXACT_INTEGER, nullable=False),
        sa.Column("net_liabilities", EXACT_INTEGER, nullable=False),
        sa.Column("verified_reserves", EXACT_INTEGER, nullable=False),
        sa.Column("reserve_ratio", EXACT_DECIMAL, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("round_assets")
    op.drop_table("rounds")
