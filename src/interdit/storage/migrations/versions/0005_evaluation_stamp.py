"""Reusing a stored evaluation: the data stamp it was computed on, and the findings' order.

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # what the stored data was when the evaluation ran (NULL: never reused, e.g. evaluations stored before)
    op.add_column("evaluations", sa.Column("data_stamp", sa.String(300), nullable=True))
    # the evaluation's own order of its findings
    op.add_column("findings", sa.Column("seq", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("seq")
    with op.batch_alter_table("evaluations") as batch:
        batch.drop_column("data_stamp")
