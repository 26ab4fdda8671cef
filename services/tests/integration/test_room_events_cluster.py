"""Protocol 2 on the scaled stack (2 workers + nginx): room events cross workers, a client
that was away catches up to exactly the state of one that stayed, and several rooms on one
connection survive a restart of its worker."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator

import pytest

from tests.support.client import ChatClient
from tests.support.room_state import RoomState, catch_up
from tests.support.stack import Cluster, restartable_cluster

pytestmark = pytest.mark.integration

V2 = {"protocol": 2}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with restartable_cluster(tmp_path_factory.mktemp("room-events"), workers=2) as stack:
        yield stack


def client_on(url: str, name: str, room: str, key: str | None = None) -> ChatClient:
    client = ChatClient(url, auth=V2)
    if key is not None:
        client.client_key = key
    client.connect()
    mark = client.mark()
    assert client.join(name, room)["ok"]
    client.wait_for("room_joined", lambda d: d["room"] == room, after=mark)
    return client


def live_state(client: ChatClient, room: str) -> RoomState:
    """What a client that stayed holds: its room_joined, then everything live, in order."""
    state = RoomState()
    for name, data in list(client.events):
        if name == "room_joined" and data["room"] == room:
            for message in data["messages"]:
                state.add_message(message)
        elif name == "new_message" and data["room"] == room:
            state.add_message(data, full=False)
        elif name == "room_event" and data["room"] == room:
            state.apply(data)
    return state


def test_events_cross_workers(cluster: Cluster, room_name: str):
    alice = client_on(cluster.workers[0].url, "alice", room_name)
    bob = client_on(cluster.workers[1].url, "bob", room_name)
    try:
        message = alice.send("crossing", room=room_name)["message"]
        target = {"room": room_name, "id": message["id"]}
        expected = []
        for event, extra, actor in (
            ("edit_message", {"message": "crossed"}, alice),
            ("react", {"emoji": "🎉"}, bob),
            ("react", {"emoji": "🎉"}, alice),
            ("delete_message", {}, alice),
        ):
            ack = actor.call(event, {**target, **extra})
            assert ack["ok"], ack
            expected.append(ack["event"])
        for client in (alice, bob):
            seen = client.wait_count("room_event", len(expected), timeout=5)
            assert seen == expected
    finally:
        alice.close()
        bob.close()


def test_a_client_away_catches_up_exactly(cluster: Cluster, room_name: str):
    """Edits, deletions and reactions made while a client was away reach it exactly once:
    its state after catching up equals the state of a client that stayed and of a newcomer."""
    alice = client_on(cluster.workers[0].url, "alice", room_name)
    bob = client_on(cluster.workers[1].url, "bob", room_name)
    carol = client_on(cluster.workers[1].url, "carol", room_name)
    rng = random.Random(17)
    try:
        ids = [alice.send(f"before {i}", room=room_name)["message"]["id"] for i in range(8)]
        carol.wait_for("new_message", lambda m: m["id"] == ids[-1])
        carol_state = live_state(carol, room_name)
        carol_key = carol.client_key
        carol.close()

        for step in range(60):
            kind = rng.choice(["message", "edit", "react", "react", "delete"])
            target = {"room": room_name, "id": rng.choice(ids)}
            if kind == "message":
                ids.append(alice.send(f"while away {step}", room=room_name)["message"]["id"])
            elif kind == "edit":
                alice.call("edit_message", {**target, "message": f"edit {step}"})
            elif kind == "delete" and rng.random() < 0.3:
                alice.call("delete_message", target)
            else:
                actor = rng.choice([alice, bob])
                actor.call("react", {**target, "emoji": rng.choice(["👍", "❤️", "😂"])})
        last = alice.send("the last word", room=room_name)["message"]["id"]
        bob.wait_for("new_message", lambda m: m["id"] == last)
        stayed = live_state(bob, room_name).snapshot()

        # carol comes back on the other worker, rejoins, and fills the gap from her position.
        back = client_on(cluster.workers[0].url, "carol", room_name, key=carol_key)
        try:
            calls = catch_up(back, room_name, carol_state, limit=5)
            assert calls > 1, "the gap should take several pages"
            assert carol_state.snapshot() == stayed
            # The pages of the gap never hand her a message or an event twice.
            answers = []
            position = "000000000000"
            while True:
                page = back.call(
                    "get_history", {"room": room_name, "since_id": position, "limit": 5}
                )
                answers.append(page)
                position = page["cursor"]
                if not page["has_more"]:
                    break
            message_ids = [m["id"] for a in answers for m in a["messages"]]
            event_ids = [e["id"] for a in answers for e in a["events"]]
            assert len(message_ids) == len(set(message_ids)) == len(ids) + 1
            assert len(event_ids) == len(set(event_ids))
            rebuilt = RoomState()
            for answer in answers:
                items = [(m["id"], m) for m in answer["messages"]]
                items += [(e["id"], e) for e in answer["events"]]
                for _, item in sorted(items, key=lambda pair: pair[0]):
                    if "type" in item and "message_id" in item:
                        rebuilt.apply(item)
                    else:
                        rebuilt.add_message(item)
            assert rebuilt.snapshot() == stayed
        finally:
            back.close()
        newcomer = client_on(cluster.workers[1].url, "dave", room_name)
        try:
            fresh = RoomState()
            for message in newcomer.received("room_joined")[-1]["messages"]:
                fresh.add_message(message)
            assert fresh.snapshot() == stayed
        finally:
            newcomer.close()
    finally:
        alice.close()
        bob.close()


def test_several_rooms_survive_a_restart_of_the_worker(cluster: Cluster, room_name: str):
    rooms = [f"{room_name}-{i}" for i in range(3)]
    roamer = ChatClient(cluster.url, auth=V2, reconnection=True)
    roamer.connect()
    old_sid = roamer.sio.eio.sid
    route = old_sid.split(".", 1)[0]
    index = next(i for i, w in enumerate(cluster.workers) if cluster.routes[w.port] == route)
    # The others stay on the worker that keeps running.
    steady = cluster.workers[1 - index].url
    others = [client_on(steady, f"other{i}", room) for i, room in enumerate(rooms)]
    try:
        states = {}
        for room in rooms:
            mark = roamer.mark()
            assert roamer.join("roamer", room)["ok"]
            joined = roamer.wait_for("room_joined", lambda d, r=room: d["room"] == r, after=mark)
            states[room] = RoomState()
            for message in joined["messages"]:
                states[room].add_message(message)
        mark = roamer.mark()
        restarted = threading.Thread(target=cluster.restart_worker, args=(index,))
        restarted.start()
        roamer.wait_for("__disconnect__", after=mark, timeout=20)
        # While it is away, each room gets a message and an edit.
        sent = {}
        for other, room in zip(others, rooms, strict=True):
            message = other.send(f"while roamer was away in {room}", room=room)["message"]
            other.call("edit_message", {"room": room, "id": message["id"], "message": "edited"})
            sent[room] = message["id"]
        roamer.wait_for("__connect__", after=mark, timeout=30)
        restarted.join(timeout=30)
        assert roamer.sio.eio.sid != old_sid
        for room in rooms:
            assert roamer.join("roamer", room)["ok"]
            catch_up(roamer, room, states[room])
            assert states[room].messages[sent[room]]["message"] == "edited"
        for other, room in zip(others, rooms, strict=True):
            users = other.wait_for(
                "room_users",
                lambda d, r=room: (
                    d["room"] == r and "roamer" in [u["username"] for u in d["users"]]
                ),
                timeout=10,
            )
            assert [u["username"] for u in users["users"]].count("roamer") == 1
        # Live delivery in every room again, on the new worker.
        for other, room in zip(others, rooms, strict=True):
            last = other.send(f"welcome back to {room}", room=room)["message"]["id"]
            roamer.wait_for("new_message", lambda m, i=last: m["id"] == i, timeout=5)
    finally:
        roamer.close()
        for other in others:
            other.close()
