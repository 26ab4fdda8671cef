"""A protocol 2 client's view of one room, rebuilt from what it received.

Tests compare these between clients (one that stayed, one that caught up after a
disconnect, one that just joined): the protocol promises they end up equal. The rules
are docs/protocol.md's: messages merge by id, the last edit wins, a tombstone stays a
tombstone, a reaction event's count is absolute and its users a set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RoomState:
    """Messages by id in their current state, and the log position reached."""

    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    reactions: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    position: str = "000000000000"

    def _advance(self, position: str) -> None:
        self.position = max(self.position, position)

    def add_message(self, message: dict[str, Any], full: bool = True) -> None:
        """A message: in its whole current state from room_joined or get_history (`full`:
        no `reactions` means none), or live from new_message (known ids are kept)."""
        message_id = message["id"]
        self._advance(message_id)
        if not full and message_id in self.messages:
            return
        self.messages[message_id] = {
            k: v for k, v in message.items() if k not in ("reactions", "reply_preview")
        }
        reactions = message.get("reactions", [])
        self.reactions[message_id] = {r["emoji"]: set(r["users"]) for r in reactions}
        self.counts[message_id] = {r["emoji"]: r["count"] for r in reactions}

    def apply(self, event: dict[str, Any]) -> None:
        """One room_event."""
        target = event["message_id"]
        known = self.messages.get(target)
        if event["type"] in ("edit", "delete"):
            if known is None or not known.get("deleted"):
                self.messages[target] = dict(event["message"])
            if event["type"] == "delete":
                self.reactions[target] = {}
                self.counts[target] = {}
        elif known is not None and not known.get("deleted"):
            users = self.reactions.setdefault(target, {}).setdefault(event["emoji"], set())
            if event["added"]:
                users.add(event["username"])
            else:
                users.discard(event["username"])
            counts = self.counts.setdefault(target, {})
            counts[event["emoji"]] = event["count"]
        self._advance(event["id"])

    def snapshot(self) -> dict[str, Any]:
        """What a user sees: text, flags and non-empty reactions of each message."""
        view = {}
        for message_id, message in sorted(self.messages.items()):
            reactions = {
                emoji: (self.counts.get(message_id, {}).get(emoji, 0), sorted(users))
                for emoji, users in self.reactions.get(message_id, {}).items()
                if self.counts.get(message_id, {}).get(emoji, 0) > 0
            }
            view[message_id] = {
                "message": message["message"],
                "deleted": bool(message.get("deleted")),
                "edited": "edited_at" in message,
                "reactions": reactions,
            }
        return view


def catch_up(client: Any, room: str, state: RoomState, limit: int = 100) -> int:
    """get_history since the state's position until has_more is false; returns calls made."""
    calls = 0
    while True:
        query = {"room": room, "since_id": state.position, "limit": limit}
        answer = client.call("get_history", query)
        assert answer["ok"], answer
        calls += 1
        items: list[tuple[str, str, dict[str, Any]]] = [
            (m["id"], "message", m) for m in answer["messages"]
        ] + [(e["id"], "event", e) for e in answer["events"]]
        for _, kind, item in sorted(items, key=lambda entry: entry[0]):
            if kind == "message":
                state.add_message(item)
            else:
                state.apply(item)
        state._advance(answer["cursor"])
        if not answer["has_more"]:
            return calls
