"""Sanctions: mutes and bans of accounts and guests in rooms.

Revision ID: 0006_sanctions
Revises: 0005_moderation
Create Date: 2026-12-06

The truth of who is muted or banned; Redis holds the working copy the message script and
joins read (`silenced`, `bans`), which every worker writes again from here at start.
A guest is known by its client key's hash (and, in Redis only, by the addresses it was
seen from when banned).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_sanctions"
down_revision = "0005_moderation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sanctions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("room", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE", name="fk_sanctions_account"),
            nullable=True,
        ),
        sa.Column("key_hash", sa.String(64), nullable=True),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column(
            "actor_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="SET NULL", name="fk_sanctions_actor"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_sanctions_room", "sanctions", ["room"])


def downgrade() -> None:
    op.drop_index("ix_sanctions_room", table_name="sanctions")
    op.drop_table("sanctions")
