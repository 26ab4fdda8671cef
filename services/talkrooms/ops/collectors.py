"""Prometheus collectors that read Redis at scrape time: cluster state and the RQ queue.

Cluster-wide series (rooms, users, Redis, cleanup) come out identical from every target
that exposes them (each chat worker and the RQ worker), so dashboards and alerts take
`max()` of them, never `sum()`. Per-worker series (connections, messages, latencies) live
in telemetry/metrics.py and are summed. No label carries a room or user name.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import redis
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector
from redis.exceptions import RedisError
from rq import Queue, Worker

from talkrooms.ops.snapshot import ClusterSnapshot, SnapshotCache

log = logging.getLogger("talkrooms.ops.collectors")

CLUSTER_NOTE = " (cluster-wide, from Redis; every target reports the same value: use max)"

CLUSTER_TOTAL = ", summed over the Redis Cluster's nodes (keys: over its primaries)"

# Per Redis Cluster node: (field of ops/redis_section.py's node entry, metric, help).
NODE_GAUGES = (
    ("up", "up", "1 when this Redis Cluster node answers INFO, else 0"),
    ("used_memory_bytes", "used_memory_bytes", "used_memory of this Redis Cluster node"),
    ("connected_clients", "connected_clients", "connected_clients of this Redis Cluster node"),
    ("ops_per_sec", "ops_per_second", "instantaneous_ops_per_sec of this Redis Cluster node"),
    ("keys", "keys", "Keys held by this Redis Cluster node (a replica's are copies)"),
)


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text + CLUSTER_NOTE, value=value)


def _counter(name: str, text: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, text + CLUSTER_NOTE, value=value)


class ClusterCollector(Collector):
    """Rooms, users, Redis INFO and the cleanup job's record, from a cached snapshot."""

    def __init__(self, cache: SnapshotCache, cleanup_interval_seconds: int) -> None:
        self.cache = cache
        self.cleanup_interval_seconds = cleanup_interval_seconds

    def describe(self) -> list[Metric]:
        # Registering must not touch Redis.
        return []

    def collect(self) -> Iterator[Metric]:
        try:
            snapshot = self.cache.get()
        except RedisError as exc:
            log.error("metrics could not read Redis", extra={"error": str(exc)})
            yield GaugeMetricFamily(
                "talkrooms_redis_up", "1 when this process can read Redis, else 0", value=0
            )
            return
        yield GaugeMetricFamily(
            "talkrooms_redis_up", "1 when this process can read Redis, else 0", value=1
        )
        yield from self._cluster(snapshot)
        yield from self._redis_nodes(snapshot)
        yield from self._cleanup(snapshot)
        pushes = CounterMetricFamily(
            "talkrooms_push_notifications",
            "Notifications sent to devices, by outcome (retried: a try that will be "
            "retried; dropped: a device the push service no longer knows)" + CLUSTER_NOTE,
            labels=["outcome"],
        )
        for outcome, count in sorted(snapshot.push.items()):
            pushes.add_metric([outcome], count)
        yield pushes

    @staticmethod
    def _cluster(snapshot: ClusterSnapshot) -> Iterator[Metric]:
        info = snapshot.redis
        gauges = (
            (
                "rooms_active",
                "Active rooms (recent activity, users or messages)",
                snapshot.rooms_active,
            ),
            ("rooms_with_users", "Active rooms with someone present", snapshot.rooms_with_users),
            ("users_current", "People present in active rooms", snapshot.users),
            ("cluster_connections", "Connections of all live workers", snapshot.connections),
            ("workers_live", "Chat workers with a recent heartbeat", len(snapshot.workers)),
            ("messages_in_history", "Messages kept in active rooms", snapshot.messages_in_history),
            ("redis_used_memory_bytes", "Redis used_memory", info.get("used_memory_bytes")),
            ("redis_keys", "Keys in the Redis database", info.get("keys")),
            ("redis_ops_per_second", "Redis instantaneous_ops_per_sec", info.get("ops_per_sec")),
            ("redis_connected_clients", "Redis connected_clients", info.get("connected_clients")),
        )
        total = CLUSTER_TOTAL if "nodes" in info else ""  # a cluster: ops/redis_section.py
        for name, text, value in gauges:
            note = total if name.startswith("redis_") else ""
            yield _gauge(f"talkrooms_{name}", text + note, value or 0)
        yield _counter(
            "talkrooms_cluster_messages_stored",
            "Messages stored since the Redis data began",
            snapshot.messages_stored_total,
        )

    @staticmethod
    def _redis_nodes(snapshot: ClusterSnapshot) -> Iterator[Metric]:
        """On a Redis Cluster only: each node's figures (labelled by address and role; the
        talkrooms_redis_* gauges above are then the cluster's totals) and how many nodes
        do not answer. A single Redis has none of these series."""
        nodes = snapshot.redis.get("nodes")
        if nodes is None:
            return
        yield _gauge(
            "talkrooms_redis_cluster_nodes_down",
            "Redis Cluster nodes that did not answer INFO",
            snapshot.redis["cluster"]["down"],
        )
        families = {
            field: GaugeMetricFamily(
                f"talkrooms_redis_node_{name}", text + CLUSTER_NOTE, labels=["node", "role"]
            )
            for field, name, text in NODE_GAUGES
        }
        for node in nodes:
            labels = [node["address"], node["role"]]
            families["up"].add_metric(labels, 1 if node["up"] else 0)
            if not node["up"]:
                continue
            for field, family in families.items():
                if field != "up":
                    family.add_metric(labels, node.get(field) or 0)
        yield from families.values()

    def _cleanup(self, snapshot: ClusterSnapshot) -> Iterator[Metric]:
        status = snapshot.cleanup
        runs = CounterMetricFamily(
            "talkrooms_cleanup_runs", "Cleanup runs by outcome" + CLUSTER_NOTE, labels=["outcome"]
        )
        runs.add_metric(["success"], status.runs_success)
        runs.add_metric(["failure"], status.runs_failure)
        runs.add_metric(["skipped"], status.runs_skipped)
        yield runs
        counters = (
            ("rooms_removed", "Rooms removed from the index", status.rooms_removed),
            ("users_purged", "People the cleanup took out of rooms", status.users_purged),
            ("connections_purged", "Ghost connections removed", status.connections_purged),
            ("workers_purged", "Dead workers purged", status.workers_purged),
            ("keys_fixed", "Keys given a missing TTL", status.keys_fixed),
            ("files_removed", "Shared files removed (no kept message)", status.files_removed),
            ("file_bytes_freed", "Bytes of shared files removed", status.file_bytes_freed),
        )
        for name, text, value in counters:
            yield _counter(f"talkrooms_cleanup_{name}", text, value)
        yield SummaryMetricFamily(
            "talkrooms_cleanup_duration_seconds",
            "Duration of cleanup runs" + CLUSTER_NOTE,
            count_value=status.duration_count,
            sum_value=status.duration_seconds_sum,
        )
        gauges = (
            ("last_run_timestamp_seconds", "End of the last run (0: never)", status.last_run_at),
            (
                "last_success_timestamp_seconds",
                "End of the last successful run (0: never)",
                status.last_success_at,
            ),
            ("last_duration_seconds", "Duration of the last run", status.last_duration_seconds),
            ("interval_seconds", "Configured interval between runs", self.cleanup_interval_seconds),
        )
        for name, text, seconds in gauges:
            yield _gauge(f"talkrooms_cleanup_{name}", text, seconds)


class RQCollector(Collector):
    """The RQ queue the cleanup job runs on: waiting jobs, failed jobs, workers."""

    def __init__(self, connection: redis.Redis, queue_name: str) -> None:
        self.connection = connection
        self.queue_name = queue_name

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        queue = Queue(self.queue_name, connection=self.connection)
        try:
            waiting = queue.count
            failed = queue.failed_job_registry.count
            workers = Worker.count(queue=queue)
        except RedisError as exc:
            log.error("metrics could not read the RQ queue", extra={"error": str(exc)})
            return
        for name, text, value in (
            ("talkrooms_rq_queued_jobs", "Jobs waiting in the queue", waiting),
            ("talkrooms_rq_failed_jobs", "Jobs in the queue's failed registry", failed),
            ("talkrooms_rq_workers", "RQ workers listening on the queue", workers),
        ):
            family = GaugeMetricFamily(name, text, labels=["queue"])
            family.add_metric([self.queue_name], value)
            yield family
