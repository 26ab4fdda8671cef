"""Uploads and reads of shared files.

An upload is checked (who may post in the room, rate limits, size, type from the bytes,
the room's quota), images are re-encoded (images.py), the bytes stored (blobs.py), a row
written to the database, and the file offered in Redis to the uploader's next message
in that room: send_message names it in `files`, and the store script attaches it to the
message atomically (storage/lua/store_message.lua). A file nobody attaches is removed by
the cleanup job. If any step fails, what earlier steps stored is taken back.

A read needs the file to belong to a message still kept (deleting the message detaches
its files at once) and the reader to be able to read the room: anyone for a public room
(its history is open to all), one of the two members for a private conversation.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from gevent.lock import BoundedSemaphore
from redis.exceptions import RedisError
from sqlalchemy.orm import make_transient

from talkrooms.files import images
from talkrooms.files.blobs import Blobs
from talkrooms.files.kinds import Kind, Refused, clean_name, judge
from talkrooms.files.models import StoredFile
from talkrooms.protocol import is_private_room
from talkrooms.settings import RateLimit, Settings
from talkrooms.storage.database import Database, offload_low, utcnow
from talkrooms.storage.store import Store
from talkrooms.telemetry import metrics

log = logging.getLogger("talkrooms.files")

SNIFF_BYTES = 8192
VARIANTS = ("original", "display", "thumb")
# Images decoded at once per worker: each may hold up to IMAGE_MAX_PIXELS x 4 bytes.
IMAGE_CONCURRENCY = 2


@dataclass(frozen=True)
class Uploader:
    """Who uploads: their author token (an account's `u:<id>`, a guest's name-and-key
    hash: the token send_message will carry), account id if any, and address."""

    author: str
    account_id: int | None
    address: str


@dataclass(frozen=True)
class Served:
    """What a read answers: where the bytes are and the headers they go out with."""

    key: str
    name: str
    served_as: str
    inline: bool
    size: int


def entry_json(row: StoredFile) -> dict[str, Any]:
    """The file as messages carry it (ids only: never a storage path)."""
    entry: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "size": row.size,
        "type": row.served_as,
        "kind": "image" if row.image else "file",
    }
    if row.image:
        entry["width"], entry["height"] = row.width, row.height
        entry["variants"] = [v for v in json.loads(row.variants) if v != "original"]
    return entry


class FileService:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        store: Store,
        blobs: Blobs,
        members_of: Any,
    ) -> None:
        """`members_of(room)` answers a private conversation's account ids."""
        self.settings = settings
        self.database = database
        self.store = store
        self.blobs = blobs
        self.members_of = members_of
        self._decoding = BoundedSemaphore(IMAGE_CONCURRENCY)

    # -- rights -----------------------------------------------------------------------------

    def may_use_room(self, room: str, account_id: int | None) -> bool:
        """Public rooms are everyone's; a private conversation is its two members'."""
        if not is_private_room(room):
            return True
        return account_id is not None and account_id in self.members_of(room)

    def _limit(self, scope: str, subject: str, rate: RateLimit) -> None:
        if not rate.enabled:
            return
        count, retry_after = self.store.count_attempt(
            self.store.keys.upload_attempts(scope, subject), rate.window
        )
        if count > rate.count:
            raise Refused(429, "rate_limited", f"Too many uploads; try again in {retry_after} s")

    # -- upload -----------------------------------------------------------------------------

    def upload(
        self, room: str, uploader: Uploader, name: str | None, data: bytes
    ) -> dict[str, Any]:
        """Store one file for `room`; its message entry. Refused(4xx) for every refusal."""
        if not self.may_use_room(room, uploader.account_id):
            raise Refused(404, "not_found", "No such conversation")
        self._limit("addr", uploader.address, self.settings.upload_address_rate)
        self._limit("person", uploader.author, self.settings.upload_rate)
        if len(data) > self.settings.upload_max_bytes:
            raise Refused(413, "too_large", self._too_large())
        if not data:
            raise Refused(400, "empty_file", "The file is empty")
        kind = judge(data[:SNIFF_BYTES])
        if kind.image:
            with self._decoding:
                variants = offload_low(
                    images.process, data, kind.content_type, self.settings.image_max_pixels
                )
        else:
            variants = [images.Variant("original", data, kind.served_as, 0, 0)]
        file_id = secrets.token_hex(16)
        total = sum(len(v.data) for v in variants)
        if not self.store.reserve_upload_bytes(room, total, self.settings.room_upload_quota_bytes):
            raise Refused(413, "room_quota", "This room has no room left for files")
        stored: list[str] = []
        try:
            for variant in variants:
                self.blobs.put(f"{file_id}/{variant.name}", variant.data, variant.content_type)
                stored.append(variant.name)
            row = self._record(file_id, room, uploader, name, kind, variants)
            entry = entry_json(row)
            self.store.offer_upload(
                room,
                file_id,
                uploader.author,
                json.dumps(entry, ensure_ascii=False, separators=(",", ":")),
                int(self.settings.upload_pending_hours * 3600),
            )
        except Exception:
            log.exception("storing an upload failed; taking it back")
            self._take_back(file_id, room, total, recorded=bool(stored))
            raise
        metrics.FILES_UPLOADED.labels(kind=entry["kind"]).inc()
        metrics.FILE_BYTES_UPLOADED.inc(total)
        return entry

    def _too_large(self) -> str:
        return f"Files are at most {self.settings.upload_max_bytes // (1024 * 1024)} MB"

    def _record(
        self,
        file_id: str,
        room: str,
        uploader: Uploader,
        name: str | None,
        kind: Kind,
        variants: list[images.Variant],
    ) -> StoredFile:
        original = variants[0]
        fallback = "image" if kind.image else "file"
        row = StoredFile(
            id=file_id,
            room=room,
            uploader=uploader.author,
            name=clean_name(name, fallback),
            content_type=kind.content_type,
            served_as=kind.served_as,
            size=len(original.data),
            image=kind.image,
            width=original.width if kind.image else None,
            height=original.height if kind.image else None,
            variants=json.dumps(
                {
                    v.name: {"type": v.content_type, "size": len(v.data)}
                    | ({"width": v.width, "height": v.height} if kind.image else {})
                    for v in variants
                }
            ),
            created_at=utcnow(),
        )

        def insert(session: Any) -> StoredFile:
            session.add(row)
            session.flush()
            session.expunge(row)
            return row

        return self.database.run(insert)

    def _take_back(self, file_id: str, room: str, total: int, recorded: bool) -> None:
        """Undo a failed upload: nothing half-stored stays behind."""
        try:
            self.blobs.delete_file(file_id)
        except Exception:
            log.exception("removing a failed upload's bytes failed")
        try:
            self.database.run(lambda s: s.query(StoredFile).filter_by(id=file_id).delete())
        except Exception:
            log.exception("removing a failed upload's row failed")
        try:
            self.store.release_upload_bytes(room, total)
        except RedisError:
            log.exception("releasing a failed upload's quota failed")

    # -- reads ------------------------------------------------------------------------------

    def open(self, file_id: str, variant: str, account_id: int | None) -> Served:
        """A file variant for this reader; Refused(404) alike for a file that does not
        exist, is not (or no longer) in a kept message, or is not theirs to read."""
        missing = Refused(404, "not_found", "No such file")
        if variant not in VARIANTS or len(file_id) != 32:
            raise missing
        row = self.database.run(lambda session: _detached(session.get(StoredFile, file_id)))
        if row is None or not self.may_use_room(row.room, account_id):
            raise missing
        if self.store.file_message(row.room, row.id) is None:
            raise missing
        variants = json.loads(row.variants)
        if variant not in variants:
            if variant == "display" and row.image:
                variant = "original"  # small images have no separate display size
            else:
                raise missing
        info = variants[variant]
        return Served(
            key=f"{row.id}/{variant}",
            name=row.name,
            served_as=info["type"] if row.image else row.served_as,
            inline=row.image,
            size=int(info["size"]),
        )


def _detached(row: StoredFile | None) -> StoredFile | None:
    """A row usable after its session closed."""
    if row is not None:
        make_transient(row)
    return row
