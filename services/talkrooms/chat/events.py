"""Socket.IO handlers: a few lines each over ChatService, plus the hot-path dispatch.

`send_message` never reaches Flask: `install_dispatch` hands it from python-socketio's
packet dispatch straight to message_path (no request context, no JSON re-encoding). Every
other event goes through the Flask-SocketIO namespace below.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import gevent
import socketio
from flask import request
from flask_socketio import Namespace
from redis.exceptions import RedisError

from talkrooms.chat.message_path import MessagePath
from talkrooms.chat.room_events import EVENT_NAMES, RoomEventPath
from talkrooms.chat.service import ChatService
from talkrooms.protocol import (
    ERROR,
    FOCUS,
    GET_HISTORY,
    INVALID,
    JOIN_ROOM,
    LEAVE_ROOM,
    REPORT_MESSAGE,
    SEND_MESSAGE,
    TYPING,
    UNAVAILABLE,
    ProtocolError,
    requested_protocol,
)
from talkrooms.realtime.connections import Connection, ConnectionRegistry
from talkrooms.settings import Settings
from talkrooms.telemetry import metrics

log = logging.getLogger("talkrooms.chat.events")

KNOWN_EVENTS = (
    frozenset({JOIN_ROOM, LEAVE_ROOM, SEND_MESSAGE, TYPING, GET_HISTORY, REPORT_MESSAGE, FOCUS})
    | EVENT_NAMES
)
# Lifecycle names python-socketio would route to the connect/disconnect handlers.
RESERVED_EVENTS = frozenset({"connect", "disconnect", "connect_error"})
# Socket.IO BINARY_EVENT and BINARY_ACK: TalkRooms carries only JSON.
BINARY_PACKET_TYPES = ("5", "6")
# Socket.IO EVENT and ACK packets are decoded on the reader greenlet (the hot path is
# there); CONNECT and DISCONNECT run in a greenlet of their own (in_own_greenlet).
INLINE_PACKET_TYPES = ("2", "3")
UNAVAILABLE_TEXT = "The chat store is unavailable right now; try again in a moment"


def in_own_greenlet(call: Callable[..., Any], *args: Any) -> Any:
    """Run a call in a short-lived greenlet and wait for it: its result, or its exception,
    comes back here.

    Python frames live on each greenlet's own data stack (CPython 3.11 gives it 16 KB
    chunks), and the pages a deep call touches stay resident for the greenlet's life. A
    WebSocket's reader greenlet lives as long as its connection: a connect or a join
    handled there (Flask, SQLAlchemy, redis-py: dozens of frames deep) kept ~6.7 KB of
    every idle connection in RSS (loadtests/connection_memory.py: 41.7 -> 35.0 KB per
    connection). The hot paths (send_message, events on messages) stay inline; rarer
    events pay one spawn. The reader waits, so a client's events keep their order.
    """
    outcome: list[tuple[Any, BaseException | None]] = []

    def run() -> None:
        try:
            outcome.append((call(*args), None))
        except BaseException as error:  # raised in the caller, not printed by the hub
            outcome.append((None, error))

    gevent.spawn(run).join()
    result, error = outcome[0]
    if error is not None:
        raise error
    return result


def client_address(environ: dict[str, Any], settings: Settings) -> str:
    """The client's address: a trusted proxy's X-Real-IP, else the peer itself."""
    return settings.client_address(environ)


def current_sid() -> str:
    """The Socket.IO sid Flask-SocketIO attaches to the request of an event."""
    return str(request.sid)  # type: ignore[attr-defined]


class ChatNamespace(Namespace):
    """The default namespace `/`."""

    def __init__(self, chat: ChatService, connections: ConnectionRegistry) -> None:
        super().__init__("/")
        self.chat = chat
        self.connections = connections

    def trigger_event(self, event: str, *args: Any) -> Any:
        metrics.EVENTS.labels(event=event if event in KNOWN_EVENTS else "other").inc()
        if event not in ("connect", "disconnect"):
            sid = args[0] if args else None
            log.info("event", extra={"event": event, "sid": sid})
            if not hasattr(self, f"on_{event}"):
                return self._refuse_unknown(sid, event)
        return super().trigger_event(event, *args)

    def _refuse_unknown(self, sid: str | None, event: str) -> Any:
        connection = self.connections.get(sid) if sid else None
        if connection is None:
            return None
        return self._refuse(connection, ProtocolError(f"Unknown event {event[:40]!r}", INVALID))

    def on_connect(self, auth: Any = None) -> None:
        sid = current_sid()
        eio_sid = self.socketio.server.manager.eio_sid_from_sid(sid, "/")
        account = None
        if isinstance(auth, dict) and auth.get("token") is not None:
            try:
                account = self.chat.identities.sign_in(auth["token"])
            except ProtocolError as error:
                # socket.io clients get `connect_error` with err.data.code: refresh, retry.
                raise socketio.exceptions.ConnectionRefusedError(
                    str(error), {"code": error.code}
                ) from error
        self.chat.connect(
            sid,
            eio_sid,
            client_address(request.environ, self.chat.settings),
            requested_protocol(auth),
            account,
        )
        log.info("connect", extra={"sid": sid})

    def on_disconnect(self, reason: Any = None) -> None:
        log.info("disconnect", extra={"sid": current_sid(), "reason": str(reason)})
        self.chat.disconnect(current_sid())

    def on_join_room(self, data: Any = None) -> Any:
        return self._handle(lambda connection: self.chat.join(connection, data))

    def on_leave_room(self, data: Any = None) -> Any:
        return self._handle(lambda connection: self.chat.leave(connection, data))

    def on_typing(self, data: Any = None) -> Any:
        return self._handle(lambda connection: self.chat.typing(connection, data))

    def on_get_history(self, data: Any = None) -> Any:
        return self._handle(lambda connection: self.chat.history(connection, data))

    def on_focus(self, data: Any = None) -> Any:
        return self._handle(lambda connection: self.chat.focus(connection, data))

    def on_report_message(self, data: Any = None) -> Any:
        return self._handle(lambda connection: self.chat.report(connection, data))

    def _handle(self, action: Callable[[Connection], Any]) -> Any:
        """Run an action; refusals become an ack error or an `error` event, never silence."""
        connection = self.connections.get(current_sid())
        if connection is None:
            return None
        try:
            return action(connection)
        except ProtocolError as error:
            return self._refuse(connection, error)
        except RedisError as exc:
            metrics.REDIS_ERRORS.labels(operation="event").inc()
            log.error("Redis error in an event", extra={"sid": connection.sid, "error": str(exc)})
            return self._refuse(connection, ProtocolError(UNAVAILABLE_TEXT, UNAVAILABLE))

    def _refuse(self, connection: Connection, error: ProtocolError) -> Any:
        log.info(
            "event refused",
            extra={"sid": connection.sid, "code": error.code, "error": str(error)},
        )
        if connection.extra.get("wants_ack"):
            return error.as_ack()
        self.socketio.server.emit(ERROR, error.as_event(), to=connection.sid, namespace="/")
        return None


def install_dispatch(
    sio: socketio.Server,
    path: MessagePath,
    event_path: RoomEventPath,
    connections: ConnectionRegistry,
) -> None:
    """Route send_message (and protocol 2's events on messages) to the fast paths; answer
    malformed input instead of dropping sockets.

    Wraps python-socketio's private `Server._handle_event` and its Engine.IO `message`
    handler (pinned; see realtime/broadcast.py). In the library, a packet that fails to decode ends
    in its error path and closes the socket; here every bad packet gets an `error` event and
    the connection, and everyone else, keeps going.
    """
    original_event = sio._handle_event
    original_message = sio._handle_eio_message

    def refuse(
        eio_sid: str, text: str, namespace: str | None = None, ack_id: int | None = None
    ) -> None:
        connection = connections.by_eio_sid.get(eio_sid)
        metrics.MESSAGES_REJECTED.labels(reason="malformed").inc()
        if connection is None:
            return
        error = ProtocolError(text, INVALID)
        if ack_id is not None:
            # The client waits for this ack (socket.io-client, by default, forever).
            ack = sio.packet_class(
                socketio.packet.ACK, namespace=namespace or "/", id=ack_id, data=[error.as_ack()]
            )
            sio._send_packet(eio_sid, ack)
        else:
            sio.emit(ERROR, error.as_event(), to=connection.sid, namespace="/")

    def handle_event(eio_sid: str, namespace: str | None, ack_id: int | None, data: Any) -> None:
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            refuse(eio_sid, "Malformed event: expected [name, payload]", namespace, ack_id)
            return
        if data[0] in RESERVED_EVENTS:
            refuse(eio_sid, f"{data[0][:40]!r} is reserved and cannot be sent", namespace, ack_id)
            return
        # One payload per event; further arguments are ignored, like unknown fields.
        data = data[:2]
        if data[0] == SEND_MESSAGE and namespace in (None, "/"):
            path.receive(eio_sid, ack_id, data[1] if len(data) > 1 else None)
            return
        if data[0] in EVENT_NAMES and namespace in (None, "/"):
            metrics.EVENTS.labels(event=data[0]).inc()
            event_path.receive(eio_sid, ack_id, data[0], data[1] if len(data) > 1 else None)
            return
        connection = connections.by_eio_sid.get(eio_sid)
        if connection is not None:
            connection.extra["wants_ack"] = ack_id is not None
        try:
            in_own_greenlet(original_event, eio_sid, namespace, ack_id, data)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            log.info("malformed event", extra={"eio_sid": eio_sid, "error": str(exc)[:200]})
            refuse(eio_sid, "Malformed event", namespace, ack_id)

    def handle_message(eio_sid: str, data: Any) -> None:
        if isinstance(data, bytes) or (isinstance(data, str) and data[:1] in BINARY_PACKET_TYPES):
            refuse(eio_sid, "Binary packets are not part of the TalkRooms protocol")
            return
        if not isinstance(data, str):
            refuse(eio_sid, "Malformed packet")
            return
        try:
            if data[:1] in INLINE_PACKET_TYPES:
                original_message(eio_sid, data)  # handle_event decides, per event
            else:
                in_own_greenlet(original_message, eio_sid, data)  # connect, disconnect
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            log.info("malformed packet", extra={"eio_sid": eio_sid, "error": str(exc)[:200]})
            refuse(eio_sid, "Malformed packet")
        except Exception:
            log.exception("packet handling failed", extra={"eio_sid": eio_sid})
            refuse(eio_sid, "The server could not process this packet")

    sio._handle_event = handle_event
    sio.eio.on("message", handle_message)
