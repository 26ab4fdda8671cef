"""A room's review queue: messages people reported and messages a rule held back, and
the moderators' decisions on them (docs/moderation.md "Reports and the review queue").

The database holds the queue. A reported message has one open item however many report
it (one report per person); a held message was never stored in the room, so its item
carries its text until a moderator approves it (then it is stored and delivered as its
author's, through the same Lua call as any message, so a sanction since still holds) or
rejects it. Every change tells the room's staff connections, on every worker, how many
items are open (`review`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from talkrooms.accounts.models import Account
from talkrooms.accounts.service import AccountError
from talkrooms.chat.message_path import Answer, Flagged, iso_now
from talkrooms.moderation.models import ReviewItem, ReviewReport
from talkrooms.moderation.service import ModerationService, clean_reason
from talkrooms.protocol import HELD, UNAVAILABLE, ProtocolError, format_message_id
from talkrooms.storage.database import iso_utc, utcnow
from talkrooms.telemetry import metrics

log = logging.getLogger("talkrooms.moderation.review")

OPEN = "open"
# What a moderator may do with each kind of item, and the status it leaves.
DECISIONS = {
    "report": {"dismiss": "dismissed", "remove": "removed"},
    "held": {"approve": "approved", "reject": "rejected"},
}
AUDIT_ACTIONS = {
    "dismiss": "report_dismissed",
    "approve": "held_approved",
    "reject": "held_rejected",
}
QUEUE_PAGE = 100
HELD_TEXT = "Your message waits for a moderator's review"
# Published: (room, username, author token, text, client_id) -> the stored message.
Publish = Callable[[str, str, str, str, str | None], dict[str, Any]]
# Tells a room's staff connections: (room, payload of `review`).
TellStaff = Callable[[str, dict[str, Any]], None]


class ReviewQueue:
    def __init__(
        self, moderation: ModerationService, publish: Publish, tell_staff: TellStaff
    ) -> None:
        self.moderation = moderation
        self.database = moderation.database
        self.publish = publish
        self.tell_staff = tell_staff

    # -- filling it -------------------------------------------------------------------------

    def report(
        self,
        room: str,
        seq: int,
        message: dict[str, Any],
        reporter: str,
        reporter_name: str,
        reason: str,
    ) -> int:
        """File one person's report of a kept message; the item's id (the same item for
        every report of the message, and the same answer when they report it again)."""
        message_id = format_message_id(seq)

        def file(session: Session) -> tuple[int, bool]:
            item = session.scalar(
                select(ReviewItem).where(
                    ReviewItem.room == room,
                    ReviewItem.message_id == message_id,
                    ReviewItem.status == OPEN,
                )
            )
            created = item is None
            if item is None:
                item = ReviewItem(
                    room=room,
                    kind="report",
                    status=OPEN,
                    message_id=message_id,
                    username=str(message.get("username", "")),
                    author="",
                    text=str(message.get("message", "")),
                    message_at=str(message.get("timestamp", "")),
                    created_at=utcnow(),
                )
                session.add(item)
                session.flush()
            known = session.scalar(
                select(ReviewReport.id).where(
                    ReviewReport.item_id == item.id, ReviewReport.reporter == reporter
                )
            )
            if known is None:
                session.add(
                    ReviewReport(
                        item_id=item.id,
                        reporter=reporter,
                        reporter_name=reporter_name,
                        reason=reason,
                        created_at=utcnow(),
                    )
                )
                self.moderation.audit_automatic(
                    session, room, reporter_name, "reported", message_id, reason
                )
            return item.id, created

        try:
            item_id, created = self.database.run(file)
        except IntegrityError:
            item_id, created = self.database.run(file)  # two first reports at once
        metrics.REPORTS.inc()
        if created:
            self.announce(room)
        return item_id

    def hold(self, flagged: Flagged) -> int:
        """Keep a message a rule held back, for the room's moderators to decide on."""

        def keep(session: Session) -> int:
            item = ReviewItem(
                room=flagged.room,
                kind="held",
                status=OPEN,
                message_id=None,
                username=flagged.username,
                author=flagged.author,
                account_id=flagged.account_id,
                text=flagged.text,
                message_at=iso_now(utcnow().timestamp()),
                rule=flagged.verdict.rule,
                client_id=flagged.client_id,
                created_at=utcnow(),
            )
            session.add(item)
            self.moderation.audit_automatic(
                session,
                flagged.room,
                "automod",
                "auto_held",
                flagged.username,
                flagged.verdict.reason,
                rule=flagged.verdict.rule,
            )
            session.flush()
            return item.id

        item_id = self.database.run(keep)
        self.announce(flagged.room)
        return item_id

    def hold_and_answer(self, flagged: Flagged, answer: Answer) -> None:
        """A held message is answered `held` only once it is safely in the queue."""
        try:
            self.hold(flagged)
        except Exception:
            log.exception("keeping a held message failed", extra={"room": flagged.room})
            answer(UNAVAILABLE, "Your message could not be kept for review; send it again")
            return
        answer(HELD, HELD_TEXT)

    # -- reading it -------------------------------------------------------------------------

    def open_count(self, room: str) -> int:
        def count(session: Session) -> int:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(ReviewItem)
                    .where(ReviewItem.room == room, ReviewItem.status == OPEN)
                )
                or 0
            )

        return self.database.run(count)

    def announce(self, room: str) -> None:
        self.tell_staff(room, {"room": room, "open": self.open_count(room)})

    def items(self, room: str, actor_id: int) -> list[dict[str, Any]]:
        """The open items, oldest first, with their reports (the room's staff only)."""

        def read(session: Session) -> list[dict[str, Any]]:
            self.moderation.require(session, room, actor_id, "moderator")
            rows = session.scalars(
                select(ReviewItem)
                .where(ReviewItem.room == room, ReviewItem.status == OPEN)
                .order_by(ReviewItem.id)
                .limit(QUEUE_PAGE)
            ).all()
            reports: dict[int, list[dict[str, Any]]] = {row.id: [] for row in rows}
            if rows:
                for report in session.scalars(
                    select(ReviewReport)
                    .where(ReviewReport.item_id.in_(list(reports)))
                    .order_by(ReviewReport.id)
                ):
                    reports[report.item_id].append(
                        {
                            "by": report.reporter_name,
                            "reason": report.reason,
                            "at": iso_utc(report.created_at),
                        }
                    )
            return [
                {
                    "id": row.id,
                    "kind": row.kind,
                    "at": iso_utc(row.created_at),
                    "rule": row.rule,
                    "message": {
                        "id": row.message_id,
                        "username": row.username,
                        "message": row.text,
                        "timestamp": row.message_at,
                    },
                    "reports": reports[row.id],
                }
                for row in rows
            ]

        return self.database.run(read)

    # -- deciding ---------------------------------------------------------------------------

    def decide(
        self, room: str, actor_id: int, item_id: int, action: str, reason: str
    ) -> dict[str, Any]:
        """A moderator's decision; the item is claimed first, so two moderators deciding at
        once cannot both act (the second gets 404)."""
        reason = clean_reason(reason)

        def claim(session: Session) -> ReviewItem:
            self.moderation.require(session, room, actor_id, "moderator")
            item = session.get(ReviewItem, item_id)
            if item is None or item.room != room or item.status != OPEN:
                raise AccountError(404, "not_found", "No such open item in this room's queue")
            status = DECISIONS[item.kind].get(action)
            if status is None:
                choices = " or ".join(DECISIONS[item.kind])
                raise AccountError(400, "invalid_request", f"A {item.kind} item takes {choices}")
            claimed = session.execute(
                update(ReviewItem)
                .where(ReviewItem.id == item_id, ReviewItem.status == OPEN)
                .values(status=status, decided_by=actor_id, decided_at=utcnow())
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                raise AccountError(404, "not_found", "Another moderator decided on it first")
            session.flush()
            session.expunge(item)
            return item

        item = self.database.run(claim)
        try:
            self._carry_out(room, actor_id, item, action, reason)
        except Exception:
            self.database.run(lambda session: self._reopen(session, item_id))
            raise
        self.announce(room)
        return {"ok": True, "id": item_id, "action": action}

    def _carry_out(
        self, room: str, actor_id: int, item: ReviewItem, action: str, reason: str
    ) -> None:
        if action == "remove":
            assert item.message_id is not None
            try:
                self.moderation.remove_message(room, actor_id, item.message_id, reason)
            except AccountError as exc:
                if exc.code != "not_found":  # gone already: nothing left to remove
                    raise
            return
        if action == "approve":
            try:
                self.publish(room, item.username, item.author, item.text, item.client_id)
            except ProtocolError as exc:
                raise AccountError(409, exc.code, str(exc)) from exc

        def record(session: Session) -> None:
            actor = session.get_one(Account, actor_id)
            self.moderation.audit_automatic(
                session,
                room,
                actor.username,
                AUDIT_ACTIONS[action],
                item.username,
                reason,
                item=item.id,
                rule=item.rule,
                actor_id=actor.id,
            )

        self.database.run(record)

    @staticmethod
    def _reopen(session: Session, item_id: int) -> None:
        session.execute(
            update(ReviewItem)
            .where(ReviewItem.id == item_id)
            .values(status=OPEN, decided_by=None, decided_at=None)
        )
