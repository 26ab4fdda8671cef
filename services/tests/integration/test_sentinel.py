"""REDIS_URL with Sentinel: the workers follow a failover to the promoted replica."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.support.client import ChatClient
from tests.support.processes import ChatWorker, RedisServer, wait_until
from tests.support.sentinel import SERVICE, Replica, SentinelServer

pytestmark = pytest.mark.integration


@pytest.fixture
def sentinel_stack(work_dir):
    base = work_dir / f"sentinel-{uuid.uuid4().hex[:6]}"
    primary = RedisServer(base).start()
    replica = Replica(base, primary.port).start()
    sentinel = SentinelServer(base, primary.port).start()
    url = f"redis+sentinel://127.0.0.1:{sentinel.port}/0/{SERVICE}"
    worker = ChatWorker(base, url, env={"REDIS_SOCKET_TIMEOUT": "1"}).start()
    yield primary, replica, worker
    worker.stop()
    sentinel.stop()
    replica.stop()
    primary.stop()


def test_workers_follow_a_sentinel_failover(sentinel_stack):
    primary, replica, worker = sentinel_stack
    alice = ChatClient(worker.url).connect()
    try:
        alice.join("alice", "failover")
        kept = alice.send("before the failover", "f-1")["message"]
        wait_until(
            lambda: replica.client().zcard("tr:room:{failover}:messages") == 1,
            5,
            "the message replicated",
        )

        primary.kill9()
        wait_until(
            lambda: replica.client().info("replication")["role"] == "master",
            20,
            "Sentinel to promote the replica",
        )
        wait_until(
            lambda: alice.send("after the failover", "f-2")["ok"],
            20,
            "a message stored on the new primary",
        )
        history = alice.call("get_history", {"room": "failover"})["messages"]
        assert [m["client_id"] for m in history] == ["f-1", "f-2"]
        assert history[0] == kept
        assert requests.get(f"{worker.url}/api/health", timeout=5).status_code == 200
    finally:
        alice.close()
