"""A primary of a real Redis Cluster killed under chat load (REDIS_WAIT_REPLICAS=1):
no acknowledged message lost, none stored twice, chat resumes within the failover, and
presence recovers without ghosts (docs/reliability.md)."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest

from talkrooms.storage.keys import Keys
from tests.support.client import ChatClient
from tests.support.failover import MESSAGES, AckingSender
from tests.support.processes import wait_until
from tests.support.redis_cluster import RedisClusterGroup, chat_on_a_cluster

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RedisClusterGroup, list]]:
    folder = tmp_path_factory.mktemp("redis-cluster-failover")
    with chat_on_a_cluster(folder, env={"REDIS_WAIT_REPLICAS": "1"}) as stack:
        yield stack


def test_killing_a_primary_under_load_loses_no_acknowledged_message(stack):
    group, workers = stack
    room = f"fo{uuid.uuid4().hex[:8]}"
    alice = ChatClient(workers[0].url).connect()
    bob = ChatClient(workers[1].url).connect()
    try:
        assert alice.join("alice", room)["ok"] and bob.join("bob", room)["ok"]
        sender = AckingSender(alice)
        sender.thread.start()
        wait_until(lambda: len(sender.acked) >= 30, 30, "30 messages before the kill")
        killed = group.kill_primary_of(Keys("tr").room(room, "messages"))
        killed_at = time.monotonic()
        failover_s = group.wait_failover(killed)
        sender.thread.join(120)
        assert len(sender.acked) == MESSAGES, f"{len(sender.acked)} acknowledged"
        pause_s = sender.longest_pause_after(killed_at)
        print(
            f"\nfailover {failover_s:.1f} s, longest pause between acks {pause_s:.1f} s,"
            f" {sum(sender.refusals.values())} refused tries"
        )
        assert pause_s < failover_s + 5

        # Every acknowledged message is in the history, once.
        carol = ChatClient(workers[1].url).connect()
        try:
            assert carol.join("carol", room)["ok"]
            history = carol.wait_for("room_joined")["messages"]
            ids = [m["id"] for m in history]
            assert len(ids) == len(set(ids))
            assert set(sender.acked.values()) <= set(ids)
            stored_cids = Counter(m.get("client_id") for m in history)
            assert all(stored_cids[cid] == 1 for cid in sender.acked)
            # Presence without ghosts: the three of them.
            users = carol.wait_for("room_users", lambda d: d["count"] == 3)
            assert sorted(u["username"] for u in users["users"]) == ["alice", "bob", "carol"]
        finally:
            carol.close()
        # Bob, on the other worker, got every acknowledged message (live or by resync).
        last = max(sender.acked.values())
        bob.wait_for("new_message", lambda m: m["id"] == last, timeout=15)
        seen = {m["id"] for m in bob.received("new_message")}
        assert set(sender.acked.values()) <= seen
    finally:
        alice.close()
        bob.close()


@pytest.fixture
def quick_heartbeats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    folder = tmp_path_factory.mktemp("redis-cluster-ghosts")
    beats = {"HEARTBEAT_INTERVAL_SECONDS": "1", "WORKER_DEAD_AFTER_SECONDS": "3"}
    with chat_on_a_cluster(folder, env=beats) as stack:
        yield stack


def test_a_dead_workers_people_leave_every_room_on_every_shard(quick_heartbeats):
    """`kill -9` of a worker whose people are in rooms on all three shards: the other
    worker purges its presence (one room script per room, each on its own shard) and the
    rooms' online lists drop them."""
    group, workers = quick_heartbeats
    keys = Keys("tr")
    rooms: dict[int, str] = {}
    while len(rooms) < 3:
        room = f"g{uuid.uuid4().hex[:8]}"
        rooms.setdefault(group.node_for_key(keys.room(room, "conns")), room)
    watchers, doomed = [], []
    try:
        for room in rooms.values():
            watcher = ChatClient(workers[0].url).connect()
            watchers.append(watcher)
            assert watcher.join("watcher", room)["ok"]
            for name in ("ann", "ben"):
                client = ChatClient(workers[1].url).connect()
                doomed.append(client)
                assert client.join(name, room)["ok"]
            watcher.wait_for("room_users", lambda d: d["count"] == 3)
        marks = [watcher.mark() for watcher in watchers]
        workers[1].kill9()
        for watcher, mark in zip(watchers, marks, strict=True):
            left = watcher.wait_for("room_users", lambda d: d["count"] == 1, timeout=20, after=mark)
            assert [u["username"] for u in left["users"]] == ["watcher"]
        cluster = group.client()
        for room in rooms.values():
            assert cluster.hkeys(keys.room(room, "users")) == ["watcher"]
    finally:
        for client in watchers + doomed:
            client.close()
