"""Daily figures: compliance at the end of each day, per inventory source and for the whole fleet
(`interdit.storage.daily`), so that a report's trend reads them instead of evaluating the history again.

The table starts empty: the figures of earlier days are computed the first time a report's trend asks for them
(or by `interdit report --backfill`), then kept.

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from interdit.storage.tables import UTCDateTime

revision = "0013"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_figures",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("stamp", sa.String(300), nullable=False),
        sa.Column("devices", sa.Integer, nullable=False),
        sa.Column("in_scope", sa.Integer, nullable=False),
        sa.Column("compliant", sa.Integer, nullable=False),
        sa.Column("violations", sa.Integer, nullable=False),
        sa.Column("not_evaluable", sa.Integer, nullable=False),
        sa.Column("stale", sa.Integer, nullable=False),
        sa.Column("computed_at", UTCDateTime, nullable=False),
        sa.Column("summary", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("key", "day", "source", name="pk_daily_figures"),
    )
    op.create_index("ix_daily_figures_day", "daily_figures", ["day"])


def downgrade() -> None:
    op.drop_index("ix_daily_figures_day", table_name="daily_figures")
    op.drop_table("daily_figures")
