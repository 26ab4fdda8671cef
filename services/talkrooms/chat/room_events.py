"""Protocol 2's events on messages: edit, delete, react, and the read marker.

Like send_message (chat/message_path.py), these come straight from python-socketio's
packet dispatch, without a Flask request context, are stored by group commit (one pipeline
per turn of the gevent loop), and cost one Lua call each: the script
checks the right (only the author edits or deletes), changes the message, appends the event
to the room's log and publishes it to the other workers in the same atomic step. Local
sockets get the same bytes from here, and the ack leaves once Redis confirmed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from redis.exceptions import RedisError

from talkrooms.chat.acks import error_packet, ok_packet
from talkrooms.chat.group_commit import GroupCommit
from talkrooms.chat.message_path import iso_now, joined_membership
from talkrooms.chat.message_views import events_after
from talkrooms.protocol import (
    DELETE_MESSAGE,
    EDIT_MESSAGE,
    FORBIDDEN,
    MARK_READ,
    RATE_LIMITED,
    REACT,
    REACTIONS_PER_MESSAGE,
    READ_MARKER,
    UNAVAILABLE,
    ProtocolError,
    format_message_id,
    mention_candidates,
    require_object,
    target_message,
    validate_add_flag,
    validate_emoji,
    validate_message_text,
)
from talkrooms.realtime.broadcast import TalkroomsRedisManager
from talkrooms.realtime.connections import (
    Connection,
    ConnectionRegistry,
    Membership,
    log_room,
    reader_room,
)
from talkrooms.settings import Settings
from talkrooms.storage.room_log import EventOutcome, RoomLog
from talkrooms.storage.store import ROOM_EVENT
from talkrooms.telemetry import metrics

log = logging.getLogger("talkrooms.room_events")

EVENT_NAMES = frozenset({EDIT_MESSAGE, DELETE_MESSAGE, REACT, MARK_READ})
UNAVAILABLE_ERROR = "The chat store is unavailable right now; try again in a moment"
KIND_BY_EVENT = {EDIT_MESSAGE: "edit", DELETE_MESSAGE: "delete", REACT: "reaction"}
# Events re-sent per room after the queue listener reconnects (clients fetch the rest).
RESYNC_EVENTS = 1000


@dataclass(frozen=True)
class PendingEvent:
    """One validated event waiting for the next pipeline."""

    connection: Connection
    ack_id: int | None
    kind: str
    membership: Membership
    seq: int
    extra: list[Any]


class RoomEventPath:
    """Owns edit_message, delete_message, react and mark_read from the socket to the ack."""

    def __init__(
        self,
        settings: Settings,
        room_log: RoomLog,
        connections: ConnectionRegistry,
        manager: TalkroomsRedisManager,
        send_eio_packet: Callable[[str, Any], None],
    ) -> None:
        self.settings = settings
        self.room_log = room_log
        self.connections = connections
        self.manager = manager
        self.send_eio_packet = send_eio_packet
        self.commits: GroupCommit[PendingEvent] = GroupCommit(self._flush)

    def receive(self, eio_sid: str, ack_id: int | None, event: str, payload: Any) -> None:
        """Validate one event and queue it for the next batch; every refusal is answered."""
        connection = self.connections.by_eio_sid.get(eio_sid)
        if connection is None:
            return
        kind = KIND_BY_EVENT.get(event, "read")
        try:
            if connection.protocol < 2:
                raise ProtocolError(f"{event} needs protocol 2 (handshake auth {{protocol: 2}})")
            data = require_object(payload, event)
            membership = joined_membership(connection, data)
            seq = target_message(data)
            if event == MARK_READ:
                self._mark_read(connection, ack_id, membership, seq)
                return
            extra = self._arguments(event, data, membership)
            if not membership.author:
                raise ProtocolError("Join with a client_key to edit, delete or react", FORBIDDEN)
            if not connection.message_bucket.take():
                metrics.RATE_LIMIT_HITS.labels(kind="message").inc()
                raise ProtocolError(
                    f"Too many messages: {self.settings.message_rate.describe()}", RATE_LIMITED
                )
        except ProtocolError as error:
            self._refuse(connection, ack_id, kind, error.code, str(error))
            return
        except RedisError as exc:
            metrics.REDIS_ERRORS.labels(operation="room_event").inc()
            log.error("a read marker failed", extra={"sid": connection.sid, "error": str(exc)})
            self._refuse(connection, ack_id, kind, UNAVAILABLE, UNAVAILABLE_ERROR)
            return
        self.commits.add(PendingEvent(connection, ack_id, kind, membership, seq, extra))

    # -- apply + fan-out + ack (runs in the single flusher greenlet) -----------------------

    def _flush(self, batch: list[PendingEvent]) -> None:
        """One pipeline of room_event.lua calls, then each event's delivery and answer."""
        started = time.perf_counter()
        now = time.time()
        calls = [
            self.room_log.apply_call(
                item.membership.room,
                item.kind,
                item.seq,
                item.membership.author,
                int(now * 1000),
                iso_now(now),
                self.manager.channel_for(item.membership.room),
                self.manager.fast_frame_prefix(log_room(item.membership.room), "room_event"),
                item.extra,
            )
            for item in batch
        ]
        try:
            results = ROOM_EVENT.run_many(self.room_log.redis, calls, self.room_log.durability)
        except RedisError as exc:
            results = [exc] * len(batch)
        metrics.REDIS_LATENCY.labels(operation="room_event").observe(time.perf_counter() - started)
        for item, result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                metrics.REDIS_ERRORS.labels(operation="room_event").inc()
                log.error("storing an event failed", extra={"error": str(result)})
                self._refuse(
                    item.connection, item.ack_id, item.kind, UNAVAILABLE, UNAVAILABLE_ERROR
                )
                continue
            self._finish(item, self.room_log.outcome(result))

    def _finish(self, item: PendingEvent, outcome: EventOutcome) -> None:
        if outcome.refusal is not None:
            code, reason = outcome.refusal
            self._refuse(item.connection, item.ack_id, item.kind, code, reason)
            return
        applied = "applied" if outcome.event else "noop"
        metrics.ROOM_EVENTS.labels(kind=item.kind, outcome=applied).inc()
        if outcome.event is not None:
            self.room_log.activity.note(
                item.membership.room, int(time.time() * 1000), "events_stored"
            )
            delivered = self.manager.deliver_local(
                log_room(item.membership.room), f'2["room_event",{outcome.event}]'
            )
            metrics.DELIVERIES_LOCAL.inc(delivered)
        if item.ack_id is not None:
            body = f'"event":{outcome.event or "null"}'
            self.send_eio_packet(item.connection.eio_sid, ok_packet(item.ack_id, body))

    def remove_message(self, room: str, seq: int, actor: str) -> EventOutcome:
        """A moderator's deletion, from outside any socket (an HTTP request): applied at
        once, published to every worker, delivered to this worker's sockets. Everyone
        sees a `delete` event whose tombstone says `removed`."""
        now = time.time()
        keys, args = self.room_log.apply_call(
            room,
            "remove",
            seq,
            actor,
            int(now * 1000),
            iso_now(now),
            self.manager.channel_for(room),
            self.manager.fast_frame_prefix(log_room(room), "room_event"),
            [],
        )
        outcome = self.room_log.outcome(ROOM_EVENT(self.room_log.redis, keys, args))
        if outcome.event is not None:
            self.room_log.activity.note(room, int(now * 1000), "events_stored")
            metrics.ROOM_EVENTS.labels(kind="remove", outcome="applied").inc()
            self.manager.deliver_local(log_room(room), f'2["room_event",{outcome.event}]')
        return outcome

    def _arguments(self, event: str, data: dict[str, Any], membership: Membership) -> list[Any]:
        """The kind's own arguments of room_event.lua, validated."""
        if event == EDIT_MESSAGE:
            text = validate_message_text(data.get("message"), self.settings.message_max_length)
            candidates = mention_candidates(text)
            mentions = orjson.dumps([list(c) for c in candidates]).decode() if candidates else ""
            return [text, mentions, self.settings.edit_window_seconds * 1000]
        if event == REACT:
            emoji = validate_emoji(data.get("emoji"))
            add = validate_add_flag(data.get("add"))
            flag = "" if add is None else ("1" if add else "0")
            return [emoji, flag, membership.username, REACTIONS_PER_MESSAGE]
        return []

    def _mark_read(
        self, connection: Connection, ack_id: int | None, membership: Membership, seq: int
    ) -> None:
        if not membership.author:
            raise ProtocolError("Join with a client_key to keep a read marker", FORBIDDEN)
        read, moved = self.room_log.mark_read(membership.room, membership.author, seq)
        read_id = format_message_id(read)
        if moved:
            # The same person's other tabs and devices clear their unread count too.
            self.manager.emit(
                READ_MARKER,
                {"room": membership.room, "read_id": read_id},
                namespace="/",
                room=reader_room(membership.room, membership.author),
                skip_sid=connection.sid,
            )
        if ack_id is not None:
            body = f'"room":"{membership.room}","read_id":"{read_id}"'
            self.send_eio_packet(connection.eio_sid, ok_packet(ack_id, body))

    def _refuse(
        self, connection: Connection, ack_id: int | None, kind: str, code: str, error: str
    ) -> None:
        metrics.ROOM_EVENTS.labels(kind=kind, outcome=code).inc()
        log.info(
            "room event refused",
            extra={"sid": connection.sid, "kind": kind, "code": code, "error": error},
        )
        self.send_eio_packet(connection.eio_sid, error_packet(ack_id, code, error))


def resync_local_events(manager: TalkroomsRedisManager, room_log: RoomLog) -> int:
    """After the queue listener reconnected: hand local protocol 2 sockets missed events.

    The events counterpart of message_path.resync_local_rooms: from the last position this
    worker delivered in each log room (clients apply events idempotently, so an overlap
    with a live delivery is harmless).
    """
    resent = 0
    for socket_room, last in list(manager.last_event.items()):
        if not manager.rooms.get("/", {}).get(socket_room):
            manager.forget_room(socket_room)
            continue
        room = socket_room.removeprefix("log:")
        try:
            events, _, _ = events_after(room_log, room, last, None, set(), RESYNC_EVENTS)
        except RedisError as exc:
            log.error(
                "event resync after reconnect failed", extra={"room": room, "error": str(exc)}
            )
            continue
        for event in events:
            manager.deliver_local(socket_room, f'2["room_event",{orjson.dumps(event).decode()}]')
            resent += 1
    if resent:
        log.warning("re-delivered events missed while the queue was away", extra={"events": resent})
    return resent
