"""Moderation: owned rooms, their moderators, instance administrators, the audit log.

Revision ID: 0005_moderation
Revises: 0004_files
Create Date: 2026-12-06

Only rooms with an owner get a row: rooms guests create stay open rooms, as before. The
audit log is append-only; `actor_name` keeps the name an actor had when it acted, so an
entry still reads right after the account is gone (`actor_id` then becomes NULL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_moderation"
down_revision = "0004_files"
branch_labels = None
depends_on = None


def _account(name: str, *, primary_key: bool = False, nullable: bool = False) -> sa.Column:
    on_delete = "CASCADE" if not nullable else "SET NULL"
    return sa.Column(
        name,
        sa.Integer(),
        sa.ForeignKey("accounts.id", ondelete=on_delete, name=f"fk_{name}_account"),
        primary_key=primary_key,
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "rooms",
        sa.Column("name", sa.String(32), primary_key=True),
        _account("owner_id"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "room_moderators",
        sa.Column("room", sa.String(32), primary_key=True),
        _account("account_id", primary_key=True),
        _account("named_by", nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_room_moderators_account_id", "room_moderators", ["account_id"])
    op.create_table(
        "administrators",
        _account("account_id", primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("room", sa.String(32), nullable=False),
        _account("actor_id", nullable=True),
        sa.Column("actor_name", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_audit_log_room", "audit_log", ["room"])
    op.create_index("ix_audit_log_created_at", "audit_log", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_created_at", table_name="audit_log")
    op.drop_index("ix_audit_log_room", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("administrators")
    op.drop_index("ix_room_moderators_account_id", table_name="room_moderators")
    op.drop_table("room_moderators")
    op.drop_table("rooms")
