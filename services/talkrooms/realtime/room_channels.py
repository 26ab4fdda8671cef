"""Fan-out by room: which pub/sub channel carries a room's traffic, and which room channels
this worker listens to.

With one channel for everything, every worker reads and skips every message of every room,
so a worker's CPU grows with the whole site's traffic, not with its own members'. Here each
chat room has its own channel (`<channel>:room:{<room>}`) carrying its messages, events,
presence and typing; a worker subscribes to it while one of its connections is in the room.
The shared channel keeps what every worker must hear (sanctions, roles, emits to one
connection or one account, remote room operations).

No message is lost in the switch: a join waits until Redis has confirmed the room's
subscription before it reads the history, so whatever is stored after that read arrives
live, and whatever came before is in the history. Leaving unsubscribes once no local
connection is left in the room. After the listener reconnects, every wanted channel is
subscribed again in one command and the resync (message_path.resync_local_rooms) fills
the gap.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from enum import Enum

log = logging.getLogger("talkrooms.realtime.room_channels")

CONFIRM_SECONDS = 5.0
PRIVATE_PREFIX = "dm:"
PRIVATE_ROOM_LENGTH = 23  # "dm:" and 20 characters (protocol/facts.json)
SHARDED_REPLIES = {b"ssubscribe": b"subscribe", b"sunsubscribe": b"unsubscribe"}


def chat_room_of(socket_room: str) -> str | None:
    """The chat room a Socket.IO room belongs to (room:, log:, staff:, reader:), else None
    (a connection's own room, an account's room)."""
    kind, sep, rest = socket_room.partition(":")
    if not sep or not rest:
        return None
    if kind in ("room", "log", "staff"):
        return rest
    if kind == "reader":
        if rest.startswith(PRIVATE_PREFIX):
            return rest[:PRIVATE_ROOM_LENGTH]
        return rest.partition(":")[0] or None
    return None


class State(Enum):
    SUBSCRIBING = 1
    SUBSCRIBED = 2
    UNSUBSCRIBING = 3


class RoomChannels:
    """The room channels this worker wants, their state as Redis last confirmed it, and the
    SUBSCRIBE/UNSUBSCRIBE commands that move them (sent on the listener's own socket)."""

    def __init__(self, base_channel: str, enabled: bool = True) -> None:
        self.base_channel = base_channel
        self.enabled = enabled
        self._states: dict[str, State] = {}
        self._changed: dict[str, threading.Event] = {}
        # The live subscription's command writer, None while the listener reconnects.
        self._send: Callable[[bytes, list[bytes]], None] | None = None

    def channel_for(self, room: str) -> str:
        """`<base>:room:{<room>}`: the room as hash tag, so that on a Redis Cluster the
        channel lives in the slot of the room's keys (its scripts SPUBLISH to it)."""
        return f"{self.base_channel}:room:{{{room}}}" if self.enabled else self.base_channel

    def channel_for_socket_room(self, socket_room: str) -> str:
        room = chat_room_of(socket_room) if self.enabled else None
        return self.channel_for(room) if room is not None else self.base_channel

    # -- what the chat asks ----------------------------------------------------------------

    def follow(self, room: str) -> bool:
        """Listen to a room's channel; returns once Redis confirmed it (False: not within
        CONFIRM_SECONDS, e.g. Redis away: the resync after reconnecting fills the gap)."""
        if not self.enabled:
            return True
        channel = self.channel_for(room)
        for _attempt in range(3):
            state = self._states.get(channel)
            if state is State.SUBSCRIBED:
                return True
            if state is None:
                self._states[channel] = State.SUBSCRIBING
                self._command(b"SUBSCRIBE", channel)
            event = self._changed.setdefault(channel, threading.Event())
            if not event.wait(CONFIRM_SECONDS):
                log.warning("a room subscription was not confirmed", extra={"room": room})
                return False
        return self._states.get(channel) is State.SUBSCRIBED

    def unfollow(self, room: str) -> None:
        """No local connection is left in the room: stop receiving its traffic."""
        if not self.enabled:
            return
        channel = self.channel_for(room)
        if self._states.get(channel) is State.SUBSCRIBED:
            self._states[channel] = State.UNSUBSCRIBING
            self._command(b"UNSUBSCRIBE", channel)

    def followed(self) -> list[str]:
        """The room channels subscribed now (for tests and /metrics)."""
        return [c for c, s in self._states.items() if s is State.SUBSCRIBED]

    # -- what the listener tells -------------------------------------------------------------

    def wanted(self) -> list[str]:
        """Every channel a new subscription must cover: the shared one, then the rooms'."""
        return [self.base_channel] + [
            c for c, s in self._states.items() if s is not State.UNSUBSCRIBING
        ]

    def attach(self, send: Callable[[bytes, list[bytes]], None], covered: list[str]) -> None:
        """A new subscription covers `covered` (what `wanted()` said when it was opened);
        whatever changed while it opened is sent on it now."""
        subscribed = set(covered)
        self._send = send
        for channel, state in list(self._states.items()):
            if channel in subscribed:
                if state is State.UNSUBSCRIBING:
                    self._command(b"UNSUBSCRIBE", channel)
                    continue
                self._states[channel] = State.SUBSCRIBED
                self._wake(channel)
            elif state is State.UNSUBSCRIBING:
                del self._states[channel]
                self._wake(channel)
            elif state is State.SUBSCRIBING:
                self._command(b"SUBSCRIBE", channel)
            else:  # subscribed on the link that dropped, missed by this one's list
                self._states[channel] = State.SUBSCRIBING
                self._command(b"SUBSCRIBE", channel)

    def detach(self) -> None:
        """The subscription dropped; commands wait for the next one."""
        self._send = None

    def confirmed(self, kind: bytes, channel: bytes) -> None:
        """Redis answered a (S)SUBSCRIBE or (S)UNSUBSCRIBE (replies come in command order)."""
        kind = SHARDED_REPLIES.get(kind, kind)
        name = channel.decode()
        state = self._states.get(name)
        if kind == b"subscribe" and state is State.SUBSCRIBING:
            self._states[name] = State.SUBSCRIBED
        elif kind == b"unsubscribe" and state is State.UNSUBSCRIBING:
            del self._states[name]
        else:
            return
        self._wake(name)

    # -- internals -----------------------------------------------------------------------

    def _wake(self, channel: str) -> None:
        event = self._changed.pop(channel, None)
        if event is not None:
            event.set()

    def _command(self, verb: bytes, channel: str) -> None:
        send = self._send
        if send is None:
            return  # the next subscription includes it (wanted())
        try:
            send(verb, [channel.encode()])
        except OSError as exc:
            log.error("a room subscription command failed", extra={"error": str(exc)})
