"""The site-wide bookkeeping of stored messages and events: the rooms index's activity
times and the stats counters, written in bulk instead of by every message's script.

Each room's keys share a hash tag so that its scripts run on one Redis Cluster shard;
the rooms index and the stats hash belong to no room, so a script of a room may not touch
them. The message and event paths note what they stored here, and a flush writes it all
in one pipeline: one ZADD (GT: a later time only) and one HINCRBY per counter, at most
every FLUSH_SECONDS per worker, whatever the message rate. A crash loses up to that much
of counting, never a message.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from talkrooms.storage.keys import Keys

log = logging.getLogger("talkrooms.storage.room_activity")

FLUSH_SECONDS = 1.0


class RoomActivity:
    """Last activity per room and counters, kept until the next flush."""

    def __init__(self, client: Any, keys: Keys, room_ttl_seconds: int) -> None:
        self.redis = client
        self.keys = keys
        self.room_ttl_seconds = room_ttl_seconds
        self._latest: dict[str, int] = {}
        self._counts: Counter[str] = Counter()
        self._flushed_at = 0.0

    def note(self, room: str, at_ms: int, counter: str) -> None:
        """Something was stored in `room` at `at_ms`; `counter` (messages_stored, ...)
        grows by one."""
        if at_ms > self._latest.get(room, 0):
            self._latest[room] = at_ms
        self._counts[counter] += 1

    def flush_due(self) -> None:
        """Flush if the last flush is FLUSH_SECONDS old (called after each stored batch)."""
        if (self._latest or self._counts) and time.monotonic() - self._flushed_at >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write what was noted; kept for the next try if Redis refuses."""
        self._flushed_at = time.monotonic()
        latest, counts = self._latest, self._counts
        if not latest and not counts:
            return
        self._latest, self._counts = {}, Counter()
        pipe = self.redis.pipeline(transaction=False)
        if latest:
            pipe.zadd(self.keys.rooms, latest, gt=True)
            pipe.expire(self.keys.rooms, self.room_ttl_seconds)
        for counter, amount in counts.items():
            pipe.hincrby(self.keys.stats, counter, amount)
        try:
            pipe.execute()
        except RedisError as exc:
            log.warning("room activity not written yet", extra={"error": str(exc)})
            for room, at_ms in latest.items():
                self._latest[room] = max(at_ms, self._latest.get(room, 0))
            self._counts.update(counts)

    def run(self, sleep: Callable[[float], None]) -> None:
        """Flush every FLUSH_SECONDS, forever (the worker's own greenlet): what a quiet
        moment after a burst left is written too."""
        while True:
            sleep(FLUSH_SECONDS)
            try:
                self.flush()
            except Exception:
                log.exception("flushing room activity failed")
