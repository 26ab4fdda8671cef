"""Moderation (docs/moderation.md): who runs a room (its owner, the moderators the owner
names, the instance's administrators), what they may do to messages and people, and the
audit log of every such action.

May import: chat (to act on the room's live connections and messages), accounts (who a
Bearer token is, accounts by name), realtime, storage, telemetry, protocol, settings.
"""
