"""Application factory: builds a fresh Flask app and Socket.IO server from Settings."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import gevent
from flask import Flask
from flask_socketio import SocketIO
from redis.exceptions import RedisError

from talkrooms.accounts.chat_identities import AccountIdentities
from talkrooms.accounts.conversation_routes import CONVERSATIONS, conversations
from talkrooms.accounts.conversations import ConversationService
from talkrooms.accounts.profiles import ProfileService, ProfileView
from talkrooms.accounts.routes import EXTENSION as ACCOUNTS
from talkrooms.accounts.routes import PROFILES, auth, profiles
from talkrooms.accounts.service import AccountService
from talkrooms.chat.events import ChatNamespace, install_dispatch
from talkrooms.chat.message_path import MessagePath, resync_local_rooms
from talkrooms.chat.presence import WorkerPresence
from talkrooms.chat.room_events import RoomEventPath, resync_local_events
from talkrooms.chat.service import CONTROL_EVENTS, ChatService
from talkrooms.files.backends import ensure_bucket, make_blobs
from talkrooms.files.routes import FILES, files
from talkrooms.files.service import FileService
from talkrooms.moderation.automod import AutoModerator
from talkrooms.moderation.review import ReviewQueue
from talkrooms.moderation.room_guard import RoomGuard
from talkrooms.moderation.room_settings import RoomSettings
from talkrooms.moderation.routes import (
    MODERATION_EXTENSION,
    REVIEW_EXTENSION,
    SETTINGS_EXTENSION,
    moderation,
)
from talkrooms.moderation.service import ModerationService
from talkrooms.notify.routes import NOTIFICATIONS, notifications
from talkrooms.notify.service import Notifications
from talkrooms.notify.state import NotifyState
from talkrooms.ops.observability import install_observability
from talkrooms.protocol import CONVERSATION, PROFILE, REVIEW
from talkrooms.realtime import fastjson
from talkrooms.realtime.broadcast import TalkroomsRedisManager
from talkrooms.realtime.connections import (
    ConnectionRegistry,
    account_room,
    socket_room,
    staff_room,
)
from talkrooms.realtime.polling_guard import install_polling_guard
from talkrooms.realtime.session_ids import install_routed_ids
from talkrooms.realtime.transport import install_frame_guard, install_pinger, origin_policy
from talkrooms.settings import Settings
from talkrooms.storage.database import Database
from talkrooms.storage.layout import upgrade_layout
from talkrooms.storage.room_log import RoomLog
from talkrooms.storage.store import Store, make_redis
from talkrooms.telemetry.logs import configure_logging
from talkrooms.web.api import api, api_v1, metrics_page
from talkrooms.web.pages import pages

log = logging.getLogger("talkrooms.app")


@dataclass
class AppState:
    """What the blueprints and hooks need, stored in app.extensions['talkrooms']."""

    settings: Settings
    store: Store
    connections: ConnectionRegistry
    chat: ChatService
    presence: WorkerPresence
    message_path: MessagePath
    started_at: float = field(default_factory=time.time)


def socket_io_first(middleware: Any, eio_server: Any) -> Any:
    """Flask-SocketIO's WSGI middleware, with Engine.IO's requests handed straight to it.

    The middleware copies every request's environ only to add `flask.app`, and Engine.IO
    keeps that copy for the whole life of a connection beside the WSGI server's own: 0.8
    KB of every idle connection (loadtests/connection_memory.py). A WSGI environ belongs to
    its one request, so the key is set on it instead. Engine.IO's requests then go to its
    server without the two middleware calls in between: a WebSocket's reading greenlet
    stays inside this call for the connection's life, and each frame fewer on its stack is
    memory of every idle connection (realtime/gunicorn_worker.py)."""
    flask_app = getattr(middleware, "flask_app", None)
    if flask_app is None:  # not Flask-SocketIO's middleware: leave it be
        return middleware
    handle_engine_io = eio_server.handle_request
    engine_io_path = middleware.engineio_path
    handle_other = super(type(middleware), middleware).__call__

    def call(environ: dict[str, Any], start_response: Any) -> Any:
        environ["flask.app"] = flask_app
        if (environ.get("PATH_INFO") or "").startswith(engine_io_path):
            return handle_engine_io(environ, start_response)
        return handle_other(environ, start_response)

    return call


def refuse_new_sessions_while_draining(wsgi_app: Any, chat: ChatService) -> Any:
    """A worker that is shutting down answers new Engine.IO handshakes with 503.

    nginx then tries another worker (proxy_next_upstream http_503), so clients reconnecting
    after the drain never land on the worker that is about to exit.
    """

    def guarded(environ: dict[str, Any], start_response: Any) -> Any:
        if (
            chat.draining
            and environ.get("PATH_INFO", "").startswith("/socket.io")
            and "sid=" not in environ.get("QUERY_STRING", "")
        ):
            start_response(
                "503 Service Unavailable",
                [("Content-Type", "application/json"), ("Retry-After", "1")],
            )
            return [b'{"error":"this worker is shutting down"}']
        return wsgi_app(environ, start_response)

    return guarded


def _install_notifications(
    app: Flask,
    settings: Settings,
    store: Store,
    database: Database,
    chat: ChatService,
    message_path: MessagePath,
    sio: Any,
) -> None:
    """Follow rooms at joins, note focus, and hand the messages that may notify someone to
    the RQ job on their own greenlet (docs/notifications.md)."""
    service = Notifications(settings, database, NotifyState(store.redis, settings.key_prefix))
    app.extensions[NOTIFICATIONS] = service
    chat.on_account_joined = service.follow
    chat.on_focus = service.focus

    def on_stored(room: str, message: str, has_mentions: bool, author: str) -> None:
        if service.wants(room, has_mentions):
            with_author = message[:-1] + f',"_a":"{author}"}}'
            sio.start_background_task(service.hand_over, room, with_author)

    message_path.on_stored = on_stored


# Longer than any start-up chore takes when its database and Redis answer (the account
# names' mirror keeps retrying within it on its own).
START_UP_CHORE_SECONDS = 120.0


def _start_up_chores(*chores: Callable[[], object]) -> None:
    """Run the start-up chores one after the other, in the background: a failure or a
    chore past START_UP_CHORE_SECONDS is logged, never fatal. One at a time because each
    reaches the database from gevent's thread pool: their first queries would otherwise
    import SQLAlchemy's lazily loaded modules in several native threads at once."""
    for chore in chores:
        name = getattr(getattr(chore, "func", chore), "__name__", "chore")  # a partial's too
        try:
            with gevent.Timeout(START_UP_CHORE_SECONDS):
                chore()
        except gevent.Timeout:
            log.error("a start-up task timed out", extra={"task": name})
        except Exception:
            log.exception("a start-up task failed", extra={"task": name})


def create_app(settings: Settings, start_background: bool = True) -> tuple[Flask, SocketIO]:
    """A complete chat worker: Flask app, Socket.IO server, Redis store, heartbeats."""
    configure_logging(settings.log_level)
    # The pages' templates and static files belong to the web subpackage.
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.config.update(SECRET_KEY=settings.flask_secret_key, DEBUG=settings.debug)

    redis_client = make_redis(settings)
    store = Store(settings, redis_client)
    manager = TalkroomsRedisManager(
        settings.effective_redis_url,
        channel=settings.socketio_channel,
        publish_client=redis_client,
        max_queued_packets=settings.max_queued_packets,
        by_room=settings.fanout_by_room,
    )
    room_log = RoomLog(settings, redis_client, store.keys, store.activity)

    def resync_after_reconnect() -> None:
        resync_local_rooms(manager, store, settings.history_limit)
        resync_local_events(manager, room_log)

    manager.on_resubscribe = resync_after_reconnect
    socketio = SocketIO(
        app,
        async_mode="gevent",
        client_manager=manager,
        json=fastjson,
        async_handlers=False,
        manage_session=False,
        cors_allowed_origins=origin_policy(settings.cors_origins),
        max_http_buffer_size=settings.max_packet_bytes,
        ping_interval=settings.ping_interval_seconds,
        ping_timeout=settings.ping_timeout_seconds,
        logger=False,
        engineio_logger=False,
    )
    sio = socketio.server
    connections = ConnectionRegistry()
    # Accounts: the database is migrated before workers start (`talkrooms db upgrade`).
    accounts = AccountService(settings, Database(settings.database_url), store)

    def announce_conversation(account_id: int, conversation: dict[str, Any]) -> None:
        sio.emit(CONVERSATION, conversation, to=account_room(account_id), namespace="/")

    private = ConversationService(accounts.database, store, announce_conversation)
    chat = ChatService(
        settings, store, room_log, connections, sio, AccountIdentities(accounts), private
    )
    message_path = MessagePath(settings, store, connections, manager, sio._send_eio_packet)
    event_path = RoomEventPath(settings, room_log, connections, manager, sio._send_eio_packet)
    socketio.on_namespace(ChatNamespace(chat, connections))
    install_dispatch(sio, message_path, event_path, connections)
    install_frame_guard(
        sio.eio, batch_writes=settings.batch_writes, direct_writes=settings.direct_writes
    )
    install_pinger(sio.eio)
    install_routed_ids(sio.eio, settings.worker_route)
    presence = WorkerPresence(settings, store, connections, chat)

    app.extensions["talkrooms"] = AppState(
        settings=settings,
        store=store,
        connections=connections,
        chat=chat,
        presence=presence,
        message_path=message_path,
    )
    app.extensions[ACCOUNTS] = accounts

    def announce_profile(account_id: int, view: ProfileView) -> None:
        shown = {"username": view.username, "display_name": view.display_name, "color": view.color}
        sio.emit(PROFILE, shown, to=account_room(account_id), namespace="/")

    manager.on_control_emit = chat.on_control_emit
    manager.control_events = CONTROL_EVENTS
    app.extensions[PROFILES] = ProfileService(accounts.database, announce_profile)
    app.extensions[CONVERSATIONS] = private
    blobs = make_blobs(settings)
    app.extensions[FILES] = FileService(settings, accounts.database, store, blobs, private.members)

    def notify_room(event: str, room: str, payload: dict[str, Any]) -> None:
        sio.emit(event, payload, to=socket_room(room), namespace="/")

    moderation_service = ModerationService(
        settings, accounts.database, event_path, store, notify_room
    )
    app.extensions[MODERATION_EXTENSION] = moderation_service
    chat.on_room_created = moderation_service.claim
    automod = AutoModerator(settings)
    chat.automod_defaults = dict(automod.defaults)
    room_settings = RoomSettings(moderation_service, store, chat.automod_defaults)
    app.extensions[SETTINGS_EXTENSION] = room_settings
    chat.admission = room_settings.admit

    def tell_staff(room: str, payload: dict[str, Any]) -> None:
        sio.emit(REVIEW, payload, to=staff_room(room), namespace="/")

    review = ReviewQueue(moderation_service, message_path.publish, tell_staff)
    app.extensions[REVIEW_EXTENSION] = review
    guard = RoomGuard(moderation_service, automod, review, sio.start_background_task)
    chat.guard = guard
    message_path.automod = automod.check
    message_path.on_flagged = guard.on_flagged
    if settings.notifications:
        _install_notifications(app, settings, store, accounts.database, chat, message_path, sio)
    # Uploads are the only large bodies (Socket.IO's own limit is max_http_buffer_size).
    app.config["MAX_CONTENT_LENGTH"] = settings.upload_max_bytes + 1024 * 1024
    install_observability(app, settings, store, manager)
    app.wsgi_app = socket_io_first(app.wsgi_app, sio.eio)  # type: ignore[method-assign]
    app.wsgi_app = refuse_new_sessions_while_draining(app.wsgi_app, chat)  # type: ignore[method-assign]
    app.wsgi_app = install_polling_guard(app.wsgi_app, sio.eio)  # type: ignore[method-assign, assignment]
    app.register_blueprint(api)
    app.register_blueprint(api_v1)
    app.register_blueprint(auth)
    app.register_blueprint(profiles)
    app.register_blueprint(conversations)
    app.register_blueprint(files)
    app.register_blueprint(moderation)
    app.register_blueprint(notifications)
    app.register_blueprint(metrics_page)
    app.register_blueprint(pages)

    if start_background:
        try:
            upgrade_layout(redis_client, store.keys)
            store.load_scripts()
        except RedisError as exc:
            log.error(
                "Redis unavailable at start; scripts load on first use", extra={"error": str(exc)}
            )
        presence.start()
        gevent.spawn(store.activity.run, gevent.sleep)
        gevent.spawn(
            _start_up_chores,
            accounts.sync_reserved_names_at_start,
            moderation_service.restore_sanctions,
            room_settings.restore,
            partial(ensure_bucket, blobs),
        )
        # The manager's listener normally starts with the first connection; start it now so
        # this worker relays messages (and the cleanup job's emits) from its first second.
        manager.server = sio
        if not sio.manager_initialized:
            sio.manager_initialized = True
            manager.initialize()
    log.info("worker ready", extra={"worker": settings.instance_id, "port": settings.server_port})
    return app, socketio
