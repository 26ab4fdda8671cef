"""The WSGI entry point of a chat worker: `gunicorn talkrooms.wsgi:app`.

gevent must patch the standard library before anything imports `socket` or `redis`;
gunicorn's gevent workers patch too, and patching twice is harmless.
"""

from gevent import monkey

monkey.patch_all()

from talkrooms.app import create_app  # noqa: E402
from talkrooms.settings import Settings  # noqa: E402

settings = Settings()
app, socketio = create_app(settings)


def shutdown() -> None:
    """Called by gunicorn's worker_exit hook: leave presence before the process ends."""
    app.extensions["talkrooms"].presence.shutdown()
