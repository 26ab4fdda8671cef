"""The accounts' tables (created by storage/migrations/versions/0001_accounts.py; the
profile columns by 0002_profiles.py; conversations and blocks by 0003_conversations.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from talkrooms.protocol import avatar_color
from talkrooms.storage.database import Base, UTCDateTime


class Account(Base):
    """A registered user. `username_identity` is protocol.username_identity(username):
    one row per look-alike name, so `Alice` and `аlice` (Cyrillic а) cannot both exist."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    username_identity: Mapped[str] = mapped_column(String(255), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The profile (accounts/profiles.py): NULL display name and colour mean the defaults,
    # the username and the colour it hashes to.
    display_name: Mapped[str | None] = mapped_column(String(64))
    bio: Mapped[str] = mapped_column(String(280), default="", server_default=text("''"))
    avatar_color: Mapped[str | None] = mapped_column(String(16))

    @property
    def shown_name(self) -> str:
        """The display name, or the username while the owner has not chosen one."""
        return self.display_name or self.username

    @property
    def shown_color(self) -> str:
        """The chosen avatar colour, or the one the username hashes to."""
        return self.avatar_color or avatar_color(self.username)


class RefreshToken(Base):
    """One refresh token: only its SHA-256 is kept. Each use marks it used and issues the
    next one of the same family; a used or revoked token presented again revokes the family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Conversation(Base):
    """A private conversation between two accounts. `room` is the chat room that carries
    its messages (protocol.new_private_room); `pair` ("<lower id>:<higher id>") is unique,
    so two people opening one at the same moment get the same conversation."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room: Mapped[str] = mapped_column(String(32), unique=True)
    pair: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConversationMember(Base):
    """One member of a conversation: membership is what every read and event checks."""

    __tablename__ = "conversation_members"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Block(Base):
    """`blocker` does not want private messages (or notifications) from `blocked`."""

    __tablename__ = "blocks"

    blocker_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
