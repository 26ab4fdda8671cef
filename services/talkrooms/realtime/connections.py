"""The connections this worker holds: per-connection state only, never room state.

What a room is (history, presence, typing) lives in Redis; what lives here belongs to one
socket and dies with it: which room it joined, its rate-limit buckets, its typing throttle.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from talkrooms.settings import RateLimit


class TokenBucket:
    """`count` events per `window` seconds, refilled continuously; bursts up to `count`."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, limit: RateLimit) -> None:
        self.capacity = float(limit.count)
        self.rate = limit.count / limit.window if limit.enabled else 0.0
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def take(self) -> bool:
        """Spend one token; False when the limit is reached (a zero capacity never limits)."""
        if self.capacity == 0:
            return True
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


@dataclass
class Connection:
    """One Socket.IO connection on this worker."""

    sid: str
    eio_sid: str
    address: str
    message_bucket: TokenBucket
    join_bucket: TokenBucket
    room: str | None = None
    username: str | None = None
    identity: str | None = None
    key_hash: str = ""
    typing: bool = False
    typing_sent_at: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def socket_room(self) -> str | None:
        """The python-socketio room name of the joined chat room."""
        return socket_room(self.room) if self.room else None


def socket_room(room: str) -> str:
    """Chat room id -> python-socketio room name (prefixed: it can never equal a sid)."""
    return f"room:{room}"


class ConnectionRegistry:
    """sid -> Connection, and eio_sid -> Connection for the hot path."""

    def __init__(self) -> None:
        self.by_sid: dict[str, Connection] = {}
        self.by_eio_sid: dict[str, Connection] = {}
        self.per_address: Counter[str] = Counter()

    def add(self, connection: Connection) -> None:
        self.by_sid[connection.sid] = connection
        self.by_eio_sid[connection.eio_sid] = connection
        self.per_address[connection.address] += 1

    def remove(self, sid: str) -> Connection | None:
        connection = self.by_sid.pop(sid, None)
        if connection is not None:
            self.by_eio_sid.pop(connection.eio_sid, None)
            self.per_address[connection.address] -= 1
            if self.per_address[connection.address] <= 0:
                del self.per_address[connection.address]
        return connection

    def get(self, sid: str) -> Connection | None:
        return self.by_sid.get(sid)

    def count_from(self, address: str) -> int:
        return self.per_address.get(address, 0)

    def joined_rooms(self) -> set[str]:
        return {c.room for c in self.by_sid.values() if c.room}

    def __len__(self) -> int:
        return len(self.by_sid)

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self.by_sid.values()))
