"""A lean Redis pub/sub subscription: one socket, hiredis' C parser, payloads only.

A worker reads every message stored in a room it has members in (the fan-out frames of
realtime/broadcast.py), so this loop runs once per message per interested worker.
redis-py's PubSub builds a dict per message, checks health and handles every kind of
reply; here a read of up to 256 KB is fed to hiredis at once and every complete `message`
reply in it is yielded as its payload. Channels are added and dropped while it runs
(realtime/room_channels.py): their confirmations go to `on_confirm`.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterator

import hiredis

from talkrooms.realtime.room_channels import RoomChannels
from talkrooms.storage.redis_clients import primary_address

log = logging.getLogger("talkrooms.realtime.subscriber")

READ_BYTES = 256 * 1024


def _command(*parts: bytes) -> bytes:
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        out.append(b"$%d\r\n%s\r\n" % (len(part), part))
    return b"".join(out)


def _keepalive(sock: socket.socket) -> None:
    """Notice a Redis host that vanished without closing the connection (in ~25 s)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (("TCP_KEEPIDLE", 10), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, option):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


class RawSubscriber:
    """SUBSCRIBE to some channels; `payloads()` yields message bodies until the link drops;
    `command()` subscribes or unsubscribes more meanwhile (from any greenlet)."""

    def __init__(
        self,
        url: str,
        channels: list[str],
        connect_timeout: float = 2.0,
        on_confirm: Callable[[bytes, bytes], None] | None = None,
        sharded: bool = False,
        address: tuple[str, int] | None = None,
    ) -> None:
        self.url = url
        self.channels = [c.encode() for c in channels]
        self.connect_timeout = connect_timeout
        self.on_confirm = on_confirm
        # Sharded pub/sub (a Redis Cluster node): SSUBSCRIBE, one channel per command (a
        # command's channels must share a slot), on the node owning them (`address`).
        self.sharded = sharded
        self.address = address
        self.sock: socket.socket | None = None
        self._write = threading.Lock()

    def _subscribe_commands(self, verb: bytes, channels: list[bytes]) -> bytes:
        if not channels:
            return b""
        if self.sharded:
            return b"".join(_command(b"S" + verb, channel) for channel in channels)
        return _command(verb, *channels)

    def open(self) -> None:
        host, port, auth = primary_address(self.url)
        if self.address is not None:
            host, port = self.address
        sock = socket.create_connection((host, port), timeout=self.connect_timeout)
        _keepalive(sock)
        reader = hiredis.Reader()
        commands = b""
        if auth.get("password"):
            parts = [b"AUTH"]
            if auth.get("username"):
                parts.append(str(auth["username"]).encode())
            parts.append(str(auth["password"]).encode())
            commands += _command(*parts)
        commands += self._subscribe_commands(b"SUBSCRIBE", self.channels)
        if commands:
            sock.sendall(commands)
        # One reply per channel subscribed, and one for AUTH.
        expected = len(self.channels) + (1 if auth.get("password") else 0)
        while expected:
            data = sock.recv(READ_BYTES)
            if not data:
                raise ConnectionError("Redis closed the subscription")
            reader.feed(data)
            while expected and (reply := reader.gets()) is not False:
                if isinstance(reply, hiredis.ReplyError):
                    raise ConnectionError(f"Redis refused the subscription: {reply}")
                expected -= 1
        sock.settimeout(None)  # idle between messages is normal
        self.sock = sock
        self.reader = reader

    def command(self, verb: bytes, channels: list[bytes]) -> None:
        """SUBSCRIBE or UNSUBSCRIBE on the open link; the reply comes through payloads()."""
        sock = self.sock
        if sock is None:
            raise ConnectionError("not subscribed")
        with self._write:
            sock.sendall(self._subscribe_commands(verb, channels))

    def payloads(self) -> Iterator[bytes]:
        """Message bodies, in order; raises ConnectionError when the link drops."""
        sock, reader, confirm = self.sock, self.reader, self.on_confirm
        if sock is None:
            raise ConnectionError("not subscribed")
        while True:
            while (reply := reader.gets()) is not False:
                if type(reply) is list and len(reply) == 3:
                    if reply[0] == b"message" or reply[0] == b"smessage":
                        yield reply[2]
                    elif confirm is not None:
                        confirm(reply[0], reply[1])
                elif isinstance(reply, hiredis.ReplyError):
                    # MOVED: the slot went to another node (a failover, a reshard).
                    raise ConnectionError(f"Redis refused a subscription: {reply}")
            data = sock.recv(READ_BYTES)
            if not data:
                raise ConnectionError("Redis closed the subscription")
            reader.feed(data)

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None


def pump(link: RawSubscriber, dispatch: Callable[[bytes], None]) -> None:
    """Hand every frame of a link to `dispatch` until the link drops (ConnectionError);
    one bad frame is logged and skipped."""
    for raw in link.payloads():
        try:
            dispatch(raw)
        except Exception:
            log.exception("message queue frame failed")


class SingleListener:
    """The listener on one Redis: one link for the shared channel and every room's
    (cluster_listener.ClusterListener is the same on a Redis Cluster)."""

    def __init__(self, url: str, channels: RoomChannels, dispatch: Callable[[bytes], None]) -> None:
        self.url = url
        self.channels = channels
        self.dispatch = dispatch
        self.link: RawSubscriber | None = None

    def open(self) -> None:
        wanted = self.channels.wanted()
        self.link = RawSubscriber(self.url, wanted, on_confirm=self.channels.confirmed)
        self.link.open()
        self.channels.attach(self.link.command, wanted)

    def pump(self) -> None:
        """Dispatch frames until the link drops; raises ConnectionError."""
        if self.link is None:
            raise ConnectionError("not subscribed")
        pump(self.link, self.dispatch)

    def close(self) -> None:
        self.channels.detach()
        if self.link is not None:
            with contextlib.suppress(Exception):
                self.link.close()
            self.link = None
