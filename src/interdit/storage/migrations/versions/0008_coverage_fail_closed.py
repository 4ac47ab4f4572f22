"""Coverage and fail-closed snapshots: a device's coverage gap and organisational labels, the versions an app
went through within one presence, and the import counts that say what a snapshot kept, flagged and updated.

Revision ID: 0008
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from interdit.storage.tables import UTCDateTime

revision = "0008"
down_revision = "0001"
branch_labels = None
depends_on = None

_RUN_COUNTS = ("apps_updated", "devices_unreadable", "devices_no_apps")


def upgrade() -> None:
    # why the source did not list every app of the device (a CoverageReason; NULL: it did)
    op.add_column("device_versions", sa.Column("coverage_gap", sa.String(30), nullable=True))
    # the source's own organisational labels, a JSON list of [kind, value]
    op.add_column("device_versions", sa.Column("org_labels", sa.Text, nullable=False, server_default="[]"))
    for name in _RUN_COUNTS:
        op.add_column("import_runs", sa.Column(name, sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "app_versions",
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("device_id", sa.String(300), nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("identifier", sa.String(300), nullable=False),
        sa.Column("first_seen", UTCDateTime, nullable=False),
        sa.Column("interval_first_seen", UTCDateTime, nullable=False),
        sa.Column("version", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("source", "device_id", "platform", "identifier", "first_seen",
                                name="pk_app_versions"),
    )


def downgrade() -> None:
    op.drop_table("app_versions")
    with op.batch_alter_table("import_runs") as batch:
        for name in _RUN_COUNTS:
            batch.drop_column(name)
    with op.batch_alter_table("device_versions") as batch:
        batch.drop_column("org_labels")
        batch.drop_column("coverage_gap")
