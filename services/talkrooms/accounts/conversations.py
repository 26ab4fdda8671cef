"""Private conversations and blocks: who talks with whom, and who refuses whom.

The database holds the truth (accounts/models.py: conversations, their members, blocks);
the chat carries the messages in a room with a `dm:` id. Two copies live outside the
database, both rebuildable from it:
- each worker's cache of a conversation's members (they never change once it exists),
  which the chat's join asks through `admit`;
- the room's `silenced` hash in Redis, which the message script reads on every message
  (a block refuses messages without a database call on the hot path). Blocking writes it,
  and every join writes it again from the database, so a Redis that lost it heals as
  soon as either member opens the conversation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from talkrooms.accounts.models import Account, Block, Conversation, ConversationMember
from talkrooms.accounts.service import AccountError
from talkrooms.protocol import is_private_room, new_private_room, username_identity
from talkrooms.realtime.connections import SignedIn
from talkrooms.storage.database import Database, iso_utc, utcnow
from talkrooms.storage.store import Store

log = logging.getLogger("talkrooms.accounts.conversations")

# Sends a conversation (as that member sees it) to one account's connections.
Announce = Callable[[int, dict[str, Any]], None]
# The `silenced` codes the message path turns into errors (chat/message_path.py SILENCED).
BLOCKED_BY_OTHER = "blocked"
BLOCKED_BY_SELF = "you_blocked"
MEMBER_CACHE_MAX = 10_000


@dataclass(frozen=True)
class Person:
    """Someone as a conversation list shows them."""

    id: int
    username: str
    display_name: str
    color: str

    @classmethod
    def of(cls, account: Account) -> Person:
        return cls(account.id, account.username, account.shown_name, account.shown_color)

    def as_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "color": self.color,
        }


@dataclass(frozen=True)
class ConversationView:
    """One conversation as one of its members sees it."""

    room: str
    other: Person
    created_at: datetime
    blocked: bool
    blocked_by_other: bool

    @property
    def can_write(self) -> bool:
        return not (self.blocked or self.blocked_by_other)

    def as_json(self) -> dict[str, Any]:
        return {
            "room": self.room,
            "with": self.other.as_json(),
            "created_at": iso_utc(self.created_at),
            "blocked": self.blocked,
            "can_write": self.can_write,
        }


@dataclass(frozen=True)
class BlockView:
    person: Person
    since: datetime

    def as_json(self) -> dict[str, Any]:
        return {**self.person.as_json(), "since": iso_utc(self.since)}


def _pair(first: int, second: int) -> str:
    low, high = sorted((first, second))
    return f"{low}:{high}"


def _author(account_id: int) -> str:
    return SignedIn(account_id=account_id, username="").author


class ConversationService:
    """Open, list and read conversations; block and unblock; answer the chat's `admit`."""

    def __init__(self, database: Database, store: Store, announce: Announce) -> None:
        self.database = database
        self.store = store
        self.announce = announce
        self._members: dict[str, frozenset[int]] = {}

    # -- lookups ----------------------------------------------------------------------------

    def _account_named(self, session: Session, username: str) -> Account:
        name = username.strip()
        identity = username_identity(name) if name else ""
        account = (
            session.scalar(select(Account).where(Account.username_identity == identity))
            if identity
            else None
        )
        if account is None:
            raise AccountError(404, "not_found", "No account has this name")
        return account

    @staticmethod
    def _blocks_between(session: Session, first: int, second: int) -> set[tuple[int, int]]:
        rows = session.execute(
            select(Block.blocker_id, Block.blocked_id).where(
                ((Block.blocker_id == first) & (Block.blocked_id == second))
                | ((Block.blocker_id == second) & (Block.blocked_id == first))
            )
        )
        return {(row[0], row[1]) for row in rows}

    def _view(
        self, session: Session, conversation: Conversation, viewer: int
    ) -> ConversationView | None:
        members = session.scalars(
            select(ConversationMember.account_id).where(
                ConversationMember.conversation_id == conversation.id
            )
        ).all()
        if viewer not in members:
            return None
        other_id = next((m for m in members if m != viewer), viewer)
        blocks = self._blocks_between(session, viewer, other_id)
        return ConversationView(
            room=conversation.room,
            other=Person.of(session.get_one(Account, other_id)),
            created_at=conversation.created_at,
            blocked=(viewer, other_id) in blocks,
            blocked_by_other=(other_id, viewer) in blocks,
        )

    # -- conversations ----------------------------------------------------------------------

    def open(self, account_id: int, username: str) -> tuple[ConversationView, bool]:
        """The conversation with `username`, created if needed: (view, created). Both
        members' connections hear of a new one (`conversation` event)."""

        def find_or_create(session: Session) -> tuple[ConversationView, int, bool]:
            other = self._account_named(session, username)
            if other.id == account_id:
                raise AccountError(
                    400, "invalid_request", "A private conversation needs someone else"
                )
            pair = _pair(account_id, other.id)
            existing = session.scalar(select(Conversation).where(Conversation.pair == pair))
            if existing is not None:
                view = self._view(session, existing, account_id)
                assert view is not None
                return view, other.id, False
            if (other.id, account_id) in self._blocks_between(session, account_id, other.id):
                raise AccountError(403, "blocked", "This person does not accept messages from you")
            now = utcnow()
            conversation = Conversation(room=new_private_room(), pair=pair, created_at=now)
            session.add(conversation)
            session.flush()
            for member in (account_id, other.id):
                session.add(
                    ConversationMember(
                        conversation_id=conversation.id, account_id=member, joined_at=now
                    )
                )
            session.flush()
            view = self._view(session, conversation, account_id)
            assert view is not None
            return view, other.id, True

        try:
            view, other_id, created = self.database.run(find_or_create)
        except IntegrityError:
            # Both opened it at the same moment: the pair's unique key kept one; read it.
            view, other_id, created = self.database.run(find_or_create)
        if created:
            self._tell_both(view.room, account_id, other_id)
        return view, created

    def of_account(self, account_id: int) -> list[ConversationView]:
        """The account's conversations, newest first."""

        def every(session: Session) -> list[ConversationView]:
            conversations = session.scalars(
                select(Conversation)
                .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
                .where(ConversationMember.account_id == account_id)
                .order_by(Conversation.created_at.desc(), Conversation.id.desc())
            ).all()
            views = [self._view(session, c, account_id) for c in conversations]
            return [v for v in views if v is not None]

        return self.database.run(every)

    def get(self, account_id: int, room: str) -> ConversationView:
        """One conversation of the account; 404 not_found alike for a conversation that
        does not exist and for one of other people."""

        def one(session: Session) -> ConversationView | None:
            conversation = session.scalar(select(Conversation).where(Conversation.room == room))
            return self._view(session, conversation, account_id) if conversation else None

        view = self.database.run(one) if is_private_room(room) else None
        if view is None:
            raise AccountError(404, "not_found", "No such conversation")
        return view

    # -- the chat's gate --------------------------------------------------------------------

    def members(self, room: str) -> frozenset[int]:
        """The conversation's members (empty: no such conversation); cached per worker,
        since members never change."""
        cached = self._members.get(room)
        if cached is not None:
            return cached

        def load(session: Session) -> frozenset[int]:
            return frozenset(
                session.scalars(
                    select(ConversationMember.account_id)
                    .join(Conversation, Conversation.id == ConversationMember.conversation_id)
                    .where(Conversation.room == room)
                )
            )

        members = self.database.run(load)
        if members:
            if len(self._members) >= MEMBER_CACHE_MAX:
                self._members.clear()
            self._members[room] = members
        return members

    def admit(self, room: str, account_id: int) -> bool:
        """chat.private_rooms.PrivateRooms: a member may join; the room's refusals are
        written again from the database on the way (healing a Redis that lost them)."""
        members = self.members(room)
        if account_id not in members:
            return False
        self._sync_silenced(room, members)
        return True

    def _sync_silenced(self, room: str, members: frozenset[int]) -> None:
        ids = sorted(members)
        first, second = ids[0], ids[-1]
        blocks = self.database.run(lambda session: self._blocks_between(session, first, second))
        silenced: dict[str, str] = {}
        for blocker, blocked in blocks:
            silenced[_author(blocked)] = BLOCKED_BY_OTHER
            silenced.setdefault(_author(blocker), BLOCKED_BY_SELF)
        self.store.set_silenced(room, silenced)

    # -- blocks -----------------------------------------------------------------------------

    def blocks(self, account_id: int) -> list[BlockView]:
        def every(session: Session) -> list[BlockView]:
            rows = session.execute(
                select(Block, Account)
                .join(Account, Account.id == Block.blocked_id)
                .where(Block.blocker_id == account_id)
                .order_by(Block.created_at.desc())
            ).all()
            return [BlockView(Person.of(account), block.created_at) for block, account in rows]

        return self.database.run(every)

    def block(self, account_id: int, username: str) -> None:
        """`account_id` blocks `username`: no new messages between them in their
        conversation (if any), no new conversation from them."""
        self._set_block(account_id, username, blocked=True)

    def unblock(self, account_id: int, username: str) -> None:
        self._set_block(account_id, username, blocked=False)

    def _set_block(self, account_id: int, username: str, *, blocked: bool) -> None:
        def change(session: Session) -> tuple[int, str | None]:
            other = self._account_named(session, username)
            if other.id == account_id:
                raise AccountError(400, "invalid_request", "You cannot block yourself")
            session.execute(
                delete(Block).where(Block.blocker_id == account_id, Block.blocked_id == other.id)
            )
            if blocked:
                session.add(Block(blocker_id=account_id, blocked_id=other.id, created_at=utcnow()))
            room = session.scalar(
                select(Conversation.room).where(Conversation.pair == _pair(account_id, other.id))
            )
            return other.id, room

        other_id, room = self.database.run(change)
        if room is None:
            return
        try:
            self._sync_silenced(room, frozenset({account_id, other_id}))
        except RedisError as exc:
            # The block is stored; the next join of either member writes the refusal.
            log.error("writing a block to Redis failed", extra={"error": str(exc)})
        self._tell_both(room, account_id, other_id)

    def _tell_both(self, room: str, first: int, second: int) -> None:
        for member in (first, second):
            try:
                self.announce(member, self.get(member, room).as_json())
            except Exception:  # the queue is down: they see it at their next list
                log.exception("announcing a conversation failed")
