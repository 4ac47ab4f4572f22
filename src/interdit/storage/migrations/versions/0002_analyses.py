"""Stored APK analyses (reports by sha256, analyzer version and settings digest).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from interdit.storage.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "apk_analyses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("analyzer_version", sa.String(20), nullable=False),
        sa.Column("settings", sa.String(64), nullable=False),
        sa.Column("package", sa.String(300), nullable=True),
        sa.Column("version_code", sa.BigInteger, nullable=True),
        sa.Column("version_name", sa.String(200), nullable=True),
        sa.Column("file_name", sa.String(500), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("sdk_vendors", sa.Text, nullable=False),
        sa.Column("endpoint_vendors", sa.Text, nullable=False),
        sa.Column("analyzed_at", UTCDateTime, nullable=False),
        sa.Column("report", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_apk_analyses"),
        sa.UniqueConstraint("sha256", "analyzer_version", "settings",
                            name="uq_apk_analyses_sha256_analyzer_version_settings"),
    )
    op.create_index("ix_apk_analyses_package", "apk_analyses", ["package"])


def downgrade() -> None:
    op.drop_index("ix_apk_analyses_package", table_name="apk_analyses")
    op.drop_table("apk_analyses")
