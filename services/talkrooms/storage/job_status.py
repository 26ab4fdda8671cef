"""The cleanup job's record in Redis (`tr:jobs:cleanup_rooms`), as /api/stats and the
metrics collectors read it; the job (talkrooms.jobs) writes it through the store."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from talkrooms.storage.store import Store

CLEANUP_JOB = "cleanup_rooms"


@dataclass(frozen=True)
class JobStatus:
    """The cleanup record as /api/stats and the metrics collectors read it."""

    runs_success: int = 0
    runs_failure: int = 0
    runs_skipped: int = 0
    rooms_removed: int = 0
    users_purged: int = 0
    connections_purged: int = 0
    workers_purged: int = 0
    keys_fixed: int = 0
    files_removed: int = 0
    file_bytes_freed: int = 0
    duration_seconds_sum: float = 0.0
    duration_count: int = 0
    last_status: str = "never"
    last_run_at: float = 0.0
    last_success_at: float = 0.0
    last_failure_at: float = 0.0
    last_duration_seconds: float = 0.0
    last_error: str = ""
    complete_walk: bool = True

    @classmethod
    def from_hash(cls, raw: dict[str, str]) -> JobStatus:
        def number(name: str) -> int:
            return int(raw.get(name, 0))

        def real(name: str) -> float:
            return float(raw.get(name, 0.0))

        return cls(
            runs_success=number("runs_success"),
            runs_failure=number("runs_failure"),
            runs_skipped=number("runs_skipped"),
            rooms_removed=number("rooms_removed"),
            users_purged=number("users_purged"),
            connections_purged=number("connections_purged"),
            workers_purged=number("workers_purged"),
            keys_fixed=number("keys_fixed"),
            files_removed=number("files_removed"),
            file_bytes_freed=number("file_bytes_freed"),
            duration_seconds_sum=real("duration_seconds_sum"),
            duration_count=number("duration_count"),
            last_status=raw.get("last_status", "never"),
            last_run_at=real("last_run_at"),
            last_success_at=real("last_success_at"),
            last_failure_at=real("last_failure_at"),
            last_duration_seconds=real("last_duration_seconds"),
            last_error=raw.get("last_error", ""),
            complete_walk=raw.get("key_cursor", "0") == "0" and raw.get("index_cursor", "0") == "0",
        )

    @classmethod
    def read(cls, store: Store) -> JobStatus:
        return cls.from_hash(store.job_state(CLEANUP_JOB))

    def as_dict(self, interval_seconds: int) -> dict[str, Any]:
        """The `cleanup` section of /api/stats."""

        def iso(ts: float) -> str | None:
            if not ts:
                return None
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))

        return {
            "interval_seconds": interval_seconds,
            "runs": {
                "success": self.runs_success,
                "failure": self.runs_failure,
                "skipped": self.runs_skipped,
            },
            "rooms_removed_total": self.rooms_removed,
            "users_purged_total": self.users_purged,
            "connections_purged_total": self.connections_purged,
            "workers_purged_total": self.workers_purged,
            "keys_fixed_total": self.keys_fixed,
            "files_removed_total": self.files_removed,
            "file_bytes_freed_total": self.file_bytes_freed,
            "last_status": self.last_status,
            "last_run_at": iso(self.last_run_at),
            "last_success_at": iso(self.last_success_at),
            "last_duration_seconds": self.last_duration_seconds,
            "last_error": self.last_error or None,
            "walk_complete": self.complete_walk,
        }
