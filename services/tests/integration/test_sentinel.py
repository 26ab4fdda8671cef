"""REDIS_URL with Sentinel: the workers follow a failover to the promoted replica."""

from __future__ import annotations

import shutil
import uuid

import pytest
import redis
import requests

from tests.support.client import ChatClient
from tests.support.processes import ChatWorker, ManagedProcess, RedisServer, free_port, wait_until

pytestmark = pytest.mark.integration

SERVICE = "talkrooms"


class Replica(RedisServer):
    def __init__(self, work_dir, primary_port: int) -> None:
        super().__init__(work_dir)
        self.primary_port = primary_port

    def start(self) -> Replica:
        data = self.work_dir / f"replica-{self.port}"
        data.mkdir(parents=True, exist_ok=True)
        self.spawn(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(data),
                "--save",
                "",
                "--replicaof",
                "127.0.0.1",
                str(self.primary_port),
            ]
        )
        wait_until(
            lambda: self.client().info("replication")["master_link_status"] == "up",
            10,
            "replica in sync",
        )
        return self


class SentinelServer(ManagedProcess):
    def __init__(self, work_dir, primary_port: int) -> None:
        self.port = free_port()
        super().__init__(f"sentinel-{self.port}", work_dir)
        self.conf = work_dir / f"sentinel-{self.port}.conf"
        self.conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {work_dir}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {primary_port} 1\n"
            f"sentinel down-after-milliseconds {SERVICE} 1000\n"
            f"sentinel failover-timeout {SERVICE} 5000\n"
        )

    def start(self) -> SentinelServer:
        self.spawn([shutil.which("redis-server") or "redis-server", str(self.conf), "--sentinel"])
        client = redis.Redis(port=self.port, socket_timeout=2)
        wait_until(lambda: client.ping(), 10, "sentinel up")
        return self


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
