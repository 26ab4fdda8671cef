"""Two clients on two different workers of one stack, in one room, see the same room.

Each client talks straight to its own worker (no nginx): only the Redis message queue
and the shared presence in Redis connect them.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from tests.support.client import ChatClient
from tests.support.stack import Cluster

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    stack = Cluster(tmp_path_factory.mktemp("cluster"), workers=2).start()
    yield stack
    stack.stop()


@pytest.fixture
def pair(cluster: Cluster, room_name: str) -> Iterator[tuple[ChatClient, ChatClient]]:
    """alice on the first worker, bob on the second, both in `room_name`."""
    alice = ChatClient(cluster.workers[0].url).connect()
    bob = ChatClient(cluster.workers[1].url).connect()
    assert alice.join("alice", room_name)["ok"]
    assert bob.join("bob", room_name)["ok"]
    yield alice, bob
    alice.close()
    bob.close()


def rooms_via(url: str) -> dict[str, dict]:
    body = requests.get(f"{url}/api/rooms", timeout=5).json()
    return {room["room"]: room for room in body["rooms"]}


def test_each_message_reaches_the_other_worker_exactly_once(pair, room_name):
    alice, bob = pair
    sent = []
    for i in range(5):
        for client, name in ((alice, "alice"), (bob, "bob")):
            client_id = f"{name}-{i}-{uuid.uuid4().hex[:6]}"
            ack = client.send(f"{name} says {i}", client_id=client_id)
            assert ack["ok"], ack
            sent.append(ack["message"]["id"])
    # A last message from each side: anything queued before it has arrived once it has.
    alice_last = alice.send("alice is done")["message"]["id"]
    bob_last = bob.send("bob is done")["message"]["id"]
    sent += [alice_last, bob_last]
    for client in (alice, bob):
        client.wait_for("new_message", lambda m: m["id"] == alice_last, timeout=5)
        client.wait_for("new_message", lambda m: m["id"] == bob_last, timeout=5)
        counts = Counter(m["id"] for m in client.received("new_message"))
        assert sorted(counts) == sorted(sent)
        assert set(counts.values()) == {1}, counts


def test_presence_and_room_counts_agree_on_both_workers(cluster, pair, room_name):
    alice, bob = pair
    alice.wait_for("user_joined", lambda d: d["username"] == "bob")
    alice.wait_for("room_users", lambda d: d["count"] == 2)
    bob.wait_for("room_users", lambda d: d["count"] == 2)
    for worker in cluster.workers:
        assert rooms_via(worker.url)[room_name]["users"] == 2

    carol = ChatClient(cluster.workers[1].url).connect()
    try:
        assert carol.join("carol", room_name)["ok"]
        alice.wait_for(
            "room_users",
            lambda d: (
                [u["username"] for u in d["users"]]
                == [
                    "alice",
                    "bob",
                    "carol",
                ]
            ),
        )
        assert rooms_via(cluster.workers[0].url)[room_name]["users"] == 3
    finally:
        carol.close()

    alice.wait_for("user_left", lambda d: d["username"] == "carol")
    assert bob.call("leave_room", {})["ok"]
    alice.wait_for("user_left", lambda d: d["username"] == "bob")
    alice.wait_for("room_users", lambda d: d["count"] == 1)
    assert rooms_via(cluster.workers[1].url)[room_name]["users"] == 1


def test_typing_crosses_workers(pair):
    alice, bob = pair
    mark = bob.mark()
    alice.emit("typing", {"is_typing": True})
    seen = bob.wait_for("user_typing", lambda d: d["username"] == "alice", after=mark)
    assert seen["is_typing"] is True
    alice.emit("typing", {"is_typing": False})
    stopped = bob.wait_for(
        "user_typing", lambda d: d["username"] == "alice" and not d["is_typing"], after=mark
    )
    assert stopped == {"username": "alice", "is_typing": False, "room": stopped["room"]}
    # The typist does not hear itself.
    alice.assert_no("user_typing", lambda d: d["username"] == "alice", within=0.3)


def test_a_worker_sees_the_other_workers_in_stats(cluster: Cluster):
    body = requests.get(f"{cluster.workers[0].url}/api/stats", timeout=5).json()
    ports = sorted(int(w["port"]) for w in body["workers"]["list"])
    assert ports == sorted(w.port for w in cluster.workers)
