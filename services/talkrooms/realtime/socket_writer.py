"""A WebSocket's writer greenlet exists only while the socket has something to send.

python-engineio gives every WebSocket a writer greenlet for its whole life, parked on the
socket's packet queue. An idle chat connection then costs two greenlets (its reader and
that writer), each with its own saved C stack, Python data stack and objects: about a
tenth of a worker's memory per idle connection (BENCHMARKS.md, "Connections"). Here the
writer is started when a packet is queued and ends after WRITER_IDLE_SECONDS without
one, so a busy socket keeps its writer and an idle one (a ping every 25 s) has none.
With direct writes (realtime/direct_writes.py, the default) most packets never reach the
queue: the writer is started only when a packet must wait (a slow reader, the closing
mark) and ends as soon as its queue is empty.

The handler below replaces engineio's `Socket._websocket_handler` for sockets whose
queue is a `FlushingQueue` (gevent-websocket with batched writes, realtime/transport.py); other
sockets keep the library's handler. It keeps the library's behaviour: the polling →
WebSocket upgrade handshake, the socket timeout of ping interval + ping timeout, packets
in queue order, the WebSocket closed after a failed send or the queue's end mark (None).
Written against python-engineio 4.13 (pinned in requirements.lock).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gevent
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from engineio import socket as eio_socket
from gevent.queue import Empty

from talkrooms.realtime import direct_writes

WRITER_IDLE_SECONDS = 2.0
_LEAVE = object()


class OnDemandWriter:
    """Sends a socket's queued packets from a greenlet started when one is queued."""

    def __init__(self, queue: Any, ws: Any, raw_socket: Any = None) -> None:
        self.queue = queue
        self.ws = ws
        self.greenlet: gevent.Greenlet | None = None
        self.done = False
        # The OS socket under the WebSocket (non-blocking) and the WebSocket's frame
        # buffer: where realtime/direct_writes.py puts packets while no writer runs.
        self.raw_socket = raw_socket
        self.frames: list[Any] | None = getattr(ws, "_frames", None)
        # Set when the socket takes direct writes: the writer then leaves as soon as its
        # queue is empty instead of lingering WRITER_IDLE_SECONDS.
        self.direct = False

    def takes_direct_writes(self) -> bool:
        """Frames may go straight into this socket's buffer: no writer runs (so nothing
        of the socket's is queued or half-written before them) and the socket is healthy."""
        return (
            self.greenlet is None
            and not self.done
            and self.raw_socket is not None
            and self.frames is not None
            and getattr(self.ws, "_failure", None) is None
            and not self.queue.qsize()
        )

    def write_direct(self, item: Any) -> bool:
        """The socket queue's fast path: frame a packet into the buffer if no writer runs
        (sent at the end of the loop's turn); False leaves it to the queue."""
        if item is None or not self.takes_direct_writes():
            return False
        direct_writes.shared.add(self, direct_writes.packet_frame(item.encode()))
        return True

    def write_frame(self, frame: bytes) -> bool:
        """An already framed packet (a room message framed once for all its members)
        into the buffer if no writer runs; False leaves it to the caller's queue path."""
        if not self.takes_direct_writes():
            return False
        direct_writes.shared.add(self, frame)
        return True

    def finish_flush(self) -> None:
        """A direct write was cut short (the client's socket buffer is full): start the
        writer, whose first step sends the rest of the buffer, blocking as it may."""
        if self.greenlet is None and not self.done:
            self._start()

    def wake(self) -> None:
        """Called after a put on the queue while no writer runs: start one. While it
        runs, the queue does not call here (a put then costs one attribute check)."""
        if self.done:
            self._discard()
        elif self.greenlet is None and self.queue.qsize():
            self._start()

    def _start(self) -> None:
        self.queue.wake = None
        self.greenlet = gevent.spawn(self._run)

    def join(self) -> None:
        greenlet = self.greenlet
        if greenlet is not None:
            greenlet.join()

    def _run(self) -> None:
        queue, ws = self.queue, self.ws
        try:
            while True:
                if self.direct:
                    item = self._next_or_leave()
                    if item is _LEAVE:
                        return
                else:
                    try:
                        # A blocking get first sends what the previous round buffered.
                        item = queue.get(timeout=WRITER_IDLE_SECONDS)
                    except Empty:
                        return
                while True:
                    queue.task_done()
                    if item is None:  # the socket is closing: nothing follows
                        self.done = True
                        ws.close()
                        return
                    ws.send(item.encode())
                    try:
                        item = queue.get(block=False)
                    except Empty:
                        break
        except Exception:
            self.done = True
            ws.close()
        finally:
            self.greenlet = None
            self.queue.consumer = None  # a finished greenlet kept here costs ~3 KB a socket
            self.queue.wake = self.wake
            if not self.done:
                self.queue.release_if_idle()
            if self.done:
                self._discard()

    def _next_or_leave(self) -> Any:
        """With direct writes the writer does not linger: it sends what it framed (or
        what a direct write left), and leaves once nothing more is queued, so that later
        packets go straight into the buffer again. A writer kept alive by a steady flow
        would otherwise turn every packet of a busy socket back to the queue."""
        queue = self.queue
        queue.consumer = gevent.getcurrent()  # the WebSocket then frames into its buffer
        while True:
            try:
                return queue.get(block=False)
            except Empty:
                pass
            self.ws.flush()  # may block on a slow reader; packets queue meanwhile
            if not queue.qsize():
                return _LEAVE

    def _discard(self) -> None:
        """After the end, queued packets have nowhere to go; mark them done so that a
        `close(wait=True)` never waits for them."""
        while True:
            try:
                self.queue.get(block=False)
            except Empty:
                return
            self.queue.task_done()


def _upgrade(socket: Any, ws: Any, wait: Callable[[], Any]) -> bool:
    """Polling → WebSocket: answer the client's probe, end its pending poll, then wait
    for its UPGRADE packet. False when the client does not follow the handshake."""
    socket.upgrading = True  # sends wait in the queue during the handshake
    probe = eio_packet.Packet(encoded_packet=wait())
    if probe.packet_type != eio_packet.PING or probe.data != "probe":
        socket.upgrading = False
        return False
    ws.send(eio_packet.Packet(eio_packet.PONG, data="probe").encode())
    socket.queue.put(eio_packet.Packet(eio_packet.NOOP))  # answers the pending poll
    confirm = eio_packet.Packet(encoded_packet=wait())
    socket.upgrading = False
    if confirm.packet_type != eio_packet.UPGRADE:
        socket.upgraded = False
        return False
    socket.upgraded = True
    return True


def _os_socket(ws: Any) -> Any:
    """The non-blocking OS socket under engineio's gevent-websocket wrapper, or None."""
    try:
        return ws._sock.stream.handler.socket._sock
    except AttributeError:
        return None


def install_on_demand_writer(queue_class: type[Any]) -> None:
    """Serve WebSockets whose packet queue is a `queue_class` with an OnDemandWriter."""
    library_handler = eio_socket.Socket._websocket_handler
    if getattr(library_handler, "on_demand_writer", False):
        return

    def websocket_handler(self: Any, ws: Any) -> list[Any]:
        if not isinstance(self.queue, queue_class):
            return library_handler(self, ws)
        server = self.server

        def checked(data: Any) -> Any:
            if data and len(data) > server.max_http_buffer_size:
                raise ValueError("packet is too large")
            return data

        def wait() -> Any:
            return checked(ws.wait())

        for attr in ("_sock", "socket"):
            sock = getattr(ws, attr, None)
            if sock is not None and hasattr(sock, "settimeout"):
                sock.settimeout(server.ping_interval + server.ping_timeout)

        if self.connected:
            if not _upgrade(self, ws, wait):
                return []
        else:
            self.connected = True
            self.upgraded = True

        writer = OnDemandWriter(self.queue, ws, _os_socket(ws))
        if hasattr(ws, "flush"):
            self.queue.flush = ws.flush  # a blocking get sends what the buffer holds first
        self.queue.wake = writer.wake
        writer.wake()  # what was queued before: the OPEN packet, sends held by the upgrade
        if getattr(server, "talkrooms_direct_writes", False) and writer.frames is not None:
            self.queue.direct = writer.write_direct
            writer.direct = True
            self.direct_writer = writer  # broadcast.deliver_local frames a room message once
        while True:
            try:
                # Not wait(): this greenlet spends the connection's life blocked in this
                # read, and a frame fewer under it is memory of every idle connection.
                data = checked(ws.wait())
            except Exception as exc:
                if not self.closed:
                    server.logger.info("%s: websocket ended: %s", self.sid, exc)
                break
            if data is None:  # the client closed the connection
                break
            try:
                self.receive(eio_packet.Packet(encoded_packet=data))
            except eio_exceptions.UnknownPacketError:
                pass
            except eio_exceptions.SocketIsClosedError:
                break
            except Exception:
                server.logger.exception("%s: receive error", self.sid)
                break

        self.direct_writer = None
        self.queue.direct = None
        self.queue.put(None)  # the writer sends what is queued, then closes the WebSocket
        writer.join()
        self.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)
        return []

    websocket_handler.on_demand_writer = True  # type: ignore[attr-defined]
    eio_socket.Socket._websocket_handler = websocket_handler
