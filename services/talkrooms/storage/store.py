"""Every Redis key and operation of TalkRooms; keys are only ever built here.

Key layout (prefix `tr` by default; all keys carry a TTL, see docs/architecture.md). The
braces are literal: a room's name (and a worker's id) is the key's Redis Cluster hash tag,
so all of a room's keys share one slot (storage/keys.py):

    tr:room:{room}:seq        string  last message sequence number   message retention
    tr:room:{room}:messages   zset    seq -> message JSON, capped      message retention
    tr:room:{room}:cids       zset    client_id -> seq, capped         message retention
    tr:room:{room}:conns      hash    connection -> identity           user retention
    tr:room:{room}:users      hash    identity -> {"u": name, "k": key hash}, and for an
                                      account {"d": display name, "c": colour, "a": 1}
    tr:room:{room}:nconn      hash    identity -> open connections
    tr:room:{room}:typing     zset    username -> typing-until (ms)    30 s
    tr:room:{room}:events     stream  the room's event log (protocol 2) message retention
    tr:room:{room}:evcount    string  last event counter                message retention
    tr:room:{room}:reactions  hash    seq -> {emoji: [[author, name]]}  message retention
    tr:room:{room}:read       hash    author -> last read seq           message retention
    tr:room:{room}:uploads    hash    file id -> "author|file JSON", not  upload wait
                                      yet in a message (files/service.py)
    tr:room:{room}:files      hash    file id -> seq of its message     message retention
    tr:room:{room}:upbytes    string  bytes uploaded to the room (quota) message retention
    tr:room:{room}:silenced   hash    author -> 'code[|until ms]' (a     message retention
                                      block, a mute, a ban)
    tr:room:{room}:settings   hash    topic, post, slow, invite, pins   none (the database's copy)
    tr:room:{room}:slow       zset    author -> next message allowed (ms) the slow mode
    tr:room:{room}:bans       hash    u:<account>|k:<key hash>|a:<addr> the longest ban, or
                                      -> 'until ms (0: for good)|id'    none (moderation)
                                      (a private conversation's join writes it again)
    tr:rooms                  zset    room -> last activity (ms)       room retention
    tr:workers                zset    worker id -> last heartbeat (ms) user retention
    tr:worker:{id}:conns      set     "room|connection" of that worker user retention
    tr:worker:{id}:info       string  JSON: connections, pid, start     3 heartbeats
    tr:stats                  hash    counters (messages_stored, ...)  none (a few fields;
                                      written about once a second per worker)
    tr:layout                 string  "2": the keys were renamed to this layout  none
    tr:accounts:names         set     name identities of accounts       none (rebuilt from the
                                                                       database at start)
    tr:jobs:{job}             hash    outcome counters of an RQ job    30 days, refreshed per run
    tr:jobs:{job}:slot        string  the scheduler that enqueued it   one interval
    tr:jobs:{job}:lock        string  held while a run is in progress  the job timeout
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any

import orjson
import redis
from redis.cluster import RedisCluster
from redis.exceptions import ClusterDownError, NoScriptError, RedisClusterException

from talkrooms.protocol import PresentUser, is_private_room
from talkrooms.settings import Settings
from talkrooms.storage.keys import Keys
from talkrooms.storage.redis_clients import (
    blocking_client,
    is_cluster_url,
    plain_client,
    publish_command,
)
from talkrooms.storage.room_activity import RoomActivity
from talkrooms.storage.shard_pipeline import NotReplicated, ShardPipeline

TYPING_TTL_SECONDS = 30
# A cluster SCAN cursor: the primary's index in its low bits (up to this many primaries).
CLUSTER_SCAN_NODES = 1024


def now_ms() -> int:
    return int(time.time() * 1000)


def make_redis(settings: Settings, max_connections: int | None = None) -> redis.Redis:
    """A client on a blocking pool: past the limit a command waits, it never fails at once.

    redis-py's default pool raises MaxConnectionsError on the 101st concurrent command, and
    under gevent every greenlet waiting on Redis holds a connection: bursts would lose
    messages silently. Socket timeouts keep a frozen Redis from hanging a worker.
    """
    return blocking_client(
        settings.effective_redis_url,
        max_connections=max_connections or settings.redis_max_connections,
        timeout=settings.redis_socket_timeout,
        socket_timeout=settings.redis_socket_timeout,
        socket_connect_timeout=min(2.0, settings.redis_socket_timeout),
        socket_keepalive=True,
        health_check_interval=30,
    )


def make_rq_redis(settings: Settings, max_connections: int = 8) -> Any:
    """A client of the Redis RQ keeps its queues in (RQ_REDIS_URL, else REDIS_URL)."""
    return blocking_client(
        settings.effective_rq_redis_url,
        max_connections=max_connections,
        timeout=settings.redis_socket_timeout,
        socket_timeout=settings.redis_socket_timeout,
        socket_connect_timeout=min(2.0, settings.redis_socket_timeout),
    )


def wait_for_redis(client: redis.Redis, what: str, every: float = 1.0) -> None:
    """Block until Redis answers PING: a process started before Redis waits, never exits.

    supervisord gives up on a program that fails a few times in a row at start; the RQ
    worker and the scheduler wait here instead (SIGTERM still ends them at once).
    """
    warned = False
    while True:
        try:
            client.ping()
            return
        except redis.RedisError as exc:
            if not warned:
                logging.getLogger("talkrooms.storage.store").warning(
                    "waiting for Redis", extra={"component": what, "error": str(exc)}
                )
                warned = True
            time.sleep(every)


def _cluster_state_ok(info: Any) -> bool:
    """CLUSTER INFO says ok, whether redis-py parsed it (a dict) or not (text)."""
    if isinstance(info, dict):
        return info.get("cluster_state") in ("ok", b"ok")
    text = info.decode() if isinstance(info, bytes) else str(info)
    return "cluster_state:ok" in text


def _check_cluster(url: str) -> None:
    """Raise unless every primary of the slot map says cluster_state:ok.

    A client builds as soon as one node lists every slot, a moment before the nodes agree
    the cluster is up: commands then fail with CLUSTERDOWN (and the start-up chores with them).
    """
    client = plain_client(url, socket_timeout=2.0, socket_connect_timeout=2.0)
    try:
        for node in client.get_primaries():
            info = client.get_redis_connection(node).execute_command("CLUSTER INFO")
            if not _cluster_state_ok(info):
                raise ClusterDownError(f"{node.name}: cluster_state is not ok")
        client.ping()
    finally:
        client.close()


def wait_for_cluster(url: str, what: str, every: float = 1.0) -> None:
    """Block until a Redis Cluster client can be built and answers PING (no-op otherwise).

    A cluster client reads the slot map when it is built and raises while the cluster is
    not formed yet (`make run CLUSTER=1` forms it while the workers start): a worker that
    waits here starts once, instead of crash-looping into supervisord's FATAL.
    """
    if not is_cluster_url(url):
        return
    warned = False
    while True:
        try:
            _check_cluster(url)
            return
        except (redis.RedisError, RedisClusterException, OSError) as exc:
            if not warned:
                logging.getLogger("talkrooms.storage.store").warning(
                    "waiting for the Redis Cluster", extra={"component": what, "error": str(exc)}
                )
                warned = True
            time.sleep(every)


class Script:
    """A Lua script called by SHA (EVALSHA), loaded again when Redis forgot it.

    redis-py's Script object inside a pipeline adds a SCRIPT EXISTS round trip to every
    execute; here the SHA is computed once and NOSCRIPT is handled by the caller.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.source = resources.files("talkrooms.storage").joinpath(f"lua/{name}.lua").read_text()
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()

    def load(self, client: redis.Redis) -> None:
        client.script_load(self.source)

    def run_many(
        self, client: Any, calls: list[tuple[list[str], list[Any]]], durability: Any = None
    ) -> list[Any]:
        """One pipeline of EVALSHA calls per shard, results in order (an error is returned,
        not raised); the calls Redis answered NOSCRIPT are run again once the script is
        loaded. With `durability` (replicas, wait ms), a call whose shard's replicas did
        not all confirm in time comes back as NotReplicated."""
        results = self._pipeline(client, calls, durability)
        retry = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
        if retry:
            self.load(client)
            again = self._pipeline(client, [calls[i] for i in retry], durability)
            for index, result in zip(retry, again, strict=True):
                results[index] = result
        return results

    def _pipeline(
        self, client: Any, calls: list[tuple[list[str], list[Any]]], durability: Any
    ) -> list[Any]:
        replicas, wait_ms = durability or (0, 0)
        pipe = ShardPipeline(client, replicas, wait_ms, lane=True)
        for keys, args in calls:
            pipe.evalsha(self.sha, keys, args)
        results = pipe.execute()
        for index, short in enumerate(pipe.short):
            if short and not isinstance(results[index], Exception):
                results[index] = NotReplicated(replicas, results[index])
        return results

    def queue(self, pipe: ShardPipeline, keys: list[str], args: list[Any]) -> None:
        """Add a call to a pipeline of other commands; `settle` its result after execute."""
        pipe.evalsha(self.sha, keys, args)

    def settle(self, client: Any, result: Any, keys: list[str], args: list[Any]) -> Any:
        """The result of a `queue`d call: run again alone if Redis had forgotten the
        script; an error is raised."""
        if isinstance(result, NoScriptError):
            return self(client, keys, args)
        if isinstance(result, Exception):
            raise result
        return result

    def __call__(self, client: redis.Redis, keys: list[str], args: list[Any]) -> Any:
        try:
            return client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            self.load(client)
            return client.evalsha(self.sha, len(keys), *keys, *args)


STORE_MESSAGE = Script("store_message")
ROOM_EVENT = Script("room_event")
MARK_READ = Script("mark_read")
JOIN_ROOM = Script("join_room")
LEAVE_ROOM = Script("leave_room")
DROP_CONNS = Script("drop_conns")
SWEEP_ROOM = Script("sweep_room")
UNINDEX_ROOM = Script("unindex_room")
UPDATE_PERSON = Script("update_person")

JOB_STATE_TTL_SECONDS = 30 * 86400
ROOM_PARTS_MESSAGE_TTL = frozenset(
    {
        "seq",
        "messages",
        "cids",
        "events",
        "evcount",
        "reactions",
        "read",
        "silenced",
        "files",
        "upbytes",
    }
)
ROOM_PARTS_USER_TTL = frozenset({"conns", "users", "nconn"})


def redis_info_fields(info: dict[str, Any], keys: int) -> dict[str, Any]:
    """The few fields of one server's INFO (and its key count) the stats API reports:
    the single Redis, or each node of a cluster (ops/redis_section.py)."""
    return {
        "version": info.get("redis_version"),
        "used_memory_bytes": info.get("used_memory"),
        "used_memory_human": info.get("used_memory_human"),
        "keys": keys,
        "ops_per_sec": info.get("instantaneous_ops_per_sec"),
        "connected_clients": info.get("connected_clients"),
        "uptime_seconds": info.get("uptime_in_seconds"),
    }


@dataclass(frozen=True)
class RoomGate:
    """What a join reads of a public room first (Store.room_gate)."""

    ban_until: int | None  # the end (ms; 0 = never) of a ban on the joiner; None: no ban
    rules: dict[str, str]  # the room's settings, empty for most rooms
    is_new: bool  # nobody there and no message ever: this join creates the room


def _latest_ban_end(values: list[bytes | None], now: int) -> int | None:
    """The end (ms; 0 = never) of the longest ban in force among the bans' `until|...`
    values; None when none is."""
    ends = []
    for value in values:
        if value is None:
            continue
        until = int(value.split(b"|", 1)[0])
        if until == 0 or until > now:
            ends.append(until)
    if not ends:
        return None
    return 0 if 0 in ends else max(ends)


@dataclass(frozen=True)
class JoinResult:
    """Presence after a join: `taken` when the name is live under another key."""

    taken: bool
    first_connection: bool
    users: list[PresentUser]
    reserved: bool = False


@dataclass(frozen=True)
class SweepResult:
    """What sweeping one room changed: ghost connections, people gone, index entry."""

    connections_removed: int
    unindexed: bool
    left: list[str]


@dataclass(frozen=True)
class LeaveResult:
    """Presence after a leave: `left` names the person whose last connection went."""

    present: bool
    left: str | None
    users: list[PresentUser]


def _usernames(raw_users: list[Any]) -> list[str]:
    return [orjson.loads(raw)["u"] for raw in raw_users]


def _present(raw_users: list[Any]) -> list[PresentUser]:
    people = []
    for raw in raw_users:
        entry = orjson.loads(raw)
        people.append(
            PresentUser(entry["u"], entry.get("d"), entry.get("c"), account=bool(entry.get("a")))
        )
    return people


def client_key_hash(client_key: str | None) -> str:
    """Presence stores a hash of the device key, never the key itself."""
    if not client_key:
        return ""
    return hashlib.sha256(client_key.encode()).hexdigest()[:32]


def author_token(identity: str, key_hash: str) -> str:
    """Who may edit and delete a guest's messages: their name and key, hashed; '' for none.

    Stored with each message (never sent); accounts will bring tokens of their own kind.
    """
    if not key_hash:
        return ""
    return "g:" + hashlib.sha256(f"{identity}|{key_hash}".encode()).hexdigest()[:24]


def public_message(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored message without its private fields (author token, time in ms)."""
    return {k: v for k, v in stored.items() if not k.startswith("_")}


class Store:
    """Redis operations behind the chat: history, presence, typing, rooms, workers."""

    def __init__(self, settings: Settings, client: redis.Redis) -> None:
        self.settings = settings
        # redis-py's annotations union sync and async results; every call here is sync.
        self.redis: Any = client
        self.keys = Keys(settings.key_prefix)
        self.activity = RoomActivity(client, self.keys, settings.room_ttl_seconds)
        self.publish_command = publish_command(settings.effective_redis_url)
        # Writes acknowledged only once this many replicas hold them (WAIT), in ms at most.
        self.durability = (settings.redis_wait_replicas, settings.redis_wait_timeout_ms)

    # -- scripts -------------------------------------------------------------------------

    def load_scripts(self) -> None:
        """Preload every script so the hot path's first EVALSHA finds it."""
        scripts = (
            STORE_MESSAGE,
            ROOM_EVENT,
            MARK_READ,
            JOIN_ROOM,
            LEAVE_ROOM,
            DROP_CONNS,
            SWEEP_ROOM,
            UNINDEX_ROOM,
            UPDATE_PERSON,
        )
        for script in scripts:
            script.load(self.redis)

    def store_message_call(
        self,
        room: str,
        tail: str,
        client_id: str | None,
        channel: str,
        prefix: str,
        private: str,
        reply_to: int | None,
        mentions: str,
        author: str,
        files: str = "",
        slow_ms: int = 0,
    ) -> tuple[list[str], list[Any]]:
        """KEYS and ARGV of one store_message call, for a pipeline of many."""
        keys = self.keys
        return (
            [
                keys.room(room, "seq"),
                keys.room(room, "messages"),
                keys.room(room, "cids"),
                keys.room(room, "users"),
                keys.room(room, "silenced"),
                keys.room(room, "uploads"),
                keys.room(room, "files"),
                keys.room(room, "slow"),
            ],
            [
                tail,
                client_id or "",
                self.settings.history_limit,
                self.settings.client_id_window,
                self.settings.message_ttl_seconds,
                now_ms(),
                channel,
                prefix,
                "]",
                private,
                "" if reply_to is None else reply_to,
                mentions,
                author,
                files,
                slow_ms,
                self.publish_command,
            ],
        )

    # -- history -------------------------------------------------------------------------

    def recent_messages(self, room: str, limit: int) -> list[dict[str, Any]]:
        """The newest `limit` messages, oldest first."""
        return [public_message(m) for m in self.stored_recent(room, limit)]

    def history(
        self, room: str, before: int | None, since: int | None, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """One page of history, oldest first, and whether more lies beyond it."""
        stored, has_more = self.stored_page(room, before, since, limit)
        return [public_message(m) for m in stored], has_more

    def stored_recent(self, room: str, limit: int) -> list[dict[str, Any]]:
        """recent_messages with the private fields (for protocol 2's views)."""
        raw = self.redis.zrange(self.keys.room(room, "messages"), -limit, -1)
        return [orjson.loads(item) for item in raw]

    def stored_page(
        self, room: str, before: int | None, since: int | None, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """history with the private fields (for protocol 2's views)."""
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
        self,
        room: str,
        conn_id: str,
        identity: str,
        username: str,
        key_hash: str,
        worker: str,
        guest: bool = False,
        shown: PresentUser | None = None,
    ) -> JoinResult:
        """Add a connection to a room; refuses a live name held under another key, and a
        guest asking for an account's name. `shown` is how an account appears in the online
        list (its profile's display name and colour), kept with its presence entry."""
        entry: dict[str, Any] = {"u": username, "k": key_hash}
        if shown is not None:
            entry.update(d=shown.display_name, c=shown.color, a=1)
        if guest and self.redis.sismember(self.keys.reserved_names, identity):
            return JoinResult(taken=False, first_connection=False, users=[], reserved=True)
        keys = [
            self.keys.room(room, "conns"),
            self.keys.room(room, "users"),
            self.keys.room(room, "nconn"),
        ]
        args = [
            conn_id,
            identity,
            orjson.dumps(entry).decode(),
            key_hash,
            self.settings.user_ttl_seconds,
        ]
        held = self.keys.worker_conns(worker)
        user_ttl = self.settings.user_ttl_seconds
        rooms = self.keys.rooms
        pipe = ShardPipeline(self.redis)
        # The worker's set first: a sweep that finds the connection in the room finds it
        # held (sweep_room.lua). On a cluster the worker's keys and the rooms index are on
        # shards of their own, still one round trip each.
        pipe.add(held, "SADD", held, f"{room}|{conn_id}")
        pipe.add(held, "EXPIRE", held, user_ttl)
        JOIN_ROOM.queue(pipe, keys, args)
        pipe.add(rooms, "ZADD", rooms, now_ms(), room)
        pipe.add(rooms, "EXPIRE", rooms, self.settings.room_ttl_seconds)
        replies = pipe.execute()
        result = JOIN_ROOM.settle(self.redis, replies[2], keys, args)
        if result[0] == -1:
            self.redis.srem(held, f"{room}|{conn_id}")
            return JoinResult(taken=True, first_connection=False, users=[])
        return JoinResult(taken=False, first_connection=result[0] == 1, users=_present(result[1]))

    def leave(self, room: str, conn_id: str, worker: str) -> LeaveResult:
        """Remove a connection; reports the person who left with their last connection."""
        keys = [
            self.keys.room(room, "conns"),
            self.keys.room(room, "users"),
            self.keys.room(room, "nconn"),
        ]
        held, rooms = self.keys.worker_conns(worker), self.keys.rooms
        pipe = ShardPipeline(self.redis)
        LEAVE_ROOM.queue(pipe, keys, [conn_id])
        pipe.add(held, "SREM", held, f"{room}|{conn_id}")
        pipe.add(rooms, "ZADD", rooms, "XX", now_ms(), room)
        replies = pipe.execute()
        result = LEAVE_ROOM.settle(self.redis, replies[0], keys, [conn_id])
        if result[0] == -1:
            return LeaveResult(present=False, left=None, users=[])
        left = result[1].decode() if result[0] == 1 and result[1] else None
        return LeaveResult(present=True, left=left, users=_present(result[2]))

    def reserve_names(self, identities: list[str]) -> None:
        """Mirror registered accounts' names into Redis, where joins check them."""
        for start in range(0, len(identities), 1000):
            self.redis.sadd(self.keys.reserved_names, *identities[start : start + 1000])

    def update_person(self, room: str, identity: str, shown: PresentUser) -> bool:
        """A present account's new display name and colour in a room's online list;
        False when it is not (or no longer) present there."""
        keys, args = [self.keys.room(room, "users")], [identity, shown.display_name, shown.color]
        return bool(UPDATE_PERSON(self.redis, keys, args))

    # -- files ---------------------------------------------------------------------------

    def reserve_upload_bytes(self, room: str, size: int, quota: int) -> bool:
        """Count `size` more bytes against the room's quota; False (nothing counted) when
        it would go past it. A quota of 0 counts without limit."""
        key = self.keys.room(room, "upbytes")
        total = int(self.redis.incrby(key, size))
        self.redis.expire(key, self.settings.message_ttl_seconds)
        if quota and total > quota:
            self.redis.decrby(key, size)
            return False
        return True

    def release_upload_bytes(self, room: str, size: int) -> None:
        self.redis.decrby(self.keys.room(room, "upbytes"), size)

    def offer_upload(self, room: str, file_id: str, author: str, entry: str, ttl: int) -> None:
        """An upload waits for its message: send_message may attach it (store_message.lua)
        if the same author names it in this room before `ttl` seconds."""
        key = self.keys.room(room, "uploads")
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key, file_id, f"{author}|{entry}")
        pipe.expire(key, ttl)
        pipe.execute()

    def room_gate(self, room: str, ban_subjects: list[str], now: int, ask_if_new: bool) -> RoomGate:
        """What a join of a public room reads before taking a name there, in one round
        trip (the room's keys share a slot, so one node answers on a cluster): a ban on
        any of `ban_subjects`, the room's settings, and, when asked, whether nobody is
        in the room and it has never kept a message (the join then creates it)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hmget(self.keys.room(room, "bans"), ban_subjects)
        pipe.hgetall(self.keys.room(room, "settings"))
        if ask_if_new:
            pipe.exists(self.keys.room(room, "seq"))
            pipe.hlen(self.keys.room(room, "users"))
        bans, settings, *emptiness = pipe.execute()
        return RoomGate(
            ban_until=_latest_ban_end(bans, now),
            rules={k.decode(): v.decode() for k, v in settings.items()},
            is_new=bool(emptiness) and not any(emptiness),
        )

    def upload_waiting(self, room: str, file_id: str) -> bool:
        """The upload still waits for its message (its offer has not expired)."""
        return bool(self.redis.hexists(self.keys.room(room, "uploads"), file_id))

    def message_kept(self, room: str, seq: int) -> bool:
        """The message is in the kept history and not deleted."""
        found = self.redis.zrange(self.keys.room(room, "messages"), seq, seq, byscore=True)
        return bool(found) and b'"deleted":true' not in found[0]

    def kept_message(self, room: str, seq: int) -> dict[str, Any] | None:
        """The message as clients see it, if it is kept and not deleted."""
        found = self.redis.zrange(self.keys.room(room, "messages"), seq, seq, byscore=True)
        if not found or b'"deleted":true' in found[0]:
            return None
        return public_message(orjson.loads(found[0]))

    def forget_file(self, room: str, file_id: str) -> None:
        self.redis.hdel(self.keys.room(room, "files"), file_id)

    def file_message(self, room: str, file_id: str) -> int | None:
        """The seq of the message that shares a file; None when none (any more) does."""
        seq = self.redis.hget(self.keys.room(room, "files"), file_id)
        return int(seq) if seq is not None else None

    def room_rules(self, room: str) -> dict[str, str]:
        """The room's settings (empty for the many rooms without any)."""
        raw = self.redis.hgetall(self.keys.room(room, "settings"))
        return {k.decode(): v.decode() for k, v in raw.items()}

    def set_room_rules(self, room: str, rules: dict[str, str]) -> None:
        key = self.keys.room(room, "settings")
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(key)
        if rules:
            pipe.hset(key, mapping=rules)
        pipe.execute()

    def silence(self, room: str, author: str, code: str, until_ms: int | None) -> None:
        """The message script refuses `author`'s messages with `code` until `until_ms`
        (None: until lifted)."""
        key = self.keys.room(room, "silenced")
        value = code if until_ms is None else f"{code}|{until_ms}"
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key, author, value)
        pipe.expire(key, self.settings.message_ttl_seconds)
        pipe.execute()

    def unsilence(self, room: str, author: str) -> None:
        self.redis.hdel(self.keys.room(room, "silenced"), author)

    def ban(self, room: str, subjects: list[str], until_ms: int | None, ban_id: int) -> None:
        """Refuse joins by these subjects (`u:<account id>`, `k:<client key hash>`,
        `a:<address>`) until `until_ms` (None: for good)."""
        key = self.keys.room(room, "bans")
        ttl_before = self.redis.ttl(key)  # -2: no hash yet, -1: it holds bans for good
        pipe = self.redis.pipeline(transaction=True)
        for subject in subjects:
            pipe.hset(key, subject, f"{until_ms or 0}|{ban_id}")
        # The hash lives as long as its longest ban.
        if until_ms is None:
            pipe.persist(key)
        elif ttl_before == -2:
            pipe.expireat(key, until_ms // 1000 + 1)
        elif ttl_before != -1:
            pipe.expireat(key, until_ms // 1000 + 1, gt=True)
        pipe.execute()

    def unban(self, room: str, ban_id: int) -> None:
        key = self.keys.room(room, "bans")
        suffix = f"|{ban_id}".encode()
        stale = [s for s, v in self.redis.hgetall(key).items() if v.endswith(suffix)]
        if stale:
            self.redis.hdel(key, *stale)

    def present_key_hash(self, room: str, identity: str) -> str | None:
        """The client key hash of the person present under this name identity."""
        raw = self.redis.hget(self.keys.room(room, "users"), identity)
        if raw is None:
            return None
        return str(orjson.loads(raw).get("k", "")) or None

    def set_silenced(self, room: str, silenced: dict[str, str]) -> None:
        """Who may not write in a room, and why (author token -> error code); the message
        script refuses them. Replaces the whole set: the caller holds the truth (the
        database's blocks), Redis only its working copy."""
        key = self.keys.room(room, "silenced")
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(key)
        if silenced:
            pipe.hset(key, mapping=silenced)
            pipe.expire(key, self.settings.message_ttl_seconds)
        pipe.execute()

    def room_usernames(self, room: str) -> list[str]:
        return _usernames(self.redis.hvals(self.keys.room(room, "users")))

    def room_users(self, room: str) -> list[PresentUser]:
        """Everyone present in a room, as the online list shows them."""
        return _present(self.redis.hvals(self.keys.room(room, "users")))

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
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(self.keys.workers, {worker: now_ms()})  # 0: it was registered already
        pipe.expire(self.keys.workers, ttl)
        pipe.expire(self.keys.worker_conns(worker), ttl)
        pipe.set(self.keys.worker_info(worker), orjson.dumps(info), ex=info_ttl)
        added, *_ = pipe.execute()
        return int(added) == 0

    def live_workers(self) -> list[dict[str, Any]]:
        """The info each live worker wrote with its last heartbeat."""
        workers = [w.decode() for w in self.redis.zrange(self.keys.workers, 0, -1)]
        if not workers:
            return []
        return [orjson.loads(item) for item in self._worker_infos(workers) if item]

    def _worker_infos(self, workers: list[str]) -> list[bytes | None]:
        """Each worker's info key, in order (None: expired). Each worker's keys are in a
        slot of their own: on a cluster a plain MGET of two workers is refused
        (CROSSSLOT), so redis-py splits it per slot there."""
        info_keys = [self.keys.worker_info(w) for w in workers]
        if isinstance(self.redis, RedisCluster):
            return list(self.redis.mget_nonatomic(info_keys))
        return list(self.redis.mget(info_keys))

    def dead_workers(self, dead_after_seconds: float) -> list[str]:
        cutoff = now_ms() - int(dead_after_seconds * 1000)
        return [w.decode() for w in self.redis.zrangebyscore(self.keys.workers, "-inf", cutoff)]

    def purge_worker(self, worker: str, force: bool = False) -> list[tuple[str, str | None]]:
        """Remove a dead worker's connections, once: whoever takes it out of the registry
        does it (`force`: its set alone is enough, for a worker no longer registered at
        all). [(room, username-that-left or None)] per connection removed."""
        held = self.keys.worker_conns(worker)
        registered = self.redis.zrem(self.keys.workers, worker) == 1
        if not registered and not (force and self.redis.exists(held)):
            return []
        by_room: dict[str, list[str]] = {}
        for entry in self.redis.smembers(held):
            room, _, conn = entry.decode().partition("|")
            by_room.setdefault(room, []).append(conn)
        rooms = sorted(by_room)
        calls = [(self._presence_keys(room, with_typing=True), by_room[room]) for room in rooms]
        pairs: list[tuple[str, str | None]] = []
        for room, result in zip(rooms, DROP_CONNS.run_many(self.redis, calls), strict=True):
            if isinstance(result, Exception):
                raise result
            pairs.extend((room, name.decode() or None) for name in result)
        self.redis.delete(held)
        return pairs

    def _presence_keys(self, room: str, with_typing: bool = False) -> list[str]:
        parts = (
            ("conns", "users", "nconn", "typing") if with_typing else ("conns", "users", "nconn")
        )
        return [self.keys.room(room, part) for part in parts]

    def unregister_worker(self, worker: str) -> None:
        self.redis.zrem(self.keys.workers, worker)

    # -- rooms and stats -----------------------------------------------------------------

    def active_rooms(self, limit: int) -> list[dict[str, Any]]:
        """Public rooms with activity within room retention, busiest first."""
        cutoff = now_ms() - self.settings.room_ttl_seconds * 1000
        entries = self.redis.zrangebyscore(
            self.keys.rooms, cutoff, "+inf", withscores=True, start=0, num=10_000
        )
        # Private conversations are nobody else's business: never listed.
        entries = [entry for entry in entries if not is_private_room(entry[0].decode())]
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
        return redis_info_fields(self.redis.info(), int(self.redis.dbsize()))

    # -- cleanup (the RQ job; bounded: SCAN and ZSCAN with a cursor, never KEYS) ----------

    def registered_workers(self) -> dict[str, int]:
        """Every worker in the registry -> its last heartbeat (ms), stale ones included."""
        entries = self.redis.zrange(self.keys.workers, 0, -1, withscores=True)
        return {name.decode(): int(score) for name, score in entries}

    def workers_with_info(self, workers: list[str]) -> set[str]:
        """The workers whose info key still exists: they beat within a few heartbeats."""
        if not workers:
            return set()
        raw = self._worker_infos(workers)
        return {w for w, item in zip(workers, raw, strict=True) if item}

    def scan_keys(self, cursor: int, pattern: str, count: int) -> tuple[int, list[str]]:
        """One SCAN step: the next cursor (0 when the walk is complete) and its keys. On a
        cluster the walk goes primary by primary; the cursor carries which one (its low
        bits) and that node's own cursor."""
        if not isinstance(self.redis, RedisCluster):
            next_cursor, keys = self.redis.scan(cursor=cursor, match=pattern, count=count)
            return int(next_cursor), [k.decode() for k in keys]
        primaries = sorted(self.redis.get_primaries(), key=lambda node: node.name)
        index, node_cursor = cursor % CLUSTER_SCAN_NODES, cursor // CLUSTER_SCAN_NODES
        if index >= len(primaries):
            return 0, []
        node = primaries[index].redis_connection
        next_node_cursor, keys = node.scan(cursor=node_cursor, match=pattern, count=count)
        if int(next_node_cursor):
            return int(next_node_cursor) * CLUSTER_SCAN_NODES + index, [k.decode() for k in keys]
        following = index + 1 if index + 1 < len(primaries) else 0
        return following, [k.decode() for k in keys]

    def scan_room_index(self, cursor: int, count: int) -> tuple[int, list[str]]:
        """One ZSCAN step over the rooms index."""
        next_cursor, entries = self.redis.zscan(self.keys.rooms, cursor=cursor, count=count)
        return int(next_cursor), [name.decode() for name, _ in entries]

    def retention_for(self, key: str) -> int | None:
        """The TTL a key of ours should carry; None for the few keys kept on purpose."""
        keys = self.keys
        if key in (keys.stats, keys.reserved_names, keys.layout):
            return None
        if key == keys.rooms:
            return self.settings.room_ttl_seconds
        if key == keys.workers or keys.parse_worker_conns_key(key) is not None:
            return self.settings.user_ttl_seconds
        parsed = keys.parse_room_key(key)
        if parsed is not None:
            part = parsed[1]
            if part in ROOM_PARTS_USER_TTL:
                return self.settings.user_ttl_seconds
            if part == "typing":
                return TYPING_TTL_SECONDS
            if part in ("bans", "settings"):
                # A ban lasts its own time (set when written), or for good; settings stay
                # while the room has them (the database holds both).
                return None
            return self.settings.message_ttl_seconds
        if key.startswith(f"{keys.prefix}:jobs:"):
            return JOB_STATE_TTL_SECONDS
        # Anything else under our prefix (an older layout, a stray write): the longest
        # retention we promise, so nothing of ours lives forever.
        return self.settings.message_ttl_seconds

    def expire_keys_without_ttl(self, keys: list[str]) -> int:
        """Give a TTL to the keys that have none (TTL -1); returns how many were fixed."""
        if not keys:
            return 0
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.ttl(key)
        ttls = pipe.execute()
        fixes = [
            (key, ttl)
            for key, current in zip(keys, ttls, strict=True)
            if current == -1 and (ttl := self.retention_for(key)) is not None
        ]
        if fixes:
            pipe = self.redis.pipeline(transaction=False)
            for key, ttl in fixes:
                # NX: a key that got a TTL meanwhile keeps it.
                pipe.expire(key, ttl, nx=True)
            pipe.execute()
        return len(fixes)

    def sweep_room(self, room: str) -> SweepResult:
        """Drop a room's ghost connections and, when empty or expired, its index entry.

        A connection is live when a registered worker's set holds "room|conn". The room's
        connections are read before the workers: a join writes its worker's set before
        the room (Store.join), so whatever is read here as present is held already.
        """
        keys = self.keys
        cutoff = now_ms() - self.settings.room_ttl_seconds * 1000
        conns = [c.decode() for c in self.redis.hkeys(keys.room(room, "conns"))]
        ghosts = conns
        if conns:
            workers = [w.decode() for w in self.redis.zrange(keys.workers, 0, -1)]
            entries = [f"{room}|{conn}" for conn in conns]
            held = [False] * len(conns)
            pipe = ShardPipeline(self.redis)  # every worker's set in one round trip
            chunks = [
                (worker, first) for worker in workers for first in range(0, len(entries), 1000)
            ]
            for worker, first in chunks:
                key = keys.worker_conns(worker)
                pipe.add(key, "SMISMEMBER", key, *entries[first : first + 1000])
            for (_worker, first), found in zip(chunks, pipe.execute(), strict=True):
                if isinstance(found, Exception):
                    raise found
                for offset, present in enumerate(found):
                    held[first + offset] = held[first + offset] or bool(present)
            ghosts = [conn for conn, live in zip(conns, held, strict=True) if not live]
        result = SWEEP_ROOM(
            self.redis,
            [
                keys.room(room, "conns"),
                keys.room(room, "users"),
                keys.room(room, "nconn"),
                keys.room(room, "typing"),
                keys.room(room, "messages"),
            ],
            ghosts,
        )
        unindexed = False
        score = self.redis.zscore(keys.rooms, room)
        if score is not None and (result[1] == 1 or score < cutoff):
            unindexed = UNINDEX_ROOM(self.redis, [keys.rooms], [room, int(score)]) == 1
        return SweepResult(
            connections_removed=int(result[0]),
            unindexed=unindexed,
            left=[name.decode() for name in result[2:]],
        )

    # -- job bookkeeping -----------------------------------------------------------------

    def job_state(self, job: str) -> dict[str, str]:
        raw = self.redis.hgetall(self.keys.job_state(job))
        return {k.decode(): v.decode() for k, v in raw.items()}

    def record_job(self, job: str, increments: dict[str, float], fields: dict[str, Any]) -> None:
        """Add to a job's counters and set its last-run fields, in one round trip."""
        key = self.keys.job_state(job)
        pipe = self.redis.pipeline(transaction=True)
        for name, amount in increments.items():
            if isinstance(amount, int):
                pipe.hincrby(key, name, amount)
            else:
                pipe.hincrbyfloat(key, name, amount)
        if fields:
            pipe.hset(key, mapping={k: str(v) for k, v in fields.items()})
        pipe.expire(key, JOB_STATE_TTL_SECONDS)
        pipe.execute()

    def claim_job_slot(self, job: str, owner: str, slot_ms: int) -> tuple[bool, int]:
        """Claim the next run of a periodic job for `slot_ms`; (claimed, ms until free).

        Whoever claims enqueues; every other scheduler learns when to try again. The
        claim expires by itself, so a scheduler that dies never blocks the next run.
        """
        key = self.keys.job_slot(job)
        if self.redis.set(key, owner, nx=True, px=slot_ms):
            return True, slot_ms
        remaining = int(self.redis.pttl(key))
        return False, max(remaining, 0)

    def release_job_slot(self, job: str, owner: str) -> None:
        """Give a claimed slot back (the enqueue failed), only if it is still ours."""
        key = self.keys.job_slot(job)
        current = self.redis.get(key)
        if current is not None and current.decode() == owner:
            self.redis.delete(key)

    def job_lock(self, job: str, timeout: float) -> Any:
        """A lock held while one run of `job` is in progress (redis-py's token lock)."""
        return self.redis.lock(self.keys.job_lock(job), timeout=timeout, blocking=False)

    def count_attempt(self, key: str, window_seconds: float) -> tuple[int, int]:
        """Count one attempt in a fixed window that starts with the first: (count, seconds
        until the window ends)."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, max(1, math.ceil(window_seconds)), nx=True)
        pipe.ttl(key)
        count, _set, ttl = pipe.execute()
        return int(count), max(1, int(ttl))

    def ping_ms(self) -> float:
        started = time.perf_counter()
        self.redis.ping()
        return (time.perf_counter() - started) * 1000


def iso_from_ms(ms: int) -> str:
    """Milliseconds since the epoch -> ISO 8601 UTC with milliseconds and 'Z'."""
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"
