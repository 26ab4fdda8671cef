"""Rooms as people see them: joining, leaving, typing, history, and who is there.

The Socket.IO handlers (chat/events.py) call these methods; they validate (protocol), change
Redis (store) and emit to the room through the message queue, in that order.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import socketio

from talkrooms.protocol import (
    CONNECTED,
    GET_HISTORY,
    JOIN_ROOM,
    NAME_TAKEN,
    NOT_IN_ROOM,
    RATE_LIMITED,
    ROOM_JOINED,
    ROOM_USERS,
    TYPING,
    USER_JOINED,
    USER_LEFT,
    USER_TYPING,
    ProtocolError,
    joined_notice,
    left_notice,
    require_object,
    room_users_payload,
    username_identity,
    validate_client_key,
    validate_history_query,
    validate_room,
    validate_username,
)
from talkrooms.realtime.connections import Connection, ConnectionRegistry, TokenBucket, socket_room
from talkrooms.settings import Settings
from talkrooms.storage.store import Store, client_key_hash, now_ms
from talkrooms.telemetry import metrics

log = logging.getLogger("talkrooms.chat.service")

TYPING_REFRESH_SECONDS = 2.0
TYPING_VISIBLE_MS = 6000
NAMESPACE = "/"


class ChatService:
    """Per-worker façade over the store and the Socket.IO server for room events."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        connections: ConnectionRegistry,
        sio: socketio.Server,
    ) -> None:
        self.settings = settings
        self.store = store
        self.connections = connections
        self.sio = sio
        self.worker_id = settings.instance_id
        self.message_rate = settings.message_rate
        self.join_rate = settings.join_rate
        self.draining = False

    # -- connection lifecycle --------------------------------------------------------------

    def connect(self, sid: str, eio_sid: str, address: str) -> Connection:
        """Register a socket; refuses an address that already holds too many on this worker."""
        limit = self.settings.max_connections_per_address
        if limit and self.connections.count_from(address) >= limit:
            metrics.CONNECTIONS_REFUSED.labels(reason="per_address_limit").inc()
            raise socketio.exceptions.ConnectionRefusedError(
                f"Too many connections from your address (limit {limit})"
            )
        connection = Connection(
            sid=sid,
            eio_sid=eio_sid,
            address=address,
            message_bucket=TokenBucket(self.message_rate),
            join_bucket=TokenBucket(self.join_rate),
        )
        self.connections.add(connection)
        metrics.CONNECTIONS.set(len(self.connections))
        metrics.CONNECTIONS_TOTAL.inc()
        self.sio.emit(
            CONNECTED,
            {"message": "Connected to TalkRooms", "sid": sid},
            to=sid,
            namespace=NAMESPACE,
        )
        return connection

    def disconnect(self, sid: str) -> None:
        connection = self.connections.remove(sid)
        metrics.CONNECTIONS.set(len(self.connections))
        if self.draining:
            # Presence stays for the client to take over from another worker; the exit
            # hook purges whatever is left (WorkerPresence.shutdown).
            return
        if connection is not None and connection.room is not None:
            self._leave_current_room(connection)

    def drain(self) -> None:
        """Shutting down: close every socket so that clients reconnect to another worker."""
        self.draining = True
        eio = self.sio.eio
        sids = [c.eio_sid for c in self.connections]
        log.info("draining", extra={"sockets": len(sids)})
        for eio_sid in sids:
            socket = eio.sockets.get(eio_sid)
            if socket is None:
                continue
            try:
                # An abort, not a CLOSE packet: clients see the transport drop and
                # reconnect by themselves (after a polite close they would not).
                socket.close(wait=False, abort=True)
            except Exception:  # one odd socket must not stop the drain
                log.exception("closing a socket during the drain failed")

    # -- rooms -----------------------------------------------------------------------------

    def join(self, connection: Connection, payload: Any) -> dict[str, Any]:
        """join_room: validate, leave the previous room, take the name, send history."""
        data = require_object(payload, JOIN_ROOM)
        username = validate_username(data.get("username"))
        room = validate_room(data.get("room"))
        key_hash = client_key_hash(validate_client_key(data.get("client_key")))
        identity = username_identity(username)
        if not connection.join_bucket.take():
            metrics.RATE_LIMIT_HITS.labels(kind="join").inc()
            raise ProtocolError(f"Too many joins: {self.join_rate.describe()}", RATE_LIMITED)

        same_person_same_room = (
            connection.room == room
            and connection.identity == identity
            and connection.key_hash == key_hash
        )
        if connection.room is not None and not same_person_same_room:
            self._leave_current_room(connection)

        started = time.perf_counter()
        result = self.store.join(room, connection.sid, identity, username, key_hash, self.worker_id)
        metrics.REDIS_LATENCY.labels(operation="join").observe(time.perf_counter() - started)
        if result.taken:
            raise ProtocolError(f"The name {username} is already taken in this room", NAME_TAKEN)
        if self.connections.get(connection.sid) is None:
            # The socket went away while Redis answered: undo, leave no ghost behind.
            self.store.leave(room, connection.sid, self.worker_id)
            return {"ok": False, "error": "Connection closed", "code": NOT_IN_ROOM}

        connection.room = room
        connection.username = username
        connection.identity = identity
        connection.key_hash = key_hash
        self.sio.enter_room(connection.sid, socket_room(room), namespace=NAMESPACE)
        metrics.JOINED.set(sum(1 for c in self.connections if c.room))
        history = self.store.recent_messages(room, self.settings.history_limit)
        self.sio.emit(
            ROOM_JOINED,
            {"room": room, "username": username, "messages": history},
            to=connection.sid,
            namespace=NAMESPACE,
        )
        if result.first_connection:
            self.sio.emit(
                USER_JOINED,
                joined_notice(username),
                to=socket_room(room),
                skip_sid=connection.sid,
                namespace=NAMESPACE,
            )
        self.emit_room_users(room, result.usernames)
        return {"ok": True, "room": room, "username": username}

    def leave(self, connection: Connection) -> dict[str, Any]:
        """leave_room: the connection leaves; the person leaves with their last connection."""
        if connection.room is None:
            raise ProtocolError("You are not in a room", NOT_IN_ROOM)
        room = connection.room
        self._leave_current_room(connection)
        return {"ok": True, "room": room}

    def _leave_current_room(self, connection: Connection) -> None:
        room = connection.room
        if room is None:
            return
        if connection.typing and connection.username:
            self._broadcast_typing(connection, room, False)
        connection.room = None
        connection.typing = False
        if self.connections.get(connection.sid) is not None:
            self.sio.leave_room(connection.sid, socket_room(room), namespace=NAMESPACE)
        if not self.sio.manager.rooms.get(NAMESPACE, {}).get(socket_room(room)):
            self.sio.manager.forget_room(socket_room(room))
        metrics.JOINED.set(sum(1 for c in self.connections if c.room))
        result = self.store.leave(room, connection.sid, self.worker_id)
        if not result.present:
            return
        if result.left:
            self.sio.emit(
                USER_LEFT, left_notice(result.left), to=socket_room(room), namespace=NAMESPACE
            )
        self.emit_room_users(room, result.usernames)

    def emit_room_users(self, room: str, usernames: list[str]) -> None:
        self.sio.emit(
            ROOM_USERS,
            room_users_payload(room, usernames),
            to=socket_room(room),
            namespace=NAMESPACE,
        )

    def announce_departures(self, departures: list[tuple[str, str | None]]) -> None:
        """After presence was purged (dead worker): tell each room who left and who is left."""
        rooms = sorted({room for room, _ in departures})
        for room, username in departures:
            if username:
                self.sio.emit(
                    USER_LEFT, left_notice(username), to=socket_room(room), namespace=NAMESPACE
                )
        for room in rooms:
            self.emit_room_users(room, self.store.room_usernames(room))

    # -- typing and history ----------------------------------------------------------------

    def typing(self, connection: Connection, payload: Any) -> None:
        """typing: forwarded to the others, a repeated `true` at most every 2 s."""
        data = require_object(payload, TYPING)
        is_typing = data.get("is_typing")
        if not isinstance(is_typing, bool):
            raise ProtocolError("is_typing must be true or false")
        room = connection.room
        if room is None or connection.username is None:
            raise ProtocolError("Join a room before typing", NOT_IN_ROOM)
        now = time.monotonic()
        if (
            is_typing
            and connection.typing
            and now - connection.typing_sent_at < (TYPING_REFRESH_SECONDS)
        ):
            return
        if not is_typing and not connection.typing:
            return
        self._broadcast_typing(connection, room, is_typing)

    def _broadcast_typing(self, connection: Connection, room: str, is_typing: bool) -> None:
        username = connection.username or ""
        connection.typing = is_typing
        connection.typing_sent_at = time.monotonic()
        self.store.set_typing(room, username, is_typing, now_ms() + TYPING_VISIBLE_MS)
        self.sio.emit(
            USER_TYPING,
            {"username": username, "is_typing": is_typing},
            to=socket_room(room),
            skip_sid=connection.sid,
            namespace=NAMESPACE,
        )

    def history(self, payload: Any) -> dict[str, Any]:
        """get_history: a page before an id, the gap since an id, or the newest page."""
        query = validate_history_query(
            require_object(payload, GET_HISTORY), self.settings.history_limit
        )
        messages, has_more = self.store.history(query.room, query.before, query.since, query.limit)
        return {"ok": True, "room": query.room, "messages": messages, "has_more": has_more}

    # -- worker presence -------------------------------------------------------------------

    def rejoin_all(self) -> None:
        """Put every local connection back into Redis presence (after a purge or data loss)."""
        rooms: set[str] = set()
        for connection in self.connections:
            if connection.room is None or connection.identity is None:
                continue
            result = self.store.join(
                connection.room,
                connection.sid,
                connection.identity,
                connection.username or "",
                connection.key_hash,
                self.worker_id,
            )
            if result.taken:
                room = connection.room
                connection.room = None
                self.sio.leave_room(connection.sid, socket_room(room), namespace=NAMESPACE)
                error = ProtocolError(
                    "Your name was taken while the server reconnected", NAME_TAKEN
                )
                self.sio.emit("error", error.as_event(), to=connection.sid, namespace=NAMESPACE)
                continue
            rooms.add(connection.room)
        for room in sorted(rooms):
            self.emit_room_users(room, self.store.room_usernames(room))
        log.info("presence restored", extra={"rooms": len(rooms)})
