"""The notices sent about findings (`notices`): one row per notice and channel, so none is sent twice.

Revision ID: 0010_notices
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from interdit.storage.tables import UTCDateTime

revision = "0010_notices"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("finding_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("device_id", sa.String(300), nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("lang", sa.String(10), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claimed_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notices"),
        sa.UniqueConstraint("key", "channel", name="uq_notices_key_channel"),
    )
    op.create_index("ix_notices_finding_id", "notices", ["finding_id"])


def downgrade() -> None:
    op.drop_index("ix_notices_finding_id", table_name="notices")
    op.drop_table("notices")
