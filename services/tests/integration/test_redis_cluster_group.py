"""The local Redis Cluster the cluster tests and `make run CLUSTER=1` use: it forms, a
write acknowledged by a replica survives SIGKILL of its primary, the killed node comes back
as a replica, and stopping the group leaves no redis-server behind.

The tests run in order on one group (module scope): each one builds on the state the
previous one left (after the failover, the restarted node).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from talkrooms.ops import redis_cluster as ops
from tests.support.redis_cluster import RedisClusterGroup, redis_server_running

pytestmark = pytest.mark.integration

NODE_TIMEOUT_MS = 2000
ROOM_TAG = "{room:lobby}"
KEY = f"{ROOM_TAG}:last-message"


@pytest.fixture(scope="module")
def group(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterGroup]:
    work_dir: Path = tmp_path_factory.mktemp("redis-cluster")
    cluster = RedisClusterGroup(work_dir, node_timeout_ms=NODE_TIMEOUT_MS)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def failover(group: RedisClusterGroup) -> dict[str, object]:
    """Write KEY acknowledged by one replica (WAIT 1), SIGKILL its primary, wait for the
    replica to take over; what happened, for the tests that check it."""
    primary = group.node_for_key(KEY)
    with ops.node_client(primary) as client:
        pipe = client.pipeline(transaction=False)  # one connection: WAIT sees the SET
        pipe.set(KEY, "hello before the crash")
        pipe.execute_command("WAIT", 1, 5000)
        _, acknowledged = pipe.execute()
    killed = group.kill_primary_of(KEY)
    seconds = group.wait_failover(killed, timeout=30)
    print(f"failover of {killed}: {seconds:.2f}s (node timeout {NODE_TIMEOUT_MS} ms)")
    return {"acknowledged": acknowledged, "killed": killed, "seconds": seconds}


def test_the_group_forms_three_primaries_each_with_a_replica(group: RedisClusterGroup) -> None:
    port = group.ports[0]
    found = ops.primaries(port)
    assert len(found) == 3
    assert sum(last - first + 1 for p in found for first, last in p.slots) == ops.SLOTS
    replicas = {ops.replica_of(p.port) for p in found}
    assert len(replicas) == 3 and replicas.isdisjoint(p.port for p in found)
    for node in group.ports:
        info = ops.cluster_info(node)
        assert info["cluster_state"] == "ok"
        assert info["cluster_slots_ok"] == str(ops.SLOTS)
    assert group.url == "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in group.ports) + "/0"


def test_keys_with_one_hash_tag_land_on_one_node(group: RedisClusterGroup) -> None:
    keys = [f"{ROOM_TAG}:{part}" for part in ("messages", "members", "typing", "seq")]
    assert len({group.node_for_key(key) for key in keys}) == 1
    client = group.client()
    try:
        # Multi-key commands go to one node, which refuses them (CROSSSLOT) unless every
        # key is in one slot.
        client.execute_command("MSET", *(part for key in keys for part in (key, "x")))
        assert client.execute_command("MGET", *keys) == ["x"] * len(keys)
    finally:
        client.close()


def test_an_acknowledged_write_survives_killing_its_primary(
    group: RedisClusterGroup, failover: dict[str, object]
) -> None:
    assert failover["acknowledged"] == 1
    killed = failover["killed"]
    new_primary = group.node_for_key(KEY)
    assert new_primary != killed
    with ops.node_client(new_primary) as client:
        assert client.get(KEY) == "hello before the crash"
    client = group.client()
    try:
        assert client.get(KEY) == "hello before the crash"
    finally:
        client.close()
    # Detection takes node timeout (2 s) plus gossip and the election (~1 s).
    assert failover["seconds"] < 15


def test_the_killed_node_rejoins_as_a_replica(
    group: RedisClusterGroup, failover: dict[str, object]
) -> None:
    killed = failover["killed"]
    assert isinstance(killed, int)
    group.restart_node(killed)
    new_primary = group.node_for_key(KEY)
    assert killed not in {p.port for p in ops.primaries(new_primary)}
    me = next(n for n in ops.cluster_nodes(killed) if "myself" in n.flags)
    primary_id = next(p.node_id for p in ops.primaries(new_primary) if p.port == new_primary)
    assert me.is_replica and me.primary_id == primary_id
    with ops.node_client(killed) as client:
        pipe = client.pipeline(transaction=False)  # one connection: READONLY applies
        pipe.execute_command("READONLY")
        pipe.get(KEY)
        assert pipe.execute()[1] == "hello before the crash"


def test_stop_leaves_no_redis_server_of_the_group(group: RedisClusterGroup) -> None:
    pids = group.pids()
    assert len(pids) == 6 and all(redis_server_running(pid) for pid in pids)
    group.stop()
    assert not any(redis_server_running(pid) for pid in pids)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
