"""Server-side sessions, source-scoped API tokens, and audit entries stored whole.

- `sessions`: one row per signed-in browser (the digest of the cookie's secret, the account, when it started,
  was last used, expires and ended). Signing out, a new password and disabling the account end it at once.
- `api_tokens.scopes`: what a token may write (source names, `@logs`). Tokens made before this migration get
  `*`, everything their role allows, as before: narrow them by creating scoped tokens and revoking the old ones.
- `audit_log.actor` and `.target` become unbounded text: the hash covers the whole value, so the row keeps it
  whole. Entries written before keep their text and their hash, and verify as before.

Revision ID: 0009
Revises: 0006 (the accounts tables), 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = ("0006", "0007")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("last_seen", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
        sa.Column("ended_at", sa.String(40), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_sessions_account_id_accounts"),
    )
    op.create_index("ix_sessions_account_id", "sessions", ["account_id"])
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("scopes", sa.Text, nullable=False, server_default="*"))
    if op.get_bind().dialect.name != "sqlite":  # SQLite never bounded them
        op.alter_column("audit_log", "actor", type_=sa.Text, existing_type=sa.String(160), existing_nullable=False)
        op.alter_column("audit_log", "target", type_=sa.Text, existing_type=sa.String(300), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("audit_log", "target", type_=sa.String(300), existing_type=sa.Text)
        op.alter_column("audit_log", "actor", type_=sa.String(160), existing_type=sa.Text)
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("scopes")
    op.drop_index("ix_sessions_account_id", table_name="sessions")
    op.drop_table("sessions")
