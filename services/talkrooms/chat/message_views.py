"""What a client is shown of stored messages and logged events.

Protocol 2 clients get each message in its current state with its reactions (and whether
the asking person reacted) and a preview of the message it replies to; protocol 1 clients
get the seed's shape, a deleted message reading as a short notice. Events read back from
the log are rebuilt into the `room_event` payloads live clients received, except that an
edit carries the message's current state (the log keeps no text, see storage/room_log.py).
"""

from __future__ import annotations

from typing import Any

from talkrooms.protocol import (
    excerpt,
    format_log_position,
    format_message_id,
    username_identity,
)
from talkrooms.storage.room_log import LoggedEvent, RoomLog
from talkrooms.storage.store import public_message

DELETED_TEXT_V1 = "(message deleted)"
REMOVED_TEXT_V1 = "(removed by a moderator)"


def seq_of(message: dict[str, Any]) -> int:
    return int(message["id"])


def protocol1_view(message: dict[str, Any]) -> dict[str, Any]:
    """The seed's message shape: a tombstone keeps a text protocol 1 clients can show."""
    if message.get("deleted"):
        text = REMOVED_TEXT_V1 if message.get("removed") else DELETED_TEXT_V1
        return {**message, "message": text}
    return message


def reaction_view(reactions: dict[str, list[list[str]]], viewer: str) -> list[dict[str, Any]]:
    """{emoji: [[author, name]]} -> [{emoji, count, users, me}], in the order first added."""
    return [
        {
            "emoji": emoji,
            "count": len(people),
            "users": [name for _, name in people],
            "me": bool(viewer) and any(author == viewer for author, _ in people),
        }
        for emoji, people in reactions.items()
    ]


def preview_view(seq: int, original: dict[str, Any] | None) -> dict[str, Any]:
    """The quote a reply shows; a message gone from the history reads as deleted."""
    if original is None or original.get("deleted"):
        username = original.get("username", "") if original else ""
        return {"id": format_message_id(seq), "username": username, "excerpt": "", "deleted": True}
    return {
        "id": format_message_id(seq),
        "username": original["username"],
        "excerpt": excerpt(original["message"]),
        "deleted": False,
    }


def current_state(
    log: RoomLog, room: str, stored: list[dict[str, Any]], viewer: str
) -> list[dict[str, Any]]:
    """Stored messages -> protocol 2 messages: reactions and reply previews attached."""
    seqs = [seq_of(m) for m in stored]
    reactions = log.reactions(room, seqs)
    by_seq = {seq: message for seq, message in zip(seqs, stored, strict=True)}
    wanted = {int(m["reply_to"]) for m in stored if m.get("reply_to")}
    originals = {s: by_seq[s] for s in wanted if s in by_seq}
    originals.update(log.messages_at(room, wanted - originals.keys()))
    views = []
    for seq, message in zip(seqs, stored, strict=True):
        view = public_message(message)
        if seq in reactions:
            view["reactions"] = reaction_view(reactions[seq], viewer)
        if message.get("reply_to"):
            reply_seq = int(message["reply_to"])
            view["reply_preview"] = preview_view(reply_seq, originals.get(reply_seq))
        views.append(view)
    return views


def unread_counts(
    stored: list[dict[str, Any]], read_seq: int, viewer: str, identity: str
) -> tuple[int, int]:
    """(messages after the marker written by others, those of them mentioning me)."""
    unread = mentioned = 0
    for message in stored:
        if seq_of(message) <= read_seq or message.get("deleted"):
            continue
        if viewer and message.get("_a") == viewer:
            continue
        unread += 1
        if any(username_identity(name) == identity for name in message.get("mentions", ())):
            mentioned += 1
    return unread, mentioned


def logged_event_view(
    room: str, event: LoggedEvent, current: dict[str, Any] | None
) -> dict[str, Any] | None:
    """A log entry as the `room_event` it was; None for an edit of a message now gone."""
    fields = event.fields
    view: dict[str, Any] = {
        "id": format_log_position(event.seq, event.counter),
        "room": room,
        "type": fields["t"],
        "message_id": format_message_id(event.message_seq),
    }
    if fields["t"] == "reaction":
        view.update(
            emoji=fields["e"],
            username=fields["u"],
            added=fields["a"] == "1",
            count=int(fields["c"]),
        )
        return view
    if current is None:
        return None
    view["message"] = public_message(current)
    return view


def events_after(
    log: RoomLog,
    room: str,
    after: tuple[int, int],
    until_seq: int | None,
    skip: set[int],
    count: int,
) -> tuple[list[dict[str, Any]], tuple[int, int] | None, bool]:
    """Logged events after a position as room_event payloads, the last one's position, and
    whether `count` cut the answer short.

    Events of messages in `skip` (whose current state the answer already carries) are
    left out; edits and deletions take the message's current state from the history.
    """
    logged = log.events(room, after, until_seq, count)
    if not logged:
        return [], None, False
    needed = {
        e.message_seq for e in logged if e.fields["t"] != "reaction" and e.message_seq not in skip
    }
    current = log.messages_at(room, needed)
    views = []
    for entry in logged:
        if entry.message_seq in skip:
            continue
        view = logged_event_view(room, entry, current.get(entry.message_seq))
        if view is not None:
            views.append(view)
    last = logged[-1]
    return views, (last.seq, last.counter), len(logged) >= count
