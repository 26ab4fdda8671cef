"""The chat on a real Redis Cluster (3 primaries, 3 replicas; REDIS_URL=redis+cluster://),
RQ on a plain Redis of its own: two workers, rooms spread over the three shards, messages
crossing workers once each through sharded pub/sub, presence, history, protocol 2's
events, and the key layout putting every key of a room in one slot."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
from redis.crc import key_slot

from talkrooms.storage.keys import Keys
from tests.support.client import ChatClient
from tests.support.processes import ChatWorker, wait_until
from tests.support.redis_cluster import RedisClusterGroup, chat_on_a_cluster

pytestmark = pytest.mark.integration


class ClusterStack:
    def __init__(self, group: RedisClusterGroup, workers: list[ChatWorker]) -> None:
        self.group, self.workers = group, workers


@pytest.fixture(scope="module")
def cluster_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterStack]:
    with chat_on_a_cluster(tmp_path_factory.mktemp("redis-cluster-chat")) as (group, workers):
        yield ClusterStack(group, workers)


def _client(
    stack: ClusterStack, worker: int, clients: list[ChatClient], protocol: int = 1
) -> ChatClient:
    auth = {"protocol": protocol} if protocol > 1 else None
    client = ChatClient(stack.workers[worker].url, auth=auth).connect()
    clients.append(client)
    return client


def _rooms_on_every_shard(stack: ClusterStack) -> list[str]:
    """One room name per primary (the rooms' slots spread over the shards)."""
    found: dict[int, str] = {}
    keys = Keys("tr")
    while len(found) < 3:
        room = f"c{uuid.uuid4().hex[:8]}"
        node = stack.group.node_for_key(keys.room(room, "messages"))
        found.setdefault(node, room)
    return list(found.values())


def test_every_key_of_a_room_is_in_one_slot():
    keys = Keys("tr")
    parts = ("seq", "messages", "cids", "conns", "users", "nconn", "typing", "events")
    slots = {key_slot(keys.room("lobby", part).encode()) for part in parts}
    slots.add(key_slot(b"talkrooms:room:{lobby}"))  # its pub/sub channel
    assert len(slots) == 1


def test_messages_cross_workers_once_in_rooms_on_every_shard(
    cluster_stack: ClusterStack, clients: list[ChatClient]
):
    for room in _rooms_on_every_shard(cluster_stack):
        alice, bob = _client(cluster_stack, 0, clients), _client(cluster_stack, 1, clients)
        assert alice.join("alice", room)["ok"] and bob.join("bob", room)["ok"]
        alice.wait_for("room_users", lambda d: d["count"] == 2)
        sent = [alice.send(f"a{n}")["message"]["id"] for n in range(5)]
        sent += [bob.send(f"b{n}")["message"]["id"] for n in range(5)]
        for client in (alice, bob):
            client.wait_count("new_message", 10, timeout=10)
            counts = Counter(m["id"] for m in client.received("new_message"))
            assert sorted(counts) == sorted(sent) and set(counts.values()) == {1}
        late = _client(cluster_stack, 1, clients)
        joined = late.join("carol", room)
        assert joined["ok"]
        history = late.wait_for("room_joined")["messages"]
        assert [m["id"] for m in history] == sorted(sent)


def test_presence_and_events_on_a_cluster(cluster_stack: ClusterStack, clients: list[ChatClient]):
    room = _rooms_on_every_shard(cluster_stack)[0]
    alice = _client(cluster_stack, 0, clients, protocol=2)
    bob = _client(cluster_stack, 1, clients, protocol=2)
    assert alice.join("alice", room)["ok"] and bob.join("bob", room)["ok"]
    message = alice.send("to be edited", room=room)["message"]
    edited = alice.call("edit_message", {"room": room, "id": message["id"], "message": "new"})
    assert edited["ok"], edited
    event = bob.wait_for("room_event", lambda e: e["type"] == "edit")
    assert event["message"]["message"] == "new"
    assert bob.call("leave_room", {"room": room})["ok"]
    alice.wait_for("user_left", lambda d: d["username"] == "bob")
    # The rooms index and the counters are written in bulk, within a second or two.
    wait_until(
        lambda: cluster_stack.group.client().zscore("tr:rooms", room) is not None,
        10,
        "the room in the rooms index",
    )
