"""Rooms as people see them: joining, leaving, typing, history, and who is there.

The Socket.IO handlers (chat/events.py) call these methods; they validate (protocol), change
Redis (store) and emit to the room through the message queue, in that order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import orjson
import socketio

from talkrooms.chat.identities import GuestsOnly, Identities
from talkrooms.chat.message_views import (
    current_state,
    events_after,
    protocol1_view,
    seq_of,
    unread_counts,
)
from talkrooms.chat.private_rooms import NoPrivateRooms, PrivateRooms
from talkrooms.protocol import (
    ACCOUNT_REQUIRED,
    BAN,
    BANNED,
    CONNECTED,
    FOCUS,
    FORBIDDEN,
    GET_HISTORY,
    JOIN_ROOM,
    LEAVE_ROOM,
    MODERATION,
    NAME_RESERVED,
    NAME_TAKEN,
    NOT_FOUND,
    NOT_IN_ROOM,
    PROFILE,
    RATE_LIMITED,
    REMOVING,
    REPORT_MESSAGE,
    REPORT_REASON_MAX,
    REVIEW,
    ROLES,
    ROOM_JOINED,
    ROOM_SETTINGS,
    ROOM_USERS,
    SANCTIONED,
    TYPING,
    USER_JOINED,
    USER_LEFT,
    USER_TYPING,
    HistoryQuery,
    PresentUser,
    ProtocolError,
    format_log_position,
    format_message_id,
    is_private_room,
    joined_notice,
    left_notice,
    optional_room,
    require_object,
    room_users_payload,
    target_message,
    username_identity,
    validate_client_key,
    validate_history_query,
    validate_room,
    validate_username,
)
from talkrooms.realtime.connections import (
    Connection,
    ConnectionRegistry,
    Membership,
    SignedIn,
    TokenBucket,
    account_of_room,
    account_room,
    log_room,
    reader_room,
    socket_room,
    staff_room,
)
from talkrooms.settings import RateLimit, Settings
from talkrooms.storage.room_log import RoomLog
from talkrooms.storage.store import Store, author_token, client_key_hash, now_ms
from talkrooms.telemetry import metrics

log = logging.getLogger("talkrooms.chat.service")

# The emits every worker acts on besides delivering them (see on_control_emit).
CONTROL_EVENTS = frozenset({MODERATION, ROOM_SETTINGS, ROLES})
# (room, account id or None, invite code or None, the room's settings, already in the
# room) -> (may post, slow mode ms); raises ProtocolError (invite_only) to refuse a join.
Admission = Callable[[str, int | None, str | None, dict[str, str], bool], tuple[bool, int]]
REPORT_RATE = "10/60"


class RoomGuard(Protocol):
    """What moderation tells the chat about a membership (moderation/room_guard.py)."""

    def fit(
        self, room: str, account_id: int | None, rules: dict[str, str], membership: Membership
    ) -> None:
        """Set the membership's staff flag and automatic moderation policy."""

    def left(self, room: str, membership: Membership) -> None:
        """The membership ended (what `fit` began for it)."""

    def review_count(self, room: str) -> int:
        """Open items in the room's review queue (for its staff)."""

    def forget(self, room: str) -> None:
        """The room's staff changed: ask the database again."""

    def report(
        self,
        room: str,
        seq: int,
        message: dict[str, Any],
        reporter: str,
        reporter_name: str,
        reason: str,
    ) -> int:
        """File a report; the review item's id."""


TYPING_REFRESH_SECONDS = 2.0
TYPING_VISIBLE_MS = 6000
# Events in one protocol 2 get_history answer; a longer gap takes several calls.
EVENT_PAGE = 500
NAMESPACE = "/"


def ban_subjects(
    connection: Connection, account: SignedIn | None, data: dict[str, Any]
) -> list[str]:
    """Who a ban may name for this joiner: an account by itself, a guest by its address
    and its client key, whatever name it comes back with."""
    if account is not None:
        return [f"u:{account.account_id}"]
    subjects = [f"a:{connection.address}"]
    if isinstance(data.get("client_key"), str):
        # A bad key: the join itself refuses it right after.
        with contextlib.suppress(ProtocolError):
            subjects.append(f"k:{client_key_hash(validate_client_key(data['client_key']))}")
    return subjects


def refuse_if_banned(until: int | None) -> None:
    """A ban in force (its end in ms, 0 = never) refuses the join, saying until when."""
    if until is None:
        return
    ends = (
        ""
        if until == 0
        else f" until {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(until / 1000))}"
    )
    raise ProtocolError(f"You are banned from this room{ends}", BANNED)


class ChatService:
    """Per-worker façade over the store and the Socket.IO server for room events."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        room_log: RoomLog,
        connections: ConnectionRegistry,
        sio: socketio.Server,
        identities: Identities | None = None,
        private_rooms: PrivateRooms | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.room_log = room_log
        self.identities: Identities = identities or GuestsOnly()
        self.private_rooms: PrivateRooms = private_rooms or NoPrivateRooms()
        # Told when an account's join created a public room (moderation makes it the
        # owner); None: rooms have no owners (the chat alone).
        self.on_room_created: Callable[[str, int], object] | None = None
        # Who may enter and post in a room with settings (moderation answers); None: no
        # room has settings.
        self.admission: Admission | None = None
        # Told when an account joins a room, and when a client of it says whether it looks
        # at one (notifications: follow, focus); None: nobody is notified.
        self.on_account_joined: Callable[[str, int], object] | None = None
        self.on_focus: Callable[[int, str, str, bool], object] | None = None
        # Staff, automatic moderation and reports (moderation answers); None: none.
        self.guard: RoomGuard | None = None
        self.connections = connections
        # Counted when scraped: a count at every join and leave walked every connection
        # of the worker (5,000 steps a join with 10,000 idle connections on 2 workers).
        metrics.JOINED.set_function(lambda: sum(1 for c in connections if c.rooms))
        self.sio = sio
        self.worker_id = settings.instance_id
        self.message_rate = settings.message_rate
        self.join_rate = settings.join_rate
        self.draining = False
        self.drained_sockets = 0  # how many sockets the drain closed (wsgi.shutdown)
        # Each automatic moderation rule's instance default (for settings_view).
        self.automod_defaults: dict[str, str] = {}

    # -- connection lifecycle --------------------------------------------------------------

    def connect(
        self,
        sid: str,
        eio_sid: str,
        address: str,
        protocol: int = 1,
        account: SignedIn | None = None,
    ) -> Connection:
        """Register a socket; refuses an address that already holds too many on this worker."""
        limit = self.settings.max_connections_per_address
        if limit and self.connections.count_from(address) >= limit:
            metrics.CONNECTIONS_REFUSED.labels(reason="per_address_limit").inc()
            raise socketio.exceptions.ConnectionRefusedError(
                f"Too many connections from your address (limit {limit})"
            )
        connection = Connection(
            sid=sid,
            eio_sid=eio_sid,
            address=address,
            message_bucket=TokenBucket(self.message_rate),
            join_bucket=TokenBucket(self.join_rate),
            protocol=protocol,
            account=account,
        )
        self.connections.add(connection)
        if account is not None:
            self.sio.enter_room(sid, account_room(account.account_id), namespace=NAMESPACE)
        metrics.CONNECTIONS.set(len(self.connections))
        metrics.CONNECTIONS_TOTAL.inc()
        self.sio.emit(
            CONNECTED,
            {"message": "Connected to TalkRooms", "sid": sid},
            to=sid,
            namespace=NAMESPACE,
        )
        return connection

    def disconnect(self, sid: str) -> None:
        connection = self.connections.remove(sid)
        metrics.CONNECTIONS.set(len(self.connections))
        if self.draining:
            # Presence stays for the client to take over from another worker; the exit
            # hook purges whatever is left (WorkerPresence.shutdown).
            return
        if connection is not None:
            for room in list(connection.rooms):
                self._leave_room(connection, room)

    def drain(self) -> None:
        """Shutting down: close every socket so that clients reconnect to another worker."""
        self.draining = True
        eio = self.sio.eio
        sids = [c.eio_sid for c in self.connections]
        self.drained_sockets = len(sids)
        log.info("draining", extra={"sockets": len(sids)})
        for eio_sid in sids:
            socket = eio.sockets.get(eio_sid)
            if socket is None:
                continue
            try:
                # An abort, not a CLOSE packet: clients see the transport drop and
                # reconnect by themselves (after a polite close they would not).
                socket.close(wait=False, abort=True)
            except Exception:  # one odd socket must not stop the drain
                log.exception("closing a socket during the drain failed")

    # -- rooms -----------------------------------------------------------------------------

    def join(self, connection: Connection, payload: Any) -> dict[str, Any]:
        """join_room: validate, take the name, send history.

        Protocol 1 leaves the room the connection was in; protocol 2 keeps it (several
        rooms), and a join of a room it is in again as someone else replaces that membership.
        """
        data = require_object(payload, JOIN_ROOM)
        room = validate_room(data.get("room"))
        account = connection.account
        rules: dict[str, str] = {}
        fresh = False
        if is_private_room(room):
            self.check_private(connection, room)
        else:
            gate = self.store.room_gate(
                room,
                ban_subjects(connection, account, data),
                now_ms(),
                ask_if_new=account is not None and self.on_room_created is not None,
            )
            refuse_if_banned(gate.ban_until)
            rules, fresh = gate.rules, gate.is_new
        may_post, slow_ms = self._admit(room, account, data.get("invite"), rules, False)
        if account is not None:
            # Signed in: the account says who this is, whatever name the payload carries;
            # every connection of the account is one person.
            username, key_hash = account.username, account.author
        else:
            username = validate_username(data.get("username"))
            key_hash = client_key_hash(validate_client_key(data.get("client_key")))
        identity = username_identity(username)
        if not connection.join_bucket.take():
            metrics.RATE_LIMIT_HITS.labels(kind="join").inc()
            raise ProtocolError(f"Too many joins: {self.join_rate.describe()}", RATE_LIMITED)

        current = connection.rooms.get(room)
        same_person = (
            current is not None and current.identity == identity and current.key_hash == key_hash
        )
        if connection.protocol < 2:
            for other in [r for r in connection.rooms if not (r == room and same_person)]:
                self._leave_room(connection, other)
        else:
            if current is not None and not same_person:
                self._leave_room(connection, room)
            limit = self.settings.max_rooms_per_connection
            if room not in connection.rooms and len(connection.rooms) >= limit:
                raise ProtocolError(f"A connection may be in at most {limit} rooms")

        started = time.perf_counter()
        result = self.store.join(
            room,
            connection.sid,
            identity,
            username,
            key_hash,
            self.worker_id,
            account is None,
            shown=_shown(account),
        )
        metrics.REDIS_LATENCY.labels(operation="join").observe(time.perf_counter() - started)
        if result.reserved:
            raise ProtocolError(
                f"The name {username} belongs to an account: log in to use it", NAME_RESERVED
            )
        if result.taken:
            raise ProtocolError(f"The name {username} is already taken in this room", NAME_TAKEN)
        if self.connections.get(connection.sid) is None:
            # The socket went away while Redis answered: undo, leave no ghost behind.
            self.store.leave(room, connection.sid, self.worker_id)
            return {"ok": False, "error": "Connection closed", "code": NOT_IN_ROOM}

        if fresh and account is not None and self.on_room_created is not None:
            self.on_room_created(room, account.account_id)
        if account is not None and self.on_account_joined is not None:
            self.on_account_joined(room, account.account_id)
        membership = Membership(
            room=room,
            username=username,
            identity=identity,
            key_hash=key_hash,
            author=account.author if account is not None else author_token(identity, key_hash),
        )
        membership.may_post, membership.slow_ms = may_post, slow_ms
        if self.guard is not None and not is_private_room(room):
            self.guard.fit(room, account.account_id if account else None, rules, membership)
        if current is not None and same_person:
            membership.typing, membership.typing_sent_at = current.typing, current.typing_sent_at
        # Listening to the room before its history is read: nothing falls in between.
        self.sio.manager.follow(room)
        connection.rooms[room] = membership
        self.sio.enter_room(connection.sid, socket_room(room), namespace=NAMESPACE)
        if connection.protocol >= 2:
            self.sio.enter_room(connection.sid, log_room(room), namespace=NAMESPACE)
            if membership.author:
                reader = reader_room(room, membership.author)
                self.sio.enter_room(connection.sid, reader, namespace=NAMESPACE)
        joined = self._room_joined_payload(connection, membership)
        if rules and connection.protocol >= 2:
            joined["settings"] = settings_view(room, rules, self.automod_defaults)
        self.sio.emit(ROOM_JOINED, joined, to=connection.sid, namespace=NAMESPACE)
        if membership.staff:
            self._enter_staff(connection, room)
        if result.first_connection:
            self.sio.emit(
                USER_JOINED,
                joined_notice(username, room),
                to=socket_room(room),
                skip_sid=connection.sid,
                namespace=NAMESPACE,
            )
        self.emit_room_users(room, result.users)
        return {"ok": True, "room": room, "username": username}

    def _room_joined_payload(
        self, connection: Connection, membership: Membership
    ) -> dict[str, Any]:
        """The room's history on joining; protocol 2 adds current state, log head, unread."""
        room = membership.room
        limit = self.settings.history_limit
        manager = self.sio.manager
        if connection.protocol < 2:
            history = [protocol1_view(m) for m in self.store.recent_messages(room, limit)]
            manager.track_from(room, seq_of(history[-1]) if history else 0, None)
            return {"room": room, "username": membership.username, "messages": history}
        # The log head is read first: whatever happens after it reaches the client live.
        head_seq, head_counter = self.room_log.position(room)
        manager.track_from(room, head_seq, (head_seq, head_counter))
        stored = self.store.stored_recent(room, limit)
        read_seq = self.room_log.read_marker(room, membership.author)
        unread, mentioned = unread_counts(stored, read_seq, membership.author, membership.identity)
        return {
            "room": room,
            "username": membership.username,
            "messages": current_state(self.room_log, room, stored, membership.author),
            "log_id": format_log_position(head_seq, head_counter),
            "read_id": format_message_id(read_seq),
            "unread": unread,
            "mentions": mentioned,
        }

    def leave(self, connection: Connection, payload: Any = None) -> dict[str, Any]:
        """leave_room: the connection leaves; the person leaves with their last connection."""
        data = require_object(payload, LEAVE_ROOM)
        named = named_room(connection, data)
        membership = connection.membership(named)
        if membership is None:
            text = "You are not in that room" if named else "You are not in a room"
            raise ProtocolError(text, NOT_IN_ROOM)
        self._leave_room(connection, membership.room)
        return {"ok": True, "room": membership.room}

    def _leave_room(self, connection: Connection, room: str) -> None:
        membership = connection.rooms.pop(room, None)
        if membership is None:
            return
        if self.guard is not None:
            self.guard.left(room, membership)
        self._blur(connection, room)
        if membership.typing:
            self._broadcast_typing(connection, membership, False)
        if self.connections.get(connection.sid) is not None:
            self.sio.leave_room(connection.sid, socket_room(room), namespace=NAMESPACE)
            if membership.staff:
                self.sio.leave_room(connection.sid, staff_room(room), namespace=NAMESPACE)
            if connection.protocol >= 2:
                self.sio.leave_room(connection.sid, log_room(room), namespace=NAMESPACE)
                reader = reader_room(room, membership.author)
                self.sio.leave_room(connection.sid, reader, namespace=NAMESPACE)
        local_rooms = self.sio.manager.rooms.get(NAMESPACE, {})
        for name in (socket_room(room), log_room(room)):
            if not local_rooms.get(name):
                self.sio.manager.forget_room(name)
        self.sio.manager.unfollow_if_empty(room, connection.sid)
        result = self.store.leave(room, connection.sid, self.worker_id)
        if not result.present:
            return
        if result.left:
            self.sio.emit(
                USER_LEFT, left_notice(result.left, room), to=socket_room(room), namespace=NAMESPACE
            )
        self.emit_room_users(room, result.users)

    def on_control_emit(self, event: str, socket_room_name: str, payload: Any) -> None:
        """Every worker sees every emit of a person's profile and of a sanction
        (broadcast.py `on_control_emit`) and applies it to its own sockets, off the queue
        listener, which has every other message to relay meanwhile."""
        if not isinstance(payload, dict):
            return
        account_id = account_of_room(socket_room_name)
        if event == PROFILE and account_id is not None:
            name, color = payload.get("display_name"), payload.get("color")
            if isinstance(name, str) and isinstance(color, str):
                self.sio.start_background_task(self.apply_profile, account_id, name, color)
        elif event == MODERATION and payload.get("action") in REMOVING:
            self.sio.start_background_task(self.apply_removal, payload)
        elif event == ROOM_SETTINGS and isinstance(payload.get("room"), str):
            self.sio.start_background_task(self.apply_room_rules, payload["room"])
        elif event == ROLES and isinstance(payload.get("room"), str):
            self.sio.start_background_task(self.apply_roles, payload["room"])

    def apply_removal(self, notice: dict[str, Any]) -> None:
        """A kick or a ban: this worker's connections of that person leave the room now,
        told why (`sanctioned`); a ban also bars their client key and address."""
        room, username = notice.get("room"), notice.get("username")
        if not isinstance(room, str) or not isinstance(username, str):
            return
        identity = username_identity(username)
        until = notice.get("until_ms")
        for connection in self.connections:
            membership = connection.rooms.get(room)
            if membership is None or membership.identity != identity:
                continue
            if (
                notice.get("action") == BAN
                and isinstance(notice.get("sanction"), int)
                and connection.account is None
            ):
                subjects = [f"a:{connection.address}"]
                if membership.key_hash:
                    subjects.append(f"k:{membership.key_hash}")
                self.store.ban(
                    room, subjects, until if isinstance(until, int) else None, notice["sanction"]
                )
            public = {k: v for k, v in notice.items() if k not in ("sanction", "until_ms")}
            self.sio.emit(SANCTIONED, public, to=connection.sid, namespace=NAMESPACE)
            self._leave_room(connection, room)

    def apply_profile(self, account_id: int, display_name: str, color: str) -> None:
        """The account's connections on this worker carry its new profile from now on, and
        the online lists of the rooms they are in show it."""
        rooms: dict[str, str] = {}
        for connection in self.connections:
            account = connection.account
            if account is None or account.account_id != account_id:
                continue
            connection.account = dataclasses.replace(
                account, display_name=display_name, color=color
            )
            rooms.update((room, m.identity) for room, m in connection.rooms.items())
        if not rooms:
            return
        for room, identity in sorted(rooms.items()):
            person = PresentUser("", display_name, color, account=True)
            if self.store.update_person(room, identity, person):
                self.emit_room_users(room, self.store.room_users(room))

    def emit_room_users(self, room: str, users: list[PresentUser]) -> None:
        self.sio.emit(
            ROOM_USERS,
            room_users_payload(room, users),
            to=socket_room(room),
            namespace=NAMESPACE,
        )

    def announce_departures(self, departures: list[tuple[str, str | None]]) -> None:
        """After presence was purged (dead worker): tell each room who left and who is left."""
        rooms = sorted({room for room, _ in departures})
        for room, username in departures:
            if username:
                self.sio.emit(
                    USER_LEFT,
                    left_notice(username, room),
                    to=socket_room(room),
                    namespace=NAMESPACE,
                )
        for room in rooms:
            self.emit_room_users(room, self.store.room_users(room))

    def _admit(
        self,
        room: str,
        account: SignedIn | None,
        invite: Any,
        rules: dict[str, str],
        already_in: bool,
    ) -> tuple[bool, int]:
        """May post, slow mode ms: what the room's settings say for this person (no
        settings, no question asked)."""
        if not rules or self.admission is None:
            return True, 0
        code = invite if isinstance(invite, str) and 0 < len(invite) <= 64 else None
        return self.admission(
            room, account.account_id if account else None, code, rules, already_in
        )

    def apply_room_rules(self, room: str) -> None:
        """The room's settings changed: this worker's connections in it get what the new
        settings say for them (without being asked for an invite again)."""
        rules = self.store.room_rules(room)
        for connection in self.connections:
            membership = connection.rooms.get(room)
            if membership is not None:
                membership.may_post, membership.slow_ms = self._admit(
                    room, connection.account, None, rules, True
                )
                if self.guard is not None:
                    account = connection.account
                    self.guard.fit(room, account.account_id if account else None, rules, membership)

    def apply_roles(self, room: str) -> None:
        """The room's owner or moderators changed: this worker's connections in it are
        staff or not from now on (the `staff:` room, automatic moderation)."""
        if self.guard is None:
            return
        self.guard.forget(room)
        rules = self.store.room_rules(room)
        for connection in self.connections:
            membership = connection.rooms.get(room)
            if membership is None:
                continue
            was_staff = membership.staff
            account = connection.account
            self.guard.fit(room, account.account_id if account else None, rules, membership)
            if membership.staff and not was_staff:
                self._enter_staff(connection, room)
            elif was_staff and not membership.staff:
                self.sio.leave_room(connection.sid, staff_room(room), namespace=NAMESPACE)

    def _enter_staff(self, connection: Connection, room: str) -> None:
        """A staff member's connection hears the room's review queue from now on."""
        assert self.guard is not None
        self.sio.enter_room(connection.sid, staff_room(room), namespace=NAMESPACE)
        review = {"room": room, "open": self.guard.review_count(room)}
        self.sio.emit(REVIEW, review, to=connection.sid, namespace=NAMESPACE)

    # -- focus -----------------------------------------------------------------------------

    def focus(self, connection: Connection, payload: Any) -> dict[str, Any]:
        """focus: a signed-in client looks at a room (or stops); notifications skip it."""
        data = require_object(payload, FOCUS)
        room = optional_room(data) if connection.protocol >= 2 else None
        membership = connection.membership(room)
        if membership is None:
            raise ProtocolError("Join the room first", NOT_IN_ROOM)
        focused = data.get("focused")
        if not isinstance(focused, bool):
            raise ProtocolError("focused is true or false")
        account = connection.account
        if account is None:
            raise ProtocolError("Notifications need an account", ACCOUNT_REQUIRED)
        if self.on_focus is not None:
            self.on_focus(account.account_id, membership.room, connection.sid, focused)
            rooms = connection.extra.setdefault("focused", set())
            assert isinstance(rooms, set)
            (rooms.add if focused else rooms.discard)(membership.room)
        return {"ok": True, "room": membership.room, "focused": focused}

    def _blur(self, connection: Connection, room: str) -> None:
        rooms = connection.extra.get("focused")
        if isinstance(rooms, set) and room in rooms and connection.account is not None:
            rooms.discard(room)
            if self.on_focus is not None:
                self.on_focus(connection.account.account_id, room, connection.sid, False)

    # -- reports ---------------------------------------------------------------------------

    def report(self, connection: Connection, payload: Any) -> dict[str, Any]:
        """report_message: anyone in a public room reports a message kept there."""
        data = require_object(payload, REPORT_MESSAGE)
        room = optional_room(data) if connection.protocol >= 2 else None
        membership = connection.membership(room)
        if membership is None:
            raise ProtocolError("Join the room before reporting its messages", NOT_IN_ROOM)
        if is_private_room(membership.room) or self.guard is None:
            raise ProtocolError(
                "Private conversations have no moderators: block the person instead", FORBIDDEN
            )
        seq = target_message(data)
        reason = data.get("reason") or ""
        if not isinstance(reason, str) or len(reason.strip()) > REPORT_REASON_MAX:
            raise ProtocolError(f"reason is text of at most {REPORT_REASON_MAX} characters")
        bucket = connection.extra.get("report_bucket")
        if not isinstance(bucket, TokenBucket):
            bucket = connection.extra["report_bucket"] = TokenBucket(RateLimit.parse(REPORT_RATE))
        if not bucket.take():
            metrics.RATE_LIMIT_HITS.labels(kind="report").inc()
            raise ProtocolError("Too many reports: at most 10 a minute", RATE_LIMITED)
        message = self.store.kept_message(membership.room, seq)
        if message is None:
            raise ProtocolError("No such message in this room", NOT_FOUND)
        reporter = membership.author or f"a:{connection.address}"
        item = self.guard.report(
            membership.room, seq, message, reporter, membership.username, reason.strip()
        )
        return {"ok": True, "report": item}

    def check_private(self, connection: Connection, room: str) -> None:
        """Refuse a private conversation to anyone but its two members. A non-member is told
        exactly what one asking for a conversation that does not exist is told."""
        account = connection.account
        if account is None:
            raise ProtocolError(
                "Private messages need an account: sign up or log in", ACCOUNT_REQUIRED
            )
        if not self.private_rooms.admit(room, account.account_id):
            raise ProtocolError("No such conversation", NOT_FOUND)

    # -- typing and history ----------------------------------------------------------------

    def typing(self, connection: Connection, payload: Any) -> None:
        """typing: forwarded to the others, a repeated `true` at most every 2 s."""
        data = require_object(payload, TYPING)
        is_typing = data.get("is_typing")
        if not isinstance(is_typing, bool):
            raise ProtocolError("is_typing must be true or false")
        named = named_room(connection, data)
        membership = connection.membership(named)
        if membership is None:
            raise ProtocolError("Join a room before typing", NOT_IN_ROOM)
        now = time.monotonic()
        if (
            is_typing
            and membership.typing
            and now - membership.typing_sent_at < (TYPING_REFRESH_SECONDS)
        ):
            return
        if not is_typing and not membership.typing:
            return
        self._broadcast_typing(connection, membership, is_typing)

    def _broadcast_typing(
        self, connection: Connection, membership: Membership, is_typing: bool
    ) -> None:
        membership.typing = is_typing
        membership.typing_sent_at = time.monotonic()
        room, username = membership.room, membership.username
        self.store.set_typing(room, username, is_typing, now_ms() + TYPING_VISIBLE_MS)
        self.sio.emit(
            USER_TYPING,
            {"username": username, "is_typing": is_typing, "room": room},
            to=socket_room(room),
            skip_sid=connection.sid,
            namespace=NAMESPACE,
        )

    def history(self, connection: Connection, payload: Any) -> dict[str, Any]:
        """get_history: a page before an id, the gap since an id, or the newest page."""
        query = validate_history_query(
            require_object(payload, GET_HISTORY), self.settings.history_limit
        )
        if is_private_room(query.room) and query.room not in connection.rooms:
            self.check_private(connection, query.room)
        if connection.protocol >= 2:
            return self._history_v2(connection, query)
        messages, has_more = self.store.history(query.room, query.before, query.since, query.limit)
        messages = [protocol1_view(m) for m in messages]
        return {"ok": True, "room": query.room, "messages": messages, "has_more": has_more}

    def _history_v2(self, connection: Connection, query: HistoryQuery) -> dict[str, Any]:
        """Protocol 2: messages in their current state; after since_id, the events too."""
        room = query.room
        membership = connection.rooms.get(room)
        viewer = membership.author if membership else ""
        stored, has_more = self.store.stored_page(room, query.before, query.since, query.limit)
        answer: dict[str, Any] = {
            "ok": True,
            "room": room,
            "messages": current_state(self.room_log, room, stored, viewer),
            "has_more": has_more,
        }
        if query.since is None:
            return answer
        # Events up to those of the page's last message (all of them on the last page).
        until = seq_of(stored[-1]) if has_more else None
        events, last, full = events_after(
            self.room_log,
            room,
            (query.since, query.since_event),
            until,
            {seq_of(m) for m in stored},
            EVENT_PAGE,
        )
        cursor = (query.since, query.since_event)
        if stored:
            cursor = (seq_of(stored[-1]), 0)
        if full and last is not None:
            # The event page filled up first: the answer ends at its last event.
            answer["messages"] = [m for m in answer["messages"] if seq_of(m) <= last[0]]
            answer["has_more"] = True
        if last is not None and (full or last > cursor):
            cursor = last
        answer["events"] = events
        answer["cursor"] = format_log_position(*cursor)
        return answer

    # -- worker presence -------------------------------------------------------------------

    def rejoin_all(self) -> None:
        """Put every local connection back into Redis presence (after a purge or data loss)."""
        rooms: set[str] = set()
        for connection in self.connections:
            for membership in list(connection.rooms.values()):
                result = self.store.join(
                    membership.room,
                    connection.sid,
                    membership.identity,
                    membership.username,
                    membership.key_hash,
                    self.worker_id,
                    shown=_shown(connection.account),
                )
                if not result.taken:
                    rooms.add(membership.room)
                    continue
                room = membership.room
                del connection.rooms[room]
                if self.guard is not None:
                    self.guard.left(room, membership)
                self.sio.leave_room(connection.sid, socket_room(room), namespace=NAMESPACE)
                self.sio.leave_room(connection.sid, log_room(room), namespace=NAMESPACE)
                reader = reader_room(room, membership.author)
                self.sio.leave_room(connection.sid, reader, namespace=NAMESPACE)
                self.sio.manager.unfollow_if_empty(room, connection.sid)
                error = ProtocolError(
                    "Your name was taken while the server reconnected", NAME_TAKEN
                )
                event = {**error.as_event(), "room": room}
                self.sio.emit("error", event, to=connection.sid, namespace=NAMESPACE)
        for room in sorted(rooms):
            self.emit_room_users(room, self.store.room_users(room))
        log.info("presence restored", extra={"rooms": len(rooms)})


def _shown(account: SignedIn | None) -> PresentUser | None:
    """How a signed-in account appears in the online list (guests: by their name)."""
    if account is None:
        return None
    return PresentUser(account.username, account.display_name, account.color, account=True)


def settings_view(
    room: str, rules: dict[str, str], automod_defaults: dict[str, str] | None = None
) -> dict[str, Any]:
    """A room's settings as clients get them (room_joined, room_settings): automatic
    moderation's rules, never the room's word list."""
    actions = dict(automod_defaults or {})
    if rules.get("automod"):
        actions.update(orjson.loads(rules["automod"]).get("rules", {}))
    return {
        "room": room,
        "topic": rules.get("topic", ""),
        "post": rules.get("post", "everyone"),
        "slow_mode": int(rules.get("slow", "0")),
        "invite_only": rules.get("invite") == "1",
        "pins": orjson.loads(rules.get("pins", "[]")),
        "automod": {"rules": actions},
    }


def named_room(connection: Connection, data: dict[str, Any]) -> str | None:
    """The room a leave or typing names: protocol 2 may name one; protocol 1 never does."""
    if connection.protocol >= 2 and "room" in data:
        return validate_room(data["room"])
    return None
