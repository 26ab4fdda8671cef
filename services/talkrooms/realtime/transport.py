"""Engine.IO transport hardening: frames that cannot be decoded never reach the library.

python-engineio decodes each WebSocket frame outside its error handling: an empty frame,
or one whose first character is not a packet type, raises and closes the connection
(the library's "unknown receive error" path). Such frames are dropped here instead —
ignored, as the protocol allows for garbage — and the connection carries on.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import gevent
from engineio import packet as eio_packet
from engineio import socket as eio_socket
from gevent import queue as _gevent_queue

from talkrooms.realtime.direct_writes import BINARY_FRAME, TEXT_FRAME, frame_header
from talkrooms.realtime.socket_writer import install_on_demand_writer
from talkrooms.realtime.ws_frames import install_fast_frames
from talkrooms.telemetry import metrics

log = logging.getLogger("talkrooms.realtime.transport")

# Engine.IO v4 packet types a client may send as text: 0 open … 6 noop.
_TEXT_PACKET_TYPES = frozenset("0123456")


def valid_frame(data: Any) -> bool:
    """A frame python-engineio can decode: binary, or text starting with a packet type."""
    if isinstance(data, bytes | bytearray):
        return True
    return isinstance(data, str) and data[:1] in _TEXT_PACKET_TYPES


def install_frame_guard(
    eio_server: Any, batch_writes: bool = True, direct_writes: bool = True
) -> None:
    """Wrap this server's WebSocket class: `wait()` skips undecodable frames, and with
    gevent-websocket the writer's packets leave in one write (see below), or without the
    writer at all (realtime/direct_writes.py)."""
    drivers = dict(eio_server._async)
    base = drivers["websocket"]
    # Engine.IO's gevent driver over gevent-websocket; batching is written for its WebSocket,
    # and its wait() only calls the WebSocket's receive(), called here directly: one frame
    # less on every reading greenlet's stack (realtime/gunicorn_worker.py).
    on_gevent_websocket = base.__module__ == "engineio.async_drivers.gevent" and bool(
        importlib.util.find_spec("geventwebsocket")
    )
    if batch_writes and on_gevent_websocket:
        base = batching_websocket(base)
        drivers["queue"] = FlushingQueue
        install_on_demand_writer(FlushingQueue)
        eio_server.talkrooms_direct_writes = direct_writes
        install_fast_frames()

    class GuardedWebSocket(base):  # type: ignore[misc, valid-type]
        def wait(self) -> Any:
            while True:
                data = self._sock.receive() if on_gevent_websocket else super().wait()
                if data is None or valid_frame(data):
                    return data
                metrics.MESSAGES_REJECTED.labels(reason="malformed").inc()
                log.info("undecodable frame dropped", extra={"frame": repr(data)[:80]})

    drivers["websocket"] = GuardedWebSocket
    eio_server._async = drivers


# -- writes: every packet queued for a socket leaves in one system call -------------------
#
# python-engineio's WebSocket writer takes all packets queued for a socket and sends them
# one by one; with gevent-websocket each is a sendall (plus a getsockopt), and on these
# machines those system calls were a third of a worker's CPU under load (BENCHMARKS.md).
# Here the writer's sends are framed into a buffer, and the buffer goes out in one write
# when the writer has sent the batch it took from the queue (it comes back for more) or
# the buffer grows past FLUSH_BYTES. No packet waits for a later batch.

FLUSH_BYTES = 256 * 1024


class FlushingQueue:
    """A socket's packet queue that flushes its writer's buffer before blocking.

    It has the interface of gevent's JoinableQueue, which holds three deques and an event
    (~2.4 KB): one is made when a packet must wait, and let go once the writer left it
    empty. Most packets of a WebSocket never wait (realtime/direct_writes.py), so an idle
    connection holds none.
    """

    def __init__(self) -> None:
        self._queue: _gevent_queue.JoinableQueue | None = None
        self.flush: Callable[[], None] | None = None
        self.consumer: Any = None
        # Set by realtime/socket_writer.py once the socket is a WebSocket: starts its writer.
        self.wake: Callable[[], None] | None = None
        # Also set there: takes a packet into the socket's buffer while no writer runs
        # (realtime/direct_writes.py), False when it must be queued.
        self.direct: Callable[[Any], bool] | None = None

    def _waiting(self) -> _gevent_queue.JoinableQueue:
        queue = self._queue
        if queue is None:
            queue = self._queue = _gevent_queue.JoinableQueue()
        return queue

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        direct = self.direct
        if direct is not None and direct(item):
            return
        self._waiting().put(item, block, timeout)
        if self.wake is not None:
            self.wake()

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if block:
            # A writer (realtime/socket_writer.py, or engineio's poll() for long-polling) takes a
            # batch with one blocking get and the rest without blocking: a blocking get
            # marks the end of the previous batch.
            self.consumer = gevent.getcurrent()
            if self.flush is not None:
                self.flush()
        return self._waiting().get(block, timeout)

    def task_done(self) -> None:
        self._waiting().task_done()

    def qsize(self) -> int:
        queue = self._queue
        return 0 if queue is None else queue.qsize()

    def join(self, timeout: float | None = None) -> bool:
        queue = self._queue
        return True if queue is None else bool(queue.join(timeout))

    def release_if_idle(self) -> None:
        """Called by the writer as it ends: nothing waits and nothing is owed, so the
        queue's structures can go until a packet must wait again."""
        queue = self._queue
        if queue is not None and not queue.qsize() and not queue.unfinished_tasks:
            self._queue = None


def batching_websocket(base: type) -> type:
    """Wrap gevent-websocket's Engine.IO WebSocket class so the writer's sends batch."""

    class BatchingWebSocket(base):
        def __init__(self, handler: Any, server: Any) -> None:
            super().__init__(handler, server)
            self._queue = getattr(getattr(handler, "__self__", None), "queue", None)
            self._frames: list[bytes] = []
            self._buffered = 0
            self._failure: BaseException | None = None

        def send(self, message: Any) -> Any:
            queue = self._queue
            if not isinstance(queue, FlushingQueue) or gevent.getcurrent() is not queue.consumer:
                return super().send(message)
            if self._failure is not None:
                raise self._failure
            if isinstance(message, str):
                data, first_byte = message.encode(), TEXT_FRAME
            else:
                data, first_byte = bytes(message), BINARY_FRAME
            self._frames.append(frame_header(len(data), first_byte))
            self._frames.append(data)
            self._buffered += len(data)
            if self._buffered >= FLUSH_BYTES:
                self.flush()
            return None

        def flush(self) -> None:
            if not self._frames:
                return
            data = b"".join(self._frames)
            self._frames.clear()
            self._buffered = 0
            sock = self._sock
            if sock.closed or sock.raw_write is None:
                return
            try:
                sock.raw_write(data)
            except Exception as exc:  # the next send re-raises it in the writer
                self._failure = exc

        def close(self) -> Any:
            self.flush()
            return super().close()

    return BatchingWebSocket


# -- origins ----------------------------------------------------------------------------


def origin_policy(allowed: list[str] | str | None) -> Any:
    """Engine.IO's `cors_allowed_origins` for ALLOWED_ORIGINS: the page's own origin always.

    python-engineio's own default (None) accepts only the same origin, but a list replaces
    that check entirely: listing the app's origin would lock out the web UI served by the
    same proxy. A list becomes a check that accepts the request's own origin (from Host,
    or X-Forwarded-Proto/Host) plus the listed ones.
    """
    if allowed is None or allowed == "*":
        return allowed
    listed = frozenset(allowed)

    def allowed_origin(origin: str | None, environ: dict[str, Any]) -> bool:
        if origin is None or origin in listed:
            return True
        host = environ.get("HTTP_HOST", "")
        scheme = environ.get("wsgi.url_scheme", "http")
        own = {f"{scheme}://{host}"}
        forwarded_host = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip()
        forwarded_proto = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip()
        own.add(f"{forwarded_proto}://{forwarded_host}")
        return origin in own

    return allowed_origin


# -- pings: one greenlet per worker, not one per socket --------------------------------
#
# python-engineio schedules each socket's next PING in a greenlet of its own that sleeps
# through the ping interval: one more greenlet (~8 KB) per idle connection. Every socket
# of a server has the same interval, so due times arrive in the order they were set: a
# FIFO read by a single greenlet serves them all.


class Pinger:
    """Sends each socket its PING `ping_interval` after the last PONG, from one greenlet."""

    def __init__(self, eio_server: Any) -> None:
        self.server = eio_server
        self.due: deque[tuple[float, Any]] = deque()
        self.runner: gevent.Greenlet | None = None

    def schedule(self, socket: Any) -> None:
        """engineio's Socket.schedule_ping: only once the previous cycle completed."""
        if not socket.last_ping:
            return
        socket.last_ping = None
        self.due.append((time.monotonic() + self.server.ping_interval, socket))
        if self.runner is None:
            self.runner = gevent.spawn(self._run)

    def _run(self) -> None:
        try:
            while self.due:
                at, socket = self.due[0]
                wait = at - time.monotonic()
                if wait > 0:
                    gevent.sleep(wait)
                    continue
                self.due.popleft()
                if not socket.closing and not socket.closed:
                    socket.last_ping = time.time()
                    socket.send(eio_packet.Packet(eio_packet.PING))
        finally:
            self.runner = None


def install_pinger(eio_server: Any) -> Pinger:
    """Route engineio's per-socket ping scheduling to this server's Pinger."""
    pinger = Pinger(eio_server)
    eio_server.talkrooms_pinger = pinger

    def schedule_ping(socket: Any) -> None:
        socket.server.talkrooms_pinger.schedule(socket)

    eio_socket.Socket.schedule_ping = schedule_ping
    return pinger
