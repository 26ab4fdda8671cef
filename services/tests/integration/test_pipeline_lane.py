"""The group commit's pipeline lane (storage/pipeline_lane.py) on a real redis-server:
replies in order with errors as values, a stale connection after a restart, a Redis that
is down, and a script Redis forgot."""

from __future__ import annotations

import uuid

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError

from talkrooms.storage.pipeline_lane import Lane, lane_for
from talkrooms.storage.redis_clients import blocking_client
from talkrooms.storage.shard_pipeline import ShardPipeline
from talkrooms.storage.store import Script
from tests.support.processes import RedisServer


def client_of(url: str):
    return blocking_client(url, max_connections=8, timeout=2, socket_timeout=2)


def test_replies_come_back_in_order_with_errors_as_values(redis_server):
    client = client_of(redis_server.url)
    key = f"lane:{uuid.uuid4().hex}"
    commands = [("SET", key, "1"), ("INCR", key), ("HGET", key, "x"), ("EVALSHA", "0" * 40, 0)]
    replies = lane_for(client).exchange([*commands, ("GET", key)])
    assert replies[:2] == [b"OK", 2]
    assert isinstance(replies[2], ResponseError)  # WRONGTYPE
    assert isinstance(replies[3], NoScriptError)
    assert replies[4] == b"2"
    # The errors left the connection in step: the next batch reads its own replies.
    assert lane_for(client).exchange([("GET", key)]) == [b"2"]


def test_a_forgotten_script_is_loaded_and_run_again(redis_server):
    client = client_of(redis_server.url)
    script = Script("store_message")
    script.load(client)
    client.script_flush()
    key = f"lane:{uuid.uuid4().hex}"
    pipe = ShardPipeline(client, lane=True)
    pipe.add(key, "SET", key, "v")
    assert pipe.execute() == [b"OK"]
    results = script.run_many(client, [([key], [])])
    # Run again after the NOSCRIPT: what comes back is the script's own answer (an
    # error about its arguments here), not NOSCRIPT.
    assert not isinstance(results[0], NoScriptError)


def test_a_restarted_redis_is_found_again_on_the_same_lane(work_dir):
    server = RedisServer(work_dir / f"lane-{uuid.uuid4().hex[:6]}").start()
    try:
        client = client_of(server.url)
        lane = lane_for(client)
        assert lane.exchange([("SET", "k", "before")]) == [b"OK"]
        server.stop()
        server.start()
        # The idle connection is dead: the batch goes again on a fresh one, once.
        assert lane.exchange([("SET", "k", "after"), ("GET", "k")]) == [b"OK", b"after"]
    finally:
        server.stop()


def test_a_redis_that_is_down_raises_and_the_lane_recovers(work_dir):
    server = RedisServer(work_dir / f"lane-{uuid.uuid4().hex[:6]}").start()
    try:
        lane = Lane(client_of(server.url).connection_pool, size=2)
        server.stop()
        for _ in range(3):  # more failures than connections: none is lost to the lane
            with pytest.raises(RedisConnectionError):
                lane.exchange([("PING",)])
        server.start()
        assert lane.exchange([("PING",)]) == [b"PONG"]
    finally:
        server.stop()
