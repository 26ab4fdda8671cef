"""Moderation's part of the protocol: room settings, notices of sanctions, refusal codes.

`room_settings` goes to everyone in the room when its settings change: {room, topic, post,
slow_mode, invite_only, pins}. `moderation` goes to everyone in the room when a moderator
kicks, mutes or bans someone (or lifts a sanction): {room, action, username, reason, until,
by}. The person concerned gets `sanctioned` with the same fields before a kick or ban
takes them out of the room.

Automatic moderation and reports (docs/moderation.md): `report_message` {room?, id,
reason?} files a report; `review` {room, open} tells the room's staff how many items wait
in its review queue; `roles` {room, owner, moderators} tells the room its staff changed.
A message a rule refuses is answered `auto_moderated`, one it holds for review `held`.
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

REPORT_MESSAGE = EVENTS["client"]["REPORT_MESSAGE"]
REVIEW = EVENTS["server"]["REVIEW"]
ROLES = EVENTS["server"]["ROLES"]
AUTO_MODERATED = ERROR_CODES["AUTO_MODERATED"]
HELD = ERROR_CODES["HELD"]
# Automatic moderation: its rules and what each may do (docs/moderation.md).
AUTOMOD_RULES = ("words", "flood", "links", "mentions")
AUTOMOD_ACTIONS = ("off", "refuse", "hold", "mute")
ROOM_WORDS_MAX = 200
ROOM_WORD_MAX_LENGTH = 40
REPORT_REASON_MAX = 500

KICK, MUTE, BAN, UNMUTE, UNBAN = "kick", "mute", "ban", "unmute", "unban"
SANCTIONS = (KICK, MUTE, BAN)
# Sanctions that take the person out of the room at once, on every worker.
REMOVING = frozenset({KICK, BAN})
