"""People who sign in through an OpenID Connect provider: the provider's subject on their account.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # "ISSUER SUBJECT"; NULL for accounts with a password and for machines
    op.add_column("accounts", sa.Column("oidc_subject", sa.String(400), nullable=True))
    op.create_index("ix_accounts_oidc_subject", "accounts", ["oidc_subject"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_accounts_oidc_subject", table_name="accounts")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("oidc_subject")
