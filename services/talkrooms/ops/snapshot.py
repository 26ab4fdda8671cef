"""The cluster as Redis sees it: one read that /api/stats and /metrics both report.

Rooms, users, messages, Redis INFO (every node's on a Redis Cluster: ops/redis_section.py)
and the cleanup record are cluster-wide facts, not per-worker ones; every worker reads the
same numbers from Redis. /api/stats reads them fresh; the metrics collector reuses a read
younger than METRICS_CACHE_SECONDS, so N workers scraped every few seconds cost Redis a
few reads per interval, not one per scrape each (the rooms count walks the rooms index:
bounded, but not free).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from talkrooms.notify.state import NotifyState
from talkrooms.ops.redis_section import redis_section
from talkrooms.storage.job_status import JobStatus
from talkrooms.storage.store import Store
from talkrooms.telemetry import metrics

ACTIVE_ROOMS_MAX = 10_000


@dataclass(frozen=True)
class ClusterSnapshot:
    """Cluster-wide numbers at `taken_at`."""

    taken_at: float
    rooms_active: int
    rooms_with_users: int
    users: int
    messages_in_history: int
    messages_stored_total: int
    connections: int
    workers: list[dict[str, Any]]
    redis: dict[str, Any]
    cleanup: JobStatus = field(default_factory=JobStatus)
    # Notifications' sends by outcome (sent, failed, retried, dropped), from the RQ jobs.
    push: dict[str, int] = field(default_factory=dict)


def take_snapshot(store: Store) -> ClusterSnapshot:
    """Read everything once; raises RedisError when Redis does not answer."""
    started = time.perf_counter()
    try:
        active = store.active_rooms(ACTIVE_ROOMS_MAX)
        workers = store.live_workers()
        counters = store.counters()
        redis_info = redis_section(store)
        cleanup = JobStatus.read(store)
        push = NotifyState(store.redis, store.settings.key_prefix).outcomes()
    except RedisError:
        metrics.REDIS_ERRORS.labels(operation="snapshot").inc()
        raise
    metrics.REDIS_LATENCY.labels(operation="snapshot").observe(time.perf_counter() - started)
    return ClusterSnapshot(
        taken_at=time.time(),
        rooms_active=len(active),
        rooms_with_users=sum(1 for r in active if r["users"]),
        users=sum(r["users"] for r in active),
        messages_in_history=sum(r["messages"] for r in active),
        messages_stored_total=counters.get("messages_stored", 0),
        connections=sum(int(w.get("connections", 0)) for w in workers),
        workers=workers,
        redis=redis_info,
        cleanup=cleanup,
        push=push,
    )


class SnapshotCache:
    """The last snapshot, reused while younger than `max_age` seconds."""

    def __init__(self, store: Store, max_age: float) -> None:
        self.store = store
        self.max_age = max_age
        self._last: ClusterSnapshot | None = None

    def get(self, max_age: float | None = None) -> ClusterSnapshot:
        """A snapshot at most `max_age` old (default: the cache's); raises RedisError."""
        limit = self.max_age if max_age is None else max_age
        last = self._last
        if last is not None and time.time() - last.taken_at <= limit:
            return last
        self._last = take_snapshot(self.store)
        return self._last

    def fresh(self) -> ClusterSnapshot:
        return self.get(max_age=0)
