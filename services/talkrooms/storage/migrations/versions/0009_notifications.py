"""Notifications: each account's push devices and per-room settings.

Revision ID: 0009_notifications
Revises: 0008_review
Create Date: 2026-12-06

`push_devices`: a browser's Web Push subscription or an app's Expo token, one row per
device (the endpoint or token is unique). `notification_prefs`: an account's level for a
room or conversation (all, mentions, none) and a mute; a row is also what makes a room
"one of theirs" for @mentions (written at their first join).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_notifications"
down_revision = "0008_review"
branch_labels = None
depends_on = None


def _account(table: str, primary_key: bool = False) -> sa.Column:
    return sa.Column(
        "account_id",
        sa.Integer(),
        sa.ForeignKey("accounts.id", ondelete="CASCADE", name=f"fk_{table}_account"),
        primary_key=primary_key,
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "push_devices",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account("push_devices"),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("address", sa.String(1000), nullable=False),
        sa.Column("p256dh", sa.String(200), nullable=False),
        sa.Column("auth", sa.String(100), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("address", name="uq_push_devices_address"),
    )
    op.create_index("ix_push_devices_account_id", "push_devices", ["account_id"])
    op.create_table(
        "notification_prefs",
        _account("notification_prefs", primary_key=True),
        sa.Column("room", sa.String(32), primary_key=True),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("muted_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
    )
    op.create_index("ix_notification_prefs_room", "notification_prefs", ["room"])


def downgrade() -> None:
    op.drop_index("ix_notification_prefs_room", table_name="notification_prefs")
    op.drop_table("notification_prefs")
    op.drop_index("ix_push_devices_account_id", table_name="push_devices")
    op.drop_table("push_devices")
