"""Scheduled jobs and their runs (`interdit worker`, `interdit jobs`).

- `schedule_jobs`: the schedule file's jobs as the worker last read them, so that every process can list them.
- `schedule_runs`: one row per firing; the unique (job, scheduled_for) key is the lock that makes each firing
  run once when several workers share the database.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from interdit.storage.tables import UTCDateTime

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedule_jobs",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(200), nullable=False),
        sa.Column("cron", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(100), nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_schedule_jobs"),
    )
    op.create_table(
        "schedule_runs",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("job", sa.String(100), nullable=False),
        sa.Column("scheduled_for", UTCDateTime, nullable=False),
        sa.Column("kind", sa.String(200), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.Column("deadline", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_schedule_runs"),
        sa.UniqueConstraint("job", "scheduled_for", name="uq_schedule_runs_job_scheduled_for"),
    )
    op.create_index("ix_schedule_runs_started_at", "schedule_runs", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_schedule_runs_started_at", table_name="schedule_runs")
    op.drop_table("schedule_runs")
    op.drop_table("schedule_jobs")
