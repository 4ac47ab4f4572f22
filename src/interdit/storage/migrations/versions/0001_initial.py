"""The inventory history, import runs, evaluations and findings.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from interdit.storage.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("format", sa.String(100), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("read", sa.Integer, nullable=False),
        sa.Column("accepted", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("devices", sa.Integer, nullable=False),
        sa.Column("apps", sa.Integer, nullable=False),
        sa.Column("devices_new", sa.Integer, nullable=False),
        sa.Column("devices_changed", sa.Integer, nullable=False),
        sa.Column("devices_removed", sa.Integer, nullable=False),
        sa.Column("apps_opened", sa.Integer, nullable=False),
        sa.Column("apps_closed", sa.Integer, nullable=False),
        sa.Column("rejections", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_import_runs"),
    )
    op.create_index("ix_import_runs_source_at", "import_runs", ["source", "at"])
    op.create_table(
        "devices",
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("device_id", sa.String(300), nullable=False),
        sa.Column("first_seen", UTCDateTime, nullable=False),
        sa.Column("removed_at", UTCDateTime),
        sa.Column("apps_digest", sa.BigInteger),
        sa.PrimaryKeyConstraint("source", "device_id", name="pk_devices"),
    )
    op.create_table(
        "device_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("device_id", sa.String(300), nullable=False),
        sa.Column("valid_from", UTCDateTime, nullable=False),
        sa.Column("valid_to", UTCDateTime),
        sa.Column("observed_at", UTCDateTime, nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("ownership", sa.String(20), nullable=False),
        sa.Column("management", sa.String(30), nullable=False),
        sa.Column("supervised", sa.Boolean),
        sa.Column("user", sa.String(300)),
        sa.Column("name", sa.String(300)),
        sa.Column("model", sa.String(300)),
        sa.Column("os_version", sa.String(100)),
        sa.Column("org_unit", sa.String(500)),
        sa.Column("groups", sa.Text, nullable=False),
        sa.Column("addresses", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_device_versions"),
        sa.ForeignKeyConstraint(["source", "device_id"], ["devices.source", "devices.device_id"],
                                name="fk_device_versions_devices"),
    )
    op.create_index("ix_device_versions_device", "device_versions", ["source", "device_id", "valid_from"])
    op.create_index("ix_device_versions_open", "device_versions", ["source", "device_id"], unique=True,
                    sqlite_where=sa.text("valid_to IS NULL"), postgresql_where=sa.text("valid_to IS NULL"))
    op.create_index("ix_device_versions_valid_to", "device_versions", ["valid_to"])
    op.create_table(
        "app_intervals",
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("device_id", sa.String(300), nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("identifier", sa.String(300), nullable=False),
        sa.Column("first_seen", UTCDateTime, nullable=False),
        sa.Column("name", sa.String(300)),
        sa.Column("version", sa.String(100)),
        sa.Column("managed", sa.Boolean),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("removed_at", UTCDateTime),
        sa.Column("last_seen", UTCDateTime),
        sa.PrimaryKeyConstraint("source", "device_id", "platform", "identifier", "first_seen",
                                name="pk_app_intervals"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_app_intervals_app", "app_intervals", ["platform", "identifier", "first_seen"])
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("as_of", UTCDateTime, nullable=False),
        sa.Column("policy_hash", sa.String(64), nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evaluations"),
    )
    op.create_table(
        "findings",
        sa.Column("evaluation_id", sa.Integer, nullable=False),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("device_id", sa.String(300), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("family", sa.String(100)),
        sa.Column("directive", sa.String(200)),
        sa.Column("first_seen", UTCDateTime, nullable=False),
        sa.Column("last_seen", UTCDateTime, nullable=False),
        sa.Column("deadline", sa.Date),
        sa.Column("resolved_at", UTCDateTime),
        sa.Column("app_platform", sa.String(20)),
        sa.Column("app_identifier", sa.String(300)),
        sa.Column("org_unit", sa.String(500)),
        sa.Column("exception", sa.String(200)),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("evaluation_id", "id", name="pk_findings"),
        sa.ForeignKeyConstraint(["evaluation_id"], ["evaluations.id"], ondelete="CASCADE",
                                name="fk_findings_evaluation_id_evaluations"),
    )
    op.create_index("ix_findings_device", "findings", ["source", "device_id"])


def downgrade() -> None:
    for table in ("findings", "evaluations", "app_intervals", "device_versions", "devices", "import_runs"):
        op.drop_table(table)
