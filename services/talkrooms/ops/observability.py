"""What a chat worker adds for operators: the cluster collector and fan-out timing.

Each chat worker serves its own registry on its own `/metrics` (one scrape target per
worker, summed in PromQL; docs/operations.md says why not multiprocess mode). This
module hangs the per-app parts on the app: a snapshot cache shared by /api/stats and the
cluster collector, and a registry of its own for that collector, so building a second
app in one process (tests) never registers anything twice in the global registry.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from prometheus_client import CollectorRegistry

from talkrooms.ops.collectors import ClusterCollector
from talkrooms.ops.snapshot import SnapshotCache
from talkrooms.realtime.broadcast import TalkroomsRedisManager
from talkrooms.settings import Settings
from talkrooms.storage.store import Store
from talkrooms.telemetry import metrics

EXTENSION = "talkrooms_ops"


@dataclass
class Observability:
    """app.extensions['talkrooms_ops']: read by web/api.py."""

    snapshots: SnapshotCache
    registry: CollectorRegistry
    cleanup_interval_seconds: int


def install_observability(
    app: Flask, settings: Settings, store: Store, manager: TalkroomsRedisManager
) -> Observability:
    """Attach the cluster collector and the fan-out observer to a freshly built app."""
    snapshots = SnapshotCache(store, settings.metrics_cache_seconds)
    registry = CollectorRegistry()
    registry.register(ClusterCollector(snapshots, settings.cleanup_interval_seconds))
    manager.on_remote_message = metrics.FanoutObserver(manager)
    ops = Observability(snapshots, registry, settings.cleanup_interval_seconds)
    app.extensions[EXTENSION] = ops
    return ops
