"""Shared files.

Revision ID: 0004_files
Revises: 0003_conversations
Create Date: 2026-12-06

One row per file, whatever the backend holds its bytes (local disk or S3): the room it was
shared in (who may read it), who uploaded it, the name people see, the type found in its
bytes and the type it is served with, and its stored variants. Which message carries it
is in Redis with the message (the room's `files` hash): files live and die with messages.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_files"
down_revision = "0003_conversations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("room", sa.String(32), nullable=False),
        sa.Column("uploader", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("served_as", sa.String(128), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("image", sa.Boolean(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("variants", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_files_room", "files", ["room"])
    op.create_index("ix_files_created_at", "files", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_files_created_at", table_name="files")
    op.drop_index("ix_files_room", table_name="files")
    op.drop_table("files")
