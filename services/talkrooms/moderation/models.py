"""Moderation's tables (created by storage/migrations/versions/0005_moderation.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from talkrooms.storage.database import Base, UTCDateTime


class OwnedRoom(Base):
    """A room with an owner: the account whose join created it, or the one an
    administrator handed it to. Rooms created by guests have no row (open rooms)."""

    __tablename__ = "rooms"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The room's settings (moderation/settings.py; 0007_room_settings).
    topic: Mapped[str] = mapped_column(String(200), default="", server_default=text("''"))
    post_policy: Mapped[str] = mapped_column(
        String(16), default="everyone", server_default=text("'everyone'")
    )
    slow_mode_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    invite_only: Mapped[bool] = mapped_column(default=False, server_default=false())
    invite_code: Mapped[str | None] = mapped_column(String(32))
    # JSON list of pinned message ids, newest first.
    pins: Mapped[str] = mapped_column(Text, default="[]", server_default=text("'[]'"))
    # The room's automatic moderation: {rules: {rule: action}, words: [...]} (0008_review).
    automod: Mapped[str] = mapped_column(Text, default="{}", server_default=text("'{}'"))


class RoomMember(Base):
    """An account that joined a room with its invite (members-only posting and
    invite-only rooms let them in)."""

    __tablename__ = "room_members"

    room: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RoomModerator(Base):
    """An account the room's owner (or an administrator) named moderator."""

    __tablename__ = "room_moderators"

    room: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    named_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Administrator(Base):
    """An instance administrator named with `talkrooms admin grant` (ADMIN_USERNAMES in
    the settings names others)."""

    __tablename__ = "administrators"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """One moderation action: who (an account id, or a rule for automatic actions), what,
    to whom, when, why. Never changed once written."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room: Mapped[str] = mapped_column(String(32), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(500), default="")
    details: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Sanction(Base):
    """A mute or a ban (kicks are instant and only audited). The person is an account
    (`account_id`) or a guest (`key_hash` of its client key); `author` is the token their
    messages carry, refused while the sanction lasts. `until` NULL: until lifted."""

    __tablename__ = "sanctions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    username: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key_hash: Mapped[str | None] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(500), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReviewItem(Base):
    """One thing in a room's review queue: a reported message (`message_id`), or one a
    rule held back (`rule`; never stored in the room, so no id). Decided items stay."""

    __tablename__ = "review_items"
    __table_args__ = (
        Index("ix_review_items_room_status", "room", "status"),
        Index(
            "ux_review_items_open_message",
            "room",
            "message_id",
            unique=True,
            sqlite_where=text("status = 'open' AND message_id IS NOT NULL"),
            postgresql_where=text("status = 'open' AND message_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(8))  # report | held
    status: Mapped[str] = mapped_column(String(12))  # open | dismissed | removed | ...
    message_id: Mapped[str | None] = mapped_column(String(16))
    username: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    message_at: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str | None] = mapped_column(String(16))
    # A held message's client_id (0010_review_client_id): kept when it is approved.
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReviewReport(Base):
    """One person's report of a queued message (one per reporter)."""

    __tablename__ = "review_reports"
    __table_args__ = (UniqueConstraint("item_id", "reporter", name="uq_review_reports_reporter"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"))
    reporter: Mapped[str] = mapped_column(String(80))
    reporter_name: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
