"""Operations on a real Redis Cluster (3 primaries, 3 replicas; REDIS_URL=redis+cluster://):
the cleanup job sweeps ghosts and walks the keys of every primary, and /api/stats and
/metrics report the whole cluster (each node and the totals), not one node's INFO."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from redis.crc import key_slot

from talkrooms.jobs.tasks import run_cleanup
from talkrooms.protocol import username_identity
from talkrooms.settings import Settings
from talkrooms.storage.keys import Keys
from talkrooms.storage.store import (
    CLUSTER_SCAN_NODES,
    Store,
    client_key_hash,
    make_redis,
    now_ms,
)
from tests.support.client import ChatClient
from tests.support.ops import ops_environment
from tests.support.processes import VENV_BIN, ChatWorker, wait_until
from tests.support.redis_cluster import RedisClusterGroup, chat_on_a_cluster

pytestmark = pytest.mark.integration

KEYS = Keys("tr")
GHOSTS = ("bob", "carol", "dave", "erin", "frank")
# Workers whose keys sit in different slots: the job reads them together.
DEAD_WORKERS = ("vanished-worker", "vanished-other", "silent-worker", "silent-other")


class ClusterOps:
    """The cluster, its chat workers, and the job's settings (the workers' own)."""

    def __init__(self, group: RedisClusterGroup, workers: list[ChatWorker], folder: Path):
        self.group, self.workers, self.folder = group, workers, folder
        self.settings = self.job_settings()
        self.store = Store(self.settings, make_redis(self.settings, max_connections=4))

    def job_settings(self, **values: Any) -> Settings:
        """The job's settings: the workers' cluster, database and RQ Redis."""
        base: dict[str, Any] = {
            "redis_url": self.group.url,
            "rq_redis_url": self.workers[0].environment()["RQ_REDIS_URL"],
            "database_url": f"sqlite:///{self.folder / 'chat.db'}",
            "upload_dir": str(self.folder / "uploads"),
            "heartbeat_interval_seconds": 1,
            "worker_dead_after_seconds": 3,
        }
        return Settings(_env_file=None, **{**base, **values})  # type: ignore[call-arg]

    def rooms_on_every_shard(self, prefix: str) -> dict[int, str]:
        """Primary port -> a fresh room name whose slot that primary serves."""
        found: dict[int, str] = {}
        for _ in range(1000):  # three hits are near-certain within a few dozen tries
            room = f"{prefix}{uuid.uuid4().hex[:8]}"
            found.setdefault(self.group.node_for_key(KEYS.room(room, "messages")), room)
            if len(found) == 3:
                return found
        raise AssertionError(f"rooms on only {len(found)} shards")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterOps]:
    folder = tmp_path_factory.mktemp("redis-cluster-ops")
    # The workers must not reap the ghosts themselves: only the job should see them.
    env = {"WORKER_DEAD_AFTER_SECONDS": "3600", "METRICS_CACHE_SECONDS": "0"}
    with chat_on_a_cluster(folder, workers=2, env=env) as (group, workers):
        ops = ClusterOps(group, workers, folder)
        yield ops
        ops.store.redis.close()


def ghost(store: Store, room: str, username: str, worker: str) -> None:
    """A person in `room` held by `worker`, written the way a real join writes it."""
    conn = f"ghost-{uuid.uuid4().hex[:8]}"
    store.join(room, conn, username_identity(username), username, client_key_hash(None), worker)


def cli_cleanup(ops: ClusterOps) -> dict[str, Any]:
    """`talkrooms cleanup` as an operator runs it, with the cluster URL."""
    env = ops_environment(
        ops.group.url,
        DATABASE_URL=ops.settings.database_url,
        UPLOAD_DIR=ops.settings.upload_dir,
        RQ_REDIS_URL=ops.settings.rq_redis_url or "",
    )
    done = subprocess.run(
        [str(VENV_BIN / "talkrooms"), "cleanup"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def test_cleanup_sweeps_ghosts_and_walks_every_primary(
    cluster: ClusterOps, clients: list[ChatClient]
):
    store, redis = cluster.store, cluster.store.redis
    slots = {key_slot(KEYS.worker_info(worker).encode()) for worker in DEAD_WORKERS}
    assert len(slots) == len(DEAD_WORKERS)
    rooms = cluster.rooms_on_every_shard("live")
    empty = cluster.rooms_on_every_shard("empty")
    strays = cluster.rooms_on_every_shard("stray")
    alices: dict[str, ChatClient] = {}
    for room in rooms.values():
        alice = ChatClient(cluster.workers[0].url).connect()
        clients.append(alice)
        assert alice.join("alice", room)["ok"] is True
        alices[room] = alice
        # bob: his worker is gone from the registry, its connection set is still there.
        ghost(store, room, "bob", "vanished-worker")
        # carol: her worker's connection set expired; the room still lists her.
        ghost(store, room, "carol", "expired-worker")
        # dave and erin: their workers are registered but stopped beating long ago.
        ghost(store, room, "dave", "silent-worker")
        ghost(store, room, "erin", "silent-other")
        # frank: like bob, another worker gone from the registry.
        ghost(store, room, "frank", "vanished-other")
    redis.delete(KEYS.worker_conns("expired-worker"))
    long_ago = now_ms() - 60_000
    redis.zadd(KEYS.workers, {"silent-worker": long_ago, "silent-other": long_ago})
    for room in empty.values():  # indexed, nobody present, no history
        redis.zadd(KEYS.rooms, {room: now_ms()})
    for room in strays.values():  # a key without a TTL on each primary
        redis.set(KEYS.room(room, "seq"), 5)
    for room in rooms.values():
        assert set(store.room_usernames(room)) == {"alice", *GHOSTS}
    marks = {room: alice.mark() for room, alice in alices.items()}

    summary = cli_cleanup(cluster)

    assert summary["status"] == "ok" and summary["complete"] is True
    assert summary["users_purged"] == 15 and summary["connections_purged"] == 15
    assert summary["workers_purged"] == 4  # all but expired-worker, whose set is gone
    assert summary["rooms_removed"] == 3
    assert summary["keys_fixed"] >= 3
    for port, room in strays.items():
        assert cluster.group.node_for_key(KEYS.room(room, "seq")) == port
        assert 0 < redis.ttl(KEYS.room(room, "seq")) <= cluster.settings.message_ttl_seconds
    for room in empty.values():
        assert redis.zscore(KEYS.rooms, room) is None
    for room, alice in alices.items():
        assert store.room_usernames(room) == ["alice"]
        left = {
            alice.wait_for(
                "user_left",
                lambda d, n=name, r=room: d["username"] == n and d.get("room", r) == r,
                after=marks[room],
                timeout=10,
            )["username"]
            for name in GHOSTS
        }
        assert left == set(GHOSTS)
        alice.wait_for(
            "room_users",
            lambda d: [u["username"] for u in d["users"]] == ["alice"],
            after=marks[room],
            timeout=10,
        )
        assert alice.send("still here")["ok"] is True

    again = run_cleanup(cluster.settings)  # the RQ task's function, the same settings

    assert again["status"] == "ok" and again["complete"] is True
    for field in ("users_purged", "connections_purged", "workers_purged", "rooms_removed"):
        assert again[field] == 0, field
    assert again["keys_fixed"] == 0 and again["rooms_notified"] == 0
    # The walk went over every primary: it saw at least the keys of every room above.
    assert again["keys_examined"] >= len(rooms) + len(strays)


def test_bounded_runs_resume_primary_by_primary_until_the_walk_is_done(cluster: ClusterOps):
    settings = cluster.job_settings(cleanup_max_keys=60, cleanup_scan_count=20)
    redis = cluster.store.redis
    strays = [KEYS.room(f"walk{index}", "seq") for index in range(300)]
    pipe = redis.pipeline(transaction=False)
    for key in strays:
        pipe.set(key, 1)
    pipe.execute()
    assert len({cluster.group.node_for_key(key) for key in strays[:30]}) == 3

    first = run_cleanup(settings)

    assert first["status"] == "ok" and first["complete"] is False
    assert 60 <= first["keys_examined"] < 60 + 3 * 20 * 2  # the bound, plus a SCAN batch
    cursors = [first["key_cursor"]]
    while cursors[-1] != 0:
        assert len(cursors) < 60, "the walk never finished"
        cursors.append(run_cleanup(settings)["key_cursor"])
    # The cursor's low bits name the primary it walks: it went on to the second and third.
    assert {cursor % CLUSTER_SCAN_NODES for cursor in cursors[:-1]} == {0, 1, 2}
    ttls = pipe_ttls(redis, strays)
    assert all(0 < ttl <= settings.message_ttl_seconds for ttl in ttls), sorted(ttls)[:5]


def pipe_ttls(redis: Any, keys: list[str]) -> list[int]:
    pipe = redis.pipeline(transaction=False)
    for key in keys:
        pipe.ttl(key)
    return [int(ttl) for ttl in pipe.execute()]


def _stats(cluster: ClusterOps, worker: int = 0) -> dict[str, Any]:
    response = requests.get(f"{cluster.workers[worker].url}/api/stats", timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_stats_show_every_node_and_the_cluster_totals(
    cluster: ClusterOps, clients: list[ChatClient]
):
    for room in cluster.rooms_on_every_shard("stats").values():
        alice = ChatClient(cluster.workers[0].url).connect()
        clients.append(alice)
        assert alice.join("alice", room)["ok"] and alice.send("counted")["ok"]

    redis_section = _stats(cluster)["redis"]

    nodes = redis_section["nodes"]
    ports = sorted(int(node["address"].rsplit(":", 1)[1]) for node in nodes)
    assert ports == sorted(cluster.group.ports)
    assert sorted(node["role"] for node in nodes) == ["primary"] * 3 + ["replica"] * 3
    assert all(node["up"] and node["used_memory_bytes"] > 0 for node in nodes)
    assert all(node["cluster_state"] == "ok" for node in nodes)
    assert all(node["connected_clients"] >= 1 and node["ops_per_sec"] >= 0 for node in nodes)
    primaries = [node for node in nodes if node["role"] == "primary"]
    assert all(node["keys"] > 0 for node in primaries)  # a room on each shard
    assert redis_section["mode"] == "cluster"
    assert redis_section["cluster"] == {"state": "ok", "primaries": 3, "replicas": 3, "down": 0}
    # Totals: memory, clients and ops of every node; keys of the primaries (a replica's
    # keys are copies).
    for total in ("used_memory_bytes", "connected_clients", "ops_per_sec"):
        assert redis_section[total] == sum(node[total] for node in nodes), total
    assert redis_section["keys"] == sum(node["keys"] for node in primaries)
    assert redis_section["version"] == nodes[0]["version"]
    assert redis_section["used_memory_human"].endswith(("K", "M", "G"))


def test_stats_with_two_workers_on_a_cluster(cluster: ClusterOps):
    """Each worker's info key is in a slot of its own: the stats read them per slot (a
    plain MGET of both was refused, and /api/stats and /metrics answered 500)."""
    first = cluster.workers[0]
    wait_until(lambda: cluster.store.redis.zcard(KEYS.workers) == 2, 10, "two workers' heartbeats")
    assert len(_stats(cluster)["workers"]["list"]) == 2
    text = requests.get(f"{first.url}/metrics", timeout=10).text
    assert _gauge(text, "talkrooms_workers_live") == 2


def _gauge(text: str, name: str, labels: str = "") -> float:
    pattern = "^" + re.escape(name + (f"{{{labels}}}" if labels else "")) + r" (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    assert found, f"{name} {labels} not in /metrics"
    return float(found.group(1))


def test_metrics_gauges_sum_the_cluster_and_show_each_node(cluster: ClusterOps):
    biggest_node = max(n["used_memory_bytes"] for n in _stats(cluster)["redis"]["nodes"])
    text = requests.get(f"{cluster.workers[0].url}/metrics", timeout=10).text

    assert _gauge(text, "talkrooms_redis_up") == 1.0
    # Six nodes' memory, not one node's.
    assert _gauge(text, "talkrooms_redis_used_memory_bytes") > 3 * biggest_node
    assert _gauge(text, "talkrooms_redis_keys") > 0
    assert _gauge(text, "talkrooms_redis_cluster_nodes_down") == 0
    for port in cluster.group.ports:
        node = f'node="127.0.0.1:{port}"'
        role = re.search(rf'talkrooms_redis_node_used_memory_bytes{{{node},role="(\w+)"}}', text)
        assert role, f"no per-node gauge for {port}"
        labels = f'{node},role="{role.group(1)}"'
        assert _gauge(text, "talkrooms_redis_node_up", labels) == 1.0
        assert _gauge(text, "talkrooms_redis_node_used_memory_bytes", labels) > 0
        assert _gauge(text, "talkrooms_redis_node_connected_clients", labels) >= 1


def test_a_killed_primary_shows_as_down_and_the_cleanup_still_walks_the_rest(
    cluster: ClusterOps,
):
    # Last in this module: it leaves the cluster with one node fewer.
    room = next(iter(cluster.rooms_on_every_shard("failover").values()))
    killed = cluster.group.kill_primary_of(KEYS.room(room, "messages"))
    cluster.group.wait_failover(killed)

    section = _stats(cluster)["redis"]

    assert section["cluster"] == {"state": "ok", "primaries": 3, "replicas": 2, "down": 1}
    dead = [node for node in section["nodes"] if node["address"].endswith(f":{killed}")]
    assert len(dead) == 1 and dead[0]["up"] is False
    assert all(node["up"] for node in section["nodes"] if node is not dead[0])
    text = requests.get(f"{cluster.workers[0].url}/metrics", timeout=10).text
    assert _gauge(text, "talkrooms_redis_cluster_nodes_down") == 1
    dead_labels = f'node="{dead[0]["address"]}",role="{dead[0]["role"]}"'
    assert _gauge(text, "talkrooms_redis_node_up", dead_labels) == 0
    summary = run_cleanup(cluster.settings)
    assert summary["status"] == "ok" and summary["complete"] is True
