"""Direct writes: room frames reach a real socket once per loop turn, in order with the
socket's queued packets, also when the kernel takes only part of them."""

from __future__ import annotations

import socket as std_socket
from typing import Any

import gevent
import gevent.socket
import pytest
from engineio import packet as eio_packet

from talkrooms.realtime import socket_writer
from talkrooms.realtime.direct_writes import DirectWrites, frame_header, text_frame
from talkrooms.realtime.transport import FlushingQueue


class PairWebSocket:
    """transport.BatchingWebSocket's buffer, flush and send, over one end of a real pair."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self._frames: list[Any] = []
        self._failure: BaseException | None = None
        self.closed = False

    def send(self, text: str) -> None:
        if self._failure is not None:
            raise self._failure
        data = text.encode()
        self._frames += [frame_header(len(data)), data]

    def flush(self) -> None:
        data = b"".join(self._frames)
        self._frames.clear()
        if data:
            try:
                self.sock.sendall(data)
            except OSError as exc:  # the next send raises it, as in BatchingWebSocket
                self._failure = exc

    def close(self) -> None:
        self.flush()  # as BatchingWebSocket.close
        self.closed = True


class CountingSocket:
    """The non-blocking OS socket, counting the sends made on it."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.sends = 0

    def send(self, data: Any) -> int:
        self.sends += 1
        return int(self.raw.send(data))


class Connection:
    """A server end (writer, queue, WebSocket) and the client end that reads it."""

    def __init__(self, send_buffer: int | None = None) -> None:
        self.server, self.client = gevent.socket.socketpair()
        if send_buffer is not None:
            self.server.setsockopt(std_socket.SOL_SOCKET, std_socket.SO_SNDBUF, send_buffer)
        self.ws = PairWebSocket(self.server)
        self.raw = CountingSocket(self.server._sock)
        self.queue = FlushingQueue()
        self.queue.flush = self.ws.flush
        self.writer = socket_writer.OnDemandWriter(self.queue, self.ws, self.raw)
        self.queue.wake = self.writer.wake
        self.queue.direct = self.writer.write_direct
        self.writer.direct = True  # as the WebSocket handler sets it
        self.received = b""

    def read_messages(self, count: int, timeout: float = 5.0) -> list[str]:
        """Read until `count` whole text frames arrived; their payloads."""
        messages: list[str] = []
        with gevent.Timeout(timeout):
            while len(messages) < count:
                parsed = _parse(self.received)
                if len(parsed[0]) >= count:
                    messages = parsed[0]
                    break
                chunk = self.client.recv(1 << 20)
                assert chunk, "the server end closed"
                self.received += chunk
        return messages

    def close(self) -> None:
        self.server.close()
        self.client.close()


def _parse(data: bytes) -> tuple[list[str], int]:
    messages, at = [], 0
    while at + 2 <= len(data):
        assert data[at] == 0x81, "every frame is a final text frame"
        length, head = data[at + 1], 2
        if length == 126:
            if at + 4 > len(data):
                break
            length, head = int.from_bytes(data[at + 2 : at + 4], "big"), 4
        elif length == 127:
            if at + 10 > len(data):
                break
            length, head = int.from_bytes(data[at + 2 : at + 10], "big"), 10
        if at + head + length > len(data):
            break
        messages.append(data[at + head : at + head + length].decode())
        at += head + length
    return messages, at


@pytest.fixture
def connection() -> Any:
    conn = Connection()
    yield conn
    conn.close()


def settle() -> None:
    """Let the loop run its callbacks (the end-of-turn send)."""
    gevent.sleep(0)
    gevent.sleep(0)


def test_frames_of_one_turn_leave_in_one_send(connection: Connection) -> None:
    direct = DirectWrites()
    assert connection.writer.takes_direct_writes()
    for n in range(5):
        direct.add(connection.writer, text_frame(f'2["new_message",{{"n":{n}}}]'))
    settle()
    assert connection.raw.sends == 1
    assert connection.read_messages(5) == [f'42["new_message",{{"n":{n}}}]' for n in range(5)]
    assert connection.writer.greenlet is None  # no writer was needed


def test_packets_put_on_an_idle_socket_queue_join_the_turns_send(
    connection: Connection,
) -> None:
    direct = DirectWrites()
    direct.add(connection.writer, text_frame('2["new_message","a"]'))
    connection.queue.put(eio_packet.Packet(eio_packet.MESSAGE, '3["ack"]'))
    connection.queue.put(eio_packet.Packet(eio_packet.PING))
    assert connection.queue.qsize() == 0 and connection.writer.greenlet is None
    assert connection.read_messages(3) == ['42["new_message","a"]', '43["ack"]', "2"]


def test_a_writer_leaves_once_its_queue_is_empty_and_direct_writes_resume(
    connection: Connection,
) -> None:
    connection.queue.direct = None  # as before the handler: packets are queued
    for n in range(3):
        connection.queue.put(eio_packet.Packet(eio_packet.MESSAGE, f'2["queued",{n}]'))
    connection.queue.direct = connection.writer.write_direct
    assert connection.writer.greenlet is not None
    with gevent.Timeout(2):  # no lingering for WRITER_IDLE_SECONDS
        connection.writer.join()
    assert connection.writer.takes_direct_writes()
    connection.queue.put(eio_packet.Packet(eio_packet.MESSAGE, '2["direct",3]'))
    assert connection.writer.greenlet is None
    assert connection.read_messages(4) == [f'42["queued",{n}]' for n in range(3)] + [
        '42["direct",3]'
    ]


def test_a_packet_queued_after_direct_frames_leaves_after_them(connection: Connection) -> None:
    direct = DirectWrites()
    direct.add(connection.writer, text_frame('2["new_message","a"]'))
    connection.queue.put(None)  # the end mark is queued, and its writer starts...
    assert not connection.writer.takes_direct_writes()
    connection.writer.join()  # ...sending the buffer before it closes
    assert connection.read_messages(1) == ['42["new_message","a"]']
    assert connection.ws.closed


def test_a_send_cut_short_is_finished_by_the_writer_in_order() -> None:
    conn = Connection(send_buffer=4096)
    try:
        direct = DirectWrites()
        big = "x" * 60_000
        for n in range(20):  # ~1.2 MB: far more than the socket takes at once
            direct.add(conn.writer, text_frame(f'2["new_message","{n}{big}"]'))
        settle()
        assert conn.writer.greenlet is not None  # finishing the rest, blocking as it may
        assert not conn.writer.takes_direct_writes()
        conn.queue.put(eio_packet.Packet(eio_packet.MESSAGE, '2["after","z"]'))
        messages = conn.read_messages(21, timeout=10)
        assert [m[: m.index(big)] if big in m else m for m in messages] == [
            f'42["new_message","{n}' for n in range(20)
        ] + ['42["after","z"]']
        assert all(m.endswith(big + '"]') for m in messages[:20])
        with gevent.Timeout(5):
            while conn.writer.greenlet is not None:  # leaves once all is sent
                gevent.sleep(0.05)
        assert conn.writer.takes_direct_writes()
        assert conn.queue._queue is None
    finally:
        conn.close()


def test_a_broken_socket_is_left_to_its_writer_to_close(connection: Connection) -> None:
    direct = DirectWrites()
    connection.client.close()
    with gevent.Timeout(5):
        while connection.ws._failure is None:  # the first sends may still be accepted
            direct.add(connection.writer, text_frame('2["new_message","lost"]'))
            settle()
    assert not connection.writer.takes_direct_writes()
    connection.queue.put(eio_packet.Packet(eio_packet.MESSAGE, '2["next",1]'))
    connection.writer.join()
    assert connection.writer.done and connection.ws.closed


def test_text_frame_lengths() -> None:
    assert text_frame("x")[:2] == bytes((0x81, 2))
    assert text_frame("x" * 200)[:4] == bytes((0x81, 126, 0, 201))
    long = text_frame("x" * 70_000)
    assert long[:2] == bytes((0x81, 127)) and int.from_bytes(long[2:10], "big") == 70_001
