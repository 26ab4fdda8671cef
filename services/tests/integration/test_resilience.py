"""A worker protects itself and its peers: address limits, clients that never read,
and messages published while a worker's queue listener was away."""

from __future__ import annotations

import socket
import uuid

import pytest
import requests
import websocket

from tests.support.client import ChatClient
from tests.support.processes import ChatWorker, RedisServer, stop_all, wait_until
from tests.support.raw import RawSocket

pytestmark = pytest.mark.integration


def metric(worker: ChatWorker, name: str) -> float:
    for line in requests.get(f"{worker.url}/metrics", timeout=5).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


@pytest.fixture
def worker_with(work_dir, redis_server):
    started: list[ChatWorker] = []

    def _start(**env: str) -> ChatWorker:
        worker = ChatWorker(work_dir, redis_server.url, env=env).start()
        started.append(worker)
        return worker

    yield _start
    stop_all(started)


def test_one_address_cannot_hold_more_than_its_share(worker_with):
    worker = worker_with(MAX_CONNECTIONS_PER_ADDRESS="3")
    clients = [ChatClient(worker.url).connect() for _ in range(3)]
    try:
        ws = websocket.create_connection(
            worker.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", timeout=5
        )
        assert ws.recv().startswith("0{")
        ws.send("40")
        answer = ws.recv()
        ws.close()
        assert answer.startswith("44") and "Too many connections" in answer
        clients[0].close()
        wait_until(
            lambda: requests.get(f"{worker.url}/api/health").json()["connections"] == 2,
            5,
            "the closed socket to be forgotten",
        )
        clients.append(ChatClient(worker.url).connect())
    finally:
        for client in clients:
            client.close()


def test_a_client_that_never_reads_is_dropped_not_buffered(worker_with, room_name):
    worker = worker_with(MAX_QUEUED_PACKETS="200")
    sleeper = RawSocket(worker.url)
    sleeper.emit("join_room", {"username": "sleeper", "room": room_name}, ack_id=1)
    sleeper.ack(1)
    # Shrink what the kernel buffers for the sleeper so that packets pile up in the worker.
    sleeper.ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    talker = ChatClient(worker.url).connect()
    try:
        talker.join("talker", room_name)
        text = "x" * 1900
        # Up to ~16 MB, more than the kernel buffers hold, in steps the talker (who
        # reads) keeps up with: only the sleeper's queue may grow.
        for step in range(1, 81):
            for _ in range(100):
                talker.emit("send_message", {"message": text})
            talker.wait_count("new_message", step * 100, timeout=15)
            if metric(worker, "talkrooms_slow_consumers_dropped_total"):
                break
        wait_until(
            lambda: metric(worker, "talkrooms_slow_consumers_dropped_total") >= 1,
            15,
            "the sleeper to be dropped",
        )
        assert talker.send("the room goes on")["ok"] is True
    finally:
        talker.close()
        sleeper.close()


def test_messages_published_while_a_listener_was_away_still_arrive(work_dir):
    redis_server = RedisServer(work_dir / f"resync-{uuid.uuid4().hex[:6]}", appendonly=True).start()
    workers = [
        ChatWorker(work_dir, redis_server.url, env={"REDIS_SOCKET_TIMEOUT": "1"}).start()
        for _ in range(2)
    ]
    clients: list[ChatClient] = []
    try:
        reader = ChatClient(workers[0].url).connect()
        writer = ChatClient(workers[1].url).connect()
        clients += [reader, writer]
        reader.join("reader", "resync")
        writer.join("writer", "resync")
        assert writer.send("before")["ok"]
        reader.wait_for("new_message", lambda m: m["message"] == "before")

        redis_server.stop()
        redis_server.start()
        wait_until(
            lambda: writer.send("after the restart", "after-1")["ok"],
            15,
            "a message stored after Redis returned",
        )
        got = reader.wait_for(
            "new_message", lambda m: m["message"] == "after the restart", timeout=10
        )
        assert got["client_id"] == "after-1"
    finally:
        for client in clients:
            client.close()
        stop_all(workers)
        redis_server.stop()


def test_room_events_published_while_a_listener_was_away_still_arrive(work_dir):
    """Protocol 2: an edit and a reaction made right after Redis came back reach a client on
    the other worker (live, or re-sent by its worker's resync from the event log)."""
    redis_server = RedisServer(work_dir / f"resync-{uuid.uuid4().hex[:6]}", appendonly=True).start()
    workers = [
        ChatWorker(work_dir, redis_server.url, env={"REDIS_SOCKET_TIMEOUT": "1"}).start()
        for _ in range(2)
    ]
    clients: list[ChatClient] = []
    try:
        reader = ChatClient(workers[0].url, auth={"protocol": 2}).connect()
        writer = ChatClient(workers[1].url, auth={"protocol": 2}).connect()
        clients += [reader, writer]
        reader.join("reader", "resync-events")
        writer.join("writer", "resync-events")
        message = writer.send("before", room="resync-events")["message"]
        target = {"room": "resync-events", "id": message["id"]}
        reader.wait_for("new_message", lambda m: m["id"] == message["id"])

        redis_server.stop()
        redis_server.start()
        wait_until(
            lambda: writer.call("edit_message", {**target, "message": "after"})["ok"],
            15,
            "an edit stored after Redis returned",
        )
        assert writer.call("react", {**target, "emoji": "🔁"})["ok"]
        edit = reader.wait_for("room_event", lambda e: e["type"] == "edit", timeout=10)
        assert edit["message"]["message"] == "after"
        reaction = reader.wait_for("room_event", lambda e: e["type"] == "reaction", timeout=10)
        assert reaction["emoji"] == "🔁" and reaction["count"] == 1
    finally:
        for client in clients:
            client.close()
        stop_all(workers)
        redis_server.stop()


def test_allowed_origins_add_to_the_page_own_origin(worker_with):
    worker = worker_with(ALLOWED_ORIGINS="http://app.example:8081")
    own = f"http://127.0.0.1:{worker.port}"
    for origin, accepted in (
        (own, True),
        ("http://app.example:8081", True),
        ("http://evil.example", False),
    ):
        response = requests.get(
            f"{worker.url}/socket.io/?EIO=4&transport=polling",
            headers={"Origin": origin},
            timeout=5,
        )
        assert (response.status_code == 200) is accepted, (origin, response.status_code)
