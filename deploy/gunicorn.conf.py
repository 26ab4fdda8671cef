"""gunicorn settings of one chat worker process: one gevent worker on one port.

Flask-SocketIO cannot spread one port over several gunicorn workers (a long-polling
client must always reach the process that holds its session), so the stack runs several
gunicorn processes, each with exactly one worker on its own loopback port, behind nginx.

This file is read by the gunicorn master, which must not import `redis` or the app:
no --preload with gevent workers (the app is loaded after the worker has patched).
"""

import os
import sys

_WORKER_CLASSES = {
    # gevent-websocket: the faster of the two here (BENCHMARKS.md); needs this class,
    # plain -k gevent fails every WebSocket when gevent-websocket is installed.
    "gevent-websocket": "talkrooms.realtime.gunicorn_worker.TalkroomsWebSocketWorker",
    # simple-websocket through plain gevent.
    "gevent": "gevent",
}

bind = os.environ.get("BIND") or (
    f"{os.environ.get('SERVER_HOST', '127.0.0.1')}:{os.environ.get('SERVER_PORT', '5000')}"
)
workers = 1
worker_class = _WORKER_CLASSES[os.environ.get("WORKER_CLASS", "gevent-websocket")]
if worker_class == "gevent":
    # python-engineio uses gevent-websocket whenever it can import it, and plain gevent
    # workers cannot serve it; hiding the module (an ImportError in the forked worker)
    # makes engineio use simple-websocket, so both classes run from one installation.
    sys.modules["geventwebsocket"] = None  # type: ignore[assignment]
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "20000"))
# WebSockets are long requests: the timeout only covers a worker stuck without yielding.
timeout = 60
# A stopping worker waits this long for its open WebSockets, then closes them; their
# clients reconnect through nginx to another worker (supervisord's stopwaitsecs is 15).
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT_SECONDS", "10"))
keepalive = 75
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
proc_name = f"talkrooms-worker-{os.environ.get('SERVER_PORT', '5000')}"


def worker_exit(server, worker):
    """Leave presence cleanly when a worker stops (kill -9 is handled by heartbeats)."""
    try:
        from talkrooms import wsgi

        wsgi.shutdown()
    except Exception as exc:
        server.log.warning("presence cleanup on exit failed: %s", exc)
