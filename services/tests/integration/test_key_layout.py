"""The hash-tagged key layout on a real Redis: the one-time rename of an older Redis, and
the rooms index and counters written in bulk (storage/layout.py, room_activity.py)."""

from __future__ import annotations

import uuid

import pytest

from talkrooms.storage.keys import Keys
from talkrooms.storage.layout import upgrade_layout
from talkrooms.storage.room_activity import RoomActivity
from tests.support.processes import RedisServer

pytestmark = pytest.mark.integration


@pytest.fixture
def keys() -> Keys:
    return Keys(f"t{uuid.uuid4().hex[:6]}")


def test_an_older_redis_is_renamed_once(redis_server: RedisServer, keys: Keys):
    client = redis_server.client()
    prefix = keys.prefix
    client.zadd(f"{prefix}:room:lobby:messages", {"m1": 1})
    client.set(f"{prefix}:room:dm:abcdefghij0123456789:seq", 4)
    client.hset(f"{prefix}:room:tech:users", "ann", "{}")
    client.sadd(f"{prefix}:worker:w-1:conns", "lobby|sid1")
    # Both forms of one key: the new one is kept as it is.
    client.set(f"{prefix}:room:tech:seq", 1)
    client.set(keys.room("tech", "seq"), 9)

    assert upgrade_layout(client, keys) == 4
    assert client.zrange(keys.room("lobby", "messages"), 0, -1) == [b"m1"]
    assert client.get(keys.room("dm:abcdefghij0123456789", "seq")) == b"4"
    assert client.hkeys(keys.room("tech", "users")) == [b"ann"]
    assert client.smembers(keys.worker_conns("w-1")) == {b"lobby|sid1"}
    assert client.get(keys.room("tech", "seq")) == b"9"
    assert client.get(keys.layout) == b"2"
    # Marked: the next process does nothing, even with old keys about.
    client.set(f"{prefix}:room:late:seq", 1)
    assert upgrade_layout(client, keys) == 0
    assert client.exists(f"{prefix}:room:late:seq")


def test_room_activity_is_written_in_bulk(redis_server: RedisServer, keys: Keys):
    client = redis_server.client()
    activity = RoomActivity(client, keys, room_ttl_seconds=3600)
    activity.note("lobby", 1_000, "messages_stored")
    activity.note("lobby", 3_000, "messages_stored")
    activity.note("tech", 2_000, "events_stored")
    assert client.zcard(keys.rooms) == 0  # nothing before the flush
    activity.flush()
    assert client.zscore(keys.rooms, "lobby") == 3_000
    assert client.hgetall(keys.stats) == {b"messages_stored": b"2", b"events_stored": b"1"}
    assert 0 < client.ttl(keys.rooms) <= 3600
    # An older time never moves a room back (ZADD GT).
    activity.note("lobby", 500, "messages_stored")
    activity.flush()
    assert client.zscore(keys.rooms, "lobby") == 3_000
    assert client.hget(keys.stats, "messages_stored") == b"3"


def test_room_activity_keeps_what_redis_refused(redis_server: RedisServer, keys: Keys):
    client = redis_server.client()
    client.set(keys.stats, "not a hash")  # every HINCRBY on it fails
    activity = RoomActivity(client, keys, room_ttl_seconds=3600)
    activity.note("lobby", 1_000, "messages_stored")
    activity.flush()
    client.delete(keys.stats)
    activity.flush()
    assert client.hget(keys.stats, "messages_stored") == b"1"
