"""A few Redis connections kept beside a pool for the group commit's pipelines.

redis-py's pipeline costs more Python than the system calls it makes: on every batch the
pool polls the connection it hands out for stray data, the call goes through retry and
deprecation wrappers, and each command is packed argument by argument (a py-spy profile at
1,000 msg/s: 14 % of a worker, against 8 % for the send itself; BENCHMARKS.md). The group
commit needs none of it. Here a batch is packed by hiredis in C, written with one
`sendall`, and its replies read back one by one on a connection of the pool's own kind
(same address, password, timeouts; a Sentinel-managed one asks the Sentinels where the
primary is when it connects).

Why the pool's checks are not needed: a connection goes back to its lane only after every
reply it was sent has been read; any error or interruption on the way closes it. A
connection that went stale while idle (Redis restarted) is found on its first use, and the
batch is sent once more on a fresh one; a timeout is never retried (the server may have run
the commands), it is raised, and the clients resend with the same client_id.
"""

from __future__ import annotations

import os
import weakref
from queue import Empty, LifoQueue
from typing import Any

import hiredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

# Connections per pool: the flushers of the group commits (messages, room events) and the
# rare lone store (an approved message), one batch at a time each.
LANE_CONNECTIONS = 4


class Lane:
    """Up to LANE_CONNECTIONS connections of one pool, each used by one batch at a time."""

    def __init__(self, pool: Any, size: int = LANE_CONNECTIONS) -> None:
        self.pool = pool
        self.pid = os.getpid()
        self.timeout = float(getattr(pool, "timeout", None) or 20.0)
        self.slots: LifoQueue[Any] = LifoQueue(size)
        for _ in range(size):
            self.slots.put_nowait(None)

    def exchange(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        """Send the commands as one write and return their replies in order; a command
        Redis refused comes back as its ResponseError. Raises ConnectionError or
        TimeoutError when Redis cannot be reached or answer in time."""
        if os.getpid() != self.pid:  # forked: the parent's sockets are not ours
            self.__init__(self.pool, self.slots.maxsize)  # type: ignore[misc]
        try:
            connection = self.slots.get(timeout=self.timeout)
        except Empty:
            raise RedisConnectionError("No Redis connection free for a pipeline") from None
        check_primary = getattr(self.pool, "check_primary", None)
        if check_primary is not None:
            check_primary()  # Sentinel: asked now and then, as the pool's own users do
        try:
            reused = connection is not None and self.pool.owns_connection(connection)
            if not reused:
                if connection is not None:
                    connection.disconnect()  # the primary moved (Sentinel)
                connection = self.pool.connection_class(**self.pool.connection_kwargs)
            packed = b"".join([hiredis.pack_command(command) for command in commands])
            try:
                replies = _exchange(connection, packed, len(commands))
            except RedisConnectionError:
                if not reused:
                    raise
                connection.disconnect()  # a Sentinel one stays open on errors
                replies = _exchange(connection, packed, len(commands))
        except BaseException:
            if connection is not None:
                connection.disconnect()
            self.slots.put_nowait(None)
            raise
        self.slots.put_nowait(connection)
        return replies


def _exchange(connection: Any, packed: bytes, count: int) -> list[Any]:
    # connect() first: a Sentinel-managed connection asks the Sentinels for the primary
    # there (send_packed_command would connect to its default address). No-op if open.
    connection.connect()
    connection.send_packed_command([packed], check_health=False)
    replies: list[Any] = []
    for _ in range(count):
        try:
            replies.append(connection.read_response())
        except ResponseError as error:
            replies.append(error)
    return replies


_LANES: weakref.WeakKeyDictionary[Any, Lane] = weakref.WeakKeyDictionary()


def lane_for(client: Any) -> Lane:
    """The lane of a client's connection pool (made on first use)."""
    pool = client.connection_pool
    lane = _LANES.get(pool)
    if lane is None:
        lane = _LANES[pool] = Lane(pool)
    return lane
