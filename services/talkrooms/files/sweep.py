"""The cleanup job's part for files: remove those no kept message shares any more.

A file's bytes and row go when nothing points at it:
- an upload no message shared within UPLOAD_PENDING_HOURS (its offer expired);
- a file whose message was deleted (the delete detached it at once: it is unreadable
  from that moment; this sweep frees the space);
- a file whose message left the kept history (the history cap or the room's retention).
The room's quota gets the bytes back. The walk goes through the table oldest first from
a cursor kept between runs, at most `limit` rows per run, so every run is bounded and
successive runs cover everything.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, tuple_

from talkrooms.files.blobs import Blobs
from talkrooms.files.models import StoredFile
from talkrooms.storage.database import Database, utcnow
from talkrooms.storage.store import Store

log = logging.getLogger("talkrooms.files.sweep")


@dataclass
class SweepReport:
    files_examined: int = 0
    files_removed: int = 0
    bytes_freed: int = 0
    # Where the next run starts: (created_at ISO, id) of the last row examined, '' = start.
    cursor: str = ""
    # Why the sweep could not run ('' when it did).
    error: str = ""


@dataclass(frozen=True)
class _Row:
    id: str
    room: str
    created_at: datetime
    stored_bytes: int


class FileSweep:
    def __init__(self, database: Database, store: Store, blobs: Blobs) -> None:
        self.database = database
        self.store = store
        self.blobs = blobs

    def run(self, cursor: str = "", limit: int = 5000, grace_seconds: float = 300) -> SweepReport:
        """One bounded pass from `cursor`. Rows younger than `grace_seconds` are left alone:
        an upload writes its row a moment before Redis hears of it."""
        report = SweepReport()
        rows = self._rows_after(cursor, limit)
        young = utcnow() - timedelta(seconds=grace_seconds)
        for row in rows:
            report.files_examined += 1
            if row.created_at < young and not self._still_shared(row):
                self._remove(row)
                report.files_removed += 1
                report.bytes_freed += row.stored_bytes
        if len(rows) == limit:
            last = rows[-1]
            report.cursor = f"{last.created_at.isoformat()}|{last.id}"
        return report

    def _rows_after(self, cursor: str, limit: int) -> list[_Row]:
        def page(session: object) -> list[_Row]:
            query = select(StoredFile).order_by(StoredFile.created_at, StoredFile.id).limit(limit)
            if cursor:
                moment, _, last_id = cursor.partition("|")
                query = query.where(
                    tuple_(StoredFile.created_at, StoredFile.id)
                    > tuple_(datetime.fromisoformat(moment), last_id)
                )
            found = session.scalars(query).all()  # type: ignore[attr-defined]
            return [
                _Row(
                    f.id,
                    f.room,
                    f.created_at,
                    sum(int(v["size"]) for v in json.loads(f.variants).values()),
                )
                for f in found
            ]

        return self.database.run(page)

    def _still_shared(self, row: _Row) -> bool:
        """Waiting for its message, or shared by a message still kept and not deleted."""
        if self.store.upload_waiting(row.room, row.id):
            return True
        seq = self.store.file_message(row.room, row.id)
        if seq is None:
            return False
        if self.store.message_kept(row.room, seq):
            return True
        self.store.forget_file(row.room, row.id)
        return False

    def _remove(self, row: _Row) -> None:
        self.blobs.delete_file(row.id)
        self.database.run(
            lambda session: session.execute(delete(StoredFile).where(StoredFile.id == row.id))
        )
        self.store.release_upload_bytes(row.room, row.stored_bytes)
        log.info("file removed", extra={"file": row.id, "room": row.room})
