"""Transport size limit and per-connection rate limits, on a worker with tight settings."""

from __future__ import annotations

import pytest

from tests.support.client import ChatClient
from tests.support.processes import ChatWorker

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def strict_worker(work_dir, redis_server):
    worker = ChatWorker(
        work_dir,
        redis_server.url,
        env={"MESSAGE_RATE_LIMIT": "3/10", "JOIN_RATE_LIMIT": "3/10", "MAX_PACKET_BYTES": "16384"},
    ).start()
    yield worker
    worker.stop()


@pytest.fixture
def strict_connect(strict_worker):
    clients: list[ChatClient] = []

    def _connect(**kwargs):
        client = ChatClient(strict_worker.url, **kwargs).connect()
        clients.append(client)
        return client

    yield _connect
    for client in clients:
        client.close()


def test_message_rate_limit_answers_with_an_error(strict_connect, room_name):
    client = strict_connect()
    client.join("flooder", room_name)
    acks = [client.send(f"m{i}") for i in range(5)]
    assert [a["ok"] for a in acks] == [True, True, True, False, False]
    assert acks[3] == {
        "ok": False,
        "code": "rate_limited",
        "error": "Too many messages: at most 3 per 10 s",
    }
    assert client.sio.connected


def test_join_rate_limit(strict_connect, room_name):
    client = strict_connect()
    results = [client.join("hopper", f"{room_name}-{i}") for i in range(4)]
    assert [r["ok"] for r in results] == [True, True, True, False]
    assert results[3]["code"] == "rate_limited"


def test_oversize_packet_is_refused_and_others_keep_chatting(strict_connect, room_name):
    big, bystander, listener = strict_connect(), strict_connect(), strict_connect()
    big.join("big", room_name)
    bystander.join("bystander", room_name)
    listener.join("listener", room_name)
    big.emit("send_message", {"message": "x" * 20000})
    big.wait_for("__disconnect__", timeout=10)
    assert bystander.send("still here")["ok"] is True
    assert listener.wait_for("new_message")["message"] == "still here"


def test_oversize_polling_post_is_refused(strict_connect, room_name):
    big = strict_connect(transports=["polling"])
    big.join("bigpoll", room_name)
    big.emit("send_message", {"message": "y" * 20000})
    big.wait_for("__disconnect__", timeout=15)
    other = strict_connect()
    assert other.join("after", room_name)["ok"] is True
