"""`talkrooms scheduler`: RQ's CronScheduler enqueues `cleanup_rooms`, once per interval.

RQ's own periodic scheduling (rq.cron.CronScheduler, `rq cron`; in RQ since 2.4, beta in
rq 3.0) holds no lock: two schedulers each enqueue every interval job at start and then
every interval, so running one per host or restarting one would run the job twice.
This subclass claims each run in Redis first (`SET tr:jobs:{job}:slot NX PX interval`):
whichever scheduler claims enqueues, the others learn from the claim's remaining TTL when
to try next. One enqueue per interval, however many schedulers run; if the one that
enqueued dies, another claims the next slot when the claim expires.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

import redis
from redis.exceptions import RedisError
from rq.cron import CronJob, CronScheduler
from rq.exceptions import SchedulerNotFound
from rq.utils import now

from talkrooms.jobs import tasks as jobs
from talkrooms.settings import Settings
from talkrooms.storage.redis_clients import plain_client
from talkrooms.storage.store import Store, wait_for_redis
from talkrooms.telemetry.logs import configure_logging

log = logging.getLogger("talkrooms.jobs.scheduling")

RETRY_AFTER_REDIS_ERROR = timedelta(seconds=5)
# Wake a moment after a foreign claim expires, not at the very millisecond.
CLAIM_MARGIN = timedelta(milliseconds=25)
FAILED_JOB_TTL_SECONDS = 7 * 86400


class SingleScheduleCronScheduler(CronScheduler):
    """CronScheduler whose interval jobs are enqueued by one scheduler per interval."""

    def __init__(self, connection: redis.Redis, store: Store, name: str = "") -> None:
        super().__init__(connection=connection, name=name)
        self.store = store

    def enqueue_jobs(self) -> list[CronJob]:
        """Enqueue the due jobs this scheduler could claim; reschedule the others."""
        enqueued: list[CronJob] = []
        for job in self._cron_jobs:
            if not job.should_run():
                continue
            try:
                if self._claim_and_enqueue(job):
                    enqueued.append(job)
            except RedisError as exc:
                log.error(
                    "scheduler could not reach Redis", extra={"job": job.name, "error": str(exc)}
                )
                job.next_enqueue_time = now() + RETRY_AFTER_REDIS_ERROR
        return enqueued

    def _claim_and_enqueue(self, job: CronJob) -> bool:
        interval = job.interval or 0
        claimed, remaining_ms = self.store.claim_job_slot(job.name, self.name, interval * 1000)
        if not claimed:
            # Someone else enqueued this run: pretend we saw it, so the next try lands
            # just after their claim expires (RQ computes next = latest + interval).
            wake = now() + timedelta(milliseconds=remaining_ms) + CLAIM_MARGIN
            job.set_enqueue_time(wake - timedelta(seconds=interval))
            log.info(
                "periodic job already enqueued by another scheduler",
                extra={"job": job.name, "next_try_in_s": round(remaining_ms / 1000, 3)},
            )
            return False
        try:
            job.enqueue(self.connection)
        except RedisError:
            with contextlib.suppress(RedisError):
                self.store.release_job_slot(job.name, self.name)
            raise
        job.set_enqueue_time(now())
        log.info("enqueued a periodic job", extra={"job": job.name, "scheduler": self.name})
        return True

    # RQ's loop lets any Redis error end the process; a scheduler should ride out an outage.
    def heartbeat(self) -> None:
        try:
            super().heartbeat()
        except RedisError as exc:
            log.error("scheduler heartbeat failed", extra={"error": str(exc)})

    def save(self, pipeline: object = None) -> None:
        try:
            super().save(pipeline)  # type: ignore[arg-type]
        except RedisError as exc:
            log.error("scheduler could not save its state", extra={"error": str(exc)})

    def register_death(self, pipeline: object = None) -> None:
        with contextlib.suppress(RedisError, SchedulerNotFound):
            super().register_death(pipeline)  # type: ignore[arg-type]


def build_scheduler(settings: Settings, connection: redis.Redis) -> SingleScheduleCronScheduler:
    """The scheduler with TalkRooms' periodic jobs registered."""
    scheduler = SingleScheduleCronScheduler(connection, Store(settings, connection))
    interval = settings.cleanup_interval_seconds
    scheduler.register(
        jobs.cleanup_rooms,
        queue_name=settings.rq_queue,
        interval=interval,
        name=jobs.CLEANUP_JOB,
        job_timeout=settings.cleanup_job_timeout_seconds,
        # A run not started within its interval is dropped: the next one does the same work,
        # so a stopped RQ worker never comes back to a pile of identical jobs.
        ttl=interval,
        failure_ttl=FAILED_JOB_TTL_SECONDS,
    )
    return scheduler


def run_scheduler(settings: Settings) -> int:
    """Run in the foreground until SIGTERM/SIGINT (RQ's handlers stop the loop cleanly)."""
    configure_logging(settings.log_level)
    connection = plain_client(
        settings.effective_rq_redis_url,
        socket_timeout=settings.redis_socket_timeout,
        socket_connect_timeout=min(2.0, settings.redis_socket_timeout),
        health_check_interval=30,
    )
    wait_for_redis(connection, "scheduler")
    scheduler = build_scheduler(settings, connection)
    log.info(
        "scheduler starting",
        extra={
            "scheduler": scheduler.name,
            "queue": settings.rq_queue,
            "interval_seconds": settings.cleanup_interval_seconds,
        },
    )
    scheduler.start()
    return 0
