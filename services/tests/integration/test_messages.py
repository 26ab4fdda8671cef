"""Messages: store before broadcast, acks, client_id dedup, fan-out, history and gaps."""

from __future__ import annotations

import re
import uuid

import pytest

pytestmark = pytest.mark.integration

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_ack_carries_the_stored_message(connect, room_name):
    alice = connect()
    alice.join("alice", room_name)
    client_id = str(uuid.uuid4())
    ack = alice.send("  hello <b>world</b>  ", client_id)
    assert ack["ok"] is True and ack["duplicate"] is False
    message = ack["message"]
    assert message["message"] == "hello <b>world</b>"
    assert message["username"] == "alice"
    assert message["room"] == room_name
    assert message["type"] == "message"
    assert message["client_id"] == client_id
    assert re.fullmatch(r"\d{12}", message["id"])
    assert ISO_UTC.match(message["timestamp"])
    assert alice.wait_for("new_message") == message


def test_fan_out_reaches_every_member_once_and_no_other_room(connect, room_name):
    members = [connect() for _ in range(4)]
    outsider = connect()
    for index, member in enumerate(members):
        member.join(f"user{index}", room_name)
    outsider.join("outsider", room_name + "-other")
    sent = [members[i % 4].send(f"message {i}")["message"] for i in range(12)]
    for member in members:
        got = member.wait_count("new_message", 12)
        assert got == sent  # each exactly once, in send order
    outsider.assert_no("new_message")


def test_ids_increase_in_send_order(connect, room_name):
    alice = connect()
    alice.join("alice", room_name)
    ids = [alice.send(f"m{i}")["message"]["id"] for i in range(20)]
    assert ids == sorted(ids)
    assert [int(i) for i in ids] == list(range(int(ids[0]), int(ids[0]) + 20))


def test_retry_with_the_same_client_id_stores_nothing_new(connect, room_name):
    alice, bob = connect(), connect()
    alice.join("alice", room_name)
    bob.join("bob", room_name)
    client_id = str(uuid.uuid4())
    first = alice.send("once", client_id)
    again = alice.send("once", client_id)
    assert again["ok"] is True and again["duplicate"] is True
    assert again["message"] == first["message"]
    history = bob.call("get_history", {"room": room_name})
    assert [m["message"] for m in history["messages"]] == ["once"]
    bob.wait_for("new_message")
    bob.assert_no("new_message", after=bob.mark(), within=0.3)
    assert len(bob.received("new_message")) == 1


def test_history_keeps_the_newest_hundred_in_order(connect, room_name, redis_server):
    alice = connect()
    alice.join("alice", room_name)
    for i in range(120):
        assert alice.send(f"n{i}")["ok"]
    late = connect()
    late.join("late", room_name)
    history = late.wait_for("room_joined")["messages"]
    assert [m["message"] for m in history] == [f"n{i}" for i in range(20, 120)]
    assert redis_server.client().zcard(f"tr:room:{{{room_name}}}:messages") == 100


def test_since_id_fills_a_gap_exactly(connect, room_name):
    alice, bob = connect(), connect()
    alice.join("alice", room_name)
    seen = alice.send("before the gap")["message"]["id"]
    missed = [alice.send(f"missed {i}")["message"] for i in range(5)]
    page = bob.call("get_history", {"room": room_name, "since_id": seen})
    assert page == {"ok": True, "room": room_name, "messages": missed, "has_more": False}
    small = bob.call("get_history", {"room": room_name, "since_id": seen, "limit": 2})
    assert small["messages"] == missed[:2] and small["has_more"] is True


def test_before_id_pages_backwards(connect, room_name):
    alice = connect()
    alice.join("alice", room_name)
    sent = [alice.send(f"p{i}")["message"] for i in range(10)]
    newest = alice.call("get_history", {"room": room_name, "limit": 4})
    assert newest["messages"] == sent[6:] and newest["has_more"] is True
    older = alice.call("get_history", {"room": room_name, "before_id": sent[6]["id"], "limit": 4})
    assert older["messages"] == sent[2:6] and older["has_more"] is True
    oldest = alice.call(
        "get_history", {"room": room_name, "before_id": int(sent[2]["id"]), "limit": 4}
    )
    assert oldest["messages"] == sent[:2] and oldest["has_more"] is False


def test_sender_order_is_kept_under_a_burst(connect, room_name):
    alice, bob = connect(), connect()
    alice.join("alice", room_name)
    bob.join("bob", room_name)
    for i in range(50):
        alice.emit("send_message", {"message": f"burst {i}"})
    got = bob.wait_count("new_message", 50)
    assert [m["message"] for m in got] == [f"burst {i}" for i in range(50)]


def test_every_key_has_a_ttl(connect, room_name, redis_server):
    alice = connect()
    alice.join("alice", room_name)
    alice.send("ttl check", str(uuid.uuid4()))
    alice.emit("typing", {"is_typing": True})
    alice.call("get_history", {"room": room_name})
    redis = redis_server.client()
    keys = list(redis.scan_iter(match="tr:*", count=1000))
    assert keys
    without_ttl = [k for k in keys if redis.ttl(k) < 0 and k not in (b"tr:stats", b"tr:layout")]
    assert without_ttl == []
    message_ttl = redis.ttl(f"tr:room:{{{room_name}}}:messages")
    assert 6 * 86400 < message_ttl <= 7 * 86400
    user_ttl = redis.ttl(f"tr:room:{{{room_name}}}:users")
    assert 3600 < user_ttl <= 2 * 3600
    assert 23 * 3600 < redis.ttl("tr:rooms") <= 24 * 3600


def test_polling_clients_chat_with_websocket_clients(connect, room_name):
    polling = connect(transports=["polling"])
    socket = connect()
    polling.join("poller", room_name)
    socket.join("socket", room_name)
    socket.send("to the poller")
    assert polling.wait_for("new_message")["message"] == "to the poller"
    polling.send("to the socket")
    assert socket.wait_for("new_message", lambda m: m["username"] == "poller")
