"""`talkrooms rq-worker`: an RQ worker on the TalkRooms queue, with its own /metrics.

RQ's default Worker forks a work horse per job. That keeps the worker alive whatever a
job does (a crash or a timeout kills the horse, not the worker) and returns the job's
memory after each run; a cleanup run an hour costs one fork. The price is that a job
cannot count anything in the worker's memory, so jobs record their outcomes in Redis
(jobs/tasks.py) and this process's metrics endpoint reads them from there at scrape time,
together with the queue's own numbers.

The endpoint (prometheus_client's HTTP server in a thread of this process, never of the
horse) listens on RQ_METRICS_HOST:RQ_METRICS_PORT, loopback by default. SIGTERM is RQ's
warm shutdown: the running job finishes, then the worker exits.
"""

from __future__ import annotations

import logging

import redis
from prometheus_client import CollectorRegistry, ProcessCollector, start_http_server
from rq import Queue, Worker

from talkrooms.ops.collectors import ClusterCollector, RQCollector
from talkrooms.ops.snapshot import SnapshotCache
from talkrooms.settings import Settings
from talkrooms.storage.redis_clients import plain_client
from talkrooms.storage.store import Store, make_redis, wait_for_cluster, wait_for_redis
from talkrooms.telemetry.logs import configure_logging

log = logging.getLogger("talkrooms.jobs.rq_worker")


def metrics_registry(settings: Settings, connection: redis.Redis) -> CollectorRegistry:
    """What the RQ worker's /metrics shows: cluster state, the queue, this process."""
    registry = CollectorRegistry()
    store = Store(settings, make_redis(settings, max_connections=2))
    registry.register(
        ClusterCollector(
            SnapshotCache(store, settings.metrics_cache_seconds), settings.cleanup_interval_seconds
        )
    )
    registry.register(RQCollector(connection, settings.rq_queue))
    ProcessCollector(registry=registry)
    return registry


def run_worker(settings: Settings) -> int:
    """Work the queue in the foreground until SIGTERM/SIGINT; returns the exit code."""
    configure_logging(settings.log_level)
    # No read timeout: the worker blocks on BLPOP between jobs (RQ picks that timeout).
    connection = plain_client(
        settings.effective_rq_redis_url,
        socket_connect_timeout=min(2.0, settings.redis_socket_timeout),
        socket_keepalive=True,
        health_check_interval=30,
    )
    wait_for_redis(connection, "rq-worker")
    # Its jobs and metrics use the chat's Redis, which may be a cluster still forming.
    wait_for_cluster(settings.effective_redis_url, "rq-worker")
    server = None
    if settings.rq_metrics_port:
        server, _thread = start_http_server(
            settings.rq_metrics_port,
            addr=settings.rq_metrics_host,
            registry=metrics_registry(settings, connection),
        )
        log.info(
            "rq worker metrics listening",
            extra={"host": settings.rq_metrics_host, "port": settings.rq_metrics_port},
        )
    worker = Worker([Queue(settings.rq_queue, connection=connection)], connection=connection)
    try:
        # with_scheduler: retried jobs (notifications) wait out their backoff in RQ's own
        # scheduled-job registry, which a worker with a scheduler moves back to the queue.
        worker.work(logging_level=settings.log_level.upper(), with_scheduler=True)
    finally:
        if server is not None:
            server.shutdown()
    return 0
