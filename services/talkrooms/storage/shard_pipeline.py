"""One round trip per shard for a batch of commands, on a single Redis or a Redis Cluster.

redis-py's cluster pipeline refuses EVALSHA, and the message path's group commit is a
pipeline of EVALSHA calls. Here each command names the key it routes by; on a cluster the
commands are grouped by the primary owning each key's slot and each group goes down that
node's own connection pool as one plain pipeline. On a single Redis it is one ordinary
pipeline. Results come back in the order the commands were added, errors as values.

A group whose node answered MOVED, ASK, TRYAGAIN, CLUSTERDOWN, or could not be reached (a
failover under way) is sent again once after the client has read the topology again.

`replicas` > 0 appends `WAIT <replicas> <timeout>` to each group: a write is then answered
only once that many replicas of its shard hold it (WAIT covers the writes made before it
on the same connection, which is why it rides in the same pipeline). The WAIT's own answer
(how many replicas confirmed) is returned by `execute` per command, in `acknowledged`.
"""

from __future__ import annotations

from typing import Any

from redis.cluster import RedisCluster
from redis.exceptions import (
    AskError,
    ClusterDownError,
    TryAgainError,
)
from redis.exceptions import (
    ConnectionError as RedisConnectionError,
)
from redis.exceptions import (
    TimeoutError as RedisTimeoutError,
)

RETRYABLE = (AskError, ClusterDownError, TryAgainError, RedisConnectionError, RedisTimeoutError)


class ShardPipeline:
    """Commands added with their routing key, sent by `execute` as one pipeline per shard."""

    def __init__(self, client: Any, replicas: int = 0, wait_ms: int = 0) -> None:
        self.client = client
        self.replicas = replicas
        self.wait_ms = wait_ms
        self.commands: list[tuple[str, tuple[Any, ...]]] = []
        # Per command: replicas that confirmed its group's writes (None: no WAIT asked).
        self.acknowledged: list[int | None] = []

    def add(self, key: str, *args: Any) -> None:
        self.commands.append((key, args))

    def evalsha(self, sha: str, keys: list[str], args: list[Any]) -> None:
        self.add(keys[0], "EVALSHA", sha, len(keys), *keys, *args)

    def execute(self) -> list[Any]:
        if not self.commands:
            return []
        self.acknowledged = [None] * len(self.commands)
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
        pipe = client.pipeline(transaction=False)
        for index in indexes:
            pipe.execute_command(*self.commands[index][1])
        if self.replicas:
            pipe.execute_command("WAIT", self.replicas, self.wait_ms)
        replies = list(pipe.execute(raise_on_error=False))
        if self.replicas:
            confirmed = replies.pop()
            count = confirmed if isinstance(confirmed, int) else 0
            for index in indexes:
                self.acknowledged[index] = count
        return replies
