"""The gunicorn worker class of a chat worker: gevent-websocket, leaner per connection.

gevent's WSGI handler reads each connection through a BufferedReader of 8 KB, allocated
for the whole life of a WebSocket although frames from chat clients are a few hundred
bytes: 8 KB of every idle connection. 1 KB holds any chat frame a client sends; a larger
frame, or a long header block, is simply read in more calls.

Once a connection is a WebSocket, the parsed request headers are let go: everything read
from them later is in the environ, and they cost ~0.9 KB (an email.message object) for
the life of every connection.

The WebSocket's WSGI call is made here rather than in gevent-websocket's handler: it
calls the app's `wsgi_app` (Flask's `__call__` does nothing else) and keeps no registry
of clients on the server. The reading greenlet stays inside this call for the whole
connection, and Python 3.11 keeps that greenlet's frames in a data stack of its own whose
touched pages stay resident: with two frames fewer (and the rest of the entry shortened,
app.socket_io_first) its frames fit in one 4 KB page, not two (BENCHMARKS.md section 22).

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
        handler: Any = self  # gevent's and gevent-websocket's attributes are declared None
        websocket = handler.websocket
        app = getattr(handler.application, "wsgi_app", handler.application)
        try:
            for _ in app(self.environ, ignore_response):
                pass  # the answer of a WebSocket is its frames, sent already
        finally:
            if not websocket.closed:
                websocket.close()
            self.environ["wsgi.websocket"] = None
            self.websocket = None


def ignore_response(status: str, headers: Any, exc_info: Any = None) -> None:
    """start_response of a WebSocket's WSGI call: its HTTP answer was the upgrade."""


class TalkroomsWebSocketWorker(GeventWebSocketWorker):
    wsgi_handler = LeanWebSocketHandler
