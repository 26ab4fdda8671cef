"""A raw Engine.IO/Socket.IO WebSocket peer, to send what no well-behaved client would."""

from __future__ import annotations

import json
import time
from typing import Any

import websocket


class RawSocket:
    """Speaks the wire protocol by hand: `send_raw('42["join_room",{...}]')`."""

    def __init__(self, base_url: str, origin: str | None = None) -> None:
        url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        headers = [f"Origin: {origin}"] if origin else []
        self.ws = websocket.create_connection(
            url, timeout=5, header=headers, suppress_origin=origin is None
        )
        opening = self.ws.recv()
        assert opening.startswith("0{"), opening
        self.send_raw("40")
        answer = self.recv_until(lambda p: p.startswith("40"))
        self.sid = json.loads(answer[2:])["sid"]

    def send_raw(self, packet: str | bytes) -> None:
        if isinstance(packet, bytes):
            self.ws.send_binary(packet)
        else:
            self.ws.send(packet)

    def emit(self, event: str, data: Any, ack_id: int | None = None) -> None:
        prefix = "42" if ack_id is None else f"42{ack_id}"
        self.send_raw(prefix + json.dumps([event, data]))

    def recv_until(self, predicate, timeout: float = 5.0) -> str:
        """The next text packet matching `predicate`; answers pings on the way."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no matching packet")
            self.ws.settimeout(remaining)
            packet = self.ws.recv()
            if packet == "2":
                self.ws.send("3")
                continue
            if isinstance(packet, str) and predicate(packet):
                return packet

    def event(self, name: str, timeout: float = 5.0) -> Any:
        packet = self.recv_until(lambda p: p.startswith(f'42["{name}"'), timeout)
        return json.loads(packet[2:])[1]

    def ack(self, ack_id: int, timeout: float = 5.0) -> Any:
        packet = self.recv_until(lambda p: p.startswith(f"43{ack_id}["), timeout)
        return json.loads(packet[len(f"43{ack_id}") :])[0]

    @property
    def connected(self) -> bool:
        return bool(self.ws.connected)

    def close(self) -> None:
        self.ws.close()
