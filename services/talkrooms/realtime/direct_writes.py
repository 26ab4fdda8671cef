"""Room fan-out written straight into members' WebSocket buffers, one send per socket.

The library's path for a packet to a socket is a put on the socket's Engine.IO queue,
a switch into its writer greenlet, a timed blocking get, the packet's encoding and
framing, and a send. For a room message that is paid once per member, and it was the
largest share of a worker's time under load (BENCHMARKS.md, "Against Node").

Here a room message is framed once (Engine.IO MESSAGE packet in a WebSocket text frame),
the same bytes are appended to each member's frame buffer, and once per turn of the
gevent loop every touched socket gets one non-blocking `send` of all it gathered.

Order: only a socket with no writer running takes this path — then nothing of its own is
queued or half-written, and if something is queued later in the same turn, its writer
sends the buffer (these frames first) before it. A send the kernel cuts short (the
client reads slowly) leaves the rest in the buffer and starts the writer to finish it;
while that writer runs the socket's packets go through its queue, where the slow-reader
limit applies as before.
"""

from __future__ import annotations

import logging

import gevent

from talkrooms.realtime.socket_writer import OnDemandWriter

log = logging.getLogger("talkrooms.realtime.direct_writes")

_TEXT = 0x81  # FIN + text opcode


def text_frame(encoded_socketio_packet: str) -> bytes:
    """An Engine.IO MESSAGE carrying the Socket.IO packet, as a server WebSocket frame."""
    payload = ("4" + encoded_socketio_packet).encode()
    length = len(payload)
    if length < 126:
        header = bytes((_TEXT, length))
    elif length < 65536:
        header = bytes((_TEXT, 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((_TEXT, 127)) + length.to_bytes(8, "big")
    return header + payload


class DirectWrites:
    """The sockets given frames during this turn of the loop, sent when the turn ends."""

    def __init__(self) -> None:
        self._touched: list[OnDemandWriter] = []
        self._scheduled = False

    def add(self, writer: OnDemandWriter, frame: bytes) -> None:
        """Append a frame to a socket for which `writer.takes_direct_writes()` holds."""
        frames = writer.frames
        assert frames is not None
        if not frames:
            self._touched.append(writer)
        frames.append(frame)
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


def _send(writer: OnDemandWriter) -> None:
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
