"""Every Redis key and operation of TalkRooms; keys are only ever built here.

Key layout (prefix `tr` by default; all keys carry a TTL, see docs/architecture.md):

    tr:room:{room}:seq        string  last message sequence number   message retention
    tr:room:{room}:messages   zset    seq -> message JSON, capped      message retention
    tr:room:{room}:cids       zset    client_id -> seq, capped         message retention
    tr:room:{room}:conns      hash    connection -> identity           user retention
    tr:room:{room}:users      hash    identity -> {"u": name, "k": key hash}
    tr:room:{room}:nconn      hash    identity -> open connections
    tr:room:{room}:typing     zset    username -> typing-until (ms)    30 s
    tr:rooms                  zset    room -> last activity (ms)       room retention
    tr:workers                zset    worker id -> last heartbeat (ms) user retention
    tr:worker:{id}:conns      set     "room|connection" of that worker user retention
    tr:worker:{id}:info       string  JSON: connections, pid, start     3 heartbeats
    tr:stats                  hash    counters (messages_stored, ...)  none (a few fields)
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any

import orjson
import redis
from redis.exceptions import NoScriptError

from .settings import Settings

TYPING_TTL_SECONDS = 30


def now_ms() -> int:
    return int(time.time() * 1000)


def make_redis(settings: Settings, max_connections: int | None = None) -> redis.Redis:
    """A client on a blocking pool: past the limit a command waits, it never fails at once.

    redis-py's default pool raises MaxConnectionsError on the 101st concurrent command, and
    under gevent every greenlet waiting on Redis holds a connection: bursts would lose
    messages silently. Socket timeouts keep a frozen Redis from hanging a worker.
    """
    pool = redis.BlockingConnectionPool.from_url(
        settings.effective_redis_url,
        max_connections=max_connections or settings.redis_max_connections,
        timeout=settings.redis_socket_timeout,
        socket_timeout=settings.redis_socket_timeout,
        socket_connect_timeout=min(2.0, settings.redis_socket_timeout),
        socket_keepalive=True,
        health_check_interval=30,
    )
    return redis.Redis(connection_pool=pool)


class Keys:
    """Builds every key name from the configured prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.rooms = f"{prefix}:rooms"
        self.workers = f"{prefix}:workers"
        self.stats = f"{prefix}:stats"

    def room(self, room: str, part: str) -> str:
        return f"{self.prefix}:room:{room}:{part}"

    def worker_conns(self, worker_id: str) -> str:
        return f"{self.prefix}:worker:{worker_id}:conns"

    def worker_info(self, worker_id: str) -> str:
        return f"{self.prefix}:worker:{worker_id}:info"

    def room_pattern(self) -> str:
        return f"{self.prefix}:room:*"

    def worker_conns_pattern(self) -> str:
        return f"{self.prefix}:worker:*:conns"


class Script:
    """A Lua script called by SHA (EVALSHA), loaded again when Redis forgot it.

    redis-py's Script object inside a pipeline adds a SCRIPT EXISTS round trip to every
    execute; here the SHA is computed once and NOSCRIPT is handled by the caller.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.source = resources.files("talkrooms").joinpath(f"lua/{name}.lua").read_text()
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()

    def load(self, client: redis.Redis) -> None:
        client.script_load(self.source)

    def __call__(self, client: redis.Redis, keys: list[str], args: list[Any]) -> Any:
        try:
            return client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            self.load(client)
            return client.evalsha(self.sha, len(keys), *keys, *args)


STORE_MESSAGE = Script("store_message")
JOIN_ROOM = Script("join_room")
LEAVE_ROOM = Script("leave_room")
PURGE_WORKER = Script("purge_worker")
HEARTBEAT = Script("heartbeat")


@dataclass(frozen=True)
class JoinResult:
    """Presence after a join: `taken` when the name is live under another key."""

    taken: bool
    first_connection: bool
    usernames: list[str]


@dataclass(frozen=True)
class LeaveResult:
    """Presence after a leave: `left` names the person whose last connection went."""

    present: bool
    left: str | None
    usernames: list[str]


def _usernames(raw_users: list[Any]) -> list[str]:
    return [orjson.loads(raw)["u"] for raw in raw_users]


def client_key_hash(client_key: str | None) -> str:
    """Presence stores a hash of the device key, never the key itself."""
    if not client_key:
        return ""
    return hashlib.sha256(client_key.encode()).hexdigest()[:32]


class Store:
    """Redis operations behind the chat: history, presence, typing, rooms, workers."""

    def __init__(self, settings: Settings, client: redis.Redis) -> None:
        self.settings = settings
        # redis-py's annotations union sync and async results; every call here is sync.
        self.redis: Any = client
        self.keys = Keys(settings.key_prefix)

    # -- scripts -------------------------------------------------------------------------

    def load_scripts(self) -> None:
        """Preload every script so the hot path's first EVALSHA finds it."""
        for script in (STORE_MESSAGE, JOIN_ROOM, LEAVE_ROOM, PURGE_WORKER, HEARTBEAT):
            script.load(self.redis)

    def store_message_call(
        self, room: str, tail: str, client_id: str | None, channel: str, prefix: str
    ) -> tuple[list[str], list[Any]]:
        """KEYS and ARGV of one store_message call, for a pipeline of many."""
        keys = self.keys
        return (
            [
                keys.room(room, "seq"),
                keys.room(room, "messages"),
                keys.room(room, "cids"),
                keys.rooms,
                keys.stats,
            ],
            [
                tail,
                client_id or "",
                self.settings.history_limit,
                self.settings.client_id_window,
                self.settings.message_ttl_seconds,
                self.settings.room_ttl_seconds,
                now_ms(),
                room,
                channel,
                prefix,
                "]",
            ],
        )

    # -- history -------------------------------------------------------------------------

    def recent_messages(self, room: str, limit: int) -> list[dict[str, Any]]:
        """The newest `limit` messages, oldest first."""
        raw = self.redis.zrange(self.keys.room(room, "messages"), -limit, -1)
        return [orjson.loads(item) for item in raw]

    def history(
        self, room: str, before: int | None, since: int | None, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """One page of history, oldest first, and whether more lies beyond it."""
        key = self.keys.room(room, "messages")
        if since is not None:
            raw = self.redis.zrange(key, f"({since}", "+inf", byscore=True, offset=0, num=limit + 1)
            has_more = len(raw) > limit
            raw = raw[:limit]
        else:
            top = f"({before}" if before is not None else "+inf"
            raw = self.redis.zrange(
                key, top, "-inf", byscore=True, desc=True, offset=0, num=limit + 1
            )
            has_more = len(raw) > limit
            raw = list(reversed(raw[:limit]))
        return [orjson.loads(item) for item in raw], has_more

    def message_count(self, room: str) -> int:
        return int(self.redis.zcard(self.keys.room(room, "messages")))

    # -- presence ------------------------------------------------------------------------

    def join(
        self, room: str, conn_id: str, identity: str, username: str, key_hash: str, worker: str
    ) -> JoinResult:
        """Add a connection to a room; refuses a live name held under another key."""
        user_json = orjson.dumps({"u": username, "k": key_hash}).decode()
        result = JOIN_ROOM(
            self.redis,
            [
                self.keys.room(room, "conns"),
                self.keys.room(room, "users"),
                self.keys.room(room, "nconn"),
                self.keys.rooms,
                self.keys.worker_conns(worker),
            ],
            [
                conn_id,
                identity,
                user_json,
                key_hash,
                self.settings.user_ttl_seconds,
                self.settings.room_ttl_seconds,
                now_ms(),
                room,
                f"{room}|{conn_id}",
            ],
        )
        if result[0] == -1:
            return JoinResult(taken=True, first_connection=False, usernames=[])
        return JoinResult(
            taken=False, first_connection=result[0] == 1, usernames=_usernames(result[1])
        )

    def leave(self, room: str, conn_id: str, worker: str) -> LeaveResult:
        """Remove a connection; reports the person who left with their last connection."""
        result = LEAVE_ROOM(
            self.redis,
            [
                self.keys.room(room, "conns"),
                self.keys.room(room, "users"),
                self.keys.room(room, "nconn"),
                self.keys.rooms,
                self.keys.worker_conns(worker),
            ],
            [conn_id, f"{room}|{conn_id}", now_ms(), room],
        )
        if result[0] == -1:
            return LeaveResult(present=False, left=None, usernames=[])
        left = result[1].decode() if result[0] == 1 and result[1] else None
        return LeaveResult(present=True, left=left, usernames=_usernames(result[2]))

    def room_usernames(self, room: str) -> list[str]:
        return _usernames(self.redis.hvals(self.keys.room(room, "users")))

    def refresh_presence(self, rooms: set[str]) -> None:
        """Keep the presence of rooms with live local connections from expiring."""
        if not rooms:
            return
        ttl = self.settings.user_ttl_seconds
        pipe = self.redis.pipeline(transaction=False)
        for room in rooms:
            for part in ("conns", "users", "nconn"):
                pipe.expire(self.keys.room(room, part), ttl)
        pipe.execute()

    # -- typing --------------------------------------------------------------------------

    def set_typing(self, room: str, username: str, is_typing: bool, until_ms: int) -> None:
        key = self.keys.room(room, "typing")
        pipe = self.redis.pipeline(transaction=False)
        if is_typing:
            pipe.zadd(key, {username: until_ms})
        else:
            pipe.zrem(key, username)
        pipe.zremrangebyscore(key, "-inf", now_ms())
        pipe.expire(key, TYPING_TTL_SECONDS)
        pipe.execute()

    def typing_usernames(self, room: str) -> list[str]:
        key = self.keys.room(room, "typing")
        return [m.decode() for m in self.redis.zrangebyscore(key, now_ms(), "+inf")]

    # -- workers -------------------------------------------------------------------------

    def heartbeat(self, worker: str, info: dict[str, Any]) -> bool:
        """Record this worker alive; False when it had been purged as dead (or is new)."""
        ttl = self.settings.user_ttl_seconds
        info_ttl = max(1, int(self.settings.heartbeat_interval_seconds * 3))
        result = HEARTBEAT(
            self.redis,
            [self.keys.workers, self.keys.worker_conns(worker), self.keys.worker_info(worker)],
            [worker, now_ms(), ttl, orjson.dumps(info).decode(), info_ttl],
        )
        return bool(result == 1)

    def live_workers(self) -> list[dict[str, Any]]:
        """The info each live worker wrote with its last heartbeat."""
        workers = [w.decode() for w in self.redis.zrange(self.keys.workers, 0, -1)]
        if not workers:
            return []
        raw = self.redis.mget([self.keys.worker_info(w) for w in workers])
        return [orjson.loads(item) for item in raw if item]

    def dead_workers(self, dead_after_seconds: float) -> list[str]:
        cutoff = now_ms() - int(dead_after_seconds * 1000)
        return [w.decode() for w in self.redis.zrangebyscore(self.keys.workers, "-inf", cutoff)]

    def purge_worker(self, worker: str, force: bool = False) -> list[tuple[str, str | None]]:
        """Remove a dead worker's connections; [(room, username-that-left or None)]."""
        flat = PURGE_WORKER(
            self.redis,
            [self.keys.workers, self.keys.worker_conns(worker)],
            [worker, self.keys.prefix, "1" if force else "0"],
        )
        pairs = []
        for i in range(0, len(flat), 2):
            name = flat[i + 1].decode() if flat[i + 1] else None
            pairs.append((flat[i].decode(), name))
        return pairs

    def unregister_worker(self, worker: str) -> None:
        self.redis.zrem(self.keys.workers, worker)

    # -- rooms and stats -----------------------------------------------------------------

    def active_rooms(self, limit: int) -> list[dict[str, Any]]:
        """Rooms with activity within room retention, busiest first."""
        cutoff = now_ms() - self.settings.room_ttl_seconds * 1000
        entries = self.redis.zrangebyscore(
            self.keys.rooms, cutoff, "+inf", withscores=True, start=0, num=10_000
        )
        pipe = self.redis.pipeline(transaction=False)
        for name, _ in entries:
            room = name.decode()
            pipe.hlen(self.keys.room(room, "users"))
            pipe.zcard(self.keys.room(room, "messages"))
        counts = pipe.execute()
        ranked = []
        for index, (name, score) in enumerate(entries):
            users, messages = int(counts[2 * index]), int(counts[2 * index + 1])
            if users or messages:
                ranked.append((-users, -score, name.decode(), users, messages))
        ranked.sort()
        return [
            {
                "room": room,
                "users": users,
                "messages": messages,
                "last_activity": iso_from_ms(int(-neg_score)),
            }
            for _, neg_score, room, users, messages in ranked[:limit]
        ]

    def counters(self) -> dict[str, int]:
        return {k.decode(): int(v) for k, v in self.redis.hgetall(self.keys.stats).items()}

    def redis_info(self) -> dict[str, Any]:
        """The few Redis INFO fields the stats API reports."""
        info = self.redis.info()
        return {
            "version": info.get("redis_version"),
            "used_memory_bytes": info.get("used_memory"),
            "used_memory_human": info.get("used_memory_human"),
            "keys": int(self.redis.dbsize()),
            "ops_per_sec": info.get("instantaneous_ops_per_sec"),
            "connected_clients": info.get("connected_clients"),
            "uptime_seconds": info.get("uptime_in_seconds"),
        }

    def ping_ms(self) -> float:
        started = time.perf_counter()
        self.redis.ping()
        return (time.perf_counter() - started) * 1000


def iso_from_ms(ms: int) -> str:
    """Milliseconds since the epoch -> ISO 8601 UTC with milliseconds and 'Z'."""
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"
