"""Room announcements from outside the chat workers (the cleanup job), via the queue.

A write-only TalkroomsRedisManager publishes standard JSON emit frames on the room's
channel; the listener of every worker with members there decodes them and emits to its
local sockets in the room. Nothing here needs a Socket.IO server or
gevent, so it works in an RQ work horse and in the CLI alike.
"""

from __future__ import annotations

import contextlib

from talkrooms.protocol import (
    ROOM_USERS,
    USER_LEFT,
    PresentUser,
    left_notice,
    room_users_payload,
)
from talkrooms.realtime.broadcast import TalkroomsRedisManager
from talkrooms.realtime.connections import socket_room
from talkrooms.settings import Settings

NAMESPACE = "/"


class QueueAnnouncer:
    """Emits user_left/room_users to a room on every worker."""

    def __init__(self, settings: Settings) -> None:
        self.manager = TalkroomsRedisManager(
            settings.effective_redis_url,
            channel=settings.socketio_channel,
            write_only=True,
            by_room=settings.fanout_by_room,
        )

    def user_left(self, room: str, username: str) -> None:
        self.manager.emit(
            USER_LEFT, left_notice(username, room), namespace=NAMESPACE, room=socket_room(room)
        )

    def room_users(self, room: str, users: list[PresentUser]) -> None:
        self.manager.emit(
            ROOM_USERS,
            room_users_payload(room, users),
            namespace=NAMESPACE,
            room=socket_room(room),
        )

    def close(self) -> None:
        """Close the publishing connection (the manager opens it on first emit)."""
        client = self.manager.redis
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
