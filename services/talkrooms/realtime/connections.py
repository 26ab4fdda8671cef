"""The connections this worker holds: per-connection state only, never room state.

What a room is (history, presence, typing) lives in Redis; what lives here belongs to one
socket and dies with it: which rooms it joined as whom, its rate-limit buckets, its typing
throttle.
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


@dataclass(frozen=True)
class SignedIn:
    """The account behind a connection: the server's own record of who it is."""

    account_id: int
    username: str
    # The profile as it was at sign-in: how the online list shows this account.
    display_name: str | None = None
    color: str | None = None

    @property
    def author(self) -> str:
        """Who may edit and delete this account's messages, from any device."""
        return f"u:{self.account_id}"


@dataclass
class Membership:
    """One person in one room, over this connection (protocol 2 allows several rooms)."""

    room: str
    username: str
    identity: str
    key_hash: str
    # Who may edit and delete what this person wrote ('' = nobody: no client_key).
    author: str
    typing: bool = False
    typing_sent_at: float = 0.0
    # From the room's settings when joining (and when they change): whether this person
    # may post, and the slow mode they are held to (ms, 0 = none).
    may_post: bool = True
    slow_ms: int = 0
    # The room's staff (moderator, owner, administrator): in its `staff:` socket room,
    # never held by automatic moderation.
    staff: bool = False
    # Automatic moderation (moderation/automod.py): the room's policy for this person
    # (None: nothing checked), its flood counters, when they were first seen in the room.
    automod: object | None = None
    flood: object | None = None
    first_seen: float = 0.0


@dataclass
class Connection:
    """One Socket.IO connection on this worker."""

    sid: str
    eio_sid: str
    address: str
    message_bucket: TokenBucket
    join_bucket: TokenBucket
    protocol: int = 1
    account: SignedIn | None = None
    rooms: dict[str, Membership] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)

    def membership(self, room: str | None) -> Membership | None:
        """The membership an event is about: its room, or the only room when it names none."""
        if room is not None:
            return self.rooms.get(room)
        if len(self.rooms) == 1:
            return next(iter(self.rooms.values()))
        return None


def socket_room(room: str) -> str:
    """Chat room id -> python-socketio room name (prefixed: it can never equal a sid)."""
    return f"room:{room}"


def staff_room(room: str) -> str:
    """The python-socketio room of a chat room's staff connections: they get `review`."""
    return f"staff:{room}"


def log_room(room: str) -> str:
    """The python-socketio room of a chat room's protocol 2 members: they get room_event."""
    return f"log:{room}"


def reader_room(room: str, author: str) -> str:
    """One person's protocol 2 connections in a chat room: their read marker follows them."""
    return f"reader:{room}:{author}"


ACCOUNT_ROOM_PREFIX = "account:"


def account_room(account_id: int) -> str:
    """Every signed-in connection of one account, on every worker: what concerns the
    person rather than a room (a private conversation opened with them) goes there."""
    return f"{ACCOUNT_ROOM_PREFIX}{account_id}"


def is_account_room(name: str) -> bool:
    return name.startswith(ACCOUNT_ROOM_PREFIX)


def account_of_room(name: str) -> int | None:
    """account_room's inverse: the account id, or None for another kind of room."""
    tail = name.removeprefix(ACCOUNT_ROOM_PREFIX)
    return int(tail) if is_account_room(name) and tail.isdigit() else None


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
        return {room for c in self.by_sid.values() for room in c.rooms}

    def __len__(self) -> int:
        return len(self.by_sid)

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self.by_sid.values()))
