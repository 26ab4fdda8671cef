"""The files' table (created by storage/migrations/versions/0004_files.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from talkrooms.storage.database import Base, UTCDateTime


class StoredFile(Base):
    """One shared file. `id` is 128 random bits (hex), the only handle clients get;
    `room` is where it was shared, which says who may read it; `variants` is JSON:
    {variant: {"type", "size", "width"?, "height"?}}."""

    __tablename__ = "files"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    room: Mapped[str] = mapped_column(String(32), index=True)
    uploader: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    served_as: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    image: Mapped[bool] = mapped_column(default=False)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    variants: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
