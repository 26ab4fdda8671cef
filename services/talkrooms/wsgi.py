"""The WSGI entry point of a chat worker: `gunicorn talkrooms.wsgi:app`.

gevent must patch the standard library before anything imports `socket` or `redis`;
gunicorn's gevent workers patch too, and patching twice is harmless.
"""

import gevent
from gevent import monkey

monkey.patch_all()
# gevent records, for every greenlet, the stack that spawned it (for debugging tools):
# about a kilobyte for each connection's greenlet, kept as long as the connection.
gevent.config.track_greenlet_tree = False

import signal  # noqa: E402
from types import FrameType  # noqa: E402

from talkrooms.app import create_app  # noqa: E402
from talkrooms.settings import Settings  # noqa: E402
from talkrooms.storage.store import wait_for_cluster  # noqa: E402
from talkrooms.telemetry import gc_pauses  # noqa: E402
from talkrooms.telemetry.logs import configure_logging  # noqa: E402

settings = Settings()
# On a Redis Cluster that is still forming, wait (and say so) rather than fail the boot.
configure_logging(settings.log_level)
wait_for_cluster(settings.effective_redis_url, "worker")
app, socketio = create_app(settings)
# The app's objects live as long as the worker: out of the collector's walks (its pauses
# stop every socket), and every collection timed in talkrooms_gc_pause_seconds.
gc_pauses.freeze_startup_objects()
gc_pauses.watch()

# How long a draining worker keeps its users' presence for them to reconnect elsewhere.
DRAIN_GRACE_SECONDS = 2.0


def _hand_over_on_sigterm() -> None:
    """On SIGTERM, close every socket at once so its client reconnects to another worker.

    gunicorn would otherwise hold the WebSockets open for the whole graceful timeout and
    drop them all at its end. gunicorn's own handler (stop accepting) still runs first.
    """
    gunicorn_handler = signal.getsignal(signal.SIGTERM)

    def handler(signum: int, frame: FrameType | None) -> None:
        if callable(gunicorn_handler):
            gunicorn_handler(signum, frame)
        gevent.spawn(app.extensions["talkrooms"].chat.drain)

    signal.signal(signal.SIGTERM, handler)


def shutdown() -> None:
    """Called by gunicorn's worker_exit hook: leave presence before the process ends.

    After a drain, the users had a moment to reconnect elsewhere with their client key:
    only those who did not come back are announced as gone. A drain that closed no socket
    has nobody to wait for.
    """
    state = app.extensions["talkrooms"]
    if state.chat.drained_sockets:  # set by the drain only
        gevent.sleep(DRAIN_GRACE_SECONDS)
    state.presence.shutdown()


_hand_over_on_sigterm()
