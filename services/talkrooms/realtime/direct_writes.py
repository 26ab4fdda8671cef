"""Packets written straight into a WebSocket's buffer, one send per socket per loop turn.

The library's path for a packet to a socket is a put on the socket's Engine.IO queue,
a switch into its writer greenlet, a timed blocking get, the packet's encoding and
framing, and a send. For a room message that is paid once per member, and it was the
largest share of a worker's time under load (BENCHMARKS.md, "Against Node").

Here a packet is framed at once and appended to the socket's frame buffer, and once per
turn of the gevent loop every touched socket gets one non-blocking `send` of all it
gathered. A room message is framed once and the same bytes go to every member
(broadcast.deliver_local); other packets (acks, presence, pings) are framed one by one
where the socket's queue would have taken them (`FlushingQueue.put`, transport.py).

Order: only a socket with no writer running takes this path — then nothing of its own is
queued or half-written, and if something is queued later in the same turn (its end mark,
say), the writer sends the buffer (these frames first) before it. A send the kernel cuts
short (the client reads slowly) leaves the rest in the buffer and starts the writer to
finish it; while that writer runs the socket's packets go through its queue, where the
slow-reader limit applies as before.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import gevent

log = logging.getLogger("talkrooms.realtime.direct_writes")

TEXT_FRAME = 0x81  # FIN + text opcode
BINARY_FRAME = 0x82  # FIN + binary opcode


def frame_header(length: int, first_byte: int = TEXT_FRAME) -> bytes:
    """A server WebSocket frame's header (unmasked, final) for `length` payload bytes."""
    if length < 126:
        return bytes((first_byte, length))
    if length < 65536:
        return bytes((first_byte, 126)) + length.to_bytes(2, "big")
    return bytes((first_byte, 127)) + length.to_bytes(8, "big")


def frame(payload: bytes, first_byte: int = TEXT_FRAME) -> bytes:
    """A server WebSocket frame around `payload`."""
    return frame_header(len(payload), first_byte) + payload


def text_frame(encoded_socketio_packet: str) -> bytes:
    """An Engine.IO MESSAGE carrying the Socket.IO packet, as a server WebSocket frame."""
    return frame(("4" + encoded_socketio_packet).encode())


def packet_frame(encoded: str | bytes) -> bytes:
    """Any encoded Engine.IO packet as a frame: text, or binary as it is."""
    if isinstance(encoded, str):
        return frame(encoded.encode())
    return frame(bytes(encoded), BINARY_FRAME)


class Target(Protocol):
    """What a socket's writer offers (realtime/socket_writer.OnDemandWriter)."""

    frames: list[Any] | None
    raw_socket: Any
    greenlet: Any
    ws: Any

    def finish_flush(self) -> None: ...


class DirectWrites:
    """The sockets given frames during this turn of the loop, sent when the turn ends."""

    def __init__(self) -> None:
        self._touched: list[Target] = []
        self._scheduled = False

    def add(self, writer: Target, data: bytes) -> None:
        """Append a frame to a socket for which `writer.takes_direct_writes()` holds."""
        frames = writer.frames
        assert frames is not None
        if not frames:
            self._touched.append(writer)
        frames.append(data)
        if not self._scheduled:
            self._scheduled = True
            gevent.get_hub().loop.run_callback(self.send_all)

    def send_all(self) -> None:
        """Runs in the hub: every touched socket sends its frames without blocking."""
        touched, self._touched = self._touched, []
        self._scheduled = False
        for writer in touched:
            try:
                _send(writer)
            except Exception:  # one socket's trouble must not cost the others their frames
                log.exception("direct write failed")


def _send(writer: Target) -> None:
    frames = writer.frames
    if not frames or writer.greenlet is not None:
        return  # a writer started since: its first step sends the buffer, in order
    data = frames[0] if len(frames) == 1 else b"".join(frames)
    frames.clear()
    try:
        sent = writer.raw_socket.send(data)
    except BlockingIOError:
        sent = 0
    except OSError as exc:
        writer.ws._failure = exc  # the writer's next send raises it and closes the socket
        return
    if sent < len(data):
        frames.append(memoryview(data)[sent:])
        writer.finish_flush()


# The worker's one instance: its sockets' writers and deliver_local share the turn's send.
shared = DirectWrites()
