"""Every rule of docs/protocol.md refuses bad input with a clear error, and keeps serving."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

USERNAME_ERROR = "Username must be 1-32 characters: letters, digits, spaces, - _ ."
ROOM_ERROR = "Room id must be 1-32 characters: a-z, 0-9, - _"


@pytest.mark.parametrize(
    "payload, error",
    [
        ({"username": "", "room": "general"}, USERNAME_ERROR),
        ({"username": "   ", "room": "general"}, USERNAME_ERROR),
        ({"username": "x" * 33, "room": "general"}, USERNAME_ERROR),
        ({"username": "<script>", "room": "general"}, USERNAME_ERROR),
        ({"username": "...", "room": "general"}, USERNAME_ERROR),
        ({"username": 42, "room": "general"}, USERNAME_ERROR),
        ({"room": "general"}, USERNAME_ERROR),
        ({"username": "alice", "room": ""}, ROOM_ERROR),
        ({"username": "alice", "room": "a b"}, ROOM_ERROR),
        ({"username": "alice", "room": "r" * 33}, ROOM_ERROR),
        ({"username": "alice", "room": "café"}, ROOM_ERROR),
        ({"username": "alice", "room": ["general"]}, ROOM_ERROR),
        (
            {"username": "alice", "room": "general", "client_key": "short"},
            "client_key must be 16-128 characters: A-Z, a-z, 0-9, - _",
        ),
        ("not an object", "join_room expects a JSON object"),
    ],
)
def test_join_refusals(connect, payload, error):
    client = connect()
    assert client.call("join_room", payload) == {"ok": False, "error": error, "code": "invalid"}


def test_accepted_names_are_normalised(connect, room_name):
    client = connect()
    ack = client.join("  Élodie O'Brien ".replace("'", ""), room_name)
    assert ack["username"] == "Élodie OBrien"
    assert connect().join("李雷 2.0_x-y", room_name)["ok"] is True


@pytest.mark.parametrize(
    "payload, error",
    [
        ({"message": ""}, "Message must be 1-2000 characters"),
        ({"message": "   \n "}, "Message must be 1-2000 characters"),
        ({"message": "x" * 2001}, "Message must be 1-2000 characters"),
        ({"message": 5}, "Message must be 1-2000 characters"),
        ({}, "Message must be 1-2000 characters"),
        (
            {"message": "hi", "client_id": "has space"},
            "client_id must be 1-64 characters: A-Z, a-z, 0-9, - _",
        ),
        (
            {"message": "hi", "client_id": 12},
            "client_id must be 1-64 characters: A-Z, a-z, 0-9, - _",
        ),
        (["hi"], "send_message expects a JSON object"),
    ],
)
def test_message_refusals(connect, room_name, payload, error):
    client = connect()
    client.join("alice", room_name)
    assert client.call("send_message", payload) == {"ok": False, "error": error, "code": "invalid"}
    assert client.send("still fine")["ok"] is True


def test_longest_message_is_accepted(connect, room_name):
    client = connect()
    client.join("alice", room_name)
    assert len(client.send("é" * 2000)["message"]["message"]) == 2000


def test_sending_before_joining_is_refused(connect):
    client = connect()
    ack = client.send("hello")
    assert ack["code"] == "not_in_room" and ack["ok"] is False
    assert client.call("leave_room", {})["code"] == "not_in_room"


def test_refusals_without_ack_arrive_as_error_events(connect, room_name):
    client = connect()
    client.emit("send_message", {"message": "too early"})
    assert client.wait_for("error") == {
        "message": "Join a room before sending messages",
        "code": "not_in_room",
    }
    client.emit("join_room", {"username": "", "room": room_name})
    assert client.wait_for("error", lambda e: e["code"] == "invalid")["message"] == USERNAME_ERROR
    client.emit("typing", {"is_typing": "yes"})
    client.wait_for("error", lambda e: "is_typing" in e["message"])


@pytest.mark.parametrize(
    "payload, error",
    [
        ({}, ROOM_ERROR),
        ({"room": "general", "since_id": "abc"}, "since_id must be a message id"),
        ({"room": "general", "before_id": -1}, "before_id must be a message id"),
        (
            {"room": "general", "since_id": "1", "before_id": "5"},
            "Give before_id or since_id, not both",
        ),
        ({"room": "general", "limit": 0}, "limit must be an integer from 1 to 100"),
        ({"room": "general", "limit": 101}, "limit must be an integer from 1 to 100"),
        ({"room": "general", "limit": "10"}, "limit must be an integer from 1 to 100"),
    ],
)
def test_history_refusals(connect, payload, error):
    assert connect().call("get_history", payload) == {
        "ok": False,
        "error": error,
        "code": "invalid",
    }


def test_unknown_and_reserved_events_get_errors(connect):
    client = connect()
    assert client.call("no_such_event", {}) == {
        "ok": False,
        "error": "Unknown event 'no_such_event'",
        "code": "invalid",
    }
    client.emit("disconnect", {})
    client.wait_for("error", lambda e: "reserved" in e["message"])
    assert client.sio.connected
