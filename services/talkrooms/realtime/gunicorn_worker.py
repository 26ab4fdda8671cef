"""The gunicorn worker class of a chat worker: gevent-websocket, leaner per connection.

gevent's WSGI handler reads each connection through a BufferedReader of 8 KB, allocated
for the whole life of a WebSocket although frames from chat clients are a few hundred
bytes: 8 KB of every idle connection. 1 KB holds any chat frame a client sends; a larger
frame, or a long header block, is simply read in more calls.

Once a connection is a WebSocket, the parsed request headers are let go: everything read
from them later is in the environ, and they cost ~0.9 KB (an email.message object) for
the life of every connection.

Imported by the gunicorn master (deploy/gunicorn.conf.py names it): only gevent and
gevent-websocket here, never the app or redis.
"""

from __future__ import annotations

from typing import Any

from geventwebsocket.gunicorn.workers import GeventWebSocketWorker
from geventwebsocket.handler import WebSocketHandler

READ_BUFFER_BYTES = 1024


class LeanWebSocketHandler(WebSocketHandler):
    def __init__(self, sock: Any, address: Any, server: Any, rfile: Any = None) -> None:
        if rfile is None:
            rfile = sock.makefile("rb", READ_BUFFER_BYTES)
        super().__init__(sock, address, server, rfile)

    def run_websocket(self) -> None:
        self.headers = None  # read into the environ already (pywsgi's get_environ)
        super().run_websocket()


class TalkroomsWebSocketWorker(GeventWebSocketWorker):
    wsgi_handler = LeanWebSocketHandler
