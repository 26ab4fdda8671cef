"""The cleanup job's work: the safety net behind TTLs and worker heartbeats.

Presence normally cleans itself: a leaving connection removes itself, a gracefully
stopped worker clears its own connections, and live workers purge a silent one. What
none of that covers is this job's work:

- registered workers that stopped beating while no live worker was left to notice;
- connection sets of workers that are no longer registered at all (force purge);
- room connections that no registered worker holds any more (their worker's set
  expired while another worker kept the room's presence alive);
- rooms index entries of rooms that are empty (no one present, no history) or expired;
- keys under our prefix that carry no TTL.

Every step is idempotent (running it twice changes nothing the second time) and bounded:
the keyspace is walked with SCAN, the index with ZSCAN, at most `CLEANUP_MAX_KEYS` keys
and `CLEANUP_MAX_ROOMS` rooms per run; the cursors are kept between runs so successive
runs cover everything. Rooms that changed hear `user_left`/`room_users` like after any
other departure.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from talkrooms.protocol import PresentUser
from talkrooms.settings import Settings
from talkrooms.storage.store import Store

log = logging.getLogger("talkrooms.jobs.cleanup")


class Announcer(Protocol):
    """Where the job tells rooms about departures (the Socket.IO message queue)."""

    def user_left(self, room: str, username: str) -> None: ...

    def room_users(self, room: str, users: list[PresentUser]) -> None: ...


@dataclass
class CleanupReport:
    """What one run did; the CLI prints it, the job records it in Redis."""

    workers_purged: int = 0
    connections_purged: int = 0
    users_purged: int = 0
    rooms_swept: int = 0
    rooms_removed: int = 0
    rooms_notified: int = 0
    keys_examined: int = 0
    keys_fixed: int = 0
    key_cursor: int = 0
    index_cursor: int = 0
    changed_rooms: set[str] = field(default_factory=set, repr=False)

    @property
    def complete(self) -> bool:
        """Both walks reached their end; otherwise the next run resumes from the cursors."""
        return self.key_cursor == 0 and self.index_cursor == 0

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body.pop("changed_rooms")
        body["complete"] = self.complete
        return body


class Cleanup:
    """One bounded, idempotent pass over presence, the rooms index and our keyspace."""

    def __init__(self, settings: Settings, store: Store, announcer: Announcer) -> None:
        self.settings = settings
        self.store = store
        self.announcer = announcer

    def run(self, key_cursor: int = 0, index_cursor: int = 0) -> CleanupReport:
        """Clean, starting the two walks at the given cursors (0: from the start)."""
        report = CleanupReport(key_cursor=key_cursor, index_cursor=index_cursor)
        departures: list[tuple[str, str | None]] = []
        departures += self._purge_silent_workers(report)
        rooms, orphan_sets = self._walk_keys(report)
        departures += self._purge_orphan_worker_sets(report, orphan_sets)
        rooms |= self._walk_index(report, limit=self.settings.cleanup_max_rooms - len(rooms))
        rooms |= {room for room, _ in departures}
        for room in sorted(rooms):
            departures += self._sweep(report, room)
        self._announce(report, departures)
        return report

    # -- workers ---------------------------------------------------------------------------

    def _purge_silent_workers(self, report: CleanupReport) -> list[tuple[str, str | None]]:
        """Registered workers silent past the dead-after delay whose info key expired too.

        Requiring both signals keeps the job from purging a live worker that merely missed
        a beat; a worker purged wrongly anyway restores its presence on its next beat.
        """
        silent = self.store.dead_workers(self.settings.worker_dead_after_seconds)
        alive = self.store.workers_with_info(silent)
        departures: list[tuple[str, str | None]] = []
        for worker in silent:
            if worker in alive:
                continue
            purged = self.store.purge_worker(worker)
            report.connections_purged += len(purged)
            if purged:
                report.workers_purged += 1
                log.warning(
                    "cleanup purged a silent worker",
                    extra={"worker": worker, "connections": len(purged)},
                )
            departures += purged
        return departures

    def _purge_orphan_worker_sets(
        self, report: CleanupReport, workers: list[str]
    ) -> list[tuple[str, str | None]]:
        """Connection sets whose worker is neither registered nor beating."""
        registered = self.store.registered_workers()
        candidates = [w for w in workers if w not in registered]
        alive = self.store.workers_with_info(candidates)
        departures: list[tuple[str, str | None]] = []
        for worker in candidates:
            if worker in alive:
                continue
            purged = self.store.purge_worker(worker, force=True)
            report.connections_purged += len(purged)
            if purged:
                report.workers_purged += 1
                log.warning(
                    "cleanup purged an unregistered worker's connections",
                    extra={"worker": worker, "connections": len(purged)},
                )
            departures += purged
        return departures

    # -- bounded walks ---------------------------------------------------------------------

    def _walk_keys(self, report: CleanupReport) -> tuple[set[str], list[str]]:
        """SCAN our keyspace from the saved cursor: fix missing TTLs, note rooms and sets."""
        settings, keys = self.settings, self.store.keys
        rooms: set[str] = set()
        worker_sets: list[str] = []
        cursor = report.key_cursor
        while True:
            cursor, batch = self.store.scan_keys(
                cursor, keys.all_pattern(), settings.cleanup_scan_count
            )
            report.keys_examined += len(batch)
            report.keys_fixed += self.store.expire_keys_without_ttl(batch)
            for key in batch:
                parsed = keys.parse_room_key(key)
                if parsed is not None:
                    rooms.add(parsed[0])
                    continue
                worker = keys.parse_worker_conns_key(key)
                if worker is not None:
                    worker_sets.append(worker)
            if (
                cursor == 0
                or report.keys_examined >= settings.cleanup_max_keys
                or len(rooms) >= settings.cleanup_max_rooms
            ):
                break
        report.key_cursor = cursor
        return rooms, worker_sets

    def _walk_index(self, report: CleanupReport, limit: int) -> set[str]:
        """ZSCAN the rooms index from the saved cursor, at most about `limit` rooms."""
        rooms: set[str] = set()
        cursor = report.index_cursor
        if limit <= 0:
            return rooms
        while True:
            cursor, batch = self.store.scan_room_index(cursor, self.settings.cleanup_scan_count)
            rooms.update(batch)
            if cursor == 0 or len(rooms) >= limit:
                break
        report.index_cursor = cursor
        return rooms

    # -- rooms -----------------------------------------------------------------------------

    def _sweep(self, report: CleanupReport, room: str) -> list[tuple[str, str | None]]:
        result = self.store.sweep_room(room)
        report.rooms_swept += 1
        if result.unindexed:
            report.rooms_removed += 1
        if result.connections_removed or result.left:
            report.connections_purged += result.connections_removed
            report.changed_rooms.add(room)
            log.warning(
                "cleanup removed ghost connections",
                extra={"room": room, "connections": result.connections_removed},
            )
        return [(room, name) for name in result.left]

    def _announce(self, report: CleanupReport, departures: list[tuple[str, str | None]]) -> None:
        """user_left for each person gone, then one room_users per changed room."""
        rooms = set(report.changed_rooms)
        for room, username in departures:
            rooms.add(room)
            if username:
                report.users_purged += 1
                self.announcer.user_left(room, username)
        for room in sorted(rooms):
            self.announcer.room_users(room, self.store.room_users(room))
        report.rooms_notified = len(rooms)
