"""The on-demand WebSocket writer: started by a put, gone when idle, closing at the end."""

from __future__ import annotations

from typing import Any

import gevent
import pytest
from engineio import packet as eio_packet

from talkrooms.realtime import socket_writer
from talkrooms.realtime.transport import FlushingQueue


class RecordingWebSocket:
    """Stands in for the WebSocket: records what the writer sends and when it closes."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.sent: list[str] = []
        self.closed = False
        self.fail_on = fail_on

    def send(self, data: str) -> None:
        if data == self.fail_on:
            raise OSError("broken pipe")
        self.sent.append(data)

    def close(self) -> None:
        self.closed = True


def message(text: str) -> Any:
    return eio_packet.Packet(eio_packet.MESSAGE, text)


@pytest.fixture
def short_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket_writer, "WRITER_IDLE_SECONDS", 0.05)


def writer_for(ws: RecordingWebSocket) -> tuple[FlushingQueue, socket_writer.OnDemandWriter]:
    queue = FlushingQueue()
    writer = socket_writer.OnDemandWriter(queue, ws)
    queue.wake = writer.wake
    return queue, writer


def wait_until(condition: Any, timeout: float = 2.0) -> None:
    with gevent.Timeout(timeout):
        while not condition():
            gevent.sleep(0.005)


def test_no_writer_until_something_is_queued(short_idle: None) -> None:
    ws = RecordingWebSocket()
    _queue, writer = writer_for(ws)
    writer.wake()
    assert writer.greenlet is None


def test_packets_leave_in_order_then_the_idle_writer_ends(short_idle: None) -> None:
    ws = RecordingWebSocket()
    queue, writer = writer_for(ws)
    for text in ("a", "b", "c"):
        queue.put(message(text))
    assert writer.greenlet is not None
    assert queue.wake is None  # a running writer costs a put nothing more
    wait_until(lambda: writer.greenlet is None)
    assert ws.sent == ["4a", "4b", "4c"]
    assert queue.wake == writer.wake
    assert not ws.closed
    # Idle again: neither the finished greenlet nor gevent's queue is kept.
    assert queue.consumer is None and queue._queue is None and queue.qsize() == 0

    queue.put(message("d"))  # after idling out, the next put starts a new writer
    wait_until(lambda: ws.sent[-1:] == ["4d"])
    queue.join()  # every packet marked done


def test_end_mark_closes_the_websocket_and_later_packets_are_dropped(short_idle: None) -> None:
    ws = RecordingWebSocket()
    queue, writer = writer_for(ws)
    queue.put(message("last"))
    queue.put(None)
    writer.join()
    wait_until(lambda: writer.greenlet is None)
    assert ws.sent == ["4last"] and ws.closed and writer.done
    queue.put(message("too late"))
    assert writer.greenlet is None
    with gevent.Timeout(1):
        queue.join()  # a close(wait=True) after the end does not hang


def test_failed_send_closes_the_websocket(short_idle: None) -> None:
    ws = RecordingWebSocket(fail_on="4boom")
    queue, writer = writer_for(ws)
    queue.put(message("ok"))
    queue.put(message("boom"))
    queue.put(message("never"))
    wait_until(lambda: writer.done and writer.greenlet is None)
    assert ws.sent == ["4ok"] and ws.closed
    with gevent.Timeout(1):
        queue.join()
