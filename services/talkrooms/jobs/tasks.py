"""RQ jobs of TalkRooms and the record of their outcomes in Redis.

`cleanup_rooms` is what the RQ worker runs (enqueued by `talkrooms scheduler`, see
jobs/scheduling.py); `talkrooms cleanup` runs the same `run_cleanup` in the foreground.

Outcomes go to one small Redis hash (`tr:jobs:cleanup_rooms`), not to in-process
metrics: RQ's default worker forks a work horse per job, so anything the job counted in
its own memory would die with the horse. Redis is also what every chat worker reads for
/api/stats and /metrics, so the CLI, the RQ worker and the dashboards see one record.

ops/stack.py starts `talkrooms rq-worker` and `talkrooms scheduler` when this module imports.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

import redis
from redis.exceptions import LockError

from talkrooms.chat.announce import QueueAnnouncer
from talkrooms.files.backends import make_blobs
from talkrooms.files.sweep import FileSweep, SweepReport
from talkrooms.jobs.cleanup import Announcer, Cleanup, CleanupReport
from talkrooms.settings import Settings
from talkrooms.storage.database import Database, database_exists
from talkrooms.storage.job_status import CLEANUP_JOB
from talkrooms.storage.store import Store, make_redis

log = logging.getLogger("talkrooms.jobs.tasks")

ERROR_TEXT_MAX = 200


def cleanup_rooms() -> dict[str, Any]:
    """The RQ job: one cleanup run with the worker's settings (read from the environment)."""
    return run_cleanup(Settings())


def run_cleanup(
    settings: Settings,
    client: redis.Redis | None = None,
    announcer: Announcer | None = None,
) -> dict[str, Any]:
    """Run the cleanup once unless a run is already in progress; returns its summary.

    A lock (with the job timeout as TTL) keeps two runs from overlapping, say the
    scheduled job and an operator's `talkrooms cleanup`: the second one reports
    `skipped` instead of announcing the same departures twice.
    """
    own_client = client is None
    store = Store(settings, client or make_redis(settings, max_connections=4))
    own_announcer = announcer is None
    room_announcer: Announcer = announcer or QueueAnnouncer(settings)
    started = time.time()
    lock = store.job_lock(CLEANUP_JOB, timeout=settings.cleanup_job_timeout_seconds + 30)
    try:
        if not lock.acquire(blocking=False):
            record_skip(store, started)
            log.info("cleanup skipped: another run is in progress")
            return {"status": "skipped", "reason": "another cleanup run is in progress"}
        try:
            state = store.job_state(CLEANUP_JOB)
            report = Cleanup(settings, store, room_announcer).run(
                key_cursor=int(state.get("key_cursor", 0)),
                index_cursor=int(state.get("index_cursor", 0)),
            )
            files = sweep_files(settings, store, str(state.get("file_cursor", "")))
            if files.error:
                log.error("the files' part of the cleanup failed", extra={"error": files.error})
        except Exception as exc:
            record_failure(store, started, exc)
            log.exception("cleanup failed")
            raise
        finally:
            # Expired, or Redis is gone: the TTL frees it either way.
            with contextlib.suppress(LockError, redis.RedisError):
                lock.release()
        duration = record_success(store, started, report, files)
        summary = {
            "status": "ok",
            "duration_seconds": round(duration, 4),
            **report.as_dict(),
            "files_examined": files.files_examined,
            "files_removed": files.files_removed,
            "file_bytes_freed": files.bytes_freed,
            "files_error": files.error or None,
        }
        log.info("cleanup done", extra=summary)
        return summary
    finally:
        if own_announcer and isinstance(room_announcer, QueueAnnouncer):
            room_announcer.close()
        if own_client:
            store.redis.close()


def sweep_files(settings: Settings, store: Store, cursor: str) -> SweepReport:
    """The files' part of the run (files/sweep.py), on the same store and settings. Its
    failure (the database or the object store unreachable) is reported, not raised: the
    presence cleanup it rides with must go on."""
    if not database_exists(settings.database_url):
        return SweepReport(cursor=cursor)  # nothing was ever uploaded (nor migrated) here
    database = Database(settings.database_url)
    try:
        return FileSweep(database, store, make_blobs(settings)).run(
            cursor, limit=settings.cleanup_max_keys, grace_seconds=settings.file_sweep_grace_seconds
        )
    except Exception as exc:
        log.exception("sweeping files failed")
        return SweepReport(cursor=cursor, error=f"{type(exc).__name__}: {exc}"[:ERROR_TEXT_MAX])
    finally:
        database.dispose()


# -- the record in Redis -----------------------------------------------------------------


def record_success(
    store: Store, started: float, report: CleanupReport, files: SweepReport | None = None
) -> float:
    """Add a successful run to the job's counters; returns its duration."""
    finished = time.time()
    duration = finished - started
    store.record_job(
        CLEANUP_JOB,
        {
            "runs_success": 1,
            "rooms_removed": report.rooms_removed,
            "users_purged": report.users_purged,
            "connections_purged": report.connections_purged,
            "workers_purged": report.workers_purged,
            "keys_fixed": report.keys_fixed,
            "files_removed": files.files_removed if files else 0,
            "file_bytes_freed": files.bytes_freed if files else 0,
            "duration_seconds_sum": duration,
            "duration_count": 1,
        },
        {
            "last_status": "ok",
            "last_run_at": finished,
            "last_success_at": finished,
            "last_duration_seconds": round(duration, 6),
            "last_rooms_removed": report.rooms_removed,
            "last_users_purged": report.users_purged,
            "key_cursor": report.key_cursor,
            "index_cursor": report.index_cursor,
            "file_cursor": files.cursor if files else "",
        },
    )
    return duration


def record_failure(store: Store, started: float, error: BaseException) -> None:
    """Count a failed run; best effort, since Redis itself may be what failed."""
    finished = time.time()
    try:
        store.record_job(
            CLEANUP_JOB,
            {"runs_failure": 1, "duration_seconds_sum": finished - started, "duration_count": 1},
            {
                "last_status": "failed",
                "last_run_at": finished,
                "last_failure_at": finished,
                "last_duration_seconds": round(finished - started, 6),
                "last_error": f"{type(error).__name__}: {error}"[:ERROR_TEXT_MAX],
            },
        )
    except redis.RedisError as exc:
        log.error("could not record the cleanup failure", extra={"error": str(exc)})


def record_skip(store: Store, started: float) -> None:
    store.record_job(CLEANUP_JOB, {"runs_skipped": 1}, {"last_skipped_at": started})
