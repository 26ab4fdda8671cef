"""The operations subcommands of `talkrooms`: cleanup, rq-worker, scheduler.

Each reads Settings from the environment (REDIS_URL, CLEANUP_INTERVAL_SECONDS, ...) and
runs in the foreground, so supervisord or docker-compose can start and stop it by PID.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from redis.exceptions import RedisError

from talkrooms.settings import Settings


def add_ops_commands(commands: Any) -> None:
    """Register `cleanup`, `rq-worker` and `scheduler` on the `talkrooms` parser."""
    cleanup = commands.add_parser(
        "cleanup", help="run the room cleanup once now and print a JSON summary"
    )
    cleanup.set_defaults(handler=_cleanup)
    worker = commands.add_parser(
        "rq-worker", help="run an RQ worker for the TalkRooms queue (foreground)"
    )
    worker.set_defaults(handler=_rq_worker)
    scheduler = commands.add_parser(
        "scheduler", help="enqueue the periodic jobs, once per interval across schedulers"
    )
    scheduler.set_defaults(handler=_scheduler)


def _cleanup(_args: argparse.Namespace) -> int:
    from talkrooms.jobs.tasks import run_cleanup
    from talkrooms.telemetry.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_level)
    try:
        summary = run_cleanup(settings)
    except RedisError as exc:
        print(json.dumps({"status": "failed", "error": str(exc)}))
        return 1
    print(json.dumps(summary, sort_keys=True))
    sys.stdout.flush()
    return 0


def _rq_worker(_args: argparse.Namespace) -> int:
    from talkrooms.jobs.rq_worker import run_worker

    return run_worker(Settings())


def _scheduler(_args: argparse.Namespace) -> int:
    from talkrooms.jobs.scheduling import run_scheduler

    return run_scheduler(Settings())
