"""The gunicorn worker class of a chat worker: gevent-websocket with a smaller read buffer.

gevent's WSGI handler reads each connection through a BufferedReader of 8 KB, allocated
for the whole life of a WebSocket although frames from chat clients are a few hundred
bytes: 8 KB of every idle connection. 2 KB holds any header block a browser sends here
(nginx caps them) and any chat frame; larger frames are simply read in more calls.

Imported by the gunicorn master (deploy/gunicorn.conf.py names it): only gevent and
gevent-websocket here, never the app or redis.
"""

from __future__ import annotations

from typing import Any

from geventwebsocket.gunicorn.workers import GeventWebSocketWorker
from geventwebsocket.handler import WebSocketHandler

READ_BUFFER_BYTES = 2048


class LeanWebSocketHandler(WebSocketHandler):
    def __init__(self, sock: Any, address: Any, server: Any, rfile: Any = None) -> None:
        if rfile is None:
            rfile = sock.makefile("rb", READ_BUFFER_BYTES)
        super().__init__(sock, address, server, rfile)


class TalkroomsWebSocketWorker(GeventWebSocketWorker):
    wsgi_handler = LeanWebSocketHandler
