"""Moderation's part of the protocol: room settings, notices of sanctions, refusal codes.

`room_settings` goes to everyone in the room when its settings change: {room, topic, post,
slow_mode, invite_only, pins}. `moderation` goes to everyone in the room when a moderator
kicks, mutes or bans someone (or lifts a sanction): {room, action, username, reason, until,
by}. The person concerned gets `sanctioned` with the same fields before a kick or ban
takes them out of the room.
"""

from __future__ import annotations

from .facts import ERROR_CODES, EVENTS

MODERATION = EVENTS["server"]["MODERATION"]
ROOM_SETTINGS = EVENTS["server"]["ROOM_SETTINGS"]
INVITE_ONLY = ERROR_CODES["INVITE_ONLY"]
POSTING_CLOSED = ERROR_CODES["POSTING_CLOSED"]
SLOW_MODE = ERROR_CODES["SLOW_MODE"]
# Who may post in a room (its settings' `post`).
POST_POLICIES = ("everyone", "registered", "members")
TOPIC_MAX = 200
PINS_MAX = 20
SLOW_MODE_MAX_SECONDS = 3600
SANCTIONED = EVENTS["server"]["SANCTIONED"]
BANNED = ERROR_CODES["BANNED"]
MUTED = ERROR_CODES["MUTED"]

KICK, MUTE, BAN, UNMUTE, UNBAN = "kick", "mute", "ban", "unmute", "unban"
SANCTIONS = (KICK, MUTE, BAN)
# Sanctions that take the person out of the room at once, on every worker.
REMOVING = frozenset({KICK, BAN})
