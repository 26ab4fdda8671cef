"""Automatic moderation and reports: each room's automod settings, the review queue.

Revision ID: 0008_review
Revises: 0007_room_settings
Create Date: 2026-12-06

`rooms.automod` holds a room's own rules and words (JSON; '{}' = the instance's
defaults). `review_items` is a room's review queue: a reported message (one item however
many report it; the reports are `review_reports`, one per reporter) or a message a rule
held back. An item stays once decided, with the decision, for the record.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_review"
down_revision = "0007_room_settings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("automod", sa.Text(), nullable=False, server_default="{}"))
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("room", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("message_id", sa.String(16), nullable=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="SET NULL", name="fk_review_items_account"),
            nullable=True,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("message_at", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "decided_by",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="SET NULL", name="fk_review_items_decider"),
            nullable=True,
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_review_items_room_status", "review_items", ["room", "status"])
    # One open item per reported message.
    op.create_index(
        "ux_review_items_open_message",
        "review_items",
        ["room", "message_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open' AND message_id IS NOT NULL"),
        postgresql_where=sa.text("status = 'open' AND message_id IS NOT NULL"),
    )
    op.create_table(
        "review_reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "item_id",
            sa.Integer(),
            sa.ForeignKey("review_items.id", ondelete="CASCADE", name="fk_review_reports_item"),
            nullable=False,
        ),
        sa.Column("reporter", sa.String(80), nullable=False),
        sa.Column("reporter_name", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("item_id", "reporter", name="uq_review_reports_reporter"),
    )


def downgrade() -> None:
    op.drop_table("review_reports")
    op.drop_index("ux_review_items_open_message", table_name="review_items")
    op.drop_index("ix_review_items_room_status", table_name="review_items")
    op.drop_table("review_items")
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("automod")
