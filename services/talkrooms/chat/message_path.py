"""The hot loop: receive -> validate -> store -> fan-out -> ack, for `send_message`.

Everything a chat message costs on the server happens in this module, so its cost can be
measured and changed in one place (BENCHMARKS.md). The moves, measured in shared/NOTES.md:

- The event is taken straight from python-socketio's packet dispatch: no Flask request
  context, no greenlet per event (the service runs with `async_handlers=False`), and a
  sender's messages keep their order.
- Group commit: every message received during one turn of the gevent loop is stored in
  one Redis pipeline by a single flusher, one batch at a time (so a sender's order is kept
  across batches); each message still gets its own ack or its own error.
- One Lua call per message stores it (id, dedup by client_id, cap, TTLs) and publishes it
  to the other workers as a pre-encoded Socket.IO packet (realtime/broadcast.py); the local sockets
  get the same bytes straight from here. The JSON of a message is built once, here.
- The ack goes out only after Redis confirmed the store; the broadcast can never run ahead
  of the store because Redis itself publishes it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import orjson
from redis.exceptions import RedisError

from talkrooms.chat.acks import error_packet, ok_packet
from talkrooms.chat.group_commit import GroupCommit
from talkrooms.protocol import (
    AUTO_MODERATED,
    BANNED,
    BLOCKED,
    FORBIDDEN,
    MUTED,
    NOT_FOUND,
    NOT_IN_ROOM,
    POSTING_CLOSED,
    RATE_LIMITED,
    SEND_MESSAGE,
    SLOW_MODE,
    UNAVAILABLE,
    ProtocolError,
    format_message_id,
    mention_candidates,
    optional_room,
    require_object,
    target_message,
    validate_client_id,
    validate_file_ids,
    validate_message_text,
)
from talkrooms.realtime.broadcast import TalkroomsRedisManager
from talkrooms.realtime.connections import Connection, ConnectionRegistry, Membership
from talkrooms.settings import Settings
from talkrooms.storage.shard_pipeline import NotReplicated
from talkrooms.storage.store import STORE_MESSAGE, Store, public_message
from talkrooms.telemetry import metrics

log = logging.getLogger("talkrooms.messages")

UNAVAILABLE_ERROR = "Messages cannot be stored right now; retry with the same client_id"
REPLY_NOT_FOUND = "reply_to names no message kept in this room"
POSTING_CLOSED_TEXT = "Only some people may post in this room (its settings)"
FILE_NOT_FOUND = "A file of this message is not an upload of yours waiting in this room"
# Why an author may not write in a room (the value of its `silenced` hash) -> the error.
SILENCED: dict[str, tuple[str, str]] = {
    "blocked": (BLOCKED, "This person does not accept messages from you"),
    "you_blocked": (BLOCKED, "You blocked this person: unblock them to write"),
    "muted": (MUTED, "A moderator muted you in this room for now"),
    "banned": (BANNED, "A moderator banned you from this room"),
}


class Verdict(NamedTuple):
    """What automatic moderation decided about a message (moderation/automod.py)."""

    rule: str
    action: str  # refuse | hold | mute
    reason: str


class Flagged(NamedTuple):
    """A message automatic moderation acted on, for what follows (audit, review, mute)."""

    room: str
    username: str
    author: str
    account_id: int | None
    key_hash: str
    text: str
    address: str
    verdict: Verdict
    # The author's client_id: an approved held message keeps it, so the author's client
    # merges it with the copy it holds.
    client_id: str | None = None


# Answers the author of a flagged message: (code, text).
Answer = Callable[[str, str], None]


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def iso_now(now: float) -> str:
    """ISO 8601 UTC with milliseconds, e.g. 2026-11-25T14:03:07.412Z."""
    millis = int(now * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{millis:03d}Z"


def joined_membership(connection: Connection, data: dict[str, Any]) -> Membership:
    """The room an event is for: named (protocol 2), else the connection's only room."""
    room = optional_room(data) if connection.protocol >= 2 else None
    membership = connection.membership(room)
    if membership is None:
        if room is None and len(connection.rooms) > 1:
            raise ProtocolError("Name the room: this connection is in several", NOT_IN_ROOM)
        raise ProtocolError("Join a room before sending messages", NOT_IN_ROOM)
    return membership


class Pending:
    """One validated message waiting for the next pipeline."""

    __slots__ = (
        "ack_id",
        "author",
        "client_id",
        "connection",
        "files",
        "mentions",
        "private",
        "received",
        "reply_to",
        "room",
        "slow_ms",
        "tail",
    )

    def __init__(
        self,
        connection: Connection,
        ack_id: int | None,
        room: str,
        client_id: str | None,
        tail: str,
        received: float,
        private: str,
        reply_to: int | None,
        mentions: str,
        author: str,
        files: str = "",
        slow_ms: int = 0,
    ) -> None:
        self.connection = connection
        self.ack_id = ack_id
        self.room = room
        self.client_id = client_id
        self.tail = tail
        self.received = received
        self.private = private
        self.reply_to = reply_to
        self.mentions = mentions
        self.author = author
        self.files = files
        self.slow_ms = slow_ms


class MessagePath:
    """Owns send_message from the socket to the ack."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        connections: ConnectionRegistry,
        manager: TalkroomsRedisManager,
        send_eio_packet: Callable[[str, Any], None],
    ) -> None:
        self.settings = settings
        self.store = store
        self.connections = connections
        self.manager = manager
        self.send_eio_packet = send_eio_packet
        self.max_length = settings.message_max_length
        self.files_per_message = settings.files_per_message
        self.rate = settings.message_rate
        self.commits: GroupCommit[Pending] = GroupCommit(self._flush)
        # Automatic moderation (moderation/automod.py): (membership, text, mentions) ->
        # a Verdict or None; and what follows a verdict (audit, review queue, mute), which
        # answers the author itself when given the answer (hold). None: no moderation.
        self.automod: Callable[[Membership, str, int], Verdict | None] | None = None
        self.on_flagged: Callable[[Flagged, Answer | None], None] | None = None
        # Told of every stored message (room, its JSON, it names someone, its author
        # token): notifications pick the few that may notify, off this path.
        self.on_stored: Callable[[str, str, bool, str], None] | None = None

    # -- receive + validate (runs in the socket's reader greenlet) ------------------------

    def receive(self, eio_sid: str, ack_id: int | None, payload: Any) -> None:
        """Validate one send_message and queue it for the next batch."""
        received = time.perf_counter()
        metrics.MESSAGES_RECEIVED.inc()
        connection = self.connections.by_eio_sid.get(eio_sid)
        if connection is None:
            return
        try:
            data = require_object(payload, SEND_MESSAGE)
            membership = joined_membership(connection, data)
            if not membership.may_post:
                raise ProtocolError(POSTING_CLOSED_TEXT, POSTING_CLOSED)
            files = None
            if data.get("files") is not None:
                files = validate_file_ids(data["files"], self.files_per_message)
                if not membership.author:
                    raise ProtocolError("Join with a client_key to share files", FORBIDDEN)
            text = validate_message_text(data.get("message"), self.max_length, bool(files))
            client_id = validate_client_id(data.get("client_id"))
            reply_to = None
            if connection.protocol >= 2 and data.get("reply_to") is not None:
                reply_to = target_message(data, "reply_to")
            if not connection.message_bucket.take():
                metrics.RATE_LIMIT_HITS.labels(kind="message").inc()
                raise ProtocolError(f"Too many messages: {self.rate.describe()}", RATE_LIMITED)
        except ProtocolError as error:
            metrics.MESSAGES_REJECTED.labels(reason=error.code).inc()
            log.info(
                "send_message refused",
                extra={"sid": connection.sid, "code": error.code, "error": str(error)},
            )
            self._answer_error(connection, ack_id, error.code, str(error))
            return
        room = membership.room
        candidates = mention_candidates(text)
        if membership.automod is not None and self.automod is not None:
            verdict = self.automod(membership, text, len(candidates))
            if verdict is not None:
                self._flagged(connection, membership, ack_id, verdict, text, bool(files), client_id)
                return
        now = time.time()
        tail = self._message_tail(membership.username, text, room, client_id, now)
        private = f',"_a":"{membership.author}","_t":{int(now * 1000)}'
        mentions = _dumps([list(pair) for pair in candidates]) if candidates else ""
        self.commits.add(
            Pending(
                connection,
                ack_id,
                room,
                client_id,
                tail,
                received,
                private,
                reply_to,
                mentions,
                membership.author,
                _dumps(files) if files else "",
                membership.slow_ms,
            )
        )

    def _flagged(
        self,
        connection: Connection,
        membership: Membership,
        ack_id: int | None,
        verdict: Verdict,
        text: str,
        has_files: bool,
        client_id: str | None = None,
    ) -> None:
        """A rule fired: refuse now, or mute now, or hand the message to the review queue
        (which answers once it is safely kept)."""
        if verdict.action == "hold" and has_files:
            # Files wait for their message only so long: held, they would expire unseen.
            verdict = verdict._replace(action="refuse")
        metrics.AUTOMOD_ACTIONS.labels(rule=verdict.rule, action=verdict.action).inc()
        account = connection.account
        flagged = Flagged(
            membership.room,
            membership.username,
            membership.author,
            account.account_id if account is not None else None,
            membership.key_hash,
            text,
            connection.address,
            verdict,
            client_id,
        )

        def answer(code: str, error: str) -> None:
            metrics.MESSAGES_REJECTED.labels(reason=code).inc()
            self._answer_error(connection, ack_id, code, error)

        if verdict.action == "hold" and self.on_flagged is not None:
            self.on_flagged(flagged, answer)
            return
        if verdict.action == "mute":
            answer(MUTED, f"{verdict.reason}. Automatic moderation muted you here for a while")
        else:
            answer(AUTO_MODERATED, verdict.reason)
        if self.on_flagged is not None:
            self.on_flagged(flagged, None)

    def publish(
        self, room: str, username: str, author: str, text: str, client_id: str | None = None
    ) -> dict[str, Any]:
        """Store and deliver a message outside the hot loop (a held message a moderator
        approved): the same Lua call, so the author's sanctions still hold. Raises
        ProtocolError when it is refused."""
        now = time.time()
        tail = self._message_tail(username, text, room, client_id, now)
        private = f',"_a":"{author}","_t":{int(now * 1000)}'
        candidates = mention_candidates(text)
        mentions = _dumps([list(pair) for pair in candidates]) if candidates else ""
        call = self.store.store_message_call(
            room,
            tail,
            client_id,
            self.manager.channel_for(room),
            self.manager.fast_frame_prefix(f"room:{room}"),
            private,
            None,
            mentions,
            author,
            "",
            0,
        )
        (result,) = STORE_MESSAGE.run_many(self.store.redis, [call], self.store.durability)
        if isinstance(result, Exception):
            raise result
        if result[0] == -2:
            code, error = SILENCED.get(result[1].decode(), (FORBIDDEN, "You may not write here"))
            raise ProtocolError(error, code)
        if result[0] == 0:  # its client_id is stored already: approved twice, keep one
            return {"id": format_message_id(int(result[2])), "duplicate": True}
        if result[0] != 1:
            raise ProtocolError("The message could not be stored", UNAVAILABLE)
        message = result[1].decode()
        delivered = self.manager.deliver_local(f"room:{room}", f'2["new_message",{message}]')
        self.store.activity.note(room, int(now * 1000), "messages_stored")
        metrics.MESSAGES_STORED.inc()
        metrics.DELIVERIES_LOCAL.inc(delivered)
        parsed: dict[str, Any] = orjson.loads(message)
        return parsed

    @staticmethod
    def _message_tail(
        username: str, text: str, room: str, client_id: str | None, now: float
    ) -> str:
        """The message JSON after its id, open: the store script adds '{"id":"<seq>' before
        it, and the reply and mention fields, the private fields and the brace after it."""
        tail = (
            f'","username":{_dumps(username)},"message":{_dumps(text)},'
            f'"timestamp":"{iso_now(now)}","room":"{room}","type":"message"'
        )
        if client_id is not None:
            tail += f',"client_id":"{client_id}"'
        return tail

    # -- store + fan-out + ack (runs in the single flusher greenlet) -----------------------

    def _flush(self, batch: list[Pending]) -> None:
        metrics.BATCH_SIZE.observe(len(batch))
        try:
            results = self._store(batch)
        except RedisError as exc:
            metrics.REDIS_ERRORS.labels(operation="store_message").inc()
            log.error("storing a batch failed", extra={"batch": len(batch), "error": str(exc)})
            for item in batch:
                metrics.MESSAGES_REJECTED.labels(reason=UNAVAILABLE).inc()
                self._answer_error(item.connection, item.ack_id, UNAVAILABLE, UNAVAILABLE_ERROR)
            return
        for item, result in zip(batch, results, strict=True):
            self._deliver(item, result)
        self.store.activity.flush_due()

    def _store(self, batch: list[Pending]) -> list[Any]:
        """One pipeline of EVALSHA store_message calls, one per message."""
        started = time.perf_counter()
        channel_for = self.manager.channel_for
        calls = [
            self.store.store_message_call(
                item.room,
                item.tail,
                item.client_id,
                channel_for(item.room),
                self.manager.fast_frame_prefix(f"room:{item.room}"),
                item.private,
                item.reply_to,
                item.mentions,
                item.author,
                item.files,
                item.slow_ms,
            )
            for item in batch
        ]
        results = STORE_MESSAGE.run_many(self.store.redis, calls, self.store.durability)
        metrics.REDIS_LATENCY.labels(operation="store_message").observe(
            time.perf_counter() - started
        )
        return results

    def _deliver(self, item: Pending, result: Any) -> None:
        connection = item.connection
        if isinstance(result, NotReplicated) and result.result and result.result[0] == 1:
            # Stored and published, not yet on a replica: this worker's sockets see it
            # like the others' did; the sender is told to send again (its retry finds the
            # client_id and is acknowledged then).
            self.manager.deliver_local(
                f"room:{item.room}", f'2["new_message",{result.result[1].decode()}]'
            )
        if isinstance(result, Exception):
            metrics.REDIS_ERRORS.labels(operation="store_message").inc()
            metrics.MESSAGES_REJECTED.labels(reason=UNAVAILABLE).inc()
            log.error("storing a message failed", extra={"error": str(result)})
            self._answer_error(connection, item.ack_id, UNAVAILABLE, UNAVAILABLE_ERROR)
            return
        if result[0] == -1:
            metrics.MESSAGES_REJECTED.labels(reason=NOT_FOUND).inc()
            self._answer_error(connection, item.ack_id, NOT_FOUND, REPLY_NOT_FOUND)
            return
        if result[0] == -4:
            metrics.MESSAGES_REJECTED.labels(reason=SLOW_MODE).inc()
            wait = max(1, -(-int(result[1]) // 1000))
            text = f"Slow mode: wait {wait} s before your next message here"
            self._answer_error(connection, item.ack_id, SLOW_MODE, text)
            return
        if result[0] == -3:
            metrics.MESSAGES_REJECTED.labels(reason=NOT_FOUND).inc()
            self._answer_error(connection, item.ack_id, NOT_FOUND, FILE_NOT_FOUND)
            return
        if result[0] == -2:
            code, text = SILENCED.get(result[1].decode(), (FORBIDDEN, "You may not write here"))
            metrics.MESSAGES_REJECTED.labels(reason=code).inc()
            self._answer_error(connection, item.ack_id, code, text)
            return
        stored, message = result[0] == 1, result[1].decode()
        if stored:
            delivered = self.manager.deliver_local(
                f"room:{item.room}", f'2["new_message",{message}]'
            )
            metrics.MESSAGES_STORED.inc()
            metrics.DELIVERIES_LOCAL.inc(delivered)
            self.store.activity.note(item.room, int(time.time() * 1000), "messages_stored")
            if self.on_stored is not None:
                self.on_stored(item.room, message, bool(item.mentions), item.author)
        elif not message:
            # A retry whose first copy has left the capped history: ack what we know.
            message = "{" + f'"id":"{format_message_id(int(result[2]))}' + item.tail + "}"
        else:
            # A retry: the stored copy, in its current state, without its private fields.
            message = _dumps(public_message(orjson.loads(message)))
        if item.ack_id is not None:
            self._send_ack(connection, item.ack_id, message, duplicate=not stored)
        metrics.ACK_LATENCY.observe(time.perf_counter() - item.received)
        if log.isEnabledFor(logging.INFO):
            log.info(
                "send_message",
                extra={
                    "sid": connection.sid,
                    "room": item.room,
                    "id": message[7:19],
                    "duplicate": not stored,
                },
            )

    # -- answers ---------------------------------------------------------------------------

    def _send_ack(self, connection: Connection, ack_id: int, message: str, duplicate: bool) -> None:
        flag = "true" if duplicate else "false"
        body = f'"duplicate":{flag},"message":{message}'
        self.send_eio_packet(connection.eio_sid, ok_packet(ack_id, body))

    def _answer_error(
        self, connection: Connection, ack_id: int | None, code: str, error: str
    ) -> None:
        self.send_eio_packet(connection.eio_sid, error_packet(ack_id, code, error))


def resync_local_rooms(manager: TalkroomsRedisManager, store: Store, history_limit: int) -> int:
    """After the queue listener reconnected: hand local sockets what they missed meanwhile.

    Pub/sub drops whatever is published while a subscriber is away; the messages are in
    Redis though. For every room with local sockets, everything after the last id this
    worker delivered is fetched and delivered (clients merge by id, so an overlap with a
    live delivery shows once). Returns the number of messages re-sent.
    """
    resent = 0
    for socket_room, last in list(manager.last_delivered.items()):
        if not manager.rooms.get("/", {}).get(socket_room):
            manager.forget_room(socket_room)
            continue
        room = socket_room.removeprefix("room:")
        try:
            messages, _ = store.history(room, None, last, history_limit)
        except RedisError as exc:
            log.error("resync after reconnect failed", extra={"room": room, "error": str(exc)})
            continue
        for message in messages:
            manager.deliver_local(socket_room, f'2["new_message",{_dumps(message)}]')
            resent += 1
    if resent:
        log.warning(
            "re-delivered messages missed while the queue was away", extra={"messages": resent}
        )
    return resent
