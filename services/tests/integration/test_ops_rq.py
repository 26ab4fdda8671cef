"""`talkrooms scheduler` and `talkrooms rq-worker` as supervisord starts them.

Two schedulers on one Redis must enqueue the cleanup once per interval (RQ's cron holds
no lock of its own); the RQ worker must run it, record it, expose it, and stop on SIGTERM.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rq import Queue
from rq.cron import CronScheduler, get_cron_job_ids
from rq.job import Job, JobStatus

from talkrooms.jobs import tasks as jobs
from talkrooms.jobs.scheduling import build_scheduler
from talkrooms.settings import Settings
from talkrooms.storage.job_status import CLEANUP_JOB
from talkrooms.storage.job_status import JobStatus as CleanupStatus
from talkrooms.storage.store import Store
from tests.support.ops import RQWorkerProcess, TalkroomsCommand
from tests.support.processes import RedisServer, free_port, wait_until

pytestmark = pytest.mark.integration

INTERVAL = 1


@pytest.fixture
def redis_server(work_dir: Path) -> Iterator[RedisServer]:
    server = RedisServer(work_dir / f"rq-{uuid.uuid4().hex[:6]}").start()
    yield server
    server.stop()


def enqueue_times(redis_server: RedisServer) -> list[float]:
    """When the cleanup was enqueued, oldest first (RQ's own cron history)."""
    client = redis_server.client()
    ids = get_cron_job_ids(CLEANUP_JOB, client)
    scores = [client.zscore(f"rq:cron_job:{CLEANUP_JOB}:jobs", job_id) for job_id in ids]
    return sorted(float(s) for s in scores if s is not None)


def test_two_schedulers_enqueue_the_cleanup_once_per_interval(work_dir, redis_server):
    env = {"CLEANUP_INTERVAL_SECONDS": str(INTERVAL)}
    schedulers = [
        TalkroomsCommand(work_dir, "scheduler", redis_server.url, env).start() for _ in range(2)
    ]
    try:
        wait_until(
            lambda: len(CronScheduler.all(redis_server.client())) == 2,
            20,
            "both schedulers registered",
        )
        wait_until(lambda: len(enqueue_times(redis_server)) >= 5, 20, "five enqueues")
        times = enqueue_times(redis_server)
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        # Unguarded, two schedulers enqueue in pairs (gaps near 0); guarded, one per interval.
        assert min(gaps) >= INTERVAL * 0.9, gaps
        assert len(times) <= (times[-1] - times[0]) / INTERVAL + 1.5
    finally:
        codes = [scheduler.stop(timeout=15) for scheduler in schedulers]
    assert codes == [0, 0], [s.log_tail() for s in schedulers]
    assert CronScheduler.all(redis_server.client()) == []


def test_a_restarted_scheduler_does_not_enqueue_again_within_the_interval(work_dir, redis_server):
    env = {"CLEANUP_INTERVAL_SECONDS": "3600"}
    first = TalkroomsCommand(work_dir, "scheduler", redis_server.url, env).start()
    wait_until(lambda: len(enqueue_times(redis_server)) == 1, 20, "the first enqueue")
    assert first.stop(timeout=15) == 0
    second = TalkroomsCommand(work_dir, "scheduler", redis_server.url, env).start()
    try:
        wait_until(
            lambda: len(CronScheduler.all(redis_server.client())) == 1,
            20,
            "the second scheduler registered",
        )
        wait_until(
            lambda: "already enqueued by another scheduler" in second.log_tail(),
            20,
            "the second scheduler's first loop",
        )
        assert len(enqueue_times(redis_server)) == 1
    finally:
        assert second.stop(timeout=15) == 0


def test_rq_cron_alone_would_enqueue_twice_the_claim_makes_it_once(redis_server):
    """Why the subclass exists: RQ's CronScheduler enqueues at start in every process."""
    client = redis_server.client()
    settings = Settings(_env_file=None, redis_url=redis_server.url)  # type: ignore[call-arg]
    plain = [CronScheduler(connection=client) for _ in range(2)]
    for scheduler in plain:
        scheduler.register(jobs.cleanup_rooms, queue_name="plain", interval=3600, name="plain")
        scheduler.enqueue_jobs()
    assert len(get_cron_job_ids("plain", client)) == 2
    guarded = [build_scheduler(settings, client) for _ in range(2)]
    for scheduler in guarded:
        scheduler.enqueue_jobs()
    assert len(get_cron_job_ids(CLEANUP_JOB, client)) == 1


def test_rq_worker_runs_the_job_records_it_and_stops_on_sigterm(work_dir, redis_server):
    worker = RQWorkerProcess(work_dir, redis_server.url).start()
    try:
        client = redis_server.client()
        job = Queue(Settings(_env_file=None).rq_queue, connection=client).enqueue(  # type: ignore[call-arg]
            jobs.cleanup_rooms
        )
        wait_until(
            lambda: Job.fetch(job.id, connection=client).get_status() == JobStatus.FINISHED,
            20,
            "the cleanup job finished",
        )
        result = Job.fetch(job.id, connection=client).return_value()
        assert result["status"] == "ok"
        store = Store(Settings(_env_file=None, redis_url=redis_server.url), client)  # type: ignore[call-arg]
        assert CleanupStatus.read(store).runs_success == 1
        text = requests.get(worker.metrics_url, timeout=5).text
        assert 'talkrooms_cleanup_runs_total{outcome="success"} 1.0' in text
        assert 'talkrooms_rq_workers{queue="talkrooms"} 1.0' in text
        assert "talkrooms_redis_up 1.0" in text
        # The chat workers' per-process series are not the RQ worker's business.
        assert "talkrooms_connections_current" not in text
    finally:
        code = worker.stop(timeout=15)
    assert code == 0, worker.log_tail()


def test_scheduler_started_before_redis_waits_for_it(work_dir):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    scheduler = TalkroomsCommand(work_dir, "scheduler", url).start()
    server = RedisServer(work_dir / f"late-{uuid.uuid4().hex[:6]}", port=port)
    try:
        wait_until(lambda: "waiting for Redis" in scheduler.log_tail(), 20, "the wait message")
        assert scheduler.running()
        server.start()
        wait_until(lambda: len(enqueue_times(server)) == 1, 20, "the enqueue once Redis is up")
    finally:
        code = scheduler.stop(timeout=15)
        server.stop()
    assert code == 0
