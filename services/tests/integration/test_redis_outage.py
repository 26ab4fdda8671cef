"""Redis goes away and comes back: clear errors meanwhile, recovery without a restart."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.support.client import ChatClient
from tests.support.processes import ChatWorker, RedisServer, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(work_dir):
    redis_server = RedisServer(work_dir / f"outage-{uuid.uuid4().hex[:6]}", appendonly=True).start()
    worker = ChatWorker(work_dir, redis_server.url, env={"REDIS_SOCKET_TIMEOUT": "1"}).start()
    clients: list[ChatClient] = []
    yield redis_server, worker, clients
    for client in clients:
        client.close()
    worker.stop()
    redis_server.stop()


def health(worker: ChatWorker) -> int:
    return requests.get(f"{worker.url}/api/health", timeout=5).status_code


def test_redis_down_gives_clear_errors_and_recovers(stack):
    redis_server, worker, clients = stack
    alice = ChatClient(worker.url).connect()
    bob = ChatClient(worker.url).connect()
    clients += [alice, bob]
    alice.join("alice", "outage")
    bob.join("bob", "outage")
    kept = alice.send("stored before the outage", "before-1")["message"]

    redis_server.stop()
    wait_until(lambda: health(worker) == 503, 10, "health 503 while Redis is down")
    body = requests.get(f"{worker.url}/api/health", timeout=5).json()
    assert body["redis"]["ok"] is False
    refused = alice.send("during the outage", "during-1")
    assert refused["ok"] is False and refused["code"] == "unavailable"
    assert "retry" in refused["error"]
    assert bob.call("get_history", {"room": "outage"})["code"] == "unavailable"
    assert requests.get(f"{worker.url}/api/rooms", timeout=5).status_code == 503

    redis_server.start()
    wait_until(lambda: health(worker) == 200, 15, "health 200 after Redis returns")
    retried = alice.send("during the outage", "during-1")
    assert retried["ok"] is True and retried["duplicate"] is False
    assert bob.wait_for("new_message", lambda m: m["client_id"] == "during-1")
    history = bob.call("get_history", {"room": "outage"})["messages"]
    assert [m["id"] for m in history] == [kept["id"], retried["message"]["id"]]
    assert int(retried["message"]["id"]) == int(kept["id"]) + 1


def test_frozen_redis_times_out_instead_of_hanging(stack):
    redis_server, worker, clients = stack
    alice = ChatClient(worker.url).connect()
    clients.append(alice)
    alice.join("alice", "frozen")
    redis_server.freeze()
    try:
        refused = alice.call("send_message", {"message": "into the freeze"}, timeout=8)
        assert refused["code"] == "unavailable"
        wait_until(lambda: health(worker) == 503, 10, "health 503 while Redis is frozen")
    finally:
        redis_server.thaw()
    wait_until(lambda: health(worker) == 200, 10, "health 200 after SIGCONT")
    assert alice.send("after the freeze")["ok"] is True


def test_room_events_are_refused_while_redis_is_down_and_work_after(stack):
    redis_server, worker, clients = stack
    alice = ChatClient(worker.url, auth={"protocol": 2}).connect()
    clients.append(alice)
    alice.join("alice", "outage-events")
    message = alice.send("edit me later", room="outage-events")["message"]
    target = {"room": "outage-events", "id": message["id"]}

    redis_server.stop()
    wait_until(lambda: health(worker) == 503, 10, "health 503 while Redis is down")
    for event, extra in (
        ("edit_message", {"message": "during"}),
        ("react", {"emoji": "👍"}),
        ("delete_message", {}),
        ("mark_read", {}),
    ):
        refused = alice.call(event, {**target, **extra})
        assert refused["ok"] is False and refused["code"] == "unavailable", (event, refused)

    redis_server.start()
    wait_until(lambda: health(worker) == 200, 15, "health 200 after Redis returns")
    edited = alice.call("edit_message", {**target, "message": "after"})
    assert edited["ok"] is True and edited["event"]["message"]["message"] == "after"
    history = alice.call("get_history", {"room": "outage-events"})["messages"]
    assert [(m["id"], m["message"]) for m in history] == [(message["id"], "after")]
