"""Notifications' tables (storage/migrations/versions/0009_notifications.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from talkrooms.storage.database import Base, UTCDateTime


class PushDevice(Base):
    """One device of an account that takes push notifications: a browser's Web Push
    subscription (endpoint and keys) or an app's Expo push token. Removed when the push
    service says it is gone (404/410, DeviceNotRegistered)."""

    __tablename__ = "push_devices"
    __table_args__ = (UniqueConstraint("address", name="uq_push_devices_address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))  # webpush | expo
    # The endpoint URL (webpush) or the token (expo): one row per device.
    address: Mapped[str] = mapped_column(String(1000))
    p256dh: Mapped[str] = mapped_column(String(200), default="")
    auth: Mapped[str] = mapped_column(String(100), default="")
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NotificationPref(Base):
    """An account's setting for one room or conversation: all messages, mentions only
    (the default for rooms) or nothing, and a mute until a time."""

    __tablename__ = "notification_prefs"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    room: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    level: Mapped[str] = mapped_column(String(8))
    muted_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    details: Mapped[str] = mapped_column(Text, default="{}")
