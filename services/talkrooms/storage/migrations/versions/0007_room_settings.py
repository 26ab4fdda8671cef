"""Room settings: topic, who may post, slow mode, invite-only rooms, pins; room members.

Revision ID: 0007_room_settings
Revises: 0006_sanctions
Create Date: 2026-12-06

Settings are columns of `rooms` (only owned rooms have settings: someone must be able to
change them); their defaults are today's behaviour, so rooms made before keep it.
`room_members` holds the accounts that came in with an invite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_room_settings"
down_revision = "0006_sanctions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("topic", sa.String(200), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("post_policy", sa.String(16), nullable=False, server_default="everyone")
        )
        batch.add_column(
            sa.Column("slow_mode_seconds", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("invite_only", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("invite_code", sa.String(32), nullable=True))
        batch.add_column(sa.Column("pins", sa.Text(), nullable=False, server_default="[]"))
    op.create_table(
        "room_members",
        sa.Column("room", sa.String(32), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE", name="fk_room_members_account"),
            primary_key=True,
        ),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_room_members_account_id", "room_members", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_room_members_account_id", table_name="room_members")
    op.drop_table("room_members")
    with op.batch_alter_table("rooms") as batch:
        for column in (
            "pins",
            "invite_code",
            "invite_only",
            "slow_mode_seconds",
            "post_policy",
            "topic",
        ):
            batch.drop_column(column)
