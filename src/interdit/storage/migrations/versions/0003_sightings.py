"""Network sightings: scanned inputs (by fingerprint) and their aggregated sightings.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from interdit.storage.tables import UTCDateTime

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_inputs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("head_len", sa.Integer, nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("format", sa.String(40), nullable=False),
        sa.Column("scanned_at", UTCDateTime, nullable=False),
        sa.Column("lines_read", sa.BigInteger, nullable=False),
        sa.Column("matched", sa.BigInteger, nullable=False),
        sa.Column("unmatched", sa.BigInteger, nullable=False),
        sa.Column("rejected", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_network_inputs"),
        sa.UniqueConstraint("fingerprint", name="uq_network_inputs_fingerprint"),
    )
    op.create_table(
        "network_sightings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("input_id", sa.Integer, nullable=False),
        sa.Column("family", sa.String(100), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("device_source", sa.String(200), nullable=True),
        sa.Column("device_id", sa.String(200), nullable=True),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("weak", sa.Boolean, nullable=False),
        sa.Column("source_format", sa.String(40), nullable=False),
        sa.Column("first", UTCDateTime, nullable=False),
        sa.Column("last", UTCDateTime, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("example_name", sa.String(600), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_network_sightings"),
        sa.ForeignKeyConstraint(["input_id"], ["network_inputs.id"], ondelete="CASCADE",
                                name="fk_network_sightings_input_id_network_inputs"),
        sa.UniqueConstraint("input_id", "family", "day", "subject", "weak", "source_format",
                            name="uq_network_sightings_key"),
    )
    op.create_index("ix_network_sightings_day", "network_sightings", ["day"])
    op.create_index("ix_network_sightings_input_id", "network_sightings", ["input_id"])
    op.create_index("ix_network_sightings_family", "network_sightings", ["family"])


def downgrade() -> None:
    op.drop_index("ix_network_sightings_family", table_name="network_sightings")
    op.drop_index("ix_network_sightings_input_id", table_name="network_sightings")
    op.drop_index("ix_network_sightings_day", table_name="network_sightings")
    op.drop_table("network_sightings")
    op.drop_table("network_inputs")
