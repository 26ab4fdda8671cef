"""Small pure parts: rate buckets, the message JSON, JSON logs, the library contract."""

from __future__ import annotations

import inspect
import json
import logging
from importlib.metadata import version
from pathlib import Path

import engineio
import orjson
import socketio

from talkrooms.chat.message_path import MessagePath, iso_now
from talkrooms.realtime.connections import TokenBucket
from talkrooms.settings import RateLimit
from talkrooms.telemetry.logs import JsonLineFormatter


def test_token_bucket_allows_a_burst_then_refuses(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr("talkrooms.realtime.connections.time.monotonic", lambda: clock[0])
    bucket = TokenBucket(RateLimit(3, 6))
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock[0] += 2.0  # 3 per 6 s refills one token every 2 s
    assert bucket.take() is True
    assert bucket.take() is False


def test_disabled_bucket_never_limits():
    bucket = TokenBucket(RateLimit.parse("0"))
    assert all(bucket.take() for _ in range(1000))


def test_message_tail_makes_valid_json_for_hostile_text():
    text = 'quote " backslash \\ newline \n unicode é 😀 </script>'
    tail = MessagePath._message_tail('a"b', text, "room-1", "cid-1", 0.0)
    message = json.loads('{"id":"000000000007' + tail + "}")
    assert message["message"] == text
    assert message["username"] == 'a"b'
    assert message["client_id"] == "cid-1"
    assert message["id"] == "000000000007" and message["type"] == "message"
    assert "client_id" not in json.loads(
        '{"id":"000000000001' + MessagePath._message_tail("a", "b", "r", None, 0.0) + "}"
    )


def test_iso_timestamps_are_utc_with_milliseconds():
    assert iso_now(0.5) == "1970-01-01T00:00:00.500Z"
    assert iso_now(1795615647.25) == "2026-11-25T14:07:27.250Z"


def test_log_lines_are_json_with_extras():
    record = logging.LogRecord(
        "talkrooms.test", logging.INFO, __file__, 1, "hello %s", ("world",), None
    )
    record.sid = "abc"
    line = orjson.loads(JsonLineFormatter().format(record))
    assert line["msg"] == "hello world" and line["sid"] == "abc"
    assert line["level"] == "INFO" and line["ts"].endswith("Z")


def test_pinned_socketio_versions_are_the_installed_ones():
    """realtime/broadcast.py and chat/events.py use private members: the lock pins them."""
    lock = (Path(__file__).resolve().parents[3] / "requirements.lock").read_text()
    for package in ("python-socketio", "python-engineio", "Flask-SocketIO"):
        assert f"{package}=={version(package)}" in lock, package


def test_library_private_parts_we_rely_on_still_exist():
    server = socketio.Server
    params = list(inspect.signature(server._handle_event).parameters)
    assert params == ["self", "eio_sid", "namespace", "id", "data"]
    assert list(inspect.signature(server._send_eio_packet).parameters) == [
        "self",
        "eio_sid",
        "eio_pkt",
    ]
    manager = socketio.RedisManager
    for name in (
        "_thread",
        "_listen",
        "_publish",
        "_redis_connect",
        "_handle_emit",
        "_handle_callback",
        "_handle_disconnect",
        "_handle_enter_room",
        "_handle_leave_room",
        "_handle_close_room",
        "_get_redis_module",
    ):
        assert callable(getattr(manager, name)), name
    assert hasattr(engineio.packet.Packet, "encode")


def test_client_address_trusts_only_configured_proxies():
    from talkrooms.chat.events import client_address
    from talkrooms.settings import Settings

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    via_nginx = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "203.0.113.9"}
    spoofed = {"REMOTE_ADDR": "198.51.100.7", "HTTP_X_REAL_IP": "203.0.113.9"}
    assert client_address(via_nginx, settings) == "203.0.113.9"
    assert client_address(spoofed, settings) == "198.51.100.7"
