"""Joining, leaving, presence and typing against a real worker and a real Redis."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_connect_greets_the_client(connect):
    client = connect()
    greeting = client.wait_for("connected")
    assert greeting["sid"] == client.sid
    assert "TalkRooms" in greeting["message"]


def test_join_sends_history_then_presence(connect, room_name):
    alice = connect()
    assert alice.join("alice", room_name.upper()) == {
        "ok": True,
        "room": room_name,
        "username": "alice",
    }
    joined = alice.wait_for("room_joined")
    assert joined == {"room": room_name, "username": "alice", "messages": []}
    users = alice.wait_for("room_users")
    assert users == {
        "room": room_name,
        "count": 1,
        "users": [{"username": "alice", "color": "#FD9644"}],
    }


def test_others_hear_arrivals_and_departures(connect, room_name):
    alice, bob = connect(), connect()
    alice.join("alice", room_name)
    mark = alice.mark()
    bob.join("bob", room_name)
    assert alice.wait_for("user_joined", after=mark) == {
        "username": "bob",
        "message": "bob joined the room",
        "room": room_name,
    }
    users = alice.wait_for("room_users", lambda d: d["count"] == 2, after=mark)
    assert [u["username"] for u in users["users"]] == ["alice", "bob"]
    bob.assert_no("user_joined", lambda d: d["username"] == "bob")

    mark = alice.mark()
    assert bob.call("leave_room", {}) == {"ok": True, "room": room_name}
    assert alice.wait_for("user_left", after=mark)["username"] == "bob"
    assert alice.wait_for("room_users", after=mark)["count"] == 1


def test_disconnect_is_a_departure(connect, room_name):
    alice, bob = connect(), connect()
    alice.join("alice", room_name)
    bob.join("bob", room_name)
    mark = alice.mark()
    bob.close()
    assert alice.wait_for("user_left", after=mark)["username"] == "bob"


def test_joining_another_room_leaves_the_first(connect, room_name):
    alice, bob = connect(), connect()
    alice.join("alice", room_name)
    bob.join("bob", room_name)
    mark = alice.mark()
    bob.join("bob", room_name + "-b")
    assert alice.wait_for("user_left", after=mark)["username"] == "bob"
    bob.send("only in b")
    alice.assert_no("new_message", after=mark)


def test_two_tabs_of_one_person_are_one_user(connect, room_name):
    alice, tab1, tab2 = connect(), connect(), connect()
    tab2.client_key = tab1.client_key
    alice.join("alice", room_name)
    tab1.join("bob", room_name)
    # The first tab's arrival may still be on its way to alice when tab1's ack is back.
    alice.wait_for("user_joined", lambda d: d["username"] == "bob")
    mark = alice.mark()
    assert tab2.join("bob", room_name)["ok"] is True
    alice.assert_no("user_joined", after=mark)
    assert tab2.wait_for("room_users")["count"] == 2

    mark = alice.mark()
    tab1.close()
    alice.assert_no("user_left", after=mark, within=0.5)
    tab2.close()
    assert alice.wait_for("user_left", after=mark)["username"] == "bob"


def test_second_person_cannot_take_a_live_name(connect, room_name):
    bob, impostor, keyless = connect(), connect(), connect()
    bob.join("Bob", room_name)
    refused = impostor.join("bob", room_name)
    assert refused["ok"] is False and refused["code"] == "name_taken"
    assert "already taken" in refused["error"]
    assert impostor.join("ＢＯＢ", room_name)["code"] == "name_taken"
    assert keyless.join("Bob", room_name, keyed=False)["code"] == "name_taken"
    # The name is free again once Bob leaves.
    bob.call("leave_room", {})
    assert impostor.join("bob", room_name)["ok"] is True


def test_connections_without_a_key_are_separate_people(connect, room_name):
    first, second = connect(), connect()
    assert first.join("carol", room_name, keyed=False)["ok"] is True
    assert second.join("carol", room_name, keyed=False)["code"] == "name_taken"


def test_typing_reaches_only_the_others(connect, room_name):
    alice, bob = connect(), connect()
    alice.join("alice", room_name)
    bob.join("bob", room_name)
    mark = bob.mark()
    alice.emit("typing", {"is_typing": True})
    assert bob.wait_for("user_typing", after=mark) == {
        "username": "alice",
        "is_typing": True,
        "room": room_name,
    }
    alice.assert_no("user_typing")
    # A repeated `true` within 2 s is not forwarded again; `false` is.
    mark = bob.mark()
    alice.emit("typing", {"is_typing": True})
    alice.emit("typing", {"is_typing": False})
    assert bob.wait_for("user_typing", after=mark) == {
        "username": "alice",
        "is_typing": False,
        "room": room_name,
    }
    assert len(bob.received("user_typing")) == 2


def test_typing_state_lives_in_redis(connect, room_name, redis_server):
    alice = connect()
    alice.join("alice", room_name)
    alice.emit("typing", {"is_typing": True})
    key = f"tr:room:{{{room_name}}}:typing"
    redis = redis_server.client()
    from tests.support.processes import wait_until

    wait_until(lambda: redis.zcard(key) == 1, 5, "typing entry")
    assert 0 < redis.ttl(key) <= 30


def test_leaving_while_typing_clears_the_indicator(connect, room_name):
    alice, bob = connect(), connect()
    alice.join("alice", room_name)
    bob.join("bob", room_name)
    alice.emit("typing", {"is_typing": True})
    bob.wait_for("user_typing")
    mark = bob.mark()
    alice.close()
    assert bob.wait_for("user_typing", after=mark) == {
        "username": "alice",
        "is_typing": False,
        "room": room_name,
    }


def test_lookalike_names_count_as_taken(connect, room_name):
    alice = connect()
    alice.join("alice", room_name)
    for lookalike in ("\u0430lice", "ALİCE".replace("İ", "I"), "Álice", "ａｌｉｃｅ"):
        refused = connect().join(lookalike, room_name)
        assert refused["code"] == "name_taken", lookalike
    assert connect().join("alicia", room_name)["ok"] is True
