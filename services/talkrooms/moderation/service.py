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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from talkrooms.accounts.models import Account
from talkrooms.accounts.service import AccountError
from talkrooms.chat.room_events import RoomEventPath
from talkrooms.moderation.models import Administrator, AuditEntry, OwnedRoom, RoomModerator
from talkrooms.protocol import (
    ProtocolError,
    is_private_room,
    parse_message_id,
    username_identity,
    validate_room,
)
from talkrooms.settings import Settings
from talkrooms.storage.database import Database, utcnow

RANKS = {"moderator": 1, "owner": 2, "admin": 3}
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


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


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
        self, settings: Settings, database: Database, events: RoomEventPath | None = None
    ) -> None:
        """`events` acts on the chat's messages (a worker's); the CLI manages
        administrators without it."""
        self.settings = settings
        self.database = database
        self.events = events
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

    @staticmethod
    def _audit(
        session: Session,
        room: str,
        actor: Account | None,
        action: str,
        target: str = "",
        reason: str = "",
        **details: Any,
    ) -> None:
        session.add(
            AuditEntry(
                room=room,
                actor_id=actor.id if actor else None,
                actor_name=actor.username if actor else "system",
                action=action,
                target=target,
                reason=reason,
                details=json.dumps(details, ensure_ascii=False),
                created_at=utcnow(),
            )
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
                    "at": _iso(e.created_at),
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
