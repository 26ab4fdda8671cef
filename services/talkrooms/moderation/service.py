"""Who runs a room and what they did: owners, moderators, administrators, the audit log,
and a moderator's removal of a message.

Ranks: an administrator (ADMIN_USERNAMES, or `talkrooms admin grant`) outranks a room's
owner, who outranks its moderators. Everyone else is a member (an account) or a guest.
Rooms created by guests have no owner: open rooms as before, which an administrator can
hand to an account. Private conversations are nobody's to moderate.

Every action is checked here, on the database, whatever worker runs it, and written to
the audit log in the same transaction as its change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from talkrooms.accounts.models import Account
from talkrooms.accounts.service import AccountError
from talkrooms.chat.message_path import Flagged
from talkrooms.chat.room_events import RoomEventPath
from talkrooms.moderation.models import (
    Administrator,
    AuditEntry,
    OwnedRoom,
    RoomModerator,
    Sanction,
)
from talkrooms.protocol import (
    BAN,
    KICK,
    MODERATION,
    MUTE,
    ROLES,
    SANCTIONS,
    UNBAN,
    UNMUTE,
    ProtocolError,
    is_private_room,
    parse_message_id,
    username_identity,
    validate_room,
)
from talkrooms.settings import Settings
from talkrooms.storage.database import Database, iso_utc, utcnow
from talkrooms.storage.store import Store, author_token

RANKS = {"moderator": 1, "owner": 2, "admin": 3}
DEFAULT_MUTE_MINUTES = 10
MAX_MINUTES = 366 * 24 * 60
# Sends an event to a room (every worker acts on `moderation` and `room_settings` too):
# (event, room, payload).
Notify = Callable[[str, str, dict[str, Any]], None]
REASON_MAX = 500
AUDIT_PAGE_MAX = 200


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    display_name: str

    def as_json(self) -> dict[str, Any]:
        return {"username": self.username, "display_name": self.display_name}


def _person(account: Account) -> Person:
    return Person(account.id, account.username, account.shown_name)


def _ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment is not None else None


def moderated_room(value: str) -> str:
    """A public room's id; 404 for private conversations (nobody moderates them) and 400
    for ids that are not room ids."""
    try:
        room = validate_room(value)
    except ProtocolError as exc:
        raise AccountError(400, "invalid_request", str(exc)) from exc
    if is_private_room(room):
        raise AccountError(404, "not_found", "Private conversations have no moderators")
    return room


def clean_reason(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value.strip()) > REASON_MAX:
        raise AccountError(400, "invalid_request", f"A reason is text of at most {REASON_MAX}")
    return value.strip()


class ModerationService:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        events: RoomEventPath | None = None,
        store: Store | None = None,
        notify: Notify | None = None,
    ) -> None:
        """`events`, `store` and `notify` act on the chat (a worker's); the CLI manages
        administrators without them."""
        self.settings = settings
        self.database = database
        self.events = events
        self.store = store
        self.notify = notify
        self.admin_identities = frozenset(
            username_identity(name.strip())
            for name in settings.admin_usernames.split(",")
            if name.strip()
        )

    # -- who is who -------------------------------------------------------------------------

    def _is_admin(self, session: Session, account: Account) -> bool:
        if account.username_identity in self.admin_identities:
            return True
        return session.get(Administrator, account.id) is not None

    def _role(self, session: Session, room: str, account_id: int | None) -> str | None:
        if account_id is None:
            return None
        account = session.get(Account, account_id)
        if account is None:
            return None
        if self._is_admin(session, account):
            return "admin"
        owned = session.get(OwnedRoom, room)
        if owned is not None and owned.owner_id == account_id:
            return "owner"
        if session.get(RoomModerator, (room, account_id)) is not None:
            return "moderator"
        return None

    def _require(self, session: Session, room: str, account_id: int, needed: str) -> str:
        role = self._role(session, room, account_id)
        if role is None or RANKS[role] < RANKS[needed]:
            names = {"moderator": "a moderator", "owner": "the owner", "admin": "an administrator"}
            raise AccountError(403, "forbidden", f"Only {names[needed]} of this room may do this")
        return role

    def require(self, session: Session, room: str, account_id: int, needed: str) -> str:
        """The account's role in the room, or 403 when it is below `needed`."""
        return self._require(session, room, account_id, needed)

    @staticmethod
    def audit_automatic(
        session: Session,
        room: str,
        actor_name: str,
        action: str,
        target: str = "",
        reason: str = "",
        actor_id: int | None = None,
        **details: Any,
    ) -> None:
        """An audit row whose actor is a rule ("automod"), a reporter or a decider."""
        session.add(
            AuditEntry(
                room=room,
                actor_id=actor_id,
                actor_name=actor_name[:64],
                action=action,
                target=target[:64],
                reason=reason[:500],
                details=json.dumps(details, ensure_ascii=False),
                created_at=utcnow(),
            )
        )

    @staticmethod
    def _account_named(session: Session, username: str) -> Account:
        name = username.strip()
        account = (
            session.scalar(
                select(Account).where(Account.username_identity == username_identity(name))
            )
            if name
            else None
        )
        if account is None:
            raise AccountError(404, "not_found", "No account has this name")
        return account

    @classmethod
    def _audit(
        cls,
        session: Session,
        room: str,
        actor: Account | None,
        action: str,
        target: str = "",
        reason: str = "",
        **details: Any,
    ) -> None:
        """An audit row whose actor is an account ("system" when none)."""
        cls.audit_automatic(
            session,
            room,
            actor.username if actor else "system",
            action,
            target,
            reason,
            actor_id=actor.id if actor else None,
            **details,
        )

    # -- ownership --------------------------------------------------------------------------

    def claim(self, room: str, account_id: int) -> bool:
        """An account's join created the room: it becomes the owner (unless an owner is
        already on record: a room that emptied and expired keeps its owner)."""

        def create(session: Session) -> bool:
            if session.get(OwnedRoom, room) is not None:
                return False
            account = session.get_one(Account, account_id)
            session.add(OwnedRoom(name=room, owner_id=account_id, created_at=utcnow()))
            self._audit(session, room, account, "room_created", account.username)
            return True

        try:
            return self.database.run(create)
        except IntegrityError:
            return False  # two first joins at once: the other one's row stands

    def roles(self, room: str, viewer_id: int | None) -> dict[str, Any]:
        """Who runs the room (public, like the online list) and the viewer's own role."""

        def read(session: Session) -> dict[str, Any]:
            owned = session.get(OwnedRoom, room)
            owner = session.get(Account, owned.owner_id) if owned else None
            moderators = session.scalars(
                select(Account)
                .join(RoomModerator, RoomModerator.account_id == Account.id)
                .where(RoomModerator.room == room)
                .order_by(Account.username)
            ).all()
            return {
                "room": room,
                "owner": _person(owner).as_json() if owner else None,
                "moderators": [_person(m).as_json() for m in moderators],
                "you": self._role(session, room, viewer_id),
            }

        return self.database.run(read)

    def announce_roles(self, room: str) -> None:
        """Everyone in the room, on every worker, hears who runs it now (`roles`); every
        worker also re-reads who is staff there (chat.service.apply_roles)."""
        if self.notify is None:
            return
        view = self.roles(room, None)
        view.pop("you", None)
        self.notify(ROLES, room, view)

    def set_moderator(self, room: str, actor_id: int, username: str, named: bool) -> None:
        """The owner (or an administrator) names or un-names a moderator."""

        def change(session: Session) -> None:
            self._require(session, room, actor_id, "owner")
            if session.get(OwnedRoom, room) is None:
                raise AccountError(409, "no_owner", "This room has no owner to name moderators")
            actor = session.get_one(Account, actor_id)
            target = self._account_named(session, username)
            current = session.get(RoomModerator, (room, target.id))
            if named and current is None:
                session.add(
                    RoomModerator(
                        room=room, account_id=target.id, named_by=actor_id, created_at=utcnow()
                    )
                )
                self._audit(session, room, actor, "moderator_added", target.username)
            elif not named and current is not None:
                session.delete(current)
                self._audit(session, room, actor, "moderator_removed", target.username)

        self.database.run(change)
        self.announce_roles(room)

    def hand_over(self, room: str, actor_id: int, username: str, reason: str) -> None:
        """An administrator gives the room to an account (any room: an ownerless one too)."""

        def change(session: Session) -> None:
            self._require(session, room, actor_id, "admin")
            actor = session.get_one(Account, actor_id)
            target = self._account_named(session, username)
            owned = session.get(OwnedRoom, room)
            previous = None
            if owned is None:
                session.add(OwnedRoom(name=room, owner_id=target.id, created_at=utcnow()))
            else:
                previous = owned.owner_id
                owned.owner_id = target.id
            session.execute(
                delete(RoomModerator).where(
                    RoomModerator.room == room, RoomModerator.account_id == target.id
                )
            )
            self._audit(
                session, room, actor, "owner_changed", target.username, reason, previous=previous
            )

        self.database.run(change)
        self.announce_roles(room)

    # -- messages ---------------------------------------------------------------------------

    def remove_message(self, room: str, actor_id: int, message_id: str, reason: str) -> dict:
        """A moderator removes any message: everyone sees it deleted, "removed by a
        moderator"; its text and files go as with any deletion."""
        try:
            seq = parse_message_id(message_id, "The message id")
        except ProtocolError as exc:
            raise AccountError(400, "invalid_request", str(exc)) from exc
        if seq is None:
            raise AccountError(400, "invalid_request", "Name the message to remove")

        def check(session: Session) -> str:
            self._require(session, room, actor_id, "moderator")
            return session.get_one(Account, actor_id).username

        actor_name = self.database.run(check)
        assert self.events is not None, "a worker's service acts on messages"
        outcome = self.events.remove_message(room, seq, f"u:{actor_id}")
        if outcome.refusal is not None:
            code, text = outcome.refusal
            raise AccountError(404 if code == "not_found" else 409, code, text)

        def record(session: Session) -> None:
            actor = session.get_one(Account, actor_id)
            self._audit(session, room, actor, "message_removed", message_id, reason)

        self.database.run(record)
        return {"ok": True, "removed": outcome.event is not None, "by": actor_name}

    # -- sanctions --------------------------------------------------------------------------

    def sanction(
        self,
        room: str,
        actor_id: int,
        action: str,
        username: str,
        minutes: int | None,
        reason: str,
    ) -> dict[str, Any]:
        """Kick (out now, may rejoin), mute (no messages for `minutes`, default 10) or ban
        (out now, no rejoin for `minutes`, or for good) someone by name: an account, or a
        guest present in the room. Nobody sanctions their equal or better."""
        assert self.store is not None and self.notify is not None, "a worker's service"
        if action not in SANCTIONS:
            raise AccountError(400, "invalid_request", f"action is one of {', '.join(SANCTIONS)}")
        if minutes is not None and not 1 <= minutes <= MAX_MINUTES:
            raise AccountError(400, "invalid_request", f"minutes is 1 to {MAX_MINUTES}")
        if action == MUTE and minutes is None:
            minutes = DEFAULT_MUTE_MINUTES
        identity = username_identity(username.strip()) if username.strip() else ""
        store = self.store

        def check(session: Session) -> tuple[str, int | None, str | None]:
            """(the actor's role, the target account's id and name, or None: a guest)."""
            actor_role = self._require(session, room, actor_id, "moderator")
            target = session.scalar(select(Account).where(Account.username_identity == identity))
            if target is None:
                return actor_role, None, None
            if target.id == actor_id:
                raise AccountError(400, "invalid_request", "You cannot sanction yourself")
            target_role = self._role(session, room, target.id)
            if target_role is not None and RANKS[target_role] >= RANKS[actor_role]:
                raise AccountError(403, "forbidden", f"You cannot sanction the {target_role}")
            return actor_role, target.id, target.username

        _role, target_id, target_name = self.database.run(check)
        key_hash = None
        if target_id is None:
            # A guest: known by the client key it is present with (Redis, on this greenlet:
            # never from the database's pool thread).
            key_hash = store.present_key_hash(room, identity) if identity else None
            if key_hash is None:
                raise AccountError(404, "not_found", "Nobody by this name is in the room")
            name, author = username.strip(), author_token(identity, key_hash)
        else:
            name, author = str(target_name), f"u:{target_id}"

        def record(session: Session) -> tuple[dict[str, Any], Sanction | None]:
            actor = session.get_one(Account, actor_id)
            until = utcnow() + timedelta(minutes=minutes) if minutes else None
            row = None
            if action != KICK:
                row = Sanction(
                    room=room,
                    kind=action,
                    username=name,
                    account_id=target_id,
                    key_hash=key_hash,
                    author=author,
                    until=until,
                    reason=reason,
                    actor_id=actor_id,
                    created_at=utcnow(),
                )
                session.add(row)
                session.flush()
            self._audit(
                session,
                room,
                actor,
                action,
                name,
                reason,
                minutes=minutes,
                sanction=row.id if row is not None else None,
            )
            notice = {
                "room": room,
                "action": action,
                "username": name,
                "reason": reason,
                "until": iso_utc(until) if until else None,
                "by": actor.username,
            }
            if row is not None:
                session.expunge(row)
            return notice, row

        notice, row = self.database.run(record)
        if row is not None:
            self._enforce(row)
        extra: dict[str, Any] = {}
        if row is not None:
            extra = {"sanction": row.id, "until_ms": _ms(row.until)}
        self.notify(MODERATION, room, {**notice, **extra})
        return {"ok": True, "sanction": row.id if row is not None else None, **notice}

    def auto_mute(self, flagged: Flagged, minutes: int) -> None:
        """Automatic moderation mutes the author of a flagged message (unless a mute of
        theirs already holds): the same sanction a moderator gives, by "automod"."""
        assert self.store is not None and self.notify is not None, "a worker's service"
        verdict = flagged.verdict

        def record(session: Session) -> Sanction | None:
            now = utcnow()
            active = session.scalar(
                select(Sanction.id).where(
                    Sanction.room == flagged.room,
                    Sanction.author == flagged.author,
                    Sanction.kind == MUTE,
                    Sanction.lifted_at.is_(None),
                    Sanction.until > now,
                )
            )
            if active is not None:
                return None
            row = Sanction(
                room=flagged.room,
                kind=MUTE,
                username=flagged.username,
                account_id=flagged.account_id,
                key_hash=None if flagged.account_id else flagged.key_hash,
                author=flagged.author,
                until=now + timedelta(minutes=minutes),
                reason=verdict.reason[:500],
                actor_id=None,
                created_at=now,
            )
            session.add(row)
            session.flush()
            self.audit_automatic(
                session,
                flagged.room,
                "automod",
                "auto_muted",
                flagged.username,
                verdict.reason,
                rule=verdict.rule,
                minutes=minutes,
                sanction=row.id,
            )
            session.expunge(row)
            return row

        row = self.database.run(record)
        if row is None:
            return
        self._enforce(row)
        assert row.until is not None
        self.notify(
            MODERATION,
            flagged.room,
            {
                "room": flagged.room,
                "action": MUTE,
                "username": flagged.username,
                "reason": verdict.reason,
                "until": iso_utc(row.until),
                "by": "automod",
                "sanction": row.id,
                "until_ms": _ms(row.until),
            },
        )

    def _enforce(self, row: Sanction) -> None:
        """The Redis copy the message script and joins read."""
        assert self.store is not None
        until = _ms(row.until)
        self.store.silence(row.room, row.author, "muted" if row.kind == MUTE else "banned", until)
        if row.kind == BAN:
            subject = f"u:{row.account_id}" if row.account_id else f"k:{row.key_hash}"
            self.store.ban(row.room, [subject], until, row.id)

    def lift(self, room: str, actor_id: int, sanction_id: int) -> dict[str, Any]:
        """Unmute or unban."""
        assert self.store is not None and self.notify is not None, "a worker's service"

        def change(session: Session) -> tuple[Sanction, str]:
            self._require(session, room, actor_id, "moderator")
            row = session.get(Sanction, sanction_id)
            if row is None or row.room != room or row.lifted_at is not None:
                raise AccountError(404, "not_found", "No such sanction in force here")
            row.lifted_at = utcnow()
            actor = session.get_one(Account, actor_id)
            action = UNMUTE if row.kind == MUTE else UNBAN
            self._audit(session, room, actor, action, row.username, sanction=row.id)
            session.flush()
            session.expunge(row)
            return row, actor.username

        row, actor_name = self.database.run(change)
        self.store.unsilence(room, row.author)
        if row.kind == BAN:
            self.store.unban(room, row.id)
        action = UNMUTE if row.kind == MUTE else UNBAN
        notice = {
            "room": room,
            "action": action,
            "username": row.username,
            "reason": "",
            "until": None,
            "by": actor_name,
        }
        self.notify(MODERATION, room, notice)
        return {"ok": True, **notice}

    def sanctions(self, room: str, actor_id: int) -> list[dict[str, Any]]:
        """The mutes and bans in force, for the room's moderators."""

        def read(session: Session) -> list[dict[str, Any]]:
            self._require(session, room, actor_id, "moderator")
            rows = session.scalars(
                select(Sanction)
                .where(Sanction.room == room, Sanction.lifted_at.is_(None))
                .order_by(Sanction.id.desc())
            ).all()
            now = utcnow()
            return [
                {
                    "id": r.id,
                    "action": r.kind,
                    "username": r.username,
                    "guest": r.account_id is None,
                    "until": iso_utc(r.until) if r.until else None,
                    "reason": r.reason,
                    "at": iso_utc(r.created_at),
                }
                for r in rows
                if r.until is None or r.until > now
            ]

        return self.database.run(read)

    def restore_sanctions(self) -> int:
        """Write every sanction in force to Redis again (a worker does it at start: Redis
        may have lost its copy)."""
        now = utcnow()

        def read(session: Session) -> list[Sanction]:
            rows = session.scalars(select(Sanction).where(Sanction.lifted_at.is_(None))).all()
            for row in rows:
                session.expunge(row)
            return [r for r in rows if r.until is None or r.until > now]

        rows = self.database.run(read)
        for row in rows:
            self._enforce(row)
        return len(rows)

    # -- the audit log ----------------------------------------------------------------------

    def audit(
        self, room: str, actor_id: int, limit: int = 50, before: int | None = None
    ) -> list[dict[str, Any]]:
        """The room's audit log, newest first: for its moderators, owner, administrators."""

        def read(session: Session) -> list[dict[str, Any]]:
            self._require(session, room, actor_id, "moderator")
            query = select(AuditEntry).where(AuditEntry.room == room)
            if before is not None:
                query = query.where(AuditEntry.id < before)
            entries = session.scalars(
                query.order_by(AuditEntry.id.desc()).limit(min(limit, AUDIT_PAGE_MAX))
            ).all()
            return [
                {
                    "id": e.id,
                    "actor": e.actor_name,
                    "action": e.action,
                    "target": e.target,
                    "reason": e.reason,
                    "details": json.loads(e.details),
                    "at": iso_utc(e.created_at),
                }
                for e in entries
            ]

        return self.database.run(read)

    # -- administrators ---------------------------------------------------------------------

    def set_admin(self, username: str, admin: bool) -> str:
        """`talkrooms admin grant|revoke`: the account's name as registered."""

        def change(session: Session) -> str:
            account = self._account_named(session, username)
            current = session.get(Administrator, account.id)
            if admin and current is None:
                session.add(Administrator(account_id=account.id, created_at=utcnow()))
            elif not admin and current is not None:
                session.delete(current)
            return account.username

        return self.database.run(change)

    def admins(self) -> list[str]:
        def read(session: Session) -> list[str]:
            named = session.scalars(
                select(Account.username).join(Administrator, Administrator.account_id == Account.id)
            ).all()
            from_settings = session.scalars(
                select(Account.username).where(
                    Account.username_identity.in_(sorted(self.admin_identities))
                )
            ).all()
            return sorted(set(named) | set(from_settings))

        return self.database.run(read)
