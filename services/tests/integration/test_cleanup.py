"""The cleanup job against a real Redis and a real chat worker.

Each test gets its own redis-server: the job sweeps the whole keyspace, so it must not
meet (or disturb) what other tests left in the shared one.
"""

from __future__ import annotations

import functools
import json
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from talkrooms.jobs.tasks import run_cleanup
from talkrooms.protocol import username_identity
from talkrooms.settings import Settings
from talkrooms.storage import database
from talkrooms.storage.job_status import CLEANUP_JOB, JobStatus
from talkrooms.storage.store import Store, client_key_hash, now_ms
from tests.support.client import ChatClient
from tests.support.ops import ops_environment
from tests.support.processes import VENV_BIN, ChatWorker, RedisServer, free_port, wait_until

pytestmark = pytest.mark.integration


@functools.cache
def job_folder() -> Path:
    """The job's database (migrated) and upload folder: never the repository's run/."""
    folder = Path(tempfile.mkdtemp(prefix="talkrooms-cleanup-"))
    database.upgrade(f"sqlite:///{folder / 'job.db'}")
    return folder


def job_settings(redis_url: str, **values: Any) -> Settings:
    """The job's settings: the same defaults the RQ worker would read, our Redis."""
    base: dict[str, Any] = {
        "database_url": f"sqlite:///{job_folder() / 'job.db'}",
        "upload_dir": str(job_folder() / "uploads"),
        "redis_url": redis_url,
        "heartbeat_interval_seconds": 1,
        "worker_dead_after_seconds": 3,
    }
    base.update(values)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


@pytest.fixture
def redis_server(work_dir: Path) -> Iterator[RedisServer]:
    server = RedisServer(work_dir / f"cleanup-{uuid.uuid4().hex[:6]}").start()
    yield server
    server.stop()


@pytest.fixture
def worker(work_dir: Path, redis_server: RedisServer) -> Iterator[ChatWorker]:
    # The worker must not reap the ghosts itself: only the job should see them.
    worker = ChatWorker(
        work_dir,
        redis_server.url,
        env={"WORKER_DEAD_AFTER_SECONDS": "3600", "METRICS_CACHE_SECONDS": "0"},
    ).start()
    yield worker
    worker.stop()


def ghost(store: Store, room: str, username: str, worker: str) -> str:
    """A person in `room` held by `worker`, written the way a real join writes it."""
    conn = f"ghost-{uuid.uuid4().hex[:8]}"
    store.join(room, conn, username_identity(username), username, client_key_hash(None), worker)
    return conn


def test_ghosts_of_dead_workers_leave_and_the_room_hears_it(redis_server, worker, clients):
    settings = job_settings(redis_server.url)
    store = Store(settings, redis_server.client())
    alice = ChatClient(worker.url).connect()
    clients.append(alice)
    assert alice.join("alice", "lobby")["ok"] is True

    # bob: his worker is gone from the registry, its connection set is still there.
    ghost(store, "lobby", "bob", "vanished-worker")
    # carol: her worker's connection set expired; the room still lists her.
    ghost(store, "lobby", "carol", "expired-worker")
    store.redis.delete(store.keys.worker_conns("expired-worker"))
    # dave: his worker is registered but stopped beating long ago.
    ghost(store, "lobby", "dave", "silent-worker")
    store.redis.zadd(store.keys.workers, {"silent-worker": now_ms() - 60_000})
    assert set(store.room_usernames("lobby")) == {"alice", "bob", "carol", "dave"}
    mark = alice.mark()

    summary = run_cleanup(settings)

    assert summary["status"] == "ok"
    assert summary["users_purged"] == 3 and summary["connections_purged"] == 3
    assert summary["workers_purged"] == 2  # vanished-worker and silent-worker
    assert store.room_usernames("lobby") == ["alice"]
    left = {
        alice.wait_for("user_left", lambda d, n=name: d["username"] == n, after=mark)["username"]
        for name in ("bob", "carol", "dave")
    }
    assert left == {"bob", "carol", "dave"}
    users = alice.wait_for(
        "room_users", lambda d: [u["username"] for u in d["users"]] == ["alice"], after=mark
    )
    assert users["room"] == "lobby" and users["count"] == 1
    assert alice.send("still here")["ok"] is True


def test_a_second_run_changes_nothing(redis_server, worker, clients):
    settings = job_settings(redis_server.url)
    store = Store(settings, redis_server.client())
    alice = ChatClient(worker.url).connect()
    clients.append(alice)
    alice.join("alice", "calm")
    ghost(store, "calm", "bob", "vanished-worker")
    before_first = alice.mark()
    first = run_cleanup(settings)
    assert first["users_purged"] == 1
    alice.wait_for("user_left", lambda d: d["username"] == "bob", after=before_first)
    # The first run's room_users follows its user_left: let it arrive before the mark.
    alice.wait_for("room_users", after=before_first)
    mark = alice.mark()

    second = run_cleanup(settings)

    assert second["status"] == "ok"
    for field in ("users_purged", "connections_purged", "workers_purged", "rooms_removed"):
        assert second[field] == 0, field
    assert second["rooms_notified"] == 0
    alice.assert_no("user_left", after=mark, within=0.5)
    alice.assert_no("room_users", after=mark, within=0.1)
    assert store.room_usernames("calm") == ["alice"]


def test_empty_and_expired_rooms_leave_the_index_but_live_rooms_stay(redis_server, worker, clients):
    settings = job_settings(redis_server.url)
    store = Store(settings, redis_server.client())
    alice = ChatClient(worker.url).connect()
    clients.append(alice)
    alice.join("alice", "busy")
    assert alice.send("kept")["ok"] is True
    keys = store.keys
    store.redis.zadd(keys.rooms, {"empty-room": now_ms()})
    # Expired: last activity before room retention, though its history is still kept.
    store.redis.zadd(keys.rooms, {"old-room": now_ms() - settings.room_ttl_seconds * 1000 - 5000})
    store.redis.zadd(keys.room("old-room", "messages"), {'{"id":"000000000001"}': 1})
    store.redis.expire(keys.room("old-room", "messages"), 3600)

    summary = run_cleanup(settings)

    assert summary["rooms_removed"] == 2
    assert store.redis.zscore(keys.rooms, "empty-room") is None
    assert store.redis.zscore(keys.rooms, "old-room") is None
    assert store.redis.zscore(keys.rooms, "busy") is not None
    # The history outlives the index entry: message retention is a promise of its own.
    assert store.redis.exists(keys.room("old-room", "messages")) == 1
    rooms = requests.get(f"{worker.url}/api/rooms", timeout=5).json()["rooms"]
    assert [r["room"] for r in rooms] == ["busy"]


def test_keys_without_ttl_get_one_and_foreign_keys_are_left_alone(redis_server):
    settings = job_settings(redis_server.url)
    client = redis_server.client()
    client.set("tr:room:{stray}:seq", 5)
    client.zadd("tr:workers", {"some-live-worker": now_ms()})
    client.set("someone-else:key", 1)
    client.hset("tr:stats", "messages_stored", 3)

    summary = run_cleanup(settings)

    assert summary["keys_fixed"] == 2
    assert 0 < client.ttl("tr:room:{stray}:seq") <= settings.message_ttl_seconds
    assert 0 < client.ttl("tr:workers") <= settings.user_ttl_seconds
    assert client.ttl("someone-else:key") == -1
    assert client.ttl("tr:stats") == -1  # kept on purpose: one small counter hash


def test_one_run_is_bounded_and_later_runs_finish_the_walk(redis_server):
    settings = job_settings(
        redis_server.url, cleanup_max_keys=100, cleanup_max_rooms=1000, cleanup_scan_count=20
    )
    client = redis_server.client()
    pipe = client.pipeline(transaction=False)
    for index in range(1000):
        pipe.set(f"tr:room:{{r{index}}}:seq", index)
    pipe.execute()

    first = run_cleanup(settings)

    assert first["complete"] is False
    assert 100 <= first["keys_examined"] < 200  # the bound, plus at most one SCAN batch
    # Every key it saw lacked a TTL, except possibly the run's own lock.
    assert first["keys_examined"] - 1 <= first["keys_fixed"] <= first["keys_examined"]
    runs = 1
    while run_cleanup(settings)["complete"] is False:
        runs += 1
        assert runs < 40, "the walk never finished"
    assert runs >= 5
    assert all(client.ttl(f"tr:room:{{r{i}}}:seq") > 0 for i in range(0, 1000, 37))
    assert "cmdstat_keys" not in client.info("commandstats")


def test_an_overlapping_run_is_skipped(redis_server):
    settings = job_settings(redis_server.url)
    store = Store(settings, redis_server.client())
    held = store.job_lock(CLEANUP_JOB, timeout=30)
    assert held.acquire(blocking=False)
    try:
        summary = run_cleanup(settings)
    finally:
        held.release()
    assert summary["status"] == "skipped"
    assert JobStatus.read(store).runs_skipped == 1
    assert run_cleanup(settings)["status"] == "ok"


class BrokenAnnouncer:
    def user_left(self, room: str, username: str) -> None:
        raise RuntimeError("queue exploded")

    def room_users(self, room: str, usernames: list[str]) -> None:
        raise RuntimeError("queue exploded")


def test_a_failed_run_is_recorded_and_raised(redis_server):
    settings = job_settings(redis_server.url)
    store = Store(settings, redis_server.client())
    ghost(store, "doomed", "bob", "vanished-worker")
    with pytest.raises(RuntimeError, match="queue exploded"):
        run_cleanup(settings, announcer=BrokenAnnouncer())
    status = JobStatus.read(store)
    assert status.runs_failure == 1 and status.runs_success == 0
    assert status.last_status == "failed" and "queue exploded" in status.last_error
    # The lock went with the failed run: the next one is not skipped.
    assert run_cleanup(settings)["status"] == "ok"


def test_stats_and_metrics_show_the_job_outcome(redis_server, worker):
    settings = job_settings(redis_server.url)
    run_cleanup(settings)
    run_cleanup(settings)
    stats = requests.get(f"{worker.url}/api/stats", timeout=5).json()
    cleanup = stats["cleanup"]
    assert cleanup["runs"] == {"success": 2, "failure": 0, "skipped": 0}
    assert cleanup["last_status"] == "ok" and cleanup["last_success_at"].endswith("Z")
    assert cleanup["interval_seconds"] == 3600
    assert stats["metrics"]["connections_current"] == 0
    assert set(stats["metrics"]["messages"]["rejected_total"]) >= {"invalid", "unavailable"}
    text = requests.get(f"{worker.url}/metrics", timeout=5).text
    assert 'talkrooms_cleanup_runs_total{outcome="success"} 2.0' in text
    assert "talkrooms_redis_up 1.0" in text


def cli(redis_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "talkrooms"), "cleanup"],
        env=ops_environment(redis_url),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_runs_the_cleanup_once_and_prints_a_summary(redis_server):
    store = Store(job_settings(redis_server.url), redis_server.client())
    ghost(store, "cli-room", "bob", "vanished-worker")
    done = cli(redis_server.url)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "ok" and summary["users_purged"] == 1
    assert JobStatus.read(store).runs_success == 1


def test_cli_fails_clearly_without_redis():
    done = cli(f"redis://127.0.0.1:{free_port()}/0")
    assert done.returncode == 1
    assert json.loads(done.stdout)["status"] == "failed"


def test_redis_outage_reads_as_redis_down_in_metrics(work_dir):
    server = RedisServer(work_dir / f"down-{uuid.uuid4().hex[:6]}").start()
    chat = ChatWorker(
        work_dir, server.url, env={"METRICS_CACHE_SECONDS": "0", "REDIS_SOCKET_TIMEOUT": "1"}
    ).start()
    try:
        server.stop()
        wait_until(
            lambda: "talkrooms_redis_up 0.0" in requests.get(f"{chat.url}/metrics", timeout=5).text,
            10,
            "redis_up 0 while Redis is down",
        )
        assert requests.get(f"{chat.url}/api/stats", timeout=5).status_code == 503
    finally:
        chat.stop()
        server.stop()


def test_job_state_stays_one_small_hash_with_a_ttl(redis_server):
    settings = job_settings(redis_server.url)
    for _ in range(3):
        run_cleanup(settings)
    client: redis.Redis = redis_server.client()
    job_keys = sorted(k.decode() for k in client.scan_iter(match="tr:jobs:*"))
    assert job_keys == [f"tr:jobs:{CLEANUP_JOB}"]
    assert client.hlen(job_keys[0]) < 30
    assert client.ttl(job_keys[0]) > 0
