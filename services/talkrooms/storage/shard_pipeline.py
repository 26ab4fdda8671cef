"""One round trip per shard for a batch of commands, on a single Redis or a Redis Cluster.

redis-py's cluster pipeline refuses EVALSHA, and the message path's group commit is a
pipeline of EVALSHA calls. Here each command names the key it routes by; on a cluster the
commands are grouped by the primary owning each key's slot and each group goes down that
node's own connection pool as one plain pipeline. On a single Redis it is one ordinary
pipeline. Results come back in the order the commands were added, errors as values.

A group whose node answered MOVED, ASK, TRYAGAIN, CLUSTERDOWN, or could not be reached (a
failover under way) is sent again once after the client has read the topology again.

`replicas` > 0 appends `WAIT <n> <timeout>` to each group: a write is then answered only
once n replicas of its shard hold it (WAIT covers the writes made before it on the same
connection, which is why it rides in the same pipeline); n is `replicas`, or fewer if the
node has fewer connected replicas right now (`_wanted`). Commands whose shard fell short
are marked in `short`.
"""

from __future__ import annotations

import time
from typing import Any

from redis.cluster import RedisCluster
from redis.exceptions import (
    AskError,
    ClusterDownError,
    RedisError,
    TryAgainError,
)
from redis.exceptions import (
    ConnectionError as RedisConnectionError,
)
from redis.exceptions import (
    TimeoutError as RedisTimeoutError,
)

from talkrooms.storage.pipeline_lane import lane_for

RETRYABLE = (AskError, ClusterDownError, TryAgainError, RedisConnectionError, RedisTimeoutError)


class NotReplicated(RedisError):
    """The write is on its primary, but fewer replicas than asked confirmed it in time:
    answered as unavailable, so the client sends it again (its client_id makes that
    store nothing twice) rather than trust a write a failover could lose."""

    def __init__(self, wanted: int, result: Any = None) -> None:
        super().__init__(f"fewer than {wanted} replicas confirmed the write in time")
        self.result = result  # what the command answered on the primary


class ShardPipeline:
    """Commands added with their routing key, sent by `execute` as one pipeline per shard."""

    def __init__(
        self, client: Any, replicas: int = 0, wait_ms: int = 0, lane: bool = False
    ) -> None:
        self.client = client
        # Through the pool's lane (storage/pipeline_lane.py: hiredis-packed, replies as
        # Redis sent them, no response callbacks): the group commit's batches.
        self.lane = lane
        self.replicas = replicas
        self.wait_ms = wait_ms
        self.commands: list[tuple[str, tuple[Any, ...]]] = []
        # Per command: its shard's replicas fell short of what was asked (see _wanted).
        self.short: list[bool] = []

    def add(self, key: str, *args: Any) -> None:
        self.commands.append((key, args))

    def evalsha(self, sha: str, keys: list[str], args: list[Any]) -> None:
        self.add(keys[0], "EVALSHA", sha, len(keys), *keys, *args)

    def execute(self) -> list[Any]:
        if not self.commands:
            return []
        self.short = [False] * len(self.commands)
        if not isinstance(self.client, RedisCluster):
            return self._send(self.client, list(range(len(self.commands))))
        results: list[Any] = [None] * len(self.commands)
        pending = list(range(len(self.commands)))
        for attempt in (1, 2):
            retry: list[int] = []
            for node_client, indexes in self._groups(pending).items():
                try:
                    replies = self._send(node_client, indexes)
                except RETRYABLE as exc:
                    replies = [exc] * len(indexes)
                for index, reply in zip(indexes, replies, strict=True):
                    results[index] = reply
                    if isinstance(reply, RETRYABLE):
                        retry.append(index)
            if not retry or attempt == 2:
                break
            self.client.nodes_manager.initialize()
            pending = retry
        return results

    def _groups(self, indexes: list[int]) -> dict[Any, list[int]]:
        groups: dict[str, tuple[Any, list[int]]] = {}
        for index in indexes:
            node = self.client.get_node_from_key(self.commands[index][0])
            entry = groups.setdefault(node.name, (node.redis_connection, []))
            entry[1].append(index)
        return {node_client: members for node_client, members in groups.values()}

    def _send(self, client: Any, indexes: list[int]) -> list[Any]:
        wanted = _wanted(client, self.replicas)
        if self.lane:
            commands = [self.commands[index][1] for index in indexes]
            if wanted:
                commands.append(("WAIT", wanted, self.wait_ms))
            replies = lane_for(client).exchange(commands)
        else:
            replies = self._pipeline(client, indexes, wanted)
        if wanted:
            confirmed = replies.pop()
            if not isinstance(confirmed, int) or confirmed < wanted:
                for index in indexes:
                    self.short[index] = True
        return replies

    def _pipeline(self, client: Any, indexes: list[int], wanted: int) -> list[Any]:
        pipe = client.pipeline(transaction=False)
        for index in indexes:
            pipe.execute_command(*self.commands[index][1])
        if wanted:
            pipe.execute_command("WAIT", wanted, self.wait_ms)
        return list(pipe.execute(raise_on_error=False))


def _wanted(client: Any, replicas: int) -> int:
    """How many replicas to wait for on this node: the setting, but no more than the
    node has now. A shard whose replica died (or was just promoted, leaving none behind)
    has nobody a failover could promote, so its writes are acknowledged on the primary
    alone until a replica is back; waiting for one would stop its rooms instead."""
    if not replicas:
        return 0
    key = id(client.connection_pool)
    now = time.monotonic()
    cached = _REPLICAS.get(key)
    if cached is None or cached[0] < now:
        try:
            count = int(client.info("replication").get("connected_slaves", 0))
        except RedisError:
            count = cached[1] if cached else replicas
        cached = (now + REPLICAS_CACHE_SECONDS, count)
        _REPLICAS[key] = cached
    return min(replicas, cached[1])


# Connected replicas per node (by its connection pool), read at most every few seconds.
REPLICAS_CACHE_SECONDS = 2.0
_REPLICAS: dict[int, tuple[float, int]] = {}
