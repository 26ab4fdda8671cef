"""The Redis message queue between workers, with a fast lane for chat messages.

python-socketio's RedisManager publishes every emit as JSON on one channel, and every
worker decodes every publication — its own echo included — before looking at the
sender. That is a third of the CPU of a message on the plain stack (shared/NOTES.md).

This manager keeps the standard JSON frames for the rare events (joins, presence,
typing, the cleanup job's emits) and adds one frame for `new_message`:

    P|<host id>|<socket.io room>|<encoded Socket.IO packet>

The store_message Lua script publishes it in the same call that stores the message, so a
message is on the queue exactly when it is stored. Each room's traffic goes on the room's
own channel, which only workers with members there listen to (realtime/room_channels.py).
A receiving worker skips its own frames by comparing bytes, and hands the already-encoded
packet to its local sockets without decoding or encoding any JSON.

It relies on private parts of python-socketio 5.18 / python-engineio 4.15 (`_thread`,
`_handle_*`, `_send_eio_packet`); requirements.lock pins them and
tests/unit/test_library_contract.py fails loudly if an upgrade moves them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
import redis
import socketio
from engineio import packet as eio_packet

from talkrooms.realtime import direct_writes
from talkrooms.realtime.cluster_listener import ClusterListener
from talkrooms.realtime.connections import is_account_room, log_room, socket_room
from talkrooms.realtime.room_channels import RoomChannels
from talkrooms.realtime.subscriber import SingleListener
from talkrooms.storage.redis_clients import is_cluster_url, plain_client
from talkrooms.telemetry import metrics

log = logging.getLogger("talkrooms.realtime.broadcast")

FAST_FRAME = b"P|"
NEW_MESSAGE_PACKET = '2["new_message",{"id":"'
SEQ_START = len(NEW_MESSAGE_PACKET)
SEQ_END = SEQ_START + 12
ROOM_EVENT_PACKET = '2["room_event",{"id":"'
EVENT_START = len(ROOM_EVENT_PACKET)
EVENT_END = EVENT_START + 25
NAMESPACE = "/"
RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0)


class TalkroomsRedisManager(socketio.RedisManager):
    """RedisManager with byte-level echo skipping and pre-encoded message frames."""

    name = "talkrooms-redis"

    def __init__(
        self,
        url: str,
        channel: str,
        publish_client: redis.Redis | None = None,
        write_only: bool = False,
        json: Any = None,
        max_queued_packets: int = 1000,
        by_room: bool = True,
    ) -> None:
        super().__init__(url, channel=channel, write_only=write_only, json=json)
        self.room_channels = RoomChannels(channel, enabled=by_room)
        # On a Redis Cluster rooms' channels are sharded (SPUBLISH, SSUBSCRIBE per shard).
        self.sharded = is_cluster_url(url)
        self.publish_client = publish_client
        self._echo_prefix = b'{"host_id":"' + self.host_id.encode() + b'"'
        self._fast_echo_prefix = FAST_FRAME + self.host_id.encode() + b"|"
        self.on_resubscribe: Callable[[], object] | None = None
        self.max_queued_packets = max_queued_packets
        # Highest message id handed to local sockets, per room: where a resync restarts.
        self.last_delivered: dict[str, int] = {}
        # The same for protocol 2's log rooms: the last event position (seq, counter).
        self.last_event: dict[str, tuple[int, int]] = {}
        self.on_remote_message: Callable[[str, str], None] | None = None
        # Told of every emit to an account's room, and of every emit of a `control_events`
        # event, on every worker (the origin included): (event, socket.io room, payload).
        # The chat acts on them: a profile changed, a sanction to apply to its sockets.
        self.on_control_emit: Callable[[str, str, Any], None] | None = None
        self.control_events: frozenset[str] = frozenset()

    # -- publishing ----------------------------------------------------------------------

    def channel_for(self, room: str) -> str:
        """The pub/sub channel a chat room's traffic goes on."""
        return self.room_channels.channel_for(room)

    def follow(self, room: str) -> bool:
        """Receive a room's traffic from now on (before reading its history: see
        room_channels)."""
        return self.room_channels.follow(room)

    def unfollow_if_empty(self, room: str, leaving_sid: str) -> None:
        """Stop receiving a room's traffic if no local socket but `leaving_sid` (which may
        still be listed: python-socketio drops a disconnected socket from its rooms after
        the disconnect handler) is left in it."""
        local = self.rooms.get(NAMESPACE, {})
        for name in (socket_room(room), log_room(room)):
            if any(sid != leaving_sid for sid in local.get(name, ())):
                return
        self.room_channels.unfollow(room)

    def fast_frame_prefix(self, socket_room: str, event: str = "new_message") -> str:
        """What a script writes before the message (or event) JSON (see module docstring)."""
        return f'P|{self.host_id}|{socket_room}|2["{event}",'

    def _redis_connect(self) -> None:
        """Publishing uses the app's blocking pool (timeouts); the listener its own socket."""
        if self.publish_client is None:
            self.publish_client = plain_client(
                self.redis_url, socket_timeout=5, socket_connect_timeout=2
            )
        self.redis = self.publish_client
        self.connected = True

    def _publish(self, data: dict[str, Any]) -> Any:
        """JSON frames with host_id first, so receivers can drop their own echo by bytes."""
        if data.get("method") == "callback":
            body = orjson.dumps(data)
        else:
            fields = {"host_id": data.get("host_id", self.host_id)}
            fields.update((k, v) for k, v in data.items() if k != "host_id")
            body = orjson.dumps(fields)
        channel = self.channel
        room = data.get("room")
        if (
            data.get("method") == "emit"
            and isinstance(room, str)
            and data.get("event") not in self.control_events
        ):
            channel = self.room_channels.channel_for_socket_room(room)
        sharded = self.sharded and channel != self.channel
        for attempt in (1, 2):
            try:
                if not self.connected:
                    self._redis_connect()
                if sharded:
                    return self.redis.spublish(channel, body)
                return self.redis.publish(channel, body)
            except redis.RedisError as exc:
                self.connected = False
                log.error(
                    "message queue publish failed",
                    extra={"attempt": attempt, "error": str(exc), "method": data.get("method")},
                )
        return None

    # -- listening -----------------------------------------------------------------------

    def _thread(self) -> None:
        """Listen forever; reconnect within two seconds after Redis returns, then resync.

        The links are subscriber.RawSubscriber (hiredis on a plain socket), not redis-py's
        PubSub: the pump runs once per message per interested worker. No read timeout:
        a channel is idle between messages; a Redis that goes away closes the socket (or
        TCP keepalive notices), and everything is subscribed again.
        """
        failures = 0
        kind = ClusterListener if self.sharded else SingleListener
        while True:
            listener = kind(self.redis_url, self.room_channels, self._dispatch)
            try:
                listener.open()
                if failures and self.on_resubscribe is not None:
                    self.on_resubscribe()
                failures = 0
                listener.pump()
            except Exception as exc:
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
                log.error(
                    "message queue listener lost Redis",
                    extra={"error": str(exc), "retry_in_s": delay},
                )
                time.sleep(delay)
            finally:
                listener.close()

    def _dispatch(self, raw: bytes) -> None:
        if raw.startswith(FAST_FRAME):
            if raw.startswith(self._fast_echo_prefix):
                return
            _, _, room, packet = raw.split(b"|", 3)
            text = packet.decode()
            self.deliver_local(room.decode(), text)
            if self.on_remote_message is not None:
                self.on_remote_message(room.decode(), text)
            return
        if raw.startswith(self._echo_prefix):
            return
        data = orjson.loads(raw)
        method = data.get("method")
        if method == "callback":
            self._handle_callback(data)
        elif data.get("host_id") == self.host_id:
            return
        elif method == "emit":
            self._handle_emit(data)
        elif method == "disconnect":
            self._handle_disconnect(data)
        elif method == "enter_room":
            self._handle_enter_room(data)
        elif method == "leave_room":
            self._handle_leave_room(data)
        elif method == "close_room":
            self._handle_close_room(data)

    def _handle_emit(self, message: dict[str, Any]) -> None:
        """python-socketio's local delivery of an emit (from this worker or another)."""
        room, event = message.get("room"), str(message.get("event"))
        if (
            self.on_control_emit is not None
            and isinstance(room, str)
            and (is_account_room(room) or event in self.control_events)
        ):
            data = message.get("data")
            payload = data[0] if isinstance(data, list) and data else None
            try:
                self.on_control_emit(event, room, payload)
            except Exception:
                log.exception("handling a control event failed", extra={"event": event})
        super()._handle_emit(message)

    # -- local delivery ------------------------------------------------------------------

    def deliver_local(self, socket_room: str, encoded_packet: str) -> int:
        """Send one pre-encoded Socket.IO packet to this worker's sockets in a room.

        A socket whose client stopped reading has its packets pile up in memory; past
        `max_queued_packets` it is disconnected (it reconnects and fills the gap later).
        """
        participants = self.rooms.get(NAMESPACE, {}).get(socket_room)
        if not participants:
            return 0
        if encoded_packet.startswith(NEW_MESSAGE_PACKET):
            seq = int(encoded_packet[SEQ_START:SEQ_END])
            if seq > self.last_delivered.get(socket_room, 0):
                self.last_delivered[socket_room] = seq
        elif encoded_packet.startswith(ROOM_EVENT_PACKET):
            head, _, tail = encoded_packet[EVENT_START:EVENT_END].partition(".")
            position = (int(head), int(tail))
            if position > self.last_event.get(socket_room, (0, 0)):
                self.last_event[socket_room] = position
        pkt = eio_packet.Packet(eio_packet.MESSAGE, encoded_packet)
        eio = self.server.eio
        sockets = eio.sockets
        limit = self.max_queued_packets
        # Framed once for every member whose socket takes direct writes (direct_writes.py).
        frame = direct_writes.text_frame(encoded_packet)
        # engineio's send checks each socket's ping deadline; here it is read once.
        now, ping_timeout = time.time(), eio.ping_timeout
        count = 0
        for eio_sid in list(participants.values()):
            socket = sockets.get(eio_sid)
            if socket is None:
                continue
            writer = getattr(socket, "direct_writer", None)
            if (
                writer is not None
                and not socket.closed
                and (not socket.last_ping or now - socket.last_ping <= ping_timeout)
                and writer.write_frame(frame)
            ):
                count += 1
                continue
            if socket.queue.qsize() >= limit:
                self._drop_slow_consumer(eio_sid)
                continue
            socket.send(pkt)
            count += 1
        return count

    def _drop_slow_consumer(self, eio_sid: str) -> None:
        metrics.SLOW_CONSUMERS_DROPPED.inc()
        log.warning("disconnecting a client that stopped reading", extra={"eio_sid": eio_sid})
        self.server.eio.start_background_task(self.server.eio.disconnect, eio_sid)

    def track_from(self, room: str, seq: int, event: tuple[int, int] | None) -> None:
        """A socket joined with history up to `seq` (and events up to `event`): a resync
        must start there at the latest, even if nothing was delivered live since."""
        self.last_delivered.setdefault(socket_room(room), seq)
        if event is not None:
            self.last_event.setdefault(log_room(room), event)

    def forget_room(self, socket_room: str) -> None:
        """No local socket is left in the room: stop tracking its last delivered id."""
        self.last_delivered.pop(socket_room, None)
        self.last_event.pop(socket_room, None)
