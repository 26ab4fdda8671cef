"""What moderation tells the chat about each membership, and what follows an automatic
verdict (chat.service.RoomGuard, chat.message_path.on_flagged).

At a join (and when a room's settings or staff change) the chat asks `fit`: is this
person staff here (they hear the review queue and no rule holds them), and which
automatic moderation policy applies. Who runs a room is read from the database once per
room and worker and kept until a `roles` emit says it changed; administrators are re-read
every minute (the CLI names them without telling the workers).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from talkrooms.accounts.models import Account
from talkrooms.chat.message_path import Answer, Flagged
from talkrooms.moderation.automod import AutoModerator
from talkrooms.moderation.models import Administrator, OwnedRoom, RoomModerator
from talkrooms.moderation.review import ReviewQueue
from talkrooms.moderation.service import ModerationService
from talkrooms.realtime.connections import Membership

log = logging.getLogger("talkrooms.moderation.guard")

ADMINS_TTL_SECONDS = 60.0
ROOMS_CACHED = 10_000
# Consequences of verdicts (audit rows, held items, mutes) running at once, per worker;
# beyond it refusals are still answered but not audited (counted in the log).
PENDING_MAX = 200
# Runs a function on its own greenlet.
Spawn = Callable[..., Any]


class RoomGuard:
    def __init__(
        self,
        moderation: ModerationService,
        automod: AutoModerator,
        review: ReviewQueue,
        spawn: Spawn,
    ) -> None:
        self.moderation = moderation
        self.database = moderation.database
        self.automod = automod
        self.review = review
        self.spawn = spawn
        self._staff: dict[str, tuple[int | None, frozenset[int]]] = {}
        self._admins: tuple[float, frozenset[int]] = (0.0, frozenset())
        self._pending = 0

    # -- chat.service.RoomGuard -------------------------------------------------------------

    def fit(
        self, room: str, account_id: int | None, rules: dict[str, str], membership: Membership
    ) -> None:
        owner, moderators = self._room_staff(room)
        staff = account_id is not None and (
            account_id == owner or account_id in moderators or account_id in self._admin_ids()
        )
        membership.staff = staff
        if not membership.first_seen:  # fit runs again when the room's settings change
            membership.first_seen = self.automod.joined(room, _person(membership))
        membership.automod = self.automod.policy(room, rules, owner is not None, staff)

    def left(self, room: str, membership: Membership) -> None:
        if membership.first_seen:
            self.automod.left(room, _person(membership))

    def review_count(self, room: str) -> int:
        return self.review.open_count(room)

    def forget(self, room: str) -> None:
        self._staff.pop(room, None)
        self._admins = (0.0, frozenset())

    def report(
        self,
        room: str,
        seq: int,
        message: dict[str, Any],
        reporter: str,
        reporter_name: str,
        reason: str,
    ) -> int:
        return self.review.report(room, seq, message, reporter, reporter_name, reason)

    # -- who runs a room --------------------------------------------------------------------

    def _room_staff(self, room: str) -> tuple[int | None, frozenset[int]]:
        known = self._staff.get(room)
        if known is not None:
            return known

        def read(session: Session) -> tuple[int | None, frozenset[int]]:
            owned = session.get(OwnedRoom, room)
            moderators = session.scalars(
                select(RoomModerator.account_id).where(RoomModerator.room == room)
            ).all()
            return (owned.owner_id if owned else None, frozenset(moderators))

        found = self.database.run(read)
        if len(self._staff) >= ROOMS_CACHED:
            self._staff.pop(next(iter(self._staff)))
        self._staff[room] = found
        return found

    def _admin_ids(self) -> frozenset[int]:
        expires, ids = self._admins
        if time.monotonic() < expires:
            return ids
        identities = sorted(self.moderation.admin_identities)

        def read(session: Session) -> frozenset[int]:
            named = session.scalars(select(Administrator.account_id)).all()
            configured = (
                session.scalars(
                    select(Account.id).where(Account.username_identity.in_(identities))
                ).all()
                if identities
                else []
            )
            return frozenset(named) | frozenset(configured)

        ids = self.database.run(read)
        self._admins = (time.monotonic() + ADMINS_TTL_SECONDS, ids)
        return ids

    # -- after a verdict (message_path.on_flagged) ------------------------------------------

    def on_flagged(self, flagged: Flagged, answer: Answer | None) -> None:
        """Off the hot loop: hold (answers the author once kept), mute, or audit."""
        if self._pending >= PENDING_MAX:
            if answer is not None:
                answer("unavailable", "Too busy to keep your message for review; retry")
            log.warning("automatic moderation backlog: a verdict was not recorded")
            return
        self._pending += 1
        self.spawn(self._follow_up, flagged, answer)

    def _follow_up(self, flagged: Flagged, answer: Answer | None) -> None:
        verdict = flagged.verdict
        try:
            if verdict.action == "hold" and answer is not None:
                self.review.hold_and_answer(flagged, answer)
            elif verdict.action == "mute" and flagged.author:
                self.moderation.auto_mute(flagged, self.automod.mute_minutes)
            else:
                self.database.run(
                    lambda session: self.moderation.audit_automatic(
                        session,
                        flagged.room,
                        "automod",
                        "auto_refused",
                        flagged.username,
                        verdict.reason,
                        rule=verdict.rule,
                    )
                )
        except Exception:
            log.exception("acting on an automatic verdict failed", extra={"room": flagged.room})
        finally:
            self._pending -= 1


def _person(membership: Membership) -> str:
    """Who "first seen" is kept for: the author token, else the name's identity."""
    return membership.author or membership.identity
