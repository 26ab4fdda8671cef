"""Profiles: a display name, a bio and an avatar colour on each account.

Revision ID: 0002_profiles
Revises: 0001_accounts
Create Date: 2026-12-06

Columns on `accounts`, not a `profiles` table: every account has exactly one profile, it
is born and dies with the account, and every profile read needs the username and
created_at of the account row anyway; a second table would only add a join and a row to
create at registration. `display_name` and `avatar_color` are NULL while the owner keeps
the defaults (the username, and the colour the username hashes to), so the defaults
follow the protocol's rules instead of being copied into every row; `bio` is '' when empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_profiles"
down_revision = "0001_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("display_name", sa.String(64), nullable=True))
        batch.add_column(sa.Column("bio", sa.String(280), nullable=False, server_default=""))
        batch.add_column(sa.Column("avatar_color", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("avatar_color")
        batch.drop_column("bio")
        batch.drop_column("display_name")
