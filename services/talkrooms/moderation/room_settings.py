"""A room's settings: topic, who may post, slow mode, invite-only with an invite link,
pinned messages (docs/moderation.md "Room settings").

The database holds them (columns of `rooms`); Redis holds the working copy every join
reads (the room's `settings` hash, absent for the many rooms without settings, so those
joins ask nothing more). A join into a room with settings asks `admit`: may this person
come in (invite-only), may they post, which slow mode holds them. The answer is kept on
the connection's membership, so a message pays nothing for it, and every worker asks
again for its connections when the settings change (`room_settings` emit). Owners,
moderators and administrators are never held by them.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from talkrooms.accounts.models import Account
from talkrooms.accounts.service import AccountError
from talkrooms.chat.service import settings_view
from talkrooms.moderation.automod import room_automod
from talkrooms.moderation.models import OwnedRoom, RoomMember
from talkrooms.moderation.service import ModerationService
from talkrooms.protocol import (
    INVITE_ONLY,
    PINS_MAX,
    POST_POLICIES,
    ROOM_SETTINGS,
    SLOW_MODE_MAX_SECONDS,
    TOPIC_MAX,
    ProtocolError,
    format_message_id,
    parse_message_id,
)
from talkrooms.storage.database import utcnow
from talkrooms.storage.store import Store

DEFAULTS = {"topic": "", "post": "everyone", "slow": "0", "invite": "0", "pins": "[]"}


def rules_of(room: OwnedRoom | None) -> dict[str, str]:
    """The Redis copy of a room's settings: empty while they are all the defaults."""
    if room is None:
        return {}
    rules: dict[str, str] = {
        "topic": room.topic,
        "post": room.post_policy,
        "slow": str(room.slow_mode_seconds),
        "invite": "1" if room.invite_only else "0",
        "pins": room.pins,
    }
    if rules == DEFAULTS and room.automod in ("", "{}"):
        return {}
    if room.automod not in ("", "{}"):
        rules["automod"] = room.automod
    return rules


def _text(value: Any, field: str, maximum: int) -> str:
    if not isinstance(value, str) or len(value.strip()) > maximum:
        raise AccountError(400, "invalid_request", f"{field} is text of at most {maximum}")
    return " ".join(value.split())


class RoomSettings:
    def __init__(
        self,
        moderation: ModerationService,
        store: Store,
        automod_defaults: dict[str, str] | None = None,
    ) -> None:
        self.moderation = moderation
        self.database = moderation.database
        self.store = store
        self.automod_defaults = automod_defaults or {}

    def _owned(self, session: Session, room: str) -> OwnedRoom:
        owned = session.get(OwnedRoom, room)
        if owned is None:
            raise AccountError(409, "no_owner", "Only a room with an owner has settings")
        return owned

    def _publish(self, room: str, owned_rules: dict[str, str]) -> dict[str, Any]:
        self.store.set_room_rules(room, owned_rules)
        view = settings_view(room, owned_rules or DEFAULTS, self.automod_defaults)
        assert self.moderation.notify is not None
        self.moderation.notify(ROOM_SETTINGS, room, view)
        return view

    # -- reading and changing ---------------------------------------------------------------

    def get(self, room: str, viewer_id: int | None) -> dict[str, Any]:
        """The settings (public); staff also see the invite code."""

        def read(session: Session) -> dict[str, Any]:
            owned = session.get(OwnedRoom, room)
            view = settings_view(room, rules_of(owned) or DEFAULTS, self.automod_defaults)
            role = self.moderation._role(session, room, viewer_id)
            if owned is not None and role is not None and owned.invite_only:
                view["invite_code"] = owned.invite_code
            if role is not None:
                own = json.loads(owned.automod).get("words", []) if owned is not None else []
                view["automod"]["words"] = own
            return view

        return self.database.run(read)

    def update(self, room: str, actor_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        """Change some of topic, post, slow_mode, invite_only (moderators and up)."""
        values: dict[str, Any] = {}
        if "topic" in changes:
            values["topic"] = _text(changes["topic"] or "", "topic", TOPIC_MAX)
        if "post" in changes:
            if changes["post"] not in POST_POLICIES:
                raise AccountError(400, "invalid_request", f"post is one of {POST_POLICIES}")
            values["post_policy"] = changes["post"]
        if "slow_mode" in changes:
            slow = changes["slow_mode"]
            if (
                not isinstance(slow, int)
                or isinstance(slow, bool)
                or not 0 <= slow <= (SLOW_MODE_MAX_SECONDS)
            ):
                raise AccountError(
                    400, "invalid_request", f"slow_mode is 0 to {SLOW_MODE_MAX_SECONDS} seconds"
                )
            values["slow_mode_seconds"] = slow
        if "invite_only" in changes:
            if not isinstance(changes["invite_only"], bool):
                raise AccountError(400, "invalid_request", "invite_only is true or false")
            values["invite_only"] = changes["invite_only"]
        automod = None
        if changes.get("automod") is not None:
            try:
                automod = room_automod(changes["automod"])
            except ValueError as exc:
                raise AccountError(400, "invalid_request", str(exc)) from exc

        def change(session: Session) -> dict[str, str]:
            self.moderation._require(session, room, actor_id, "moderator")
            owned = self._owned(session, room)
            for column, value in values.items():
                setattr(owned, column, value)
            if automod is not None:
                merged = json.loads(owned.automod or "{}")
                if "rules" in automod:
                    merged["rules"] = {**merged.get("rules", {}), **automod["rules"]}
                if "words" in automod:
                    merged["words"] = automod["words"]
                owned.automod = json.dumps(merged, sort_keys=True)
            if owned.invite_only and not owned.invite_code:
                owned.invite_code = secrets.token_urlsafe(12)
            actor = session.get_one(Account, actor_id)
            audited = {k: v for k, v in changes.items() if k != "automod"}
            if automod is not None:
                # The words themselves stay out of the log (it would repeat the slurs).
                audited["automod"] = {
                    "rules": automod.get("rules", {}),
                    "words": len(automod["words"]) if "words" in automod else None,
                }
            self.moderation._audit(session, room, actor, "settings_changed", **audited)
            return rules_of(owned)

        rules = self.database.run(change)
        view = self._publish(room, rules)
        # The answer goes to staff: with the room's words (the event never has them).
        words = json.loads(rules.get("automod", "{}")).get("words", [])
        return {**view, "automod": {**view["automod"], "words": words}}

    def renew_invite(self, room: str, actor_id: int) -> str:
        """A new invite code: links with the old one stop working."""

        def change(session: Session) -> str:
            self.moderation._require(session, room, actor_id, "moderator")
            owned = self._owned(session, room)
            owned.invite_code = secrets.token_urlsafe(12)
            actor = session.get_one(Account, actor_id)
            self.moderation._audit(session, room, actor, "invite_renewed")
            return owned.invite_code

        return self.database.run(change)

    def pin(self, room: str, actor_id: int, message_id: str, pinned: bool) -> dict[str, Any]:
        """Pin (newest first, at most PINS_MAX) or unpin a message kept in the room."""
        try:
            seq = parse_message_id(message_id, "The message id")
        except ProtocolError as exc:
            raise AccountError(400, "invalid_request", str(exc)) from exc
        if seq is None or (pinned and not self.store.message_kept(room, seq)):
            raise AccountError(404, "not_found", "No such message in this room")
        wire_id = format_message_id(seq)

        def change(session: Session) -> dict[str, str]:
            self.moderation._require(session, room, actor_id, "moderator")
            owned = self._owned(session, room)
            pins = [p for p in json.loads(owned.pins) if p != wire_id]
            if pinned:
                pins.insert(0, wire_id)
                if len(pins) > PINS_MAX:
                    raise AccountError(409, "too_many_pins", f"At most {PINS_MAX} pins")
            owned.pins = json.dumps(pins)
            actor = session.get_one(Account, actor_id)
            action = "message_pinned" if pinned else "message_unpinned"
            self.moderation._audit(session, room, actor, action, wire_id)
            return rules_of(owned)

        rules = self.database.run(change)
        return self._publish(room, rules)

    # -- the chat's question ----------------------------------------------------------------

    def admit(
        self,
        room: str,
        account_id: int | None,
        invite: str | None,
        rules: dict[str, str],
        already_in: bool,
    ) -> tuple[bool, int]:
        """chat.service.Admission: (may post, slow mode ms), or ProtocolError
        (invite_only) for someone an invite-only room does not let in."""

        def decide(session: Session) -> tuple[bool, int]:
            staff = self.moderation._role(session, room, account_id) is not None
            if staff:
                return True, 0
            member = account_id is not None and (
                session.get(RoomMember, (room, account_id)) is not None
            )
            if rules.get("invite") == "1" and not already_in and not member:
                owned = session.get(OwnedRoom, room)
                if owned is None or not owned.invite_code or invite != owned.invite_code:
                    raise ProtocolError(
                        "This room is joinable by invite only: ask for its link", INVITE_ONLY
                    )
                if account_id is not None:
                    session.add(RoomMember(room=room, account_id=account_id, added_at=utcnow()))
                    member = True
            post = rules.get("post", "everyone")
            may_post = (
                post == "everyone"
                or (post == "registered" and account_id is not None)
                or (post == "members" and member)
            )
            return may_post, int(rules.get("slow", "0")) * 1000

        try:
            return self.database.run(decide)
        except IntegrityError:
            return self.database.run(decide)  # two joins recorded the membership at once

    def restore(self) -> int:
        """Write every room's settings to Redis again (a worker does it at start)."""

        def read(session: Session) -> list[tuple[str, dict[str, str]]]:
            rooms = session.scalars(select(OwnedRoom)).all()
            return [(r.name, rules) for r in rooms if (rules := rules_of(r))]

        found = self.database.run(read)
        for room, rules in found:
            self.store.set_room_rules(room, rules)
        return len(found)
