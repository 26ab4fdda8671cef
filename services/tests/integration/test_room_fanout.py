"""Fan-out by room on a single Redis (realtime/room_channels.py), with two real workers: a
worker hears only the rooms it has members in, subscriptions follow joins, leaves and
disconnects, and a join crossing a stream of messages misses none of them."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.support.client import ChatClient
from tests.support.processes import wait_until
from tests.support.stack import Cluster

pytestmark = pytest.mark.integration

CHANNEL = "talkrooms"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    stack = Cluster(tmp_path_factory.mktemp("fanout"), workers=2).start()
    yield stack
    stack.stop()


def _client(cluster: Cluster, worker: int, clients: list[ChatClient]) -> ChatClient:
    client = ChatClient(cluster.workers[worker].url).connect()
    clients.append(client)
    return client


def _listeners(cluster: Cluster, room: str) -> int:
    """How many workers subscribe to the room's channel now."""
    reply = cluster.redis.client().pubsub_numsub(f"{CHANNEL}:room:{{{room}}}")
    return int(reply[0][1])


def _remote_messages(cluster: Cluster, worker: int) -> int:
    stats = requests.get(f"{cluster.workers[worker].url}/api/stats", timeout=5).json()
    return int(stats["metrics"]["messages"]["remote_total"])


def _room() -> str:
    return f"fan{uuid.uuid4().hex[:8]}"


def test_a_worker_hears_nothing_of_rooms_it_has_no_member_in(
    cluster: Cluster, clients: list[ChatClient]
):
    quiet, busy = _room(), _room()
    alice = _client(cluster, 0, clients)  # worker 0: only in the quiet room
    bob, dave = _client(cluster, 1, clients), _client(cluster, 1, clients)
    assert alice.join("alice", quiet)["ok"] and dave.join("dave", quiet)["ok"]
    assert bob.join("bob", busy)["ok"]
    assert (_listeners(cluster, quiet), _listeners(cluster, busy)) == (2, 1)
    before = _remote_messages(cluster, 0)
    for n in range(20):
        assert bob.send(f"busy {n}")["ok"]
    # Published after the 20 on the same Redis: once alice has it, worker 0 would have
    # had the busy room's messages too, had it listened.
    last = dave.send("quiet one")["message"]["id"]
    alice.wait_for("new_message", lambda m: m["id"] == last)
    assert _remote_messages(cluster, 0) - before == 1
    assert all(m["room"] == quiet for m in alice.received("new_message"))


def test_subscriptions_follow_leaves_and_disconnects(cluster: Cluster, clients: list[ChatClient]):
    room = _room()
    first, second = _client(cluster, 0, clients), _client(cluster, 0, clients)
    other = _client(cluster, 1, clients)
    assert first.join("first", room)["ok"] and second.join("second", room)["ok"]
    assert other.join("other", room)["ok"]
    assert _listeners(cluster, room) == 2
    assert first.call("leave_room", {})["ok"]
    assert _listeners(cluster, room) == 2  # worker 0 still has `second` there
    second.close()
    wait_until(lambda: _listeners(cluster, room) == 1, 10, "worker 0 unsubscribed")
    assert other.call("leave_room", {})["ok"]
    wait_until(lambda: _listeners(cluster, room) == 0, 10, "worker 1 unsubscribed")
    # Back again: subscribed again, and messages flow between the workers.
    assert first.join("first", room)["ok"] and other.join("other", room)["ok"]
    last = other.send("again")["message"]["id"]
    first.wait_for("new_message", lambda m: m["id"] == last)


def test_joins_and_leaves_crossing_a_stream_of_messages_miss_none(
    cluster: Cluster, clients: list[ChatClient]
):
    """Each join subscribes worker 1 afresh (its only member left before): history plus live
    messages must be gapless from the first message sent to the last seen."""
    room = _room()
    writer, reader = _client(cluster, 0, clients), _client(cluster, 1, clients)
    assert writer.join("writer", room)["ok"]
    done = threading.Event()

    def write() -> None:
        try:
            for n in range(400):
                if done.is_set():
                    return
                assert writer.send(f"stream {n}")["ok"]
        finally:
            done.set()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        for cycle in range(8):
            mark = reader.mark()
            assert reader.join("reader", room)["ok"]
            joined = reader.wait_for("room_joined", after=mark)
            history = [int(m["id"]) for m in joined["messages"]]
            # Live messages may come before room_joined: the client merges by id.
            wait_until(
                lambda start=mark: (
                    done.is_set()
                    or sum(1 for n, _ in reader.events[start:] if n == "new_message") >= 5
                ),
                10,
                f"live messages in cycle {cycle}",
            )
            assert reader.call("leave_room", {})["ok"]
            live = [int(d["id"]) for n, d in reader.events[mark:] if n == "new_message"]
            seen = sorted(set(history + live))
            assert seen == list(range(seen[0], seen[-1] + 1)), f"a gap in cycle {cycle}"
            if done.is_set():
                break
    finally:
        done.set()
        thread.join(30)
