"""Long-polling requests python-engineio would mishandle get a quick 4xx here instead.

python-engineio 4.15 decodes a polling POST inside a bare `except:` that logs a traceback
and answers 200 (garbage: `pxx`, an empty packet, bad base64, bytes that are not UTF-8);
and for a packet type it does not expect (or an oversize body) it closes the session with
`wait=True`, which waits for a GET to drain the queue: the POST hangs until the ping
timeout. This WSGI layer sits in front of it and reads a polling POST first: a body that
does not decode exactly as the library would, a packet a client may not send, a length
that is not a number or is over the limit, or a content type no Engine.IO client uses is
answered at once with a JSON 4xx, the session (if any) is closed without waiting, and one
line is logged. Requests that pass reach the library unchanged.

JSONP polling (`j=`) is refused too: no Engine.IO v4 client uses it, and a same-origin
endpoint that answers executable script would be a way around the pages' CSP.
"""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from engineio import packet as eio_packet
from engineio import payload as eio_payload

from talkrooms.telemetry import metrics

log = logging.getLogger("talkrooms.polling")

# What a client may send over polling: close, pong, message, upgrade (v4 protocol).
CLIENT_PACKET_TYPES = frozenset(
    (eio_packet.CLOSE, eio_packet.PONG, eio_packet.MESSAGE, eio_packet.UPGRADE)
)
# Packets of one polling payload are joined by the record separator (Engine.IO v4).
PACKET_SEPARATOR = "\x1e"
# Engine.IO clients post text/plain (browsers add a charset); some send nothing or bytes.
CONTENT_TYPES = frozenset(("", "text/plain", "application/octet-stream"))

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Refusal(Exception):
    """A polling request answered here: HTTP status line and a short reason."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def check_body(body: bytes) -> None:
    """Raise Refusal unless `body` decodes, as python-engineio would, into client packets.

    Stricter than the library where it is lenient: binary packets must be valid base64
    (it drops stray characters), control packets carry no data but a pong's "probe" (it
    reads `12:42[…]`, an Engine.IO v3 length prefix, as a CLOSE), and a JSONP body (`d=`)
    is not accepted.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refusal("400 Bad Request", "not an Engine.IO payload") from exc
    if text.startswith("d="):
        raise Refusal("400 Bad Request", "JSONP is not supported")
    try:
        packets = eio_payload.Payload(encoded_payload=text).packets
        for segment in text.split(PACKET_SEPARATOR) if text else ():
            if segment.startswith("b"):
                base64.b64decode(segment[1:], validate=True)
    except Exception as exc:  # the library raises whatever its decoders raise
        raise Refusal("400 Bad Request", "not an Engine.IO payload") from exc
    for pkt in packets:
        if pkt.packet_type not in CLIENT_PACKET_TYPES:
            raise Refusal("400 Bad Request", "a packet type a client may not send")
        if pkt.packet_type != eio_packet.MESSAGE and pkt.data not in (None, "", "probe"):
            raise Refusal("400 Bad Request", "a control packet with data")


def read_post(environ: dict[str, Any], max_bytes: int) -> bytes:
    """The body of a polling POST, after checking its length and content type."""
    raw_length = environ.get("CONTENT_LENGTH") or "0"
    if not raw_length.isdigit():
        raise Refusal("400 Bad Request", "bad Content-Length")
    length = int(raw_length)
    if length > max_bytes:
        raise Refusal("413 Payload Too Large", "payload too large")
    content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if content_type not in CONTENT_TYPES:
        raise Refusal("415 Unsupported Media Type", "unsupported content type")
    body: bytes = environ["wsgi.input"].read(length)
    if len(body) != length:
        raise Refusal("400 Bad Request", "body shorter than Content-Length")
    return body


def close_session(eio_server: Any, sid: str | None) -> None:
    """End a session now: its pending GET (if any) gets the CLOSE packet, later requests
    with this sid get the library's 400. Never waits for the queue to drain."""
    socket = eio_server.sockets.get(sid) if sid else None
    if socket is None:
        return
    socket.close(wait=False, abort=False, reason=eio_server.reason.TRANSPORT_ERROR)
    eio_server.sockets.pop(sid, None)


def install_polling_guard(wsgi_app: WsgiApp, eio_server: Any, path: str = "/socket.io") -> WsgiApp:
    """Wrap the worker's WSGI app so polling requests are checked before python-engineio."""
    max_bytes = int(eio_server.max_http_buffer_size)

    def refuse(
        start_response: Callable[..., Any], refusal: Refusal, sid: str | None
    ) -> list[bytes]:
        close_session(eio_server, sid)
        metrics.MESSAGES_REJECTED.labels(reason="malformed").inc()
        log.info("polling request refused", extra={"reason": refusal.reason, "sid": sid})
        body = json.dumps({"error": refusal.reason}).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response(refusal.status, headers)
        return [body]

    def check(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes] | None:
        """A refusal, or None to pass the request on. Apart from `guarded` so that its
        locals (the parsed query) are not kept on the stack of a WebSocket's greenlet
        for the life of the connection."""
        query = parse_qs(environ.get("QUERY_STRING", ""))
        sid = query.get("sid", [None])[0]
        if "j" in query:
            return refuse(start_response, Refusal("400 Bad Request", "JSONP is not supported"), sid)
        polling = query.get("transport", [""])[0] == "polling"
        if polling and environ.get("REQUEST_METHOD") == "POST" and sid in eio_server.sockets:
            try:
                body = read_post(environ, max_bytes)
                check_body(body)
            except Refusal as refusal:
                return refuse(start_response, refusal, sid)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return None

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(path):
            refused = check(environ, start_response)
            if refused is not None:
                return refused
        return wsgi_app(environ, start_response)

    return guarded
