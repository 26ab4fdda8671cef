"""Protocol 2 on one worker: edits, deletions, reactions, replies, mentions, read markers,
several rooms per connection, and every refusal (someone else's message, unknown ids,
other rooms' ids, bad emoji, no client_key, protocol 1 connections)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from tests.support.client import ChatClient
from tests.support.processes import ChatWorker, RedisServer

pytestmark = pytest.mark.integration

V2 = {"protocol": 2}


@pytest.fixture
def v2(connect: Callable[..., ChatClient]) -> Callable[..., ChatClient]:
    """A connected protocol 2 client."""
    return lambda **kwargs: connect(auth=V2, **kwargs)


def joined(client: ChatClient, name: str, room: str) -> dict:
    mark = client.mark()
    assert client.join(name, room)["ok"]
    return client.wait_for("room_joined", lambda d: d["room"] == room, after=mark)


def sent(client: ChatClient, text: str, room: str, **fields: object) -> dict:
    ack = client.send(text, room=room, **fields)
    assert ack["ok"], ack
    return ack["message"]


def test_protocol_1_connections_get_none_of_it(connect, v2, room_name):
    old, new = connect(), v2()
    old_joined = joined(old, "old", room_name)
    assert "log_id" not in old_joined
    joined(new, "new", room_name)
    message = sent(new, "hello", room_name)
    ack = old.call("edit_message", {"id": message["id"], "message": "x"})
    assert ack["ok"] is False and ack["code"] == "invalid" and "protocol 2" in ack["error"]
    mark = old.mark()
    assert new.call("edit_message", {"room": room_name, "id": message["id"], "message": "hi"})["ok"]
    new.wait_for("room_event", lambda e: e["message"]["message"] == "hi")
    old.assert_no("room_event", after=mark, within=0.3)
    # ...but its history shows the current text.
    history = old.call("get_history", {"room": room_name})
    assert [m["message"] for m in history["messages"]] == ["hi"]
    assert "events" not in history


def test_an_edit_reaches_the_room_and_is_kept(v2, room_name):
    alice, bob = v2(), v2()
    joined(alice, "alice", room_name)
    joined(bob, "bob", room_name)
    message = sent(alice, "helo", room_name)
    mark = bob.mark()
    ack = alice.call("edit_message", {"room": room_name, "id": message["id"], "message": "hello"})
    assert ack["ok"], ack
    event = ack["event"]
    assert event["type"] == "edit" and event["message_id"] == message["id"]
    assert event["id"].startswith(message["id"] + ".")
    assert event["message"]["message"] == "hello" and "edited_at" in event["message"]
    assert "_a" not in event["message"] and "_t" not in event["message"]
    assert bob.wait_for("room_event", after=mark) == event
    alice.wait_for("room_event", lambda e: e["id"] == event["id"])
    fresh = joined(v2(), "carol", room_name)
    assert fresh["messages"][-1]["message"] == "hello"
    assert fresh["log_id"] == event["id"]


def test_only_the_author_edits_or_deletes(v2, room_name):
    alice, mallory = v2(), v2()
    joined(alice, "alice", room_name)
    joined(mallory, "mallory", room_name)
    message = sent(alice, "mine", room_name)
    for event, extra in (("edit_message", {"message": "pwned"}), ("delete_message", {})):
        ack = mallory.call(event, {"room": room_name, "id": message["id"], **extra})
        assert ack == {"ok": False, "error": ack["error"], "code": "forbidden"}
    # The same name on another device key is someone else too.
    impostor = v2()
    impostor.client_key = uuid.uuid4().hex
    joined(impostor, "alice2", room_name)
    assert impostor.call("delete_message", {"room": room_name, "id": message["id"]})["code"] == (
        "forbidden"
    )
    # A second tab of alice (same name, same key) is alice.
    tab = v2()
    tab.client_key = alice.client_key
    joined(tab, "alice", room_name)
    assert tab.call("edit_message", {"room": room_name, "id": message["id"], "message": "ok"})["ok"]


def test_unknown_ids_and_other_rooms_ids_are_not_found(v2, room_name):
    alice = v2()
    joined(alice, "alice", room_name)
    other_room = f"{room_name}-b"
    joined(alice, "alice", other_room)
    here = sent(alice, "here", room_name)
    unknown = f"{int(here['id']) + 50:012d}"
    cases = [
        ("edit_message", {"room": room_name, "id": unknown, "message": "x"}),
        ("delete_message", {"room": room_name, "id": unknown}),
        ("react", {"room": room_name, "id": unknown, "emoji": "👍"}),
        # The message exists, but in the other room.
        ("edit_message", {"room": other_room, "id": here["id"], "message": "x"}),
        ("react", {"room": other_room, "id": here["id"], "emoji": "👍"}),
    ]
    for event, payload in cases:
        ack = alice.call(event, payload)
        assert ack["ok"] is False and ack["code"] == "not_found", (event, payload, ack)
    reply = alice.send("re", room=room_name, reply_to=unknown)
    assert reply["ok"] is False and reply["code"] == "not_found"
    for bad in ("abc", -1, None, "000000000000", True):
        ack = alice.call("edit_message", {"room": room_name, "id": bad, "message": "x"})
        assert ack["ok"] is False and ack["code"] == "invalid"
    # A room the connection is not in.
    ack = alice.call("delete_message", {"room": "not-joined", "id": here["id"]})
    assert ack["ok"] is False and ack["code"] == "not_in_room"


def test_delete_leaves_a_tombstone_and_no_text_in_redis(v2, room_name, redis_server):
    alice, bob = v2(), v2()
    joined(alice, "alice", room_name)
    joined(bob, "bob", room_name)
    secret = f"secret-{uuid.uuid4().hex}"
    message = sent(alice, "first draft", room_name)
    alice.call("edit_message", {"room": room_name, "id": message["id"], "message": secret})
    alice.call("react", {"room": room_name, "id": message["id"], "emoji": "🔥"})
    mark = bob.mark()
    ack = alice.call("delete_message", {"room": room_name, "id": message["id"]})
    assert ack["ok"], ack
    tombstone = ack["event"]["message"]
    assert tombstone["deleted"] is True and tombstone["message"] == ""
    assert bob.wait_for("room_event", lambda e: e["type"] == "delete", after=mark) == ack["event"]
    # Deleting twice changes nothing; editing or reacting to a tombstone is refused.
    assert alice.call("delete_message", {"room": room_name, "id": message["id"]}) == {
        "ok": True,
        "event": None,
    }
    edit = alice.call("edit_message", {"room": room_name, "id": message["id"], "message": "b"})
    assert edit["code"] == "forbidden"
    assert (
        alice.call("react", {"room": room_name, "id": message["id"], "emoji": "👍"})["code"]
        == "forbidden"
    )
    client = redis.Redis.from_url(redis_server.url)
    for key in client.scan_iter(f"tr:room:{{{room_name}}}:*"):
        dump = client.dump(key) or b""
        assert secret.encode() not in dump and b"first draft" not in dump, key
    history = bob.call("get_history", {"room": room_name, "since_id": "000000000000"})
    assert history["messages"][0]["deleted"] is True and "reactions" not in history["messages"][0]
    assert all("message" not in e or e["message"]["message"] == "" for e in history["events"])


def test_reactions_toggle_count_and_say_who(v2, room_name):
    alice, bob = v2(), v2()
    joined(alice, "alice", room_name)
    joined(bob, "bob", room_name)
    message = sent(alice, "react to me", room_name)
    target = {"room": room_name, "id": message["id"]}
    first = bob.call("react", {**target, "emoji": "👍"})["event"]
    assert first["added"] is True and first["count"] == 1 and first["username"] == "bob"
    second = alice.call("react", {**target, "emoji": "👍", "add": True})["event"]
    assert second["count"] == 2
    assert alice.call("react", {**target, "emoji": "👍", "add": True}) == {
        "ok": True,
        "event": None,
    }
    family = "👨\u200d👩\u200d👧"
    assert alice.call("react", {**target, "emoji": family})["ok"]
    toggled_off = bob.call("react", {**target, "emoji": "👍"})["event"]
    assert toggled_off["added"] is False and toggled_off["count"] == 1
    history = bob.call("get_history", {"room": room_name})
    reactions = {r["emoji"]: r for r in history["messages"][-1]["reactions"]}
    assert reactions["👍"] == {"emoji": "👍", "count": 1, "users": ["alice"], "me": False}
    assert reactions[family]["me"] is False
    mine = alice.call("get_history", {"room": room_name})["messages"][-1]["reactions"]
    assert all(r["me"] for r in mine)


def test_reactions_are_validated_and_bounded(v2, connect, room_name):
    alice = v2()
    joined(alice, "alice", room_name)
    message = sent(alice, "bounded", room_name)
    target = {"room": room_name, "id": message["id"]}
    for bad in ("a", ":)", "👍👍", "", 5, None, "<script>", "👍" * 20):
        ack = alice.call("react", {**target, "emoji": bad})
        assert ack["ok"] is False and ack["code"] == "invalid", (bad, ack)
    assert alice.call("react", {**target, "emoji": "👍", "add": "yes"})["code"] == "invalid"
    emoji = [chr(0x1F600 + i) for i in range(21)]
    for face in emoji[:20]:
        assert alice.call("react", {**target, "emoji": face})["ok"]
    over = alice.call("react", {**target, "emoji": emoji[20]})
    assert over["ok"] is False and over["code"] == "invalid"
    # Without a client_key nobody can tell who you are: no reactions, edits, markers.
    keyless = connect(auth=V2)
    mark = keyless.mark()
    assert keyless.join("anon", room_name, keyed=False)["ok"]
    keyless.wait_for("room_joined", after=mark)
    for event in ("react", "mark_read"):
        ack = keyless.call(event, {**target, "emoji": "👍"})
        assert ack["ok"] is False and ack["code"] == "forbidden", (event, ack)


def test_replies_carry_a_preview_in_history(v2, room_name):
    alice, bob = v2(), v2()
    joined(alice, "alice", room_name)
    joined(bob, "bob", room_name)
    original = sent(alice, "x" * 150, room_name)
    kept = sent(alice, "short one", room_name)
    reply = sent(bob, "answer", room_name, reply_to=original["id"])
    assert reply["reply_to"] == original["id"]
    reply_to_kept = sent(bob, "answer 2", room_name, reply_to=int(kept["id"]))
    alice.call("delete_message", {"room": room_name, "id": kept["id"]})
    history = bob.call("get_history", {"room": room_name, "limit": 2})
    previews = {m["id"]: m["reply_preview"] for m in history["messages"]}
    first = previews[reply["id"]]
    assert first["username"] == "alice" and first["deleted"] is False
    assert len(first["excerpt"]) == 100 and first["excerpt"].endswith("…")
    assert previews[reply_to_kept["id"]] == {
        "id": kept["id"],
        "username": "alice",
        "excerpt": "",
        "deleted": True,
    }


def test_mentions_name_people_present(v2, room_name):
    alice, bob = v2(), v2()
    joined(alice, "alice", room_name)
    joined(bob, "Bob", room_name)
    message = sent(alice, "hi @bob and @nobody, mail bob@example.com, @BOB again", room_name)
    assert message["mentions"] == ["bob"]
    assert "mentions" not in sent(alice, "no one here", room_name)
    edited = alice.call(
        "edit_message", {"room": room_name, "id": message["id"], "message": "hi @alice"}
    )["event"]["message"]
    assert edited["mentions"] == ["alice"]


def test_read_markers_give_unread_and_mention_counts(v2, room_name):
    alice, bob = v2(), v2()
    joined(alice, "alice", room_name)
    first = joined(bob, "bob", room_name)
    assert (first["read_id"], first["unread"], first["mentions"]) == ("000000000000", 0, 0)
    zero = sent(alice, "zero", room_name)
    one = sent(alice, "one", room_name)
    ack = bob.call("mark_read", {"room": room_name, "id": one["id"]})
    assert ack == {"ok": True, "room": room_name, "read_id": one["id"]}
    # Never backwards, never past the newest message.
    assert bob.call("mark_read", {"room": room_name, "id": zero["id"]})["read_id"] == one["id"]
    for text in ("two", "three @bob", "four"):
        sent(alice, text, room_name)
    sent(bob, "bob's own", room_name)
    bob.close()
    back = ChatClient(bob.url, auth=V2)
    back.client_key = bob.client_key
    back.connect()
    try:
        again = joined(back, "bob", room_name)
        assert (again["read_id"], again["unread"], again["mentions"]) == (one["id"], 3, 1)
        newest = again["messages"][-1]["id"]
        assert back.call("mark_read", {"room": room_name, "id": "999999999999"})["read_id"] == (
            newest
        )
    finally:
        back.close()


def test_several_rooms_on_one_connection(v2, room_name):
    rooms = [f"{room_name}-{i}" for i in range(3)]
    alice, bob = v2(), v2()
    for room in rooms:
        joined(alice, "alice", room)
    joined(bob, "bob", rooms[1])
    # Each message goes to its own room only.
    for room in rooms:
        sent(alice, f"in {room}", room)
    got = bob.wait_for("new_message", lambda m: m["room"] == rooms[1])
    assert got["message"] == f"in {rooms[1]}"
    bob.assert_no("new_message", lambda m: m["room"] != rooms[1], within=0.3)
    # With several rooms, the room must be named.
    unnamed = alice.send("where?")
    assert unnamed["ok"] is False and unnamed["code"] == "not_in_room"
    # Typing and presence are per room.
    mark = bob.mark()
    alice.emit("typing", {"room": rooms[1], "is_typing": True})
    assert bob.wait_for("user_typing", after=mark) == {
        "username": "alice",
        "is_typing": True,
        "room": rooms[1],
    }
    assert alice.call("leave_room", {"room": rooms[1]}) == {"ok": True, "room": rooms[1]}
    left = bob.wait_for("user_left", after=mark)
    assert left["room"] == rooms[1] and left["username"] == "alice"
    # Still in the two others.
    mark = alice.mark()
    sent(alice, "still here", rooms[2])
    alice.wait_for("new_message", lambda m: m["room"] == rooms[2], after=mark)
    assert alice.call("leave_room", {"room": rooms[1]})["code"] == "not_in_room"


def test_a_connection_has_a_room_limit(tmp_path: Path, redis_server: RedisServer):
    worker = ChatWorker(tmp_path, redis_server.url, env={"MAX_ROOMS_PER_CONNECTION": "2"}).start()
    client = ChatClient(worker.url, auth=V2).connect()
    try:
        assert client.join("a", "limit-1")["ok"] and client.join("a", "limit-2")["ok"]
        third = client.join("a", "limit-3")
        assert third["ok"] is False and "at most 2 rooms" in third["error"]
        # Joining a room it is in again does not count twice.
        assert client.join("a", "limit-2")["ok"]
    finally:
        client.close()
        worker.stop()


@pytest.fixture
def no_edit_window(tmp_path: Path, redis_server: RedisServer) -> Iterator[ChatWorker]:
    worker = ChatWorker(tmp_path, redis_server.url, env={"EDIT_WINDOW_SECONDS": "0"}).start()
    yield worker
    worker.stop()


def test_the_edit_window_closes(no_edit_window, room_name):
    alice = ChatClient(no_edit_window.url, auth=V2).connect()
    try:
        joined(alice, "alice", room_name)
        message = sent(alice, "too late", room_name)
        ack = alice.call("edit_message", {"room": room_name, "id": message["id"], "message": "x"})
        assert ack["ok"] is False and ack["code"] == "forbidden"
        # Deleting has no window.
        assert alice.call("delete_message", {"room": room_name, "id": message["id"]})["ok"]
    finally:
        alice.close()


def test_catch_up_pages_through_messages_and_events(v2, room_name):
    alice = v2()
    joined(alice, "alice", room_name)
    ids = [sent(alice, f"m{i}", room_name)["id"] for i in range(6)]
    since = ids[1]
    for message_id in ids[:4]:
        alice.call("react", {"room": room_name, "id": message_id, "emoji": "👍"})
    alice.call("edit_message", {"room": room_name, "id": ids[0], "message": "m0 edited"})
    answer = alice.call("get_history", {"room": room_name, "since_id": since, "limit": 2})
    assert [m["id"] for m in answer["messages"]] == ids[2:4] and answer["has_more"] is True
    # Events of messages already in the page are in their state; those of older ones come
    # as events, none after the page's end.
    assert answer["events"] == []
    assert answer["cursor"] == ids[3]
    rest = alice.call("get_history", {"room": room_name, "since_id": answer["cursor"]})
    assert [m["id"] for m in rest["messages"]] == ids[4:]
    kinds = [(e["type"], e["message_id"]) for e in rest["events"]]
    assert kinds == [("reaction", i) for i in ids[:4]] + [("edit", ids[0])]
    assert rest["has_more"] is False and rest["cursor"] == rest["events"][-1]["id"]
    final = alice.call("get_history", {"room": room_name, "since_id": rest["cursor"]})
    assert final["messages"] == [] and final["events"] == [] and final["cursor"] == rest["cursor"]
    for bad in ("12.3", "000000000001.x", "000000000001.0000000000001"):
        refused = alice.call("get_history", {"room": room_name, "since_id": bad})
        assert refused["ok"] is False and refused["code"] == "invalid"


def test_the_log_and_reactions_follow_the_capped_history(
    tmp_path: Path, redis_server: RedisServer, room_name: str
):
    """Events and reactions of messages that left the capped history do not pile up."""
    worker = ChatWorker(tmp_path, redis_server.url, env={"HISTORY_LIMIT": "3"}).start()
    alice = ChatClient(worker.url, auth=V2).connect()
    client = redis.Redis.from_url(redis_server.url)
    try:
        joined(alice, "alice", room_name)
        first = sent(alice, "first", room_name)
        assert alice.call("react", {"room": room_name, "id": first["id"], "emoji": "👍"})["ok"]
        later = [sent(alice, f"later {i}", room_name)["id"] for i in range(4)]
        for message_id in later[1:]:
            assert alice.call("react", {"room": room_name, "id": message_id, "emoji": "👍"})["ok"]
        reactions = {int(k) for k in client.hkeys(f"tr:room:{{{room_name}}}:reactions")}
        assert reactions == {int(i) for i in later[1:]}
        # The stream keeps no event older than the oldest kept message.
        oldest = int(later[1])
        entries = client.xrange(f"tr:room:{{{room_name}}}:events")
        assert entries and all(int(e[0].split(b"-")[0]) >= oldest for e in entries)
        answer = alice.call("react", {"room": room_name, "id": first["id"], "emoji": "👍"})
        assert answer["ok"] is False and answer["code"] == "not_found"
    finally:
        alice.close()
        worker.stop()


def test_a_read_marker_follows_the_person_to_their_other_tabs(v2, room_name):
    alice, bob, bob_tab, bob_elsewhere = v2(), v2(), v2(), v2()
    bob_tab.client_key = bob.client_key
    bob_elsewhere.client_key = bob.client_key
    joined(alice, "alice", room_name)
    joined(bob, "bob", room_name)
    joined(bob_tab, "bob", room_name)
    joined(bob_elsewhere, "bob", f"{room_name}-other")
    message = sent(alice, "read me", room_name)
    marks = {client: client.mark() for client in (alice, bob, bob_tab, bob_elsewhere)}
    assert bob.call("mark_read", {"room": room_name, "id": message["id"]})["ok"]
    assert bob_tab.wait_for("read_marker", after=marks[bob_tab]) == {
        "room": room_name,
        "read_id": message["id"],
    }
    # Not back to the tab that read, not to someone else, not to another room.
    for client in (bob, alice, bob_elsewhere):
        client.assert_no("read_marker", after=marks[client], within=0.3)
    # A marker that does not move tells nobody.
    mark = bob_tab.mark()
    assert bob.call("mark_read", {"room": room_name, "id": message["id"]})["ok"]
    bob_tab.assert_no("read_marker", after=mark, within=0.3)
