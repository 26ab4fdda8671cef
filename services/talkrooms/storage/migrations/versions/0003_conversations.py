"""Private conversations, their members, and blocks.

Revision ID: 0003_conversations
Revises: 0002_profiles
Create Date: 2026-12-06

A members table rather than two account columns on `conversations`: "the conversations
of account N" and "is N a member of room R" are then one indexed lookup each, and a
group conversation later is rows, not a new schema. `pair` keeps one conversation per two
people, enforced by the database (two people opening it at once meet on the unique key).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_conversations"
down_revision = "0002_profiles"
branch_labels = None
depends_on = None


def _account(name: str) -> sa.Column[int]:
    return sa.Column(
        name,
        sa.Integer(),
        sa.ForeignKey("accounts.id", ondelete="CASCADE", name=f"fk_{name}_account"),
        primary_key=True,
    )


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("room", sa.String(32), nullable=False),
        sa.Column("pair", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("room", name="uq_conversations_room"),
        sa.UniqueConstraint("pair", name="uq_conversations_pair"),
    )
    op.create_table(
        "conversation_members",
        sa.Column(
            "conversation_id",
            sa.Integer(),
            sa.ForeignKey(
                "conversations.id", ondelete="CASCADE", name="fk_conversation_members_conversation"
            ),
            primary_key=True,
        ),
        _account("account_id"),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_conversation_members_account_id", "conversation_members", ["account_id"])
    op.create_table(
        "blocks",
        _account("blocker_id"),
        _account("blocked_id"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_blocks_blocked_id", "blocks", ["blocked_id"])


def downgrade() -> None:
    op.drop_index("ix_blocks_blocked_id", table_name="blocks")
    op.drop_table("blocks")
    op.drop_index("ix_conversation_members_account_id", table_name="conversation_members")
    op.drop_table("conversation_members")
    op.drop_table("conversations")
