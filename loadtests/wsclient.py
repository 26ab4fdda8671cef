"""A lean Socket.IO-over-WebSocket client for the benchmarks (asyncio, no dependencies).

Locust's SocketIOUser runs one python-socketio client per user, several greenlets each;
on a 2-core box that shared with the server, the generator would become the limit long
before the server does. This client speaks just what the benchmark needs — the WebSocket
handshake, text frames, Engine.IO open/ping/pong and Socket.IO connect/event/ack packets —
and hands received packets to a callback without decoding them.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import struct
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

Handler = Callable[[str], None]

_MASK_KEY = b"\x00\x00\x00\x00"  # a zero key: valid framing, and the payload needs no XOR


def _text_frame(payload: bytes) -> bytes:
    """One masked client text frame (FIN, opcode 1)."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, 0x80 | length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x81, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 0x80 | 127, length)
    return header + _MASK_KEY + payload


class SocketIOConnection(asyncio.Protocol):
    """One Socket.IO client on one WebSocket; `on_event` gets raw '42[...]' packets."""

    def __init__(
        self, url: str, on_event: Handler | None = None, auth: dict[str, Any] | None = None
    ) -> None:
        self.auth = auth
        parsed = urlparse(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.on_event = on_event or (lambda packet: None)
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.connected: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.acks: dict[int, asyncio.Future[Any]] = {}
        self.ack_ids = itertools.count(1)
        # What a dropped connection says about itself (loadtests/idle_connections.py).
        self.sid = ""
        self.last_ping = 0.0
        self.closed_at = 0.0
        self.close_cause = ""

    # -- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: {self.host}:{self.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.transport.write(request.encode())

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed_at = self.closed_at or time.time()
        self.close_cause = self.close_cause or (f"connection lost: {exc}" if exc else "eof")
        if not self.closed.done():
            self.closed.set_result(None)
        if not self.connected.done():
            self.connected.set_exception(ConnectionError(f"closed before connect: {exc}"))
        for future in self.acks.values():
            if not future.done():
                future.set_exception(ConnectionError("connection lost"))

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            if b" 101 " not in status:
                self.connected.set_exception(ConnectionError(status.decode(errors="replace")))
                self.close()
                return
            del buffer[: end + 4]
            self.upgraded = True
        position = 0
        size = len(buffer)
        while size - position >= 2:
            opcode = buffer[position] & 0x0F
            length = buffer[position + 1] & 0x7F
            header = 2
            if length == 126:
                if size - position < 4:
                    break
                length = (buffer[position + 2] << 8) | buffer[position + 3]
                header = 4
            elif length == 127:
                if size - position < 10:
                    break
                (length,) = struct.unpack_from("!Q", buffer, position + 2)
                header = 10
            if size - position < header + length:
                break
            start = position + header
            payload = bytes(buffer[start : start + length])
            position = start + length
            if opcode == 1:
                self._packet(payload.decode())
            elif opcode == 8:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                self._closing(f"close frame {code}")
                self.close()
        if position:
            del buffer[:position]

    # -- Engine.IO / Socket.IO -------------------------------------------------------

    def _packet(self, text: str) -> None:
        kind = text[0]
        if kind == "4":
            sub = text[1]
            if sub == "2":
                self.on_event(text)
            elif sub == "3":
                bracket = text.index("[")
                future = self.acks.pop(int(text[2:bracket]), None)
                if future is not None and not future.done():
                    future.set_result(json.loads(text[bracket:]))
            elif sub == "0" and not self.connected.done():
                self.connected.set_result(None)
        elif kind == "2":
            self.last_ping = time.time()
            self._send("3")
        elif kind == "0":
            self.sid = json.loads(text[1:]).get("sid", "")
            self._send("40" + (json.dumps(self.auth) if self.auth else ""))
        elif kind == "1":
            self._closing("engine.io close packet")

    def _closing(self, cause: str) -> None:
        """The server closed first: when, and how (the first cause seen wins)."""
        if not self.close_cause:
            self.closed_at, self.close_cause = time.time(), cause

    def _send(self, text: str) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_text_frame(text.encode()))

    def emit(self, event: str, data: Any) -> None:
        self._send("42" + json.dumps([event, data], separators=(",", ":")))

    def emit_with_ack(self, event: str, data: Any) -> asyncio.Future[Any]:
        ack_id = next(self.ack_ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.acks[ack_id] = future
        self._send(f"42{ack_id}" + json.dumps([event, data], separators=(",", ":")))
        return future

    async def call(self, event: str, data: Any, timeout: float = 10.0) -> Any:
        return (await asyncio.wait_for(self.emit_with_ack(event, data), timeout))[0]

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def connect(
    url: str,
    on_event: Handler | None = None,
    timeout: float = 10.0,
    auth: dict[str, Any] | None = None,
):
    """Open one connection and wait for the Socket.IO CONNECT answer (`auth`: handshake)."""
    loop = asyncio.get_running_loop()
    parsed = urlparse(url)
    _, protocol = await asyncio.wait_for(
        loop.create_connection(
            lambda: SocketIOConnection(url, on_event, auth), parsed.hostname, parsed.port or 80
        ),
        timeout,
    )
    await asyncio.wait_for(protocol.connected, timeout)
    return protocol
