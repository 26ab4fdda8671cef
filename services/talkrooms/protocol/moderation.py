"""Moderation's part of the protocol: the notices of sanctions and their refusal codes.

`moderation` goes to everyone in the room when a moderator kicks, mutes or bans someone
(or lifts a sanction): {room, action, username, reason, until, by}. The person concerned
gets `sanctioned` with the same fields before a kick or ban takes them out of the room.
"""

from __future__ import annotations

from .facts import ERROR_CODES, EVENTS

MODERATION = EVENTS["server"]["MODERATION"]
SANCTIONED = EVENTS["server"]["SANCTIONED"]
BANNED = ERROR_CODES["BANNED"]
MUTED = ERROR_CODES["MUTED"]

KICK, MUTE, BAN, UNMUTE, UNBAN = "kick", "mute", "ban", "unmute", "unban"
SANCTIONS = (KICK, MUTE, BAN)
# Sanctions that take the person out of the room at once, on every worker.
REMOVING = frozenset({KICK, BAN})
